/**
 * Distinguished names with their ASN.1 string types pinned (RFC 5280 4.1.2.4/4.1.2.6).
 * Relying parties compare issuer and subject bytes, so "C=JP" as PrintableString and as
 * UTF8String are different names: the type is part of the configuration, never guessed.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';

/** Attribute short names as RFC 4514 spells them, with their OIDs. */
export const NAME_ATTRIBUTES = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  serialNumber: '2.5.4.5',
  organizationIdentifier: '2.5.4.97',
} as const;
export type NameAttributeType = keyof typeof NAME_ATTRIBUTES;

export type DirectoryStringType = 'printableString' | 'utf8String';

/** One attribute of one RDN, in order. */
export interface NameAttribute {
  type: NameAttributeType;
  value: string;
  encoding: DirectoryStringType;
}

/** PrintableString alphabet (X.680 41.4). */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Builds a Name with one attribute per RDN in the given order. Throws on an unencodable value. */
export function createName(attributes: NameAttribute[]): Name {
  return new Name(
    attributes.map((a) => {
      if (a.value.length === 0) throw new CaError('NAME_INVALID', `name attribute ${a.type} is empty`);
      if (a.encoding === 'printableString' && !PRINTABLE.test(a.value)) {
        throw new CaError(
          'NAME_INVALID',
          `name attribute ${a.type}="${a.value}" has characters outside PrintableString`,
        );
      }
      if (a.type === 'C' && !/^[A-Z]{2}$/.test(a.value))
        throw new CaError('NAME_INVALID', `countryName must be two capital letters (ISO 3166), got "${a.value}"`);
      const value = new AttributeValue(
        a.encoding === 'printableString' ? { printableString: a.value } : { utf8String: a.value },
      );
      return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: NAME_ATTRIBUTES[a.type], value })]);
    }),
  );
}

const SHORT_NAMES: Record<string, string> = Object.fromEntries(Object.entries(NAME_ATTRIBUTES).map(([k, v]) => [v, k]));

/** One-line rendering for people, in certificate order: "C=JP, O=…, CN=…". */
export function nameToText(name: Name): string {
  return name
    .map((rdn) => rdn.map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+'))
    .join(', ');
}

export function nameToDer(name: Name): Buffer {
  return Buffer.from(AsnConvert.serialize(name));
}
