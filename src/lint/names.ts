/**
 * Reading distinguished names for the subject lints.
 */
import type { AttributeTypeAndValue, Name } from '@peculiar/asn1-x509';

export const id_at_commonName = '2.5.4.3';
export const id_at_surname = '2.5.4.4';
export const id_at_serialNumber = '2.5.4.5';
export const id_at_countryName = '2.5.4.6';
export const id_at_localityName = '2.5.4.7';
export const id_at_stateOrProvinceName = '2.5.4.8';
export const id_at_streetAddress = '2.5.4.9';
export const id_at_organizationName = '2.5.4.10';
export const id_at_organizationalUnitName = '2.5.4.11';
export const id_at_title = '2.5.4.12';
export const id_at_businessCategory = '2.5.4.15';
export const id_at_postalCode = '2.5.4.17';
export const id_at_name = '2.5.4.41';
export const id_at_givenName = '2.5.4.42';
export const id_at_initials = '2.5.4.43';
export const id_at_generationQualifier = '2.5.4.44';
export const id_at_dnQualifier = '2.5.4.46';
export const id_at_pseudonym = '2.5.4.65';
export const id_at_organizationIdentifier = '2.5.4.97';
export const id_emailAddress = '1.2.840.113549.1.9.1';
export const id_domainComponent = '0.9.2342.19200300.100.1.25';

/** The string type an attribute value was encoded with. */
export type StringKind =
  | 'printableString'
  | 'utf8String'
  | 'teletexString'
  | 'bmpString'
  | 'universalString'
  | 'ia5String'
  | 'other';

export interface NameAttribute {
  type: string;
  kind: StringKind;
  /** The decoded text; '' for an 'other' value. */
  text: string;
}

export function attributeOf(atv: AttributeTypeAndValue): NameAttribute {
  const v = atv.value;
  const kinds: Exclude<StringKind, 'other'>[] = [
    'printableString',
    'utf8String',
    'teletexString',
    'bmpString',
    'universalString',
    'ia5String',
  ];
  for (const kind of kinds) {
    const text = v[kind];
    if (text !== undefined) return { type: atv.type, kind, text };
  }
  return { type: atv.type, kind: 'other', text: '' };
}

/** All attributes of a name, in order. */
export function attributesOf(name: Name): NameAttribute[] {
  return name.flatMap((rdn) => rdn.map(attributeOf));
}

/** X.680 41.4 Table 10: the PrintableString character set. */
export function isPrintableString(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

/** Length in characters (code points), as the X.520 upper bounds count. */
export function charLength(s: string): number {
  return [...s].length;
}
