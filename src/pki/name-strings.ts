/**
 * Strings in a distinguished name that would mislead a relying party are refused (issue 15.6;
 * RFC 5280 4.1.2.4, the X.520 upper bounds of RFC 5280 Appendix A.1): control characters (NUL
 * included), bidirectional controls, invalid UTF-8 in a UTF8String — read from the raw bytes,
 * never through a decoder that would replace them — characters a PrintableString or IA5String
 * cannot hold, and values over their upper bound. Used for CSRs (csr.ts), ceremony files
 * (config/ceremony.ts), the profile's accepted subject and the certificate lint. Pure.
 */
import type { DerElement } from './pem.ts';
import { readDerChildren, readDerElement } from './pem.ts';

/** One rule a name string breaks: the rule as refusals name it, and what was found. */
export interface NameStringProblem {
  rule: string;
  message: string;
}

export const RULE_CONTROL_CHARACTER =
  'RFC 4518 2.2 control characters are "mapped to nothing" (invisible to comparison): refused';
export const RULE_BIDI_CONTROL =
  'RFC 4518 2.4 / RFC 3454 Table C.8 "Change display properties" (bidi controls, Unicode UAX #9): refused';
export const RULE_REPLACEMENT_CHARACTER =
  'RFC 4518 2.4 "The REPLACEMENT CHARACTER (U+FFFD) code point is also prohibited."';
export const RULE_UTF8 = 'RFC 5280 4.1.2.4 UTF8String holds well-formed UTF-8 (RFC 3629 3, checked on the raw bytes)';
export const RULE_PRINTABLE = "X.680 41.4 PrintableString holds only A-Z a-z 0-9 space ' ( ) + , - . / : = ?";
export const RULE_IA5 = 'X.680 41.2 IA5String holds only 7-bit characters';
export const RULE_STRING_TYPE =
  'RFC 5280 4.1.2.4 "CAs conforming to this profile MUST use either the PrintableString or UTF8String encoding of DirectoryString"';
export const RULE_UPPER_BOUND = 'RFC 5280 Appendix A.1 upper bounds (X.520), e.g. "ub-common-name INTEGER ::= 64"';
export const RULE_COUNTRY =
  'RFC 5280 Appendix A.1 CountryName: PrintableString (SIZE (ub-country-name-alpha-length)), 2';

const id_at_countryName = '2.5.4.6';

/** RFC 5280 Appendix A.1 upper bounds, in characters, by attribute type. */
export const NAME_UPPER_BOUNDS: Record<string, { name: string; max: number }> = {
  '2.5.4.3': { name: 'CN', max: 64 }, // ub-common-name
  '2.5.4.4': { name: 'surname', max: 32768 }, // ub-name
  '2.5.4.5': { name: 'serialNumber', max: 64 }, // ub-serial-number
  '2.5.4.7': { name: 'L', max: 128 }, // ub-locality-name
  '2.5.4.8': { name: 'ST', max: 128 }, // ub-state-name
  '2.5.4.10': { name: 'O', max: 64 }, // ub-organization-name
  '2.5.4.11': { name: 'OU', max: 64 }, // ub-organizational-unit-name
  '2.5.4.12': { name: 'title', max: 64 }, // ub-title
  '2.5.4.41': { name: 'name', max: 32768 }, // ub-name
  '2.5.4.42': { name: 'givenName', max: 32768 }, // ub-name
  '2.5.4.43': { name: 'initials', max: 32768 }, // ub-name
  '2.5.4.44': { name: 'generationQualifier', max: 32768 }, // ub-name
  '2.5.4.65': { name: 'pseudonym', max: 128 }, // ub-pseudonym
  '1.2.840.113549.1.9.1': { name: 'emailAddress', max: 255 }, // ub-emailaddress-length
};

/** The name string kinds this module reads by DER tag. */
export type NameStringKind = 'utf8String' | 'printableString' | 'ia5String' | 'bmpString' | 'universalString' | 'other';

const KIND_BY_TAG: Record<number, NameStringKind> = {
  12: 'utf8String',
  19: 'printableString',
  22: 'ia5String',
  30: 'bmpString',
  28: 'universalString',
};

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

function codePoints(s: string): string {
  return [...s].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
}

