/**
 * Text for what a certification request asks for (`rootca csr inspect`): names with their
 * untrusted values escaped (RFC 4514 2.4) and requested extensions in words.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  type AttributeTypeAndValue,
  BasicConstraints,
  CertificatePolicies,
  ExtendedKeyUsage,
  type Extension,
  type GeneralName,
  KeyUsage,
  KeyUsageFlags,
  type Name,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import { ANY_EXTENDED_KEY_USAGE, ATTRIBUTE_SHORT_NAMES, KEY_PURPOSE_NAMES } from './oid-names.ts';

/** RFC 4514 2.4 escaping of one attribute value string. */
function escapeValue(v: string): string {
  let s = v.replace(/[\\",+;<>=]/g, (c) => `\\${c}`);
  s = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (s.startsWith(' ') || s.startsWith('#')) s = `\\${s}`;
  if (s.endsWith(' ') && s.length > 1) s = `${s.slice(0, -1)}\\ `;
  return s;
}

function attributeValueText(atv: AttributeTypeAndValue): string {
  const v = atv.value;
  const str = v.printableString ?? v.utf8String ?? v.ia5String ?? v.teletexString ?? v.bmpString ?? v.universalString;
  if (str !== undefined) return escapeValue(str);
  // RFC 4514 2.4: values without a string form are written as '#' and the hex of their BER.
  if (v.anyValue) return `#${Buffer.from(v.anyValue).toString('hex')}`;
  return '#';
}

/**
 * One-line rendering of a Name in encoded order (most significant RDN first, as OpenSSL's
 * -nameopt oneline shows it; RFC 4514 itself reverses the order): "C=JP, O=Example, CN=Sub CA".
 * Values are escaped (RFC 4514 2.4) because they are untrusted: "O=A\, CN=B" must not read as two RDNs.
 */
export function requestedNameText(name: Name): string {
  return name
    .map((rdn) =>
      rdn.map((atv) => `${ATTRIBUTE_SHORT_NAMES[atv.type] ?? atv.type}=${attributeValueText(atv)}`).join(' + '),
    )
    .join(', ');
}

const KEY_USAGE_BITS: [KeyUsageFlags, string][] = [
  [KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [KeyUsageFlags.cRLSign, 'cRLSign'],
  [KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

function generalNameText(g: GeneralName): string {
  if (g.dNSName !== undefined) return `DNS:${g.dNSName}`;
  if (g.rfc822Name !== undefined) return `email:${g.rfc822Name}`;
  if (g.uniformResourceIdentifier !== undefined) return `URI:${g.uniformResourceIdentifier}`;
  if (g.iPAddress !== undefined) return `IP:${g.iPAddress}`;
  if (g.directoryName !== undefined) return `DirName:${requestedNameText(g.directoryName)}`;
  if (g.registeredID !== undefined) return `RID:${g.registeredID}`;
  if (g.otherName !== undefined) return `othername:${g.otherName.typeId}`;
  return 'other name form';
}

/** A human reading of one requested extension's value; hex when it is not one we decode. */
export function extensionValueText(ext: Extension): string {
  const value = ext.extnValue.buffer;
  try {
    switch (ext.extnID) {
      case '2.5.29.19': {
        const bc = AsnConvert.parse(value, BasicConstraints);
        return `CA:${bc.cA ? 'TRUE' : 'FALSE'}${bc.pathLenConstraint !== undefined ? `, pathlen:${bc.pathLenConstraint}` : ''}`;
      }
      case '2.5.29.15': {
        // RFC 5280 4.2.1.3 names, in bit order.
        const ku = AsnConvert.parse(value, KeyUsage);
        return KEY_USAGE_BITS.filter(([flag]) => (ku.toNumber() & flag) !== 0)
          .map(([, n]) => n)
          .join(', ');
      }
      case '2.5.29.37':
        return [...AsnConvert.parse(value, ExtendedKeyUsage)]
          .map((o) => KEY_PURPOSE_NAMES[o] ?? ANY_EXTENDED_KEY_USAGE[o] ?? o)
          .join(', ');
      case '2.5.29.17':
        return [...AsnConvert.parse(value, SubjectAlternativeName)].map(generalNameText).join(', ');
      case '2.5.29.32':
        return [...AsnConvert.parse(value, CertificatePolicies)].map((p) => p.policyIdentifier).join(', ');
      default:
        break;
    }
  } catch {
    // fall through to hex: the profile, not the report, decides what a bad value means
  }
  const hex = Buffer.from(value).toString('hex');
  return `${hex.length > 64 ? `${hex.slice(0, 64)}…` : hex} (${value.byteLength} bytes)`;
}
