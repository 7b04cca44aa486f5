/**
 * Name constraints of a technically constrained subordinate CA (RFC 5280 4.2.1.10; BR 7.1.2.5,
 * 7.1.2.10.8): dNSName, iPAddress (address and mask, 8 octets for IPv4 and 32 for IPv6),
 * rfc822Name and directoryName, permitted and excluded. Every value is checked here, so what
 * reaches a certificate is what RFC 5280 says each form means.
 */
import { GeneralName, GeneralSubtree, GeneralSubtrees, type Name, NameConstraints } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { createName, NAME_ATTRIBUTES, type NameAttribute, type NameAttributeType } from './name.ts';

/** The constraints a request may ask for, one list per name form and side. */
export interface NameConstraintRequest {
  permittedDnsNames?: string[];
  excludedDnsNames?: string[];
  /** CIDR: 192.0.2.0/24, 2001:db8::/32. */
  permittedIpRanges?: string[];
  excludedIpRanges?: string[];
  /** RFC 5280 4.2.1.10 rfc822Name forms: a mailbox, a host, or .domain for every host below it. */
  permittedEmails?: string[];
  excludedEmails?: string[];
  /** Distinguished names as text, e.g. "C=JP, O=Example". */
  permittedDirectoryNames?: string[];
  excludedDirectoryNames?: string[];
}

/** The option names of NameConstraintRequest, for the profile's option list. */
export const NAME_CONSTRAINT_OPTIONS = [
  'permittedDnsNames',
  'excludedDnsNames',
  'permittedIpRanges',
  'excludedIpRanges',
  'permittedEmails',
  'excludedEmails',
  'permittedDirectoryNames',
  'excludedDirectoryNames',
] as const;

function invalid(message: string): never {
  throw new CaError('NAME_CONSTRAINT_INVALID', `${message} (RFC 5280 4.2.1.10)`);
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A dNSName constraint: "host.example.com" covers the host and every name below it. */
export function checkDnsConstraint(name: string): string {
  const n = name.toLowerCase();
  if (n.length > 253 || !n.split('.').every((l) => LABEL.test(l)))
    invalid(`"${name}" is not a DNS name of letters, digits and hyphens (no wildcard, no leading or trailing dot)`);
  return n;
}

/** An iPAddress constraint: the address with the host bits zero, then the mask (8 or 32 octets). */
export function ipRangeOctets(range: string): Uint8Array {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(range);
  if (!m) invalid(`"${range}" is not an address range like 192.0.2.0/24 or 2001:db8::/32`);
  const address = m[1]!.includes(':') ? ipv6Octets(m[1]!, range) : ipv4Octets(m[1]!, range);
  const prefix = Number(m[2]);
  if (prefix > address.length * 8) invalid(`"${range}": the prefix is longer than the address`);
  const out = new Uint8Array(address.length * 2);
  out.set(address);
  for (let bit = 0; bit < address.length * 8; bit++) {
    const inMask = bit < prefix;
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (inMask) out[address.length + byte]! |= mask;
    else if (address[byte]! & mask) invalid(`"${range}" has host bits set beyond /${prefix}`);
  }
  return out;
}

function ipv4Octets(text: string, range: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256))
    invalid(`"${range}" is not a dotted IPv4 address`);
  return new Uint8Array(parts.map(Number));
}

function ipv6Octets(text: string, range: string): Uint8Array {
  const halves = text.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  if (halves.length > 2) invalid(`"${range}" is not an IPv6 address`);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1))
    invalid(`"${range}" is not an IPv6 address`);
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) invalid(`"${range}" is not an IPv6 address`);
  return new Uint8Array(all.flatMap((g) => [Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 0xff]));
}

