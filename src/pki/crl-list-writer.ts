/**
 * The revokedCertificates list of a CRL (RFC 5280 5.1.2.6), written entry by entry straight into
 * one growing buffer (issue 17.5): no Buffer, Time or asn1-schema object per entry, so a list of
 * a million entries costs its own bytes and little else. The bytes are those asn1-schema writes
 * for the same entries (crl-entries.test.ts compares them for every entry shape).
 *
 *   revokedCertificates     SEQUENCE OF SEQUENCE  {
 *        userCertificate         CertificateSerialNumber,
 *        revocationDate          Time,
 *        crlEntryExtensions      Extensions OPTIONAL }
 *
 * Pure: no clock, randomness, files or network.
 */
import { CaError } from '../errors.ts';
import { digitsAt, isDayOfMonth } from './ascii-digits.ts';
import { encodeTime } from './crl-entries.ts';
import { Time } from '@peculiar/asn1-x509';
import { serialHexToInteger } from './integer.ts';

/** Room kept before the list for its SEQUENCE header (tag and up to 5 length octets). */
const HEADER_ROOM = 6;
/** A serial already in minimal positive form: even length, first octet 01..7f (X.690 8.3.2). */
const MINIMAL_SERIAL = /^(?:[1-7][0-9a-f]|0[1-9a-f])(?:[0-9a-f]{2})*$/;

/** What the writer needs of one entry: the encoded extensions are the caller's (they are few and shared). */
export interface ListEntry {
  serialHex: string;
  revocationDate: Date;
  /** crlEntryExtensions' elements, already DER (reasonCode, invalidityDate). */
  extensions: Buffer[];
}

/** RFC 5280 4.1.2.5.2 / 5.1.2.4: whole seconds; an invalid date is refused, as createTbsCertList always did. */
export function wholeSecondsOf(d: Date, field: string): number {
  const t = d instanceof Date ? d.getTime() : Number.NaN;
  if (Number.isNaN(t)) throw new CaError('CRL_PARAMS_INVALID', `${field} is not a valid date`);
  return Math.floor(t / 1000) * 1000;
}

