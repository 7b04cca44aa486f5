import { defineLint } from './support.ts';
import { ANY_POLICY, KP_EMAIL_PROTECTION, ekuOf, policyOidsOf } from './subca-eku.ts';

/** S/MIME BR 7.1.6.1: the reserved S/MIME policies live under 2.23.140.1.5. * Cited: BR S/MIME 7.1.2.2(a): "One or more of the Reserved Certificate Policy Identifiers defined in Section 7.1.6.1 SHALL be present"
 */
const SMIME_ARC = '2.23.140.1.5.';

/**
 * S/MIME BR 7.1.2.2(a): in a Subordinate CA certificate that is not an Affiliate's, "One or more
 * of the Reserved Certificate Policy Identifiers defined in Section 7.1.6.1 SHALL be present";
 * an Affiliate's may carry anyPolicy instead.
 */
export const e_subca_smime_policy_reserved_missing = defineLint(
  {
    name: 'e_subca_smime_policy_reserved_missing',
    description:
      'An S/MIME subordinate CA (emailProtection) asserts a reserved S/MIME policy 2.23.140.1.5.*, or anyPolicy (Affiliate).',
    citation:
      'BR S/MIME 7.1.2.2(a): "One or more of the Reserved Certificate Policy Identifiers defined in Section 7.1.6.1 SHALL be present"',
    appliesTo: ['subca'],
  },
  (cert, _ctx, report) => {
    const eku = ekuOf(cert) ?? [];
    if (!eku.includes(KP_EMAIL_PROTECTION)) return;
    const oids = policyOidsOf(cert);
    if (oids.includes(ANY_POLICY) || oids.some((o) => o.startsWith(SMIME_ARC))) return;
    report.error('an S/MIME subordinate CA asserts no reserved S/MIME policy (2.23.140.1.5.x.y)');
  },
);
