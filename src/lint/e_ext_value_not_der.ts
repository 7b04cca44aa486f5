import { AsnConvert } from '@peculiar/asn1-schema';
import { ALL_PROFILES, bytesEqual, defineLint, derOf, extensionsOf, oidName, toBytes } from './support.ts';
import { KNOWN_EXTENSIONS } from './known_extensions.ts';

const NULL_DER = new Uint8Array([0x05, 0x00]);

/**
 * RFC 5280 4.1: "extnValue OCTET STRING -- contains the DER encoding of an ASN.1 value
 * -- corresponding to the extension type identified by extnID".
 * Each known extension value is decoded and re-encoded; a value that does not decode, carries
 * trailing bytes, or is BER rather than DER differs.
 */
export const e_ext_value_not_der = defineLint(
  {
    name: 'e_ext_value_not_der',
    description: 'Every known extension value decodes as its ASN.1 type and is DER.',
    citation:
      'RFC 5280 4.1: "extnValue OCTET STRING -- contains the DER encoding of an ASN.1 value -- corresponding to the extension type identified by extnID"',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    for (const ext of extensionsOf(cert)) {
      const type = KNOWN_EXTENSIONS[ext.extnID];
      if (!type) continue;
      const value = toBytes(ext.extnValue.buffer);
      if (type === 'NULL') {
        if (!bytesEqual(value, NULL_DER))
          report.error(`extension ${oidName(ext.extnID)} value must be the DER NULL 0500`);
        continue;
      }
      let reencoded: Uint8Array;
      try {
        reencoded = derOf(AsnConvert.parse(value, type));
      } catch (e) {
        report.error(
          `extension ${oidName(ext.extnID)} value does not decode: ${e instanceof Error ? e.message : String(e)}`,
        );
        continue;
      }
      if (!bytesEqual(reencoded, value))
        report.error(`extension ${oidName(ext.extnID)} value is not DER (re-encoding differs)`);
    }
  },
);
