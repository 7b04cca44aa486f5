/** Errors about certificate status: revocation, CRLs, OCSP and retired keys (CPS 4.9, 4.10). */
import { conflict, failed, forbidden, invalid, unknown } from './entry.ts';

export const STATUS_ERRORS = {
  ALREADY_REVOKED: conflict('The certificate was already revoked.'),
  APPROVAL_REQUIRED: forbidden(
    'A revocation needs the approving RA officer, or a keyCompromise request signed by the certificate key.',
  ),
  DELEGATED_KEY_MISSING: conflict(
    'The CA has no delegated key in date for this purpose (OCSP responder or publication): issue one first (CPS 6.1.7, BR 6.1.7).',
  ),
  DELEGATED_KEY_QUORUM: invalid(
    "A delegated key's quorum is at least 2 (CPS 6.4.1) and no larger than the root's, from its named holders.",
  ),
  CRL_LINT_FAILED: failed('The CRL to be issued fails lint checks; it was not signed with the real key.'),
  CRL_MALFORMED: invalid('A CRL is not well-formed.'),
  CRL_PARAMS_INVALID: invalid('A CRL field (date, reason, number) is out of range.'),
  CRL_UNKNOWN: unknown('The CA has no CRL (with that number) to export.'),
  INVALIDITY_DATE_INVALID: invalid('An invalidity or compromise date is in the future or not a time.'),
  NO_RETIRED_KEY: conflict('The CA was never re-keyed: it has no retired key.'),
  OCSP_BAD_NONCE: invalid('The OCSP nonce is not one DER OCTET STRING of 1 to 32 octets (RFC 8954).'),
  OCSP_OUTLIVES_SIGNER: conflict(
    "A pre-signed OCSP response's nextUpdate would pass its responder certificate's notAfter: issue a new responder certificate first.",
  ),
  OCSP_MALFORMED_REQUEST: invalid('The OCSP request is not well-formed (RFC 6960 malformedRequest).'),
  OCSP_LINT_FAILED: failed(
    'An OCSP response to be stored or served fails a lint (responder ID, signer, times, DER); it was neither stored nor served.',
  ),
  OCSP_MALFORMED_RESPONSE: invalid('The OCSP response is not well-formed.'),
  OCSP_PARAMS_INVALID: invalid('An OCSP response field (time, status) is out of range.'),
  OCSP_RESPONSE_UNKNOWN: unknown('The CA has no pre-signed OCSP response (for that serial) to export.'),
  OCSP_UNSUPPORTED_HASH: invalid('The CertID hash algorithm is not SHA-1 or SHA-256.'),
  PROOF_INVALID: forbidden("The key-compromise request is not signed by the certificate's own key."),
  PROOF_NOT_APPLICABLE: invalid('A proof signed by the certificate key is accepted only for reason keyCompromise.'),
  PROOF_REPLAYED: forbidden(
    'The key-compromise request is a CSR on file or was already used: a new CSR naming the certificate and the time proves the key (CPS 4.9.1).',
  ),
  PROOF_STALE: forbidden('The key-compromise statement is older than 24 hours (or in the future): make a new CSR.'),
  PROOF_UNBOUND: invalid(
    'The key-compromise request does not say "compromise SERIAL TIME" for this certificate (challengePassword or CN).',
  ),
  REASON_NOT_ALLOWED: invalid('That revocation reason is not used by these roots (CPS 4.9; R-4.1).'),
  REASON_REQUIRED: invalid('A rejection or revocation states its reason.'),
  RESPONDER_INVALID: invalid('A delegated OCSP responder certificate or key is not usable (curve, key match, EKU).'),
  RETIRED_KEY_AMBIGUOUS: conflict('The CA has several retired keys: name one with --retired-key.'),
  RETIRED_KEY_CUSTODIANS_ABSENT: forbidden("Too few custodians of the retired key's token are present."),
  RETIRED_KEY_STATUS_ONLY: forbidden('A retired key signs only CRLs and OCSP responses.'),
  RETIRED_KEY_UNKNOWN: unknown('The key id is not a retired key of the CA.'),
  STATUS_NOTHING_DUE: conflict('Nothing is due for the status ceremony: no CRL, OCSP response or publication to sign.'),
} as const;