/** What breaks the rules in one attribute's text (already decoded): characters, type's set, upper bound. */
export function checkNameString(type: string, kind: NameStringKind, text: string): NameStringProblem[] {
  const label = NAME_UPPER_BOUNDS[type]?.name ?? (type === id_at_countryName ? 'C' : type);
  const problems: NameStringProblem[] = [];
  const add = (rule: string, message: string) => problems.push({ rule, message: `${label}: ${message}` });
  const controls = [...text].filter((c) => CONTROL.test(c));
  if (controls.length) add(RULE_CONTROL_CHARACTER, `holds control character(s) ${codePoints(controls.join(''))}`);
  const bidi = [...text].filter((c) => BIDI.test(c));
  if (bidi.length) add(RULE_BIDI_CONTROL, `holds bidirectional control(s) ${codePoints(bidi.join(''))}`);
  if (text.includes('\ufffd')) add(RULE_REPLACEMENT_CHARACTER, 'holds U+FFFD (a replaced, undecodable character)');
  if (LONE_SURROGATE.test(text)) add(RULE_UTF8, 'holds a lone UTF-16 surrogate, which no UTF-8 can encode');
  if (kind === 'printableString' && !PRINTABLE.test(text))
    add(RULE_PRINTABLE, 'is a PrintableString with characters outside its set');
  if (kind === 'ia5String' && [...text].some((c) => c.codePointAt(0)! > 0x7f))
    add(RULE_IA5, 'is an IA5String with non-ASCII characters');
  const length = [...text].length;
  const bound = NAME_UPPER_BOUNDS[type];
  if (bound && length > bound.max)
    add(RULE_UPPER_BOUND, `is ${length} characters long; at most ${bound.max} are allowed`);
  if (type === id_at_countryName && length !== 2)
    add(RULE_COUNTRY, `must be exactly 2 characters (ISO 3166-1 alpha-2), got ${length}`);
  return problems;
}

/** A DER OBJECT IDENTIFIER's content as dotted text. */
function oidText(content: Uint8Array): string {
  const arcs: number[] = [];
  let v = 0;
  for (const b of content) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

/** One value's text from its raw bytes, or the problem that stops it being read (invalid UTF-8 is never repaired). */
function decodeValue(
  type: string,
  kind: NameStringKind,
  bytes: Uint8Array,
): { text: string } | { problem: NameStringProblem } {
  const label = NAME_UPPER_BOUNDS[type]?.name ?? (type === id_at_countryName ? 'C' : type);
  const bad = (rule: string, message: string) => ({ problem: { rule, message: `${label}: ${message}` } });
  switch (kind) {
    case 'utf8String':
      try {
        return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
      } catch {
        return bad(RULE_UTF8, `UTF8String bytes ${Buffer.from(bytes).toString('hex')} are not well-formed UTF-8`);
      }
    case 'printableString':
    case 'ia5String':
      return { text: Buffer.from(bytes).toString('latin1') };
    case 'bmpString':
    case 'universalString':
    case 'other':
      return bad(RULE_STRING_TYPE, `is encoded as ${kind === 'other' ? 'another string type' : kind}`);
  }
}

/**
 * Every rule the strings of a DER Name break, read from its exact bytes (RDNSequence of SETs of
 * AttributeTypeAndValue). Throws only on bytes that are not a Name at all.
 */
export function checkNameDer(nameDer: Uint8Array): NameStringProblem[] {
  const der = Buffer.from(nameDer.buffer, nameDer.byteOffset, nameDer.byteLength);
  const problems: NameStringProblem[] = [];
  const name = readDerElement(der, 0);
  for (const rdn of readDerChildren(der, name)) {
    for (const atv of readDerChildren(der, rdn)) {
      const [typeEl, valueEl] = readDerChildren(der, atv) as [DerElement, DerElement];
      const type = oidText(der.subarray(typeEl.contentStart, typeEl.end));
      const kind = KIND_BY_TAG[valueEl.tag] ?? 'other';
      const decoded = decodeValue(type, kind, der.subarray(valueEl.contentStart, valueEl.end));
      if ('problem' in decoded) problems.push(decoded.problem);
      else problems.push(...checkNameString(type, kind, decoded.text));
    }
  }
  return problems;
}
