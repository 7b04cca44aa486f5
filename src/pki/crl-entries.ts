/**
 * The revokedCertificates list of a CRL (RFC 5280 5.1.2.6), encoded and decoded by hand.
 * asn1-schema spends ~100 µs and ~30 KB per entry each way, which made a CRL of 100 k entries
 * take minutes and gigabytes (issue 17.5); each entry here is a few small TLVs. Anything off
 * the common shape (fractional seconds, an empty extension list) goes through asn1-schema, so
 * the bytes are always what asn1-schema would produce for the same structure (crl.test.ts
 * compares both encodings).
 *
 *   revokedCertificates     SEQUENCE OF SEQUENCE  {
 *        userCertificate         CertificateSerialNumber,
 *        revocationDate          Time,
 *        crlEntryExtensions      Extensions OPTIONAL }
 *
 * Pure: no clock, randomness, files or network.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  type CertificateList,
  CRLReason,
  Extension,
  InvalidityDate,
  RevokedCertificate,
  TBSCertList,
  Time,
} from '@peculiar/asn1-x509';
import { DerError, derBitString, derSequence } from './der.ts';
import { readDerChildren, readDerElement, type DerElement } from './pem.ts';

export const TAG_INTEGER = 0x02;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
export const TAG_SEQUENCE = 0x30;
export const TAG_UTC_TIME = 0x17;
export const TAG_GENERALIZED_TIME = 0x18;
const TAG_BOOLEAN = 0x01;
export const TAG_CRL_EXTENSIONS = 0xa0;
const DER_TRUE = Buffer.from([TAG_BOOLEAN, 1, 0xff]);

/** One TLV around content, written without intermediate copies (X.690 8.1.3 definite, minimal length). */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let n = 0;
  for (const c of content) n += c.length;
  const lengthOctets = n < 0x80 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
  const out = Buffer.allocUnsafe(2 + lengthOctets + n);
  out[0] = tag;
  if (lengthOctets === 0) out[1] = n;
  else {
    out[1] = 0x80 | lengthOctets;
    for (let i = 0; i < lengthOctets; i++) out[2 + i] = Math.floor(n / 256 ** (lengthOctets - 1 - i)) & 0xff;
  }
  let at = 2 + lengthOctets;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * A Time as DER (RFC 5280 5.1.2.4): UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ,
 * whichever the Time holds. A date with milliseconds goes through asn1-schema (it is not DER
 * for a CRL; the lints report it, and the bytes must still be what asn1-schema writes).
 */
export function encodeTime(t: Time): Buffer {
  const d = t.utcTime ?? t.generalTime;
  if (!d || Number.isNaN(d.getTime()) || d.getUTCMilliseconds() !== 0) return Buffer.from(AsnConvert.serialize(t));
  const year = d.getUTCFullYear();
  // The digits are written straight into the element (a million entries: no string, no second buffer).
  // A year outside 0..9999 takes the string path below, as before.
  if (year < 0 || year > 9999) return encodeTimeText(t, d, year);
  const general = !t.utcTime;
  const out = Buffer.allocUnsafe(general ? 17 : 15);
  out[0] = general ? TAG_GENERALIZED_TIME : TAG_UTC_TIME;
  out[1] = general ? 15 : 13;
  let at = 2;
  const put = (n: number): void => {
    out[at++] = 0x30 + Math.floor(n / 10);
    out[at++] = 0x30 + (n % 10);
  };
  if (general) put(Math.floor(year / 100));
  put(year % 100);
  put(d.getUTCMonth() + 1);
  put(d.getUTCDate());
  put(d.getUTCHours());
  put(d.getUTCMinutes());
  put(d.getUTCSeconds());
  out[at] = 0x5a; // 'Z'
  return out;
}

function encodeTimeText(t: Time, d: Date, year: number): Buffer {
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  if (t.utcTime) return tlv(TAG_UTC_TIME, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'));
  return tlv(TAG_GENERALIZED_TIME, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'latin1'));
}

const oidDers = new Map<string, Buffer>();

/** An OBJECT IDENTIFIER as DER (X.690 8.19), cached: a CRL names the same two or three OIDs again and again. */
export function encodeOid(oid: string): Buffer {
  let der = oidDers.get(oid);
  if (!der) {
    const arcs = oid.split('.').map((a) => BigInt(a));
    const bytes: number[] = [];
    const push = (v: bigint): void => {
      const groups = [Number(v & 0x7fn)];
      for (let x = v >> 7n; x > 0n; x >>= 7n) groups.unshift(Number(x & 0x7fn) | 0x80);
      bytes.push(...groups);
    };
    push(arcs[0]! * 40n + arcs[1]!);
    for (const arc of arcs.slice(2)) push(arc);
    der = tlv(TAG_OID, Buffer.from(bytes));
    oidDers.set(oid, der);
  }
  return der;
}

