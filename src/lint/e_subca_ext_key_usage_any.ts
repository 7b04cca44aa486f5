import { ExtendedKeyUsage, anyExtendedKeyUsage, id_ce_extKeyUsage } from '@peculiar/asn1-x509';
import { decodeExtension, defineLint, findExtension } from './support.ts';

/**
 * Mozilla Root Store Policy 5.3: intermediate certificates "MUST NOT include the
 * anyExtendedKeyUsage KeyPurposeId". extKeyUsage itself is optional on our subordinate CAs
 * (R-3.1 "optional EKU"), but when present it must not be empty (RFC 5280 4.2.1.12
 * "SEQUENCE SIZE (1..MAX) OF KeyPurposeId").
 */
export const e_subca_ext_key_usage_any = defineLint(
  {
    name: 'e_subca_ext_key_usage_any',
    description: 'A subordinate CA extKeyUsage, when present, is not empty and has no anyExtendedKeyUsage.',
    citation:
      'Mozilla Root Store Policy 5.3: intermediate certificates "MUST NOT include the anyExtendedKeyUsage KeyPurposeId"',
    appliesTo: ['subca'],
  },
  (cert, ctx, report) => {
    // BR 7.1.2.2.4: an unrestricted cross-certificate "MAY" carry anyExtendedKeyUsage, alone; Mozilla 5.3 exempts it.
    if (ctx.crossCertificate === 'unrestricted') return;
    const ext = findExtension(cert, id_ce_extKeyUsage);
    if (!ext) return;
    const eku = decodeExtension(ext, ExtendedKeyUsage);
    if (eku.length === 0) report.error('extKeyUsage is an empty sequence');
    if (eku.includes(anyExtendedKeyUsage)) report.error('subordinate CA extKeyUsage includes anyExtendedKeyUsage');
  },
);
