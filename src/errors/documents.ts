/** Errors about the CPS and CPs as documents: amendments, publication and claims (CPS 1.5, 9.12). */
import { conflict, failed, invalid, unknown } from './entry.ts';

export const DOCUMENT_ERRORS = {
  CLAIM_INCOMPLETE: invalid('A claim names the claimant and states the claim.'),
  CLAIM_PERIOD_NOT_STARTED: conflict(
    'The version is not in the Repository yet; its claim period starts with publication (CPS 9.12.2).',
  ),
  CLAIM_PERIOD_OVER: conflict('The claim period of that version has ended (CPS 9.12.2).'),
  DESCRIPTION_REQUIRED: invalid('An amendment states its description (CPS 9.12.1).'),
  DOCUMENT_AMENDMENT_OPEN: conflict('The document already has an open amendment; decide or publish it first.'),
  DOCUMENT_NAME_INVALID: invalid('Document names are `cps` or `cp-<name>`.'),
  DOCUMENT_NO_AMENDMENT: conflict('The document has no amendment waiting for a decision.'),
  DOCUMENT_NOT_APPROVED: conflict('The Committee approves an amendment before it is published (CPS 1.5.4).'),
  DOCUMENT_STATE: conflict('The amendment was already decided; it can only be published now.'),
  DOCUMENT_TEXT_INVALID: invalid('The document text is empty or not UTF-8.'),
  DOCUMENT_TITLE_REQUIRED: invalid('A new document needs its --title.'),
  DOCUMENT_UNKNOWN: unknown('No document with that name.'),
  DOCUMENT_VERSION_EXHAUSTED: conflict(
    'No next minor version number; publish the amendment as critical (a major version).',
  ),
  DOCUMENT_VERSION_INVALID: failed('A stored version number is not MAJOR.MINOR.'),
  DOCUMENT_VERSION_UNKNOWN: unknown('The document has no such version, or no open amendment.'),
} as const;