const oidStrings = new Map<string, string>();

/** The dotted string of an OBJECT IDENTIFIER's content octets (cached by their bytes). */
function decodeOid(content: Buffer): string {
  const key = content.toString('latin1');
  let oid = oidStrings.get(key);
  if (oid === undefined) {
    const arcs: bigint[] = [];
    let v = 0n;
    for (let i = 0; i < content.length; i++) {
      if (v === 0n && content[i] === 0x80) throw new DerError('OBJECT IDENTIFIER arc is not minimally encoded');
      v = (v << 7n) | BigInt(content[i]! & 0x7f);
      if ((content[i]! & 0x80) === 0) {
        arcs.push(v);
        v = 0n;
      }
    }
    if (content.length === 0 || content[content.length - 1]! & 0x80) throw new DerError('truncated OBJECT IDENTIFIER');
    const first = arcs[0]! < 80n ? arcs[0]! / 40n : 2n;
    oid = [first, arcs[0]! - first * 40n, ...arcs.slice(1)].join('.');
    oidStrings.set(key, oid);
  }
  return oid;
}

/** An Extension as DER: extnID, critical only when TRUE (DEFAULT FALSE, X.690 11.5), extnValue. */
export function encodeExtension(ext: Extension): Buffer {
  const value = new Uint8Array(ext.extnValue.buffer);
  return ext.critical
    ? tlv(TAG_SEQUENCE, encodeOid(ext.extnID), DER_TRUE, tlv(TAG_OCTET_STRING, value))
    : tlv(TAG_SEQUENCE, encodeOid(ext.extnID), tlv(TAG_OCTET_STRING, value));
}

/** Encodings of the Extension objects decodeExtension shares between entries: encoded once each. */
const sharedEncodings = new WeakMap<Extension, Buffer>();

export function encodeSharedExtension(ext: Extension): Buffer {
  let der = sharedEncodings.get(ext);
  if (!der) {
    der = encodeExtension(ext);
    if (sharedExtensions.get(buffersKey(der)) === ext) sharedEncodings.set(ext, der);
  }
  return der;
}

const buffersKey = (der: Buffer): string => der.toString('latin1');

/** Octets of a tag and the minimal definite length of n content octets (X.690 8.1.3), as tlv writes them. */
const headerLength = (n: number): number => (n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : n < 0x1000000 ? 5 : 6);

/** Writes what tlv writes before the content, at `at`; returns where the content goes. */
function writeHeader(out: Buffer, at: number, tag: number, n: number): number {
  const lengthOctets = headerLength(n) - 2;
  out[at++] = tag;
  if (lengthOctets === 0) out[at++] = n;
  else {
    out[at++] = 0x80 | lengthOctets;
    for (let i = 0; i < lengthOctets; i++) out[at++] = Math.floor(n / 256 ** (lengthOctets - 1 - i)) & 0xff;
  }
  return at;
}

/**
 * A parsed entry as DER, as asn1-schema would write it (the e_crl_der_encoding lint compares it
 * with the input): tlv(SEQUENCE, tlv(INTEGER, serial), time, tlv(SEQUENCE, ...extensions)),
 * written into one buffer (a million entries: no buffer per nested TLV).
 */
export function encodeRevokedCertificate(rc: RevokedCertificate): Buffer {
  const exts = rc.crlEntryExtensions;
  if (exts !== undefined && exts.length === 0) return Buffer.from(AsnConvert.serialize(rc));
  const serial = new Uint8Array(rc.userCertificate);
  const time = encodeTime(rc.revocationDate);
  const extDers = exts?.map(encodeSharedExtension);
  let extsLength = 0;
  if (extDers) for (const d of extDers) extsLength += d.length;
  const inner =
    headerLength(serial.length) + serial.length + time.length + (extDers ? headerLength(extsLength) + extsLength : 0);
  const out = Buffer.allocUnsafe(headerLength(inner) + inner);
  let at = writeHeader(out, 0, TAG_SEQUENCE, inner);
  at = writeHeader(out, at, TAG_INTEGER, serial.length);
  out.set(serial, at);
  at += serial.length;
  out.set(time, at);
  at += time.length;
  if (extDers) {
    at = writeHeader(out, at, TAG_SEQUENCE, extsLength);
    for (const d of extDers) {
      out.set(d, at);
      at += d.length;
    }
  }
  return out;
}

const ASCII_DIGITS = /^[0-9]+Z$/;

