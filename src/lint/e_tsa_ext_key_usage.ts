import { ExtendedKeyUsage, id_ce_extKeyUsage, id_kp_timeStamping } from '@peculiar/asn1-x509';
import { TIME_STAMPING_PROFILES, decodeExtension, defineLint, findExtension, oidName } from './support.ts';

/**
 * RFC 3161 2.3: "The corresponding certificate MUST contain only one instance of the extended
 * key usage field extension as defined in [RFC2459] Section 4.2.1.13 with KeyPurposeID having
 * value: id-kp-timeStamping. This extension MUST be critical."
 * "EKU id-kp-timeStamping (critical, alone) for a TSA" — the TA profile is the same.
 */
export const e_tsa_ext_key_usage = defineLint(
  {
    name: 'e_tsa_ext_key_usage',
    description: 'A TSA or TA certificate has a critical extKeyUsage holding exactly id-kp-timeStamping.',
    citation:
      'RFC 3161 2.3: "The corresponding certificate MUST contain only one instance of the extended key usage field extension as defined in [RFC2459] Section 4.2.1.13 with KeyPurposeID having value: id-kp-timeStamping. This extension MUST be critical."',
    appliesTo: TIME_STAMPING_PROFILES,
  },
  (cert, _ctx, report) => {
    const ext = findExtension(cert, id_ce_extKeyUsage);
    if (!ext) {
      report.error('extKeyUsage is missing; a time-stamping certificate needs id-kp-timeStamping');
      return;
    }
    if (!ext.critical) report.error('extKeyUsage is not marked critical');
    const eku = decodeExtension(ext, ExtendedKeyUsage);
    if (!eku.includes(id_kp_timeStamping)) report.error('extKeyUsage lacks id-kp-timeStamping');
    const others = eku.filter((p) => p !== id_kp_timeStamping);
    if (others.length > 0 || eku.length > 1) {
      report.error(
        `extKeyUsage must hold id-kp-timeStamping alone; it also holds ${eku.length > 1 && others.length === 0 ? 'a repeated id-kp-timeStamping' : others.map(oidName).join(', ')}`,
      );
    }
  },
);
