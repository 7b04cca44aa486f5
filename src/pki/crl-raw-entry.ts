/**
 * A revokedCertificates entry read straight from its bytes, with no object of its own (issue
 * 17.5: the CRL lints read a million of them; src/lint/crl/stream.ts). Only an entry of the
 * common shape that is DER is read so, holding exactly what decodeRevokedCertificate
 * (crl-entries.ts) would give for it; anything else is left to that decoder.
 *
 * Pure: no clock, randomness, files or network.
 */
import type { Extension } from '@peculiar/asn1-x509';
import { isDayOfMonth, twoDigitsAt } from './ascii-digits.ts';
import {
  decodeExtension,
  encodeSharedExtension,
  TAG_GENERALIZED_TIME,
  TAG_INTEGER,
  TAG_SEQUENCE,
  TAG_UTC_TIME,
} from './crl-entries.ts';
import { readDerElement } from './pem.ts';

/**
 * One revokedCertificates entry as readRawEntry reads it from the bytes, with no object of its
 * own (issue 17.5: a linter reads a million of them). One RawEntry is filled again for each entry.
 */
export interface RawEntry {
  /** The bytes the entry is read from. */
  buf: Buffer;
  /** The entry element is buf[start, end). */
  start: number;
  end: number;
  /** userCertificate: the INTEGER's content octets, buf[serialStart, serialEnd). */
  serialStart: number;
  serialEnd: number;
  /** revocationDate: its tag (UTCTime 0x17, GeneralizedTime 0x18), its year and its time in ms. */
  timeTag: number;
  year: number;
  time: number;
  /**
   * crlEntryExtensions, empty when absent: the Extension objects decodeRevokedCertificate gives
   * for them, shared by every entry with the same bytes (nothing may change them or the array).
   */
  extensions: readonly Extension[];
}

/** A RawEntry to fill (its fields are set by readRawEntry). */
export function rawEntry(buf: Buffer): RawEntry {
  return { buf, start: 0, end: 0, serialStart: 0, serialEnd: 0, timeTag: 0, year: 0, time: 0, extensions: [] };
}

const NO_EXTENSIONS: Extension[] = [];

/**
 * The time of MMDDHHMMSSZ at buf[i] in `year`, or NaN unless every field is in its range (a
 * date decodeTime would roll over, 31 April say, does not re-encode to its bytes).
 */
function fieldsAt(buf: Buffer, year: number, i: number): number {
  const month = twoDigitsAt(buf, i);
  const day = twoDigitsAt(buf, i + 2);
  const hour = twoDigitsAt(buf, i + 4);
  const minute = twoDigitsAt(buf, i + 6);
  const second = twoDigitsAt(buf, i + 8);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Number.NaN;
  if (buf[i + 10] !== 0x5a || !isDayOfMonth(year, month, day)) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** Extension elements already read, by their bytes: the shared Extension, or null when one does not re-encode to its bytes. */
const readExtensions = new Map<string, Extension | null>();

/** The shared Extension of the short element buf[start, end), when it is DER; null otherwise. */
function extensionAt(buf: Buffer, start: number, end: number): Extension | null {
  const key = buf.toString('latin1', start, end);
  let ext = readExtensions.get(key);
  if (ext === undefined) {
    ext = null;
    try {
      const el = readDerElement(buf.subarray(0, end), start);
      const decoded = decodeExtension(buf, el);
      if (el.end === end && encodeSharedExtension(decoded).equals(buf.subarray(start, end))) ext = decoded;
    } catch {
      // Not an Extension this reader takes: the entry is decoded the long way, which says why.
    }
    readExtensions.set(key, ext);
  }
  return ext;
}

/**
 * The crlEntryExtensions last read, by the bytes of their SEQUENCE: a large CRL repeats a few
 * (one per reason), and comparing a dozen bytes is cheaper than reading them again.
 */
const recentLists: { der: Buffer; extensions: Extension[] }[] = [];
const RECENT_LISTS = 16;

/** The Extensions of the crlEntryExtensions SEQUENCE buf[start, end) (short form, one or more short elements), or null. */
function extensionListAt(buf: Buffer, start: number, end: number): Extension[] | null {
  const n = end - start;
  for (const r of recentLists) {
    if (r.der.length !== n) continue;
    let i = 0;
    while (i < n && r.der[i] === buf[start + i]) i++;
    if (i === n) return r.extensions;
  }
  if (buf[start] !== TAG_SEQUENCE || buf[start + 1] === 0 || start + 2 + buf[start + 1]! !== end) return null;
  const extensions: Extension[] = [];
  for (let q = start + 2; q < end; ) {
    const elEnd = q + 2 + buf[q + 1]!;
    if (buf[q] !== TAG_SEQUENCE || buf[q + 1]! >= 0x80 || elEnd > end || elEnd - q > 16) return null;
    const ext = extensionAt(buf, q, elEnd);
    if (!ext) return null;
    extensions.push(ext);
    q = elEnd;
  }
  if (recentLists.length === RECENT_LISTS) recentLists.shift();
  recentLists.push({ der: Buffer.from(buf.subarray(start, end)), extensions });
  return extensions;
}

/**
 * Reads the entry at buf[at] (within buf[0, limit)) into `into` when it has the common shape
 * (short lengths, a UTCTime or a GeneralizedTime of a year from 100 in whole seconds, at least
 * one short extension when crlEntryExtensions is present) and is DER: decodeRevokedCertificate
 * then encodeRevokedCertificate give back exactly its bytes, and `into` holds what the decoded
 * entry holds. Returns false for anything else, which is then decoded the long way.
 */
export function readRawEntry(buf: Buffer, at: number, limit: number, into: RawEntry): boolean {
  if (at + 2 > limit || buf[at] !== TAG_SEQUENCE) return false;
  let p = at + 2;
  let n = buf[at + 1]!;
  if (n === 0x81) {
    n = buf[at + 2]!;
    p++;
    if (n < 0x80) return false;
  } else if (n >= 0x80) return false;
  const end = p + n;
  if (!(end <= limit) || buf[p] !== TAG_INTEGER || buf[p + 1]! >= 0x80) return false;
  into.serialStart = p + 2;
  p = into.serialEnd = p + 2 + buf[p + 1]!;
  const tag = buf[p];
  let year: number;
  let time: number;
  if (tag === TAG_UTC_TIME && buf[p + 1] === 13 && p + 15 <= end) {
    const yy = twoDigitsAt(buf, p + 2);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    time = yy < 0 ? Number.NaN : fieldsAt(buf, year, p + 4);
    p += 15;
  } else if (tag === TAG_GENERALIZED_TIME && buf[p + 1] === 15 && p + 17 <= end) {
    const hi = twoDigitsAt(buf, p + 2);
    const lo = twoDigitsAt(buf, p + 4);
    year = hi * 100 + lo;
    time = hi < 1 || lo < 0 ? Number.NaN : fieldsAt(buf, year, p + 6);
    p += 17;
  } else return false;
  if (Number.isNaN(time)) return false;
  let extensions: Extension[] | null = NO_EXTENSIONS;
  // crlEntryExtensions: a SEQUENCE, short form, of at least one short Extension, ending the entry.
  if (p < end) extensions = end - p <= 0x81 ? extensionListAt(buf, p, end) : null;
  else if (p !== end) return false;
  if (!extensions) return false;
  into.extensions = extensions;
  into.buf = buf;
  into.start = at;
  into.end = end;
  into.timeTag = tag;
  into.year = year;
  into.time = time;
  return true;
}
