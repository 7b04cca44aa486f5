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
