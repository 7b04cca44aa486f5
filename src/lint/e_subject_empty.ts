import { SubjectAlternativeName, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import { ALL_PROFILES, CA_PROFILES, decodeExtension, defineLint, findExtension } from './support.ts';

/**
 * RFC 5280 4.1.2.6: "If the subject is a CA (e.g., the basic constraints extension, as discussed
 * in Section 4.2.1.9, is present and the value of cA is TRUE), then the subject field MUST be
 * populated with a non-empty distinguished name matching the contents of the issuer field
 * (Section 4.1.2.4) in all certificates issued by the subject CA."
 * End entities may have an empty subject only with a critical subjectAltName ("the subject name
 * MUST be an empty sequence and the subjectAltName extension MUST be critical").
 */
export const e_subject_empty = defineLint(
  {
    name: 'e_subject_empty',
    description:
      'The subject is a non-empty distinguished name (for an end entity: unless a critical subjectAltName names it).',
    citation:
      'RFC 5280 4.1.2.6: "If the subject is a CA (e.g., the basic constraints extension, as discussed in Section 4.2.1.9, is present and the value of cA is TRUE), then the subject field MUST be populated with a non-empty distinguished name matching the contents of the issuer field (Section 4.1.2.4) in all certificates issued by the subject CA."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    if (cert.tbsCertificate.subject.length > 0) return;
    if (CA_PROFILES.includes(ctx.profile)) {
      report.error('CA certificate has an empty subject');
      return;
    }
    const san = findExtension(cert, id_ce_subjectAltName);
    if (!san || !san.critical || decodeExtension(san, SubjectAlternativeName).length === 0) {
      report.error('subject is empty and no critical subjectAltName names the subject');
    }
  },
);