/** True when buf[from..to) are ASCII digits followed by one 'Z' at `to` (what ASCII_DIGITS matches). */
function digitsThenZ(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i]! < 0x30 || buf[i]! > 0x39) return false;
  return buf[to] === 0x5a;
}

/** The two-digit number at buf[i] (digits already checked). */
const num2 = (buf: Buffer, i: number): number => (buf[i]! - 0x30) * 10 + buf[i + 1]! - 0x30;

/** utc() over bytes: a Date from MMDDHHMMSS at buf[i] after the year. */
function utcAt(buf: Buffer, year: number, i: number): Date {
  const d = new Date(
    Date.UTC(2000, num2(buf, i) - 1, num2(buf, i + 2), num2(buf, i + 4), num2(buf, i + 6), num2(buf, i + 8)),
  );
  d.setUTCFullYear(year);
  return d;
}

/** A Time element: the common whole-second forms read directly, anything else by asn1-schema. */
function decodeTime(buf: Buffer, el: DerElement): Time {
  const c = el.contentStart;
  const length = el.end - c;
  // Read from the bytes as the text path below would read the same digits (a million entries).
  const t = new Time();
  if (el.tag === TAG_UTC_TIME && length === 13 && digitsThenZ(buf, c, c + 12)) {
    const yy = num2(buf, c);
    t.utcTime = utcAt(buf, yy < 50 ? 2000 + yy : 1900 + yy, c + 2);
    return t;
  }
  if (el.tag === TAG_GENERALIZED_TIME && length === 15 && digitsThenZ(buf, c, c + 14)) {
    t.generalTime = utcAt(buf, num2(buf, c) * 100 + num2(buf, c + 2), c + 4);
    return t;
  }
  if (el.tag !== TAG_UTC_TIME && el.tag !== TAG_GENERALIZED_TIME) throw new DerError('revocationDate is not a Time');
  return AsnConvert.parse(buf.subarray(el.start, el.end), Time);
}

/** A Date from MMDDHHMMSS after the year. */
function utc(year: number, s: string): Date {
  const n = (i: number): number => Number(s.slice(i, i + 2));
  const d = new Date(Date.UTC(2000, n(0) - 1, n(2), n(4), n(6), n(8)));
  d.setUTCFullYear(year);
  return d;
}

const sharedExtensions = new Map<string, Extension>();

/**
 * One Extension element; anything but OID, optional BOOLEAN and OCTET STRING is refused. Short
 * ones (a reasonCode is 10 bytes) are decoded once and shared: nothing changes a parsed CRL,
 * and a million entries then hold six reasonCode objects between them.
 */
export function decodeExtension(buf: Buffer, el: DerElement): Extension {
  if (el.end - el.start > 16) return decodeExtensionOnce(buf, el);
  const key = buf.toString('latin1', el.start, el.end);
  let ext = sharedExtensions.get(key);
  if (!ext) {
    ext = decodeExtensionOnce(buf, el);
    sharedExtensions.set(key, ext);
  }
  return ext;
}

function decodeExtensionOnce(buf: Buffer, el: DerElement): Extension {
  if (el.tag !== TAG_SEQUENCE) throw new DerError('an entry extension is not a SEQUENCE');
  const parts = readDerChildren(buf, el);
  const [oid, second, third] = parts;
  const hasCritical = second?.tag === TAG_BOOLEAN;
  const value = hasCritical ? third : second;
  if (oid?.tag !== TAG_OID || value?.tag !== TAG_OCTET_STRING || parts.length !== (hasCritical ? 3 : 2))
    throw new DerError('an entry extension is not extnID, critical, extnValue');
  let critical = false;
  if (hasCritical) {
    if (second.end - second.contentStart !== 1) throw new DerError('an entry extension critical flag is not one octet');
    critical = buf[second.contentStart] !== 0;
  }
  return new Extension({
    extnID: decodeOid(buf.subarray(oid.contentStart, oid.end)),
    critical,
    extnValue: new OctetString(buf.subarray(value.contentStart, value.end)),
  });
}