/** The length octets of a definite length (X.690 8.1.3.5, minimal). */
function lengthOctets(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

/** Offsets in YYYY-MM-DDTHH:MM:SS.sssZ of the digits of YYMMDDHHMMSS and of YYYYMMDDHHMMSS. */
const ISO_DIGITS_UTC = [2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
const ISO_DIGITS_GENERALIZED = [0, 1, ...ISO_DIGITS_UTC];

/** The value of a lower-case hex digit, or -256 (so that any byte built from it is negative). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -256;
}

/**
 * The year of YYYY-MM-DDTHH:MM:SS.sssZ at buf[i] when the text is in that form with every field
 * in its range (so new Date() reads exactly those fields), or -1. The milliseconds are not
 * written: wholeSecondsOf drops them, whatever their sign.
 */
function isoYear(buf: Uint8Array, i: number): number {
  if (buf[i + 4] !== 0x2d || buf[i + 7] !== 0x2d || buf[i + 10] !== 0x54 || buf[i + 13] !== 0x3a) return -1;
  if (buf[i + 16] !== 0x3a || buf[i + 19] !== 0x2e || buf[i + 23] !== 0x5a || digitsAt(buf, i + 20, 3) < 0) return -1;
  const year = digitsAt(buf, i, 4);
  const month = digitsAt(buf, i + 5, 2);
  const day = digitsAt(buf, i + 8, 2);
  const hour = digitsAt(buf, i + 11, 2);
  const minute = digitsAt(buf, i + 14, 2);
  const second = digitsAt(buf, i + 17, 2);
  if (year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  return isDayOfMonth(year, month, day) ? year : -1;
}

export class RevokedListWriter {
  #buf = Buffer.allocUnsafe(1 << 16);
  #at = HEADER_ROOM;
  #count = 0;

  get count(): number {
    return this.#count;
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }

  /** A tag and definite length at the write position (room already made). */
  #header(tag: number, n: number): void {
    const b = this.#buf;
    b[this.#at++] = tag;
    const octets = lengthOctets(n) - 1;
    if (octets === 0) {
      b[this.#at++] = n;
      return;
    }
    b[this.#at++] = 0x80 | octets;
    for (let i = octets - 1; i >= 0; i--) b[this.#at++] = Math.floor(n / 256 ** i) & 0xff;
  }

  /** One entry: SEQUENCE { INTEGER serial, Time, [SEQUENCE OF Extension] }. */
  add(e: ListEntry): void {
    const hex = e.serialHex;
    const serial = MINIMAL_SERIAL.test(hex) ? undefined : serialHexToInteger(hex);
    const serialLength = serial ? serial.length : hex.length / 2;
    const ms = wholeSecondsOf(e.revocationDate, 'revocationDate');
    const date = new Date(ms);
    const year = date.getUTCFullYear();
    // RFC 5280 5.1.2.6 (as 5.1.2.4): UTCTime through 2049, GeneralizedTime from 2050; odd years by asn1-schema.
    const odd = year < 1950 || year > 9999 ? encodeTime(new Time(date)) : undefined;
    const timeLength = odd ? odd.length : year > 2049 ? 17 : 15;
    let extsLength = 0;
    for (const x of e.extensions) extsLength += x.length;
    const extsTotal = e.extensions.length > 0 ? 1 + lengthOctets(extsLength) + extsLength : 0;
    const inner = 1 + lengthOctets(serialLength) + serialLength + timeLength + extsTotal;
    this.#room(1 + lengthOctets(inner) + inner);
    this.#header(0x30, inner);
    this.#header(0x02, serialLength);
    if (serial) this.#at += serial.copy(this.#buf, this.#at);
    else this.#at += this.#buf.write(hex, this.#at, 'hex');
    if (odd) this.#at += odd.copy(this.#buf, this.#at);
    else this.#time(date, year);
    if (e.extensions.length > 0) {
      this.#header(0x30, extsLength);
      for (const x of e.extensions) this.#at += x.copy(this.#buf, this.#at);
    }
    this.#count++;
  }

  /**
   * One entry from the ASCII text of its stored fields (issue 17.5: no string, Date or object per
   * entry): buf[serialStart, serialEnd) the serial in minimal lower-case hex (MINIMAL_SERIAL),
   * buf[timeStart, timeEnd) the revocation time as toISOString writes it (YYYY-MM-DDTHH:MM:SS.sssZ,
   * a year from 1950, every field in its range). Writes what add writes for the same entry; returns
   * false, writing nothing, when a field is not in that form (the caller then uses add).
   */
  addText(
    buf: Uint8Array,
    serialStart: number,
    serialEnd: number,
    timeStart: number,
    timeEnd: number,
    extensions: Buffer[],
  ): boolean {
    const serialLength = (serialEnd - serialStart) / 2;
    if (!(serialLength >= 1) || serialLength % 1 !== 0 || timeEnd - timeStart !== 24) return false;
    const first = hexValue(buf[serialStart]!) * 16 + hexValue(buf[serialStart + 1]!);
    if (!(first >= 1 && first <= 0x7f)) return false;
    const year = isoYear(buf, timeStart);
    if (year < 1950) return false;
    const timeLength = year > 2049 ? 17 : 15;
    let extsLength = 0;
    for (const x of extensions) extsLength += x.length;
    const extsTotal = extensions.length > 0 ? 1 + lengthOctets(extsLength) + extsLength : 0;
    const inner = 1 + lengthOctets(serialLength) + serialLength + timeLength + extsTotal;
    this.#room(1 + lengthOctets(inner) + inner);
    const start = this.#at;
    const b = this.#buf;
    this.#header(0x30, inner);
    this.#header(0x02, serialLength);
    for (let i = serialStart; i < serialEnd; i += 2) {
      const v = hexValue(buf[i]!) * 16 + hexValue(buf[i + 1]!);
      if (!(v >= 0)) {
        this.#at = start;
        return false;
      }
      b[this.#at++] = v;
    }
    // YYYY-MM-DDTHH:MM:SS: the digits as they are (isoYear checked them and the fields' ranges).
    b[this.#at++] = year > 2049 ? 0x18 : 0x17;
    b[this.#at++] = year > 2049 ? 15 : 13;
    for (const i of year > 2049 ? ISO_DIGITS_GENERALIZED : ISO_DIGITS_UTC) b[this.#at++] = buf[timeStart + i]!;
    b[this.#at++] = 0x5a; // 'Z'
    if (extensions.length > 0) {
      this.#header(0x30, extsLength);
      for (const x of extensions) this.#at += x.copy(b, this.#at);
    }
    this.#count++;
    return true;
  }

  /** UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ of a whole-second date (X.690 11.7, 11.8). */
  #time(d: Date, year: number): void {
    const b = this.#buf;
    const two = (n: number): void => {
      b[this.#at++] = 0x30 + Math.floor(n / 10);
      b[this.#at++] = 0x30 + (n % 10);
    };
    if (year > 2049) {
      b[this.#at++] = 0x18;
      b[this.#at++] = 15;
      two(Math.floor(year / 100));
    } else {
      b[this.#at++] = 0x17;
      b[this.#at++] = 13;
    }
    two(year % 100);
    two(d.getUTCMonth() + 1);
    two(d.getUTCDate());
    two(d.getUTCHours());
    two(d.getUTCMinutes());
    two(d.getUTCSeconds());
    b[this.#at++] = 0x5a; // 'Z'
  }

  /** The SEQUENCE OF the entries written, or undefined for none ("MUST be absent", 5.1.2.6). */
  finish(): Buffer | undefined {
    if (this.#count === 0) return undefined;
    const n = this.#at - HEADER_ROOM;
    const start = HEADER_ROOM - 1 - lengthOctets(n);
    const end = this.#at;
    this.#at = start;
    this.#header(0x30, n);
    return this.#buf.subarray(start, end);
  }
}