/** The asn1 library's textual form of 8/32 octets (it encodes "addr/prefix" to address and mask). */
function ipText(octets: Uint8Array): string {
  const half = octets.length / 2;
  const prefix = [...octets.subarray(half)].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0);
  if (half === 4) return `${[...octets.subarray(0, 4)].join('.')}/${prefix}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((octets[i]! << 8) | octets[i + 1]!).toString(16));
  return `${groups.join(':')}/${prefix}`;
}

/** An rfc822Name constraint: local@host, host, or .domain (RFC 5280 4.2.1.10). */
export function checkEmailConstraint(value: string): string {
  const at = value.lastIndexOf('@');
  const host = at >= 0 ? value.slice(at + 1) : value.replace(/^\./, '');
  if (at >= 0 && !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(value.slice(0, at)))
    invalid(`"${value}": the mailbox part is not an ASCII local part`);
  checkDnsConstraint(host);
  return at >= 0 ? value : value.toLowerCase();
}

const ATTRIBUTE_TYPES = Object.keys(NAME_ATTRIBUTES) as NameAttributeType[];
const PRINTABLE = /^[A-Za-z0-9 '()+\-./:=?]*$/;

/** A directoryName constraint from "C=JP, O=Example" (one attribute per RDN, in order). */
export function directoryNameConstraint(text: string): Name {
  const attributes: NameAttribute[] = text.split(/\s*,\s*/).map((part) => {
    const eq = part.indexOf('=');
    const type = part.slice(0, eq).trim() as NameAttributeType;
    const value = part.slice(eq + 1).trim();
    if (eq < 1 || !ATTRIBUTE_TYPES.includes(type) || !value)
      invalid(`"${text}": "${part}" is not TYPE=value with TYPE one of ${ATTRIBUTE_TYPES.join(', ')}`);
    return { type, value, encoding: type === 'C' || PRINTABLE.test(value) ? 'printableString' : 'utf8String' };
  });
  try {
    return createName(attributes);
  } catch (e) {
    return invalid(`"${text}": ${(e as Error).message}`);
  }
}

function subtrees(names: GeneralName[]): GeneralSubtrees | undefined {
  return names.length ? new GeneralSubtrees(names.map((base) => new GeneralSubtree({ base }))) : undefined;
}

function side(dns: string[] = [], ips: string[] = [], emails: string[] = [], dirs: string[] = []): GeneralName[] {
  return [
    ...dns.map((d) => new GeneralName({ dNSName: checkDnsConstraint(d) })),
    ...ips.map((r) => new GeneralName({ iPAddress: ipText(ipRangeOctets(r)) })),
    ...emails.map((e) => new GeneralName({ rfc822Name: checkEmailConstraint(e) })),
    ...dirs.map((d) => new GeneralName({ directoryName: directoryNameConstraint(d) })),
  ];
}

/** True when the request asks for any constraint. */
export function hasNameConstraints(r: NameConstraintRequest): boolean {
  return NAME_CONSTRAINT_OPTIONS.some((k) => (r[k]?.length ?? 0) > 0);
}

/**
 * The NameConstraints value; undefined when nothing is constrained. For a TLS sub-CA (`tls`)
 * BR 7.1.2.5.2 applies: a directoryName must be permitted, and a name form with nothing
 * permitted is excluded whole: "a zero-length dNSName", "an iPAddress of 8 zero octets" and
 * "an iPAddress of 32 zero octets".
 */
export function buildNameConstraints(r: NameConstraintRequest, tls: boolean): NameConstraints | undefined {
  if (!hasNameConstraints(r)) return undefined;
  const permitted = side(r.permittedDnsNames, r.permittedIpRanges, r.permittedEmails, r.permittedDirectoryNames);
  const excluded = side(r.excludedDnsNames, r.excludedIpRanges, r.excludedEmails, r.excludedDirectoryNames);
  if (tls) {
    if (!r.permittedDirectoryNames?.length)
      throw new CaError(
        'NAME_CONSTRAINT_INVALID',
        'a technically constrained TLS sub-CA permits a directoryName: BR 7.1.2.5.2 "the permittedSubtrees MUST contain at least one GeneralSubtree of the directoryName GeneralName name type"',
      );
    const ranges = (r.permittedIpRanges ?? []).map(ipRangeOctets);
    if (!r.permittedDnsNames?.length) excluded.push(new GeneralName({ dNSName: '' }));
    if (!ranges.some((o) => o.length === 8)) excluded.push(new GeneralName({ iPAddress: '0.0.0.0/0' }));
    if (!ranges.some((o) => o.length === 32)) excluded.push(new GeneralName({ iPAddress: '::/0' }));
  }
  return new NameConstraints({ permittedSubtrees: subtrees(permitted), excludedSubtrees: subtrees(excluded) });
}