/** One revokedCertificates entry: serial INTEGER, revocationDate Time, optional Extensions, nothing else. */
export function decodeRevokedCertificate(buf: Buffer, entry: DerElement): RevokedCertificate {
  if (entry.tag !== TAG_SEQUENCE) throw new DerError('a revokedCertificates entry is not a SEQUENCE');
  const parts = readDerChildren(buf, entry);
  const [serial, date, exts] = parts;
  if (serial?.tag !== TAG_INTEGER || !date || parts.length > 3)
    throw new DerError('a revokedCertificates entry is not userCertificate, revocationDate, crlEntryExtensions');
  // The object `new RevokedCertificate()` gives (same prototype, same own fields in the same
  // order) without its field initialisers' throwaway ArrayBuffer and Time: a million entries.
  const rc = Object.create(RevokedCertificate.prototype) as RevokedCertificate;
  rc.userCertificate = new Uint8Array(buf.subarray(serial.contentStart, serial.end)).buffer;
  rc.revocationDate = decodeTime(buf, date);
  rc.crlEntryExtensions = undefined;
  if (exts) {
    if (exts.tag !== TAG_SEQUENCE) throw new DerError('crlEntryExtensions is not a SEQUENCE');
    rc.crlEntryExtensions = readDerChildren(buf, exts).map((e) => decodeExtension(buf, e));
  }
  return rc;
}

/** The CRLReason (RFC 5280 5.3.1) in a reasonCode extnValue: ENUMERATED of one octet read directly, anything else by asn1-schema. */
export function crlReasonOf(extnValue: OctetString): number {
  const v = new Uint8Array(extnValue.buffer);
  if (v.length === 3 && v[0] === 0x0a && v[1] === 1 && v[2]! < 0x80) return v[2]!;
  return AsnConvert.parse(extnValue, CRLReason).reason;
}

/** The GeneralizedTime (RFC 5280 5.3.2) in an invalidityDate extnValue: the whole-second form read directly. */
export function invalidityDateOf(extnValue: OctetString): Date {
  const v = Buffer.from(extnValue.buffer);
  const text = v.toString('latin1', 2);
  if (v.length === 17 && v[0] === TAG_GENERALIZED_TIME && v[1] === 15 && ASCII_DIGITS.test(text))
    return utc(Number(text.slice(0, 4)), text.slice(4));
  return AsnConvert.parse(extnValue, InvalidityDate).value;
}

/** A SEQUENCE OF already-encoded elements, joined in batches (a million arguments would overflow the stack). */
function sequenceOf(elements: Iterable<Buffer>): { der: Buffer; count: number } {
  const chunks: Buffer[] = [];
  let batch: Buffer[] = [];
  let count = 0;
  for (const der of elements) {
    batch.push(der);
    count++;
    // Small buffers are joined in batches: a million entry objects would outlive their use.
    if (batch.length === 4096) {
      chunks.push(Buffer.concat(batch));
      batch = [];
    }
  }
  chunks.push(Buffer.concat(batch));
  return { der: tlv(TAG_SEQUENCE, ...chunks), count };
}

/**
 * The DER of a TBSCertList whose revokedCertificates are given already encoded: asn1-schema
 * encodes the few fields around the list, and the list is placed where 5.1 puts it (before
 * crlExtensions), so no entry ever becomes an asn1-schema object.
 */
export function tbsWithRevoked(head: TBSCertList, revoked: Buffer | undefined): Buffer {
  const bare = new TBSCertList({ ...head, revokedCertificates: undefined });
  const der = Buffer.from(AsnConvert.serialize(bare));
  if (!revoked) return der;
  const fields: Buffer[] = readDerChildren(der, readDerElement(der, 0)).map((el) => der.subarray(el.start, el.end));
  const at = fields.findIndex((f) => f[0] === TAG_CRL_EXTENSIONS);
  fields.splice(at === -1 ? fields.length : at, 0, revoked);
  return tlv(0x30, ...fields);
}

/** A parsed TBSCertList as DER, entries by hand: what the e_crl_der_encoding lint compares with the signed bytes. */
export function encodeTbsCertList(tbs: TBSCertList): Buffer {
  const list = tbs.revokedCertificates;
  const each = function* (): Generator<Buffer> {
    for (const rc of list ?? []) yield encodeRevokedCertificate(rc);
  };
  return tbsWithRevoked(tbs, list === undefined ? undefined : sequenceOf(each()).der);
}

/** A parsed CertificateList as DER (the TBSCertList as encodeTbsCertList writes it). */
export function encodeCertificateList(crl: CertificateList): Buffer {
  return certificateListAround(crl, encodeTbsCertList(crl.tbsCertList));
}

/**
 * A parsed CertificateList as DER around an already-encoded revokedCertificates list (or none):
 * a linter that re-encoded each entry as it read it needs the rest re-encoded only once.
 */
export function encodeCertificateListAround(crl: CertificateList, revoked: Buffer | undefined): Buffer {
  return certificateListAround(crl, tbsWithRevoked(crl.tbsCertList, revoked));
}

function certificateListAround(crl: CertificateList, tbsDer: Buffer): Buffer {
  const algDer = Buffer.from(AsnConvert.serialize(crl.signatureAlgorithm));
  return derSequence(tbsDer, algDer, derBitString(new Uint8Array(crl.signature)));
}
