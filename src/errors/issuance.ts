/** Errors about CAs and issuance: ceremonies, CSRs, profiles, lints, policies and applications. */
import { conflict, failed, forbidden, invalid, unknown } from './entry.ts';

export const ISSUANCE_ERRORS = {
  ALGORITHM_MISMATCH: invalid('The signature algorithm does not fit the key (RSA vs ECDSA).'),
  APPLICATION_INCOMPLETE: invalid('An application names the applicant organisation and a contact.'),
  APPLICATION_REQUIRED: forbidden('Certificates of this profile are issued only from an approved application (R-3.5).'),
  APPLICATION_STATE: conflict('The application is not in a state that allows this step, or changed state meanwhile.'),
  APPLICATION_UNKNOWN: unknown('No application with that number.'),
  CA_EXISTS: conflict('A CA with that name already exists in this installation.'),
  CA_NOT_ACTIVE: conflict('The CA is not active (compromised, terminated or ending) and cannot do this.'),
  CA_UNKNOWN: unknown('No CA with that name; the message lists the known ones.'),
  CA_WITHOUT_CERTIFICATE: conflict('The CA has no current certificate.'),
  CEREMONY_FAILED: failed('The key ceremony failed part-way; nothing was committed and the reason is recorded.'),
  CEREMONY_NOTHING_TO_RESUME: conflict('The ceremony named to rootca ceremony resume finished; nothing is left to do.'),
  CEREMONY_RUNNING: conflict('The ceremony named to rootca ceremony resume is still running in another process.'),
  CEREMONY_UNKNOWN: unknown('No ceremony has this number.'),
  CEREMONY_ALLOWANCE_INVALID: invalid(
    'A legacy allowance in a ceremony file names no published root, another subject, or lints that root does not break.',
  ),
  CERTIFICATE_LINT_FAILED: failed(
    'The certificate to be issued fails lint checks; it was not signed with the real key.',
  ),
  CERTIFICATE_MALFORMED: invalid('A certificate is not well-formed DER.'),
  CERTIFICATE_OF_ANOTHER_CA: conflict('The serial number belongs to a certificate of another CA.'),
  CERTIFICATE_UNKNOWN: unknown('The CA never issued a certificate with that serial number.'),
  CROSS_CERTIFICATE_REFUSED: invalid(
    'The certificate to cross-certify is not a self-signed CA certificate whose signature verifies, or the cross-certificate would break BR 7.1.2.2.',
  ),
  CSR_MALFORMED: invalid('The file is not a PKCS#10 certification request.'),
  CSR_REJECTED: invalid('The CSR breaks a rule (signature, key strength, attributes); the message lists each one.'),
  DER_MALFORMED: invalid(
    'Bytes are not one well-formed DER element (X.690): truncated, BER-only or not the structure expected.',
  ),
  DER_NOT_CANONICAL: failed('The issued certificate does not re-encode to the same DER.'),
  IDENTIFICATION_REQUIRED: invalid('Approval records how the applicant was identified (CPS 3.2, 4.2).'),
  ISSUANCE_FAILED: failed('Issuance failed part-way; nothing was committed and the reason is recorded.'),
  ISSUER_EXPIRED: conflict('The issuing CA certificate has expired; nothing can be issued under it.'),
  LEGACY_SHA1_REFUSED: forbidden('New certificates signed with SHA-1 need --allow-legacy-sha1 (R-1.3).'),
  LINT_PROFILE_UNKNOWN: unknown('The lint set was asked for a profile it does not know.'),
  NAME_CONSTRAINT_INVALID: invalid(
    'A name constraint is not a DNS name, IP range (address/prefix), e-mail domain or distinguished name as RFC 5280 4.2.1.10 encodes them.',
  ),
  NAME_INVALID: invalid(
    'A distinguished name attribute is empty, has characters its string type cannot hold, or a bad country code.',
  ),
  OPERATION_FAILED: failed('An operation failed part-way; nothing was committed and the reason is recorded.'),
  POLICY_EXISTS: conflict('The CP OID is already registered; one OID names one policy of one CA.'),
  POLICY_MISSING: conflict("The CA has no Certificate Policy registered for the profile's purpose (R-1.2)."),
  POLICY_NAME_REQUIRED: invalid('A registered Certificate Policy has a name (CPS 1.2).'),
  POLICY_NOT_REGISTERED: conflict('A policy OID asked for is not registered for the CA.'),
  POLICY_OID_INVALID: invalid('A policy identifier is not a dotted OID.'),
  POLICY_PURPOSE_UNKNOWN: invalid('The policy purpose is not one of those listed in the message.'),
  PROFILE_OPTION_NOT_ALLOWED: invalid('An option does not apply to the chosen certificate profile.'),
  PROFILE_UNKNOWN: unknown('No certificate profile with that name; the message lists them.'),
  PURPOSE_EKU_REFUSED: invalid(
    'The sub-CA purpose and key purposes asked for are a combination the root programs forbid; the message names the rule.',
  ),
  PURPOSE_POLICY_REFUSED: invalid(
    'The reserved policy asked for is missing, of another purpose, or more than one (BR 7.1.2.10.5); the message lists the choices.',
  ),
  PURPOSE_REQUIRED: invalid(
    'A subordinate CA certificate names its purpose (tls-server, smime, ...); the message lists them.',
  ),
  PURPOSE_UNKNOWN: invalid('The sub-CA purpose is not one of those listed in the message.'),
  PUBLIC_KEY_INVALID: invalid('The public key cannot be loaded.'),
  PUBLIC_KEY_MALFORMED: invalid('The subjectPublicKeyInfo is not well-formed.'),
  SERIAL_INVALID: invalid('A serial number is not hexadecimal, or not drawn from the 16 random bytes BR 7.1 asks for.'),
  SIGNATURE_ALGORITHM_UNSUPPORTED: invalid('The signature algorithm is not one rootca supports.'),
  SIGNATURE_INVALID: failed('A signature does not verify with the key it should.'),
  SUBJECT_NOT_ALLOWED: invalid('The requested subject does not fit the profile.'),
  ROOT_PROFILE_REFUSED: forbidden(
    'The root certificate a ceremony file describes breaks a root-profile rule (named); nothing was generated or signed.',
  ),
  TBS_CHANGED: failed('The signed TBS differs from the linted one (lint, sign, lint again: CONVENTIONS 5).'),
  VALIDITY_INVALID: invalid('The validity asked for is out of range.'),
  VALIDITY_TOO_LONG: invalid('The validity asked for is longer than the profile allows.'),
} as const;
