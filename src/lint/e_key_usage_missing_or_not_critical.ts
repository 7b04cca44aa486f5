import { KeyUsage, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { ALL_PROFILES, decodeExtension, defineLint, findExtension, toBytes } from './support.ts';

/**
 * BR 1.x 7.1.2.1 (b): keyUsage "This extension MUST be present and MUST be marked critical."
 * (also BR 7.1.2.10.7 for CAs, 7.1.2.8.2 for OCSP responders; and R-3.2 "(critical)").
 * RFC 5280 4.2.1.3: "When present, conforming CAs SHOULD mark this extension as critical." and
 * "When the keyUsage extension appears in a certificate, at least one of the bits MUST be set to 1."
 *
 * On a root a non-critical keyUsage is a warning only: reproduces the real RootCA1, whose
 * keyUsage is non-critical, which RFC 5280 (SHOULD) permits.
 */
export const e_key_usage_missing_or_not_critical = defineLint(
  {
    name: 'e_key_usage_missing_or_not_critical',
    description: 'keyUsage is present, critical (a warning on roots) and asserts at least one bit.',
    citation: 'BR 1.x 7.1.2.1 (b): "This extension MUST be present and MUST be marked critical."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const ext = findExtension(cert, id_ce_keyUsage);
    if (!ext) {
      report.error('keyUsage is missing');
      return;
    }
    if (!ext.critical) {
      if (ctx.profile === 'root')
        report.warning(
          'keyUsage is not marked critical (tolerated on a root: RFC 5280 4.2.1.3 SHOULD; legacy RootCA1 profile)',
        );
      else report.error(`keyUsage is not marked critical in a '${ctx.profile}' certificate`);
    }
    const ku = decodeExtension(ext, KeyUsage);
    if (toBytes(ku.value).every((b) => b === 0)) report.error('keyUsage asserts no bit');
  },
);
