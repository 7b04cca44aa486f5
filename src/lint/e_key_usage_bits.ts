import { KeyUsage, id_ce_keyUsage, type KeyUsageType } from '@peculiar/asn1-x509';
import type { ProfileName } from './types.ts';
import { ALL_PROFILES, decodeExtension, defineLint, findExtension, toBytes } from './support.ts';

interface BitRule {
  required: KeyUsageType[];
  permitted: KeyUsageType[];
  forbidden: KeyUsageType[];
}

/**
 * Per profile: bits that must be set, bits that may be set, and bits that must not be set.
 * Any other bit is a warning. CA: BR 7.1.2.10.7. OCSP: BR 7.1.2.8.7 (digitalSignature only).
 * TSA/TA: R-3.2 "keyUsage digitalSignature (critical)".
 */
export const KEY_USAGE_RULES: Record<ProfileName, BitRule> = {
  root: {
    required: ['keyCertSign', 'crlSign'],
    permitted: ['digitalSignature'],
    forbidden: [
      'nonRepudiation',
      'keyEncipherment',
      'dataEncipherment',
      'keyAgreement',
      'encipherOnly',
      'decipherOnly',
    ],
  },
  subca: {
    required: ['keyCertSign', 'crlSign'],
    permitted: ['digitalSignature'],
    forbidden: [
      'nonRepudiation',
      'keyEncipherment',
      'dataEncipherment',
      'keyAgreement',
      'encipherOnly',
      'decipherOnly',
    ],
  },
  // R-3.2 / issuance issue: "keyUsage digitalSignature (+ nonRepudiation) critical" for TSA and TA.
  tsa: { required: ['digitalSignature'], permitted: ['nonRepudiation'], forbidden: ['keyCertSign', 'crlSign'] },
  ta: { required: ['digitalSignature'], permitted: ['nonRepudiation'], forbidden: ['keyCertSign', 'crlSign'] },
  ocsp: {
    required: ['digitalSignature'],
    permitted: [],
    forbidden: [
      'nonRepudiation',
      'keyEncipherment',
      'dataEncipherment',
      'keyAgreement',
      'keyCertSign',
      'crlSign',
      'encipherOnly',
      'decipherOnly',
    ],
  },
  // The publication key signs one document, the manifest (RFC 9336; BR 6.1.7 infrastructure purposes).
  publication: {
    required: ['digitalSignature'],
    permitted: [],
    forbidden: [
      'keyEncipherment',
      'dataEncipherment',
      'keyAgreement',
      'keyCertSign',
      'crlSign',
      'encipherOnly',
      'decipherOnly',
    ],
  },
};

/** RFC 5280 names the bit cRLSign; asn1-schema spells it crlSign. */
const show = (bit: KeyUsageType): string => (bit === 'crlSign' ? 'cRLSign' : bit);

/**
 * BR 1.x 7.1.2.1 (b): root keyUsage "Bit positions for `keyCertSign` and `cRLSign` MUST be set."
 * Subordinate CAs the same (BR 7.1.2.10.7, R-3.1 "keyUsage keyCertSign+cRLSign"); TSA, TA and
 * OCSP responders sign with digitalSignature and never certificates or CRLs.
 * X.690 11.2.2: a DER named-bit list has no trailing zero bits.
 */
export const e_key_usage_bits = defineLint(
  {
    name: 'e_key_usage_bits',
    description: 'keyUsage asserts the bits the profile requires and none it forbids.',
    citation: 'BR 1.x 7.1.2.1 (b): "Bit positions for `keyCertSign` and `cRLSign` MUST be set."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const ext = findExtension(cert, id_ce_keyUsage);
    if (!ext) return; // e_key_usage_missing_or_not_critical
    const ku = decodeExtension(ext, KeyUsage);
    const bytes = toBytes(ku.value);
    const last = bytes[bytes.length - 1];
    if (
      last !== undefined &&
      (last === 0 || (last & ((1 << ku.unusedBits) - 1)) !== 0 || (last & (1 << ku.unusedBits)) === 0)
    ) {
      report.error('keyUsage BIT STRING is not DER: trailing zero bits are not removed (X.690 11.2.2)');
    }
    const bits = new Set(ku.toJSON());
    const rule = KEY_USAGE_RULES[ctx.profile];
    for (const bit of rule.required)
      if (!bits.has(bit)) report.error(`keyUsage lacks ${show(bit)}, required in a '${ctx.profile}' certificate`);
    for (const bit of bits) {
      if (rule.required.includes(bit) || rule.permitted.includes(bit)) continue;
      if (rule.forbidden.includes(bit))
        report.error(`keyUsage asserts ${show(bit)}, not allowed in a '${ctx.profile}' certificate`);
      else report.warning(`keyUsage asserts ${show(bit)}, not expected in a '${ctx.profile}' certificate`);
    }
  },
);
