import { ALL_PROFILES, bytesEqual, defineLint, derOf } from './support.ts';

/**
 * RFC 5280 4.1.1.2: "This field MUST contain the same algorithm identifier as the signature
 * field in the sequence tbsCertificate (Section 4.1.2.3)."
 * Compared byte for byte, parameters included (BR 7.1.2: "Encoded value MUST be byte-for-byte
 * identical to the `tbsCertificate.signature`").
 */
export const e_signature_algorithm_mismatch = defineLint(
  {
    name: 'e_signature_algorithm_mismatch',
    description: 'The outer signatureAlgorithm is byte-identical to tbsCertificate.signature.',
    citation:
      'RFC 5280 4.1.1.2: "This field MUST contain the same algorithm identifier as the signature field in the sequence tbsCertificate (Section 4.1.2.3)."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const inner = cert.tbsCertificate.signature;
    const outer = cert.signatureAlgorithm;
    if (!bytesEqual(derOf(inner), derOf(outer))) {
      report.error(
        `signatureAlgorithm (${outer.algorithm}) differs from tbsCertificate.signature (${inner.algorithm})`,
      );
    }
  },
);
