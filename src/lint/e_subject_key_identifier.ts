import { SubjectKeyIdentifier, id_ce_subjectKeyIdentifier } from '@peculiar/asn1-x509';
import { ALL_PROFILES, decodeExtension, defineLint, findExtension } from './support.ts';

/**
 * RFC 5280 4.2.1.2: "To facilitate certification path construction, this extension MUST appear
 * in all conforming CA certificates, that is, all certificates including the basic constraints
 * extension (Section 4.2.1.9) where the value of cA is TRUE." and "Conforming CAs MUST mark this
 * extension as non-critical." Our TSA, TA and OCSP profiles require it too (R-3.1 "AKI/SKI";
 * RFC 5280: it "SHOULD be included in end entity certificates").
 */
export const e_subject_key_identifier = defineLint(
  {
    name: 'e_subject_key_identifier',
    description: 'subjectKeyIdentifier is present, non-critical and not empty.',
    citation:
      'RFC 5280 4.2.1.2: "To facilitate certification path construction, this extension MUST appear in all conforming CA certificates, that is, all certificates including the basic constraints extension (Section 4.2.1.9) where the value of cA is TRUE."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const ext = findExtension(cert, id_ce_subjectKeyIdentifier);
    if (!ext) {
      report.error('subjectKeyIdentifier is missing');
      return;
    }
    if (ext.critical) report.error('subjectKeyIdentifier is marked critical; it MUST be non-critical');
    if (decodeExtension(ext, SubjectKeyIdentifier).byteLength === 0) report.error('subjectKeyIdentifier is empty');
  },
);
