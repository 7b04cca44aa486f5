/** Errors about a CA's life: key changeover, compromise and termination (CPS 5.6, 5.7, 5.8). */
import { conflict, forbidden, invalid } from './entry.ts';

export const LIFECYCLE_ERRORS = {
  CA_ALREADY_COMPROMISED: conflict('The CA was already declared compromised.'),
  CA_ALREADY_TERMINATED: conflict('The CA was already terminated.'),
  CA_ENDING: conflict('The CA has an unfinished termination or compromise; finish it first.'),
  CA_ENDING_OTHER: conflict('The CA has another kind of unfinished ending; complete that first.'),
  CA_ENDING_STATE: conflict('The end record is no longer open.'),
  CA_EXPIRED: conflict(
    'The CA certificate has expired, so link certificates cannot outlive it and a re-key is no longer possible: run a new root ceremony (RFC 4210 4.4).',
  ),
  CA_STATE: conflict('The CA changed state while the operation ran.'),
  NOTICE_PERIOD_TOO_SHORT: forbidden('A termination date must leave the notice period of CPS 5.8.'),
  PUBLICATION_SIGNER_ENDING: forbidden(
    'A root cannot sign the publication that records its own end; name another active root.',
  ),
  PUBLICATION_SIGNER_REQUIRED: invalid('Name the root that signs the publication (--publish-signer).'),
  TEMPLATE_WITHOUT_SKI: conflict(
    'The CA certificate has no subjectKeyIdentifier, which a changeover needs (RFC 5280 4.2.1.2).',
  ),
  TERMINATION_ALREADY_ANNOUNCED: conflict(
    'The termination of the CA was already announced (notices are kept, never deleted).',
  ),
  TERMINATION_DATE_NOT_REACHED: conflict('The announced termination date has not come yet.'),
  TERMINATION_NOT_ANNOUNCED: conflict('No termination was announced; announce it first (CPS 5.8).'),
  TERMINATION_NOTICE_TOO_RECENT: conflict('The termination was announced less than the notice period ago (CPS 5.8).'),
} as const;
