import { AuthorityInfoAccessSyntax, id_ad_caIssuers, id_ad_ocsp, id_pe_authorityInfoAccess } from '@peculiar/asn1-x509';
import { ALL_PROFILES, decodeExtension, defineLint, findExtension, isHttpUrl, oidName } from './support.ts';
import { describeGeneralName } from './e_crl_distribution_points.ts';

/**
 * BR 7.1.2.10.3: "Each `AccessDescription` MUST only contain a permitted `accessMethod`, as
 * detailed below, and each `accessLocation` MUST be encoded as the specified `GeneralName` type."
 * — id-ad-ocsp "A HTTP URL of the Issuing CA's OCSP responder", id-ad-caIssuers "A HTTP URL of
 * the Issuing CA's certificate"; "No other `accessMethod`s may be used."
 * RFC 5280 4.2.2.1: "Conforming CAs MUST mark this extension as non-critical."
 * subordinate CAs carry "AIA (OCSP + caIssuers) URLs of the Repository": the extension
 * and at least one of the two are errors when missing, a missing one of the pair a warning.
 * Roots (BR 7.1.2.1.2) and OCSP responders (BR 7.1.2.8.2) should not carry it: a warning.
 */
export const e_authority_info_access = defineLint(
  {
    name: 'e_authority_info_access',
    description:
      'authorityInfoAccess is present on subordinate CAs, non-critical, and holds only OCSP and caIssuers http:// URIs.',
    citation:
      'BR 7.1.2.10.3: "Each `AccessDescription` MUST only contain a permitted `accessMethod`, as detailed below, and each `accessLocation` MUST be encoded as the specified `GeneralName` type."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const ext = findExtension(cert, id_pe_authorityInfoAccess);
    if (!ext) {
      if (ctx.profile === 'subca') report.error('authorityInfoAccess is missing from a subordinate CA certificate');
      return;
    }
    if (ctx.profile === 'root')
      report.warning('root certificate carries authorityInfoAccess (BR 7.1.2.1.2: not part of the root profile)');
    if (ctx.profile === 'ocsp')
      report.warning(
        'delegated OCSP responder certificate carries authorityInfoAccess (BR 7.1.2.8.2: NOT RECOMMENDED)',
      );
    if (ext.critical) report.error('authorityInfoAccess is marked critical; it MUST be non-critical');
    const aia = decodeExtension(ext, AuthorityInfoAccessSyntax);
    if (aia.length === 0) report.error('authorityInfoAccess holds no AccessDescription');
    const methods = new Set<string>();
    for (const ad of aia) {
      methods.add(ad.accessMethod);
      if (ad.accessMethod !== id_ad_ocsp && ad.accessMethod !== id_ad_caIssuers) {
        report.error(
          `accessMethod ${oidName(ad.accessMethod)} is not allowed; only id-ad-ocsp and id-ad-caIssuers are`,
        );
        continue;
      }
      const uri = ad.accessLocation.uniformResourceIdentifier;
      if (uri === undefined)
        report.error(
          `${oidName(ad.accessMethod)} accessLocation is ${describeGeneralName(ad.accessLocation)}, not an http:// URI`,
        );
      else if (!isHttpUrl(uri)) report.error(`${oidName(ad.accessMethod)} URI ${uri} is not an http:// URL`);
    }
    if (ctx.profile === 'subca') {
      const ocsp = methods.has(id_ad_ocsp);
      const ca = methods.has(id_ad_caIssuers);
      if (!ocsp && !ca) report.error('authorityInfoAccess holds neither id-ad-ocsp nor id-ad-caIssuers');
      else if (!ocsp) report.warning('authorityInfoAccess has no id-ad-ocsp URL (R-3.1 expects OCSP and caIssuers)');
      else if (!ca) report.warning('authorityInfoAccess has no id-ad-caIssuers URL (R-3.1 expects OCSP and caIssuers)');
    }
  },
);
