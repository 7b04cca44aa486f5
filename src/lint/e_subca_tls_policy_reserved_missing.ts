import { EFFECTIVE, defineLint, legacyNote, severitySince } from './support.ts';
import { ANY_POLICY, KP_SERVER_AUTH, ekuOf, policyOidsOf } from './subca-eku.ts';

/** BR 7.1.6.1 reserved TLS policies (DV, OV, IV) and the EV one (EV Guidelines 9.3.2). * Cited: BR 7.1.2.10.5: "Regardless of the order of PolicyInformation values, the Certificate Policies extension MUST contain exactly one Reserved Certificate Policy Identifier."
 */
const TLS_RESERVED = ['2.23.140.1.2.1', '2.23.140.1.2.2', '2.23.140.1.2.3', '2.23.140.1.1'];

/**
 * BR 7.1.2.10.5: a TLS CA certificate is either "Policy Restricted" — "The CA MUST include at
 * least one Reserved Certificate Policy Identifier" and "the Certificate Policies extension MUST
 * contain exactly one Reserved Certificate Policy Identifier" — or, for an Affiliate, anyPolicy
 * as the "only a single PolicyInformation value".
 */
export const e_subca_tls_policy_reserved_missing = defineLint(
  {
    name: 'e_subca_tls_policy_reserved_missing',
    description:
      'A TLS subordinate CA asserts exactly one CA/B Forum reserved TLS policy, or anyPolicy alone (Affiliate).',
    citation:
      'BR 7.1.2.10.5: "Regardless of the order of PolicyInformation values, the Certificate Policies extension MUST contain exactly one Reserved Certificate Policy Identifier."',
    appliesTo: ['subca'],
  },
  (cert, _ctx, report) => {
    const eku = ekuOf(cert);
    if (eku !== undefined && !eku.includes(KP_SERVER_AUTH)) return;
    if (eku === undefined) return; // no EKU: e_subca_eku_missing's business
    const oids = policyOidsOf(cert);
    if (oids.length === 1 && oids[0] === ANY_POLICY) return;
    const reserved = oids.filter((o) => TLS_RESERVED.includes(o));
    const severity = severitySince(cert, EFFECTIVE.brProfiles);
    if (reserved.length === 0)
      report.add(
        severity,
        `a TLS subordinate CA asserts none of the reserved policies ${TLS_RESERVED.join(', ')}${legacyNote(severity, EFFECTIVE.brProfiles)}`,
      );
    else if (reserved.length > 1)
      report.add(
        severity,
        `a TLS subordinate CA asserts ${reserved.length} reserved policies (${reserved.join(', ')}); exactly one`,
      );
    if (oids.includes(ANY_POLICY))
      report.error('anyPolicy is asserted beside other policies; with anyPolicy it MUST be the only one');
  },
);
