import { ALL_PROFILES, basicConstraintsOf, defineLint, keyUsagesOf } from './support.ts';

/**
 * RFC 5280 4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic
 * constraints extension (Section 4.2.1.9) MUST also be asserted."
 * RFC 5280 4.2.1.9: "If the cA boolean is not asserted, then the keyCertSign bit in the key
 * usage extension MUST NOT be asserted." And the converse for our CA profiles: a CA key that may
 * not sign certificates is no CA, so keyCertSign is asserted if and only if cA is TRUE.
 */
export const e_key_cert_sign_ca_mismatch = defineLint(
  {
    name: 'e_key_cert_sign_ca_mismatch',
    description: 'keyUsage keyCertSign is asserted if and only if basicConstraints cA is TRUE.',
    citation:
      'RFC 5280 4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic constraints extension (Section 4.2.1.9) MUST also be asserted."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const ca = basicConstraintsOf(cert)?.cA === true;
    const ku = keyUsagesOf(cert);
    if (!ku) return; // e_key_usage_missing_or_not_critical
    const certSign = ku.has('keyCertSign');
    if (certSign && !ca) report.error('keyUsage asserts keyCertSign but basicConstraints cA is not TRUE');
    if (ca && !certSign) report.error('basicConstraints cA is TRUE but keyUsage does not assert keyCertSign');
  },
);
