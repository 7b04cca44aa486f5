import {
  CertificatePolicies,
  id_ce_certificatePolicies,
  id_ce_certificatePolicies_anyPolicy,
} from '@peculiar/asn1-x509';
import { ISSUED_PROFILES, cabforum_policy_arc, decodeExtension, defineLint, findExtension } from './support.ts';

/** BR 7.1.6.1: the CA/Browser Forum reserved policy identifiers live under 2.23.140.1. */
export function isCabforumReservedPolicy(oid: string): boolean {
  return oid.startsWith(`${cabforum_policy_arc}.`);
}

/**
 * BR 1.x 7.1.6.3: a Subordinate CA certificate "MUST include one or more explicit policy
 * identifiers that indicates the Subordinate CA's adherence to and compliance with these
 * Requirements (i.e. either the CA/Browser Forum reserved identifiers or identifiers defined by
 * the CA in its Certificate Policy and/or Certification Practice Statement)", and "MUST NOT
 * contain the "anyPolicy" identifier (2.5.29.32.0)".
 * (BR 2.x moved this into the 7.1.2.10.5 policy table.)
 * R-1.2 / CPS 1.2 Table 1.2-3: one subordinate-CA CP and one time-stamp CP per root; the caller
 * passes the ones this issuer may assert for this profile in ctx.allowedPolicyOids.
 * RFC 5280 4.2.1.4: "A certificate policy OID MUST NOT appear more than once in a certificate
 * policies extension."
 * OCSP responders: BR 7.1.2.8.8 makes the extension NOT RECOMMENDED, so it is optional there
 * and its presence a warning; any OID it carries is still checked.
 */
export const e_certificate_policies = defineLint(
  {
    name: 'e_certificate_policies',
    description:
      "certificatePolicies asserts the issuer's CP for the profile and only CPs the issuer may assert (or CA/B Forum reserved ones).",
    citation:
      'BR 1.x 7.1.6.3: "MUST include one or more explicit policy identifiers that indicates the Subordinate CA\'s adherence to and compliance with these Requirements (i.e. either the CA/Browser Forum reserved identifiers or identifiers defined by the CA in its Certificate Policy and/or Certification Practice Statement)"',
    appliesTo: ISSUED_PROFILES,
  },
  (cert, ctx, report) => {
    const ext = findExtension(cert, id_ce_certificatePolicies);
    if (!ext) {
      // Infrastructure certificates of the root (BR 6.1.7 items 3-4) assert no CP.
      if (ctx.profile !== 'ocsp' && ctx.profile !== 'publication')
        report.error(`certificatePolicies is missing; a '${ctx.profile}' certificate must assert the issuer's CP`);
      return;
    }
    if (ctx.profile === 'ocsp')
      report.warning('certificatePolicies in a delegated OCSP responder certificate is NOT RECOMMENDED (BR 7.1.2.8.8)');
    const policies = decodeExtension(ext, CertificatePolicies).map((p) => p.policyIdentifier);
    if (policies.length === 0) {
      report.error('certificatePolicies is an empty sequence');
      return;
    }
    const allowed = new Set(ctx.allowedPolicyOids);
    const seen = new Set<string>();
    for (const oid of policies) {
      if (seen.has(oid)) report.error(`policy ${oid} appears more than once`);
      seen.add(oid);
      if (allowed.has(oid)) continue;
      if (oid === id_ce_certificatePolicies_anyPolicy) report.error('anyPolicy (2.5.29.32.0) is not allowed');
      else if (!isCabforumReservedPolicy(oid))
        report.error(
          `policy ${oid} is not a CP this issuer may assert for '${ctx.profile}' (allowed: ${[...allowed].join(', ') || 'none'})`,
        );
    }
    if (ctx.profile !== 'ocsp' && allowed.size > 0 && !policies.some((oid) => allowed.has(oid))) {
      report.error(
        `none of the issuer's CPs for '${ctx.profile}' is asserted (expected one of ${[...allowed].join(', ')})`,
      );
    }
  },
);
