import { CRLDistributionPoints, type GeneralName, id_ce_cRLDistributionPoints } from '@peculiar/asn1-x509';
import { ALL_PROFILES, decodeExtension, defineLint, findExtension, isHttpUrl } from './support.ts';

/** A GeneralName as text for messages. */
export function describeGeneralName(g: GeneralName): string {
  if (g.uniformResourceIdentifier !== undefined) return `URI ${g.uniformResourceIdentifier}`;
  if (g.dNSName !== undefined) return `DNS ${g.dNSName}`;
  if (g.directoryName !== undefined) return 'directoryName';
  if (g.rfc822Name !== undefined) return `email ${g.rfc822Name}`;
  if (g.iPAddress !== undefined) return `IP ${g.iPAddress}`;
  return 'a non-URI GeneralName';
}

/**
 * BR 7.1.2.11.2: "All `GeneralName`s MUST be of type `uniformResourceIdentifier`, and the scheme
 * of each MUST be "http"." The same section: the extension "MUST be present in: Subordinate CA
 * Certificates", "SHOULD NOT be present in: Root CA Certificates", "MUST NOT be present in: OCSP
 * Responder Certificates"; `distributionPoint` MUST be a `fullName`; `reasons` and `cRLIssuer`
 * MUST NOT be present. RFC 5280 4.2.1.13: "The extension SHOULD be non-critical, but this profile
 * RECOMMENDS support for this extension by CAs and applications." (TSA/TA: missing is a warning.)
 */
export const e_crl_distribution_points = defineLint(
  {
    name: 'e_crl_distribution_points',
    description:
      'cRLDistributionPoints is present where the profile needs it, non-critical, and holds only http:// fullName URIs.',
    citation:
      'BR 7.1.2.11.2: "All `GeneralName`s MUST be of type `uniformResourceIdentifier`, and the scheme of each MUST be "http"."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const ext = findExtension(cert, id_ce_cRLDistributionPoints);
    if (!ext) {
      if (ctx.profile === 'subca') report.error('cRLDistributionPoints is missing from a subordinate CA certificate');
      if (ctx.profile === 'tsa' || ctx.profile === 'ta')
        report.warning(`cRLDistributionPoints is missing from a '${ctx.profile}' certificate`);
      return;
    }
    if (ctx.profile === 'root') report.warning('root certificate carries cRLDistributionPoints (BR: SHOULD NOT)');
    if (ctx.profile === 'ocsp')
      report.error('delegated OCSP responder certificate carries cRLDistributionPoints (BR: MUST NOT)');
    if (ext.critical) report.error('cRLDistributionPoints is marked critical');
    const dps = decodeExtension(ext, CRLDistributionPoints);
    if (dps.length === 0) report.error('cRLDistributionPoints holds no DistributionPoint');
    dps.forEach((dp, i) => {
      const where = `DistributionPoint ${i + 1}`;
      if (dp.reasons !== undefined) report.error(`${where} carries reasons`);
      if (dp.cRLIssuer !== undefined) report.error(`${where} carries cRLIssuer`);
      const full = dp.distributionPoint?.fullName;
      if (!full) {
        report.error(`${where} has no fullName distributionPoint`);
        return;
      }
      if (full.length === 0) report.error(`${where} fullName is empty`);
      for (const g of full) {
        if (g.uniformResourceIdentifier === undefined)
          report.error(`${where} holds ${describeGeneralName(g)}; only http:// URIs are allowed`);
        else if (!isHttpUrl(g.uniformResourceIdentifier))
          report.error(`${where} URI ${g.uniformResourceIdentifier} is not an http:// URL`);
      }
    });
  },
);
