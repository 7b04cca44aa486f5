import { bytesEqual, defineCrlLint, derOf } from './support.ts';

/**
 * RFC 5280 5.1.1.2: "This field MUST contain the same algorithm identifier as the signature
 * field in the sequence tbsCertList (Section 5.1.2.2)." Compared byte for byte, parameters included.
 */
export const e_crl_signature_algorithm_mismatch = defineCrlLint(
  {
    name: 'e_crl_signature_algorithm_mismatch',
    description: 'The outer signatureAlgorithm is byte-identical to tbsCertList.signature.',
    citation:
      'RFC 5280 5.1.1.2: "This field MUST contain the same algorithm identifier as the signature field in the sequence tbsCertList (Section 5.1.2.2)."',
  },
  (crl, _ctx, report) => {
    const inner = crl.tbsCertList.signature;
    const outer = crl.signatureAlgorithm;
    if (!bytesEqual(derOf(inner), derOf(outer))) {
      report.error(`signatureAlgorithm (${outer.algorithm}) differs from tbsCertList.signature (${inner.algorithm})`);
    }
  },
);
