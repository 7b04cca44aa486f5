import { EFFECTIVE_MOZILLA_EKU, defineLint, legacyNote, severitySince } from './support.ts';
import { ekuOf } from './subca-eku.ts';

/**
 * Mozilla Root Store Policy 5.3: "Intermediate certificates created after January 1, 2019, with
 * the exception of cross-certificates that share a private key with a corresponding root
 * certificate: MUST contain an EKU extension". A sub-CA's purpose (pki/subca-purposes.ts) fixes it.
 */
export const e_subca_eku_missing = defineLint(
  {
    name: 'e_subca_eku_missing',
    description: 'A subordinate CA certificate (other than a cross-certificate of a root) has an extKeyUsage.',
    citation:
      'Mozilla Root Store Policy 5.3: "Intermediate certificates created after January 1, 2019, with the exception of cross-certificates that share a private key with a corresponding root certificate: MUST contain an EKU extension"',
    appliesTo: ['subca'],
  },
  (cert, ctx, report) => {
    if (ctx.crossCertificate || ekuOf(cert) !== undefined) return;
    const severity = severitySince(cert, EFFECTIVE_MOZILLA_EKU);
    report.add(
      severity,
      `the subordinate CA has no extKeyUsage; issue it for a purpose (tls-server, smime, ...)${legacyNote(severity, EFFECTIVE_MOZILLA_EKU)}`,
    );
  },
);
