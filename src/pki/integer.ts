/**
 * DER INTEGER content octets (X.690 8.3) and serial numbers in hex: shared by certificates,
 * CRLs, OCSP CertIDs and time-stamp tokens.
 */
import { CaError } from '../errors.ts';
import { readDerElement } from './pem.ts';

/** Already canonical: `00`, or minimal content octets (a leading 00 only before an octet >= 0x80). */
const CANONICAL_SERIAL = /^(?:00|(?:0[1-9a-f]|[1-7][0-9a-f]|00[89a-f][0-9a-f])(?:[0-9a-f]{2})*)$/;

/**
 * Canonical spelling of a (positive) serial number in hex: lower case, the minimal DER INTEGER
 * content octets (a 00 octet in front exactly when the first octet has its high bit set).
 * Accepts upper case, a `0x` prefix, `:` separators and odd lengths. Serials are positive
 * (RFC 5280 4.1.2.2), so a value is always read as a magnitude.
 */
export function normalizeSerialHex(serialHex: string): string {
  if (CANONICAL_SERIAL.test(serialHex)) return serialHex; // already canonical (every OCSP request's CertID): one test
  let h = serialHex.trim().toLowerCase().replace(/^0x/, '').replace(/:/g, '');
  if (h.length === 0 || !/^[0-9a-f]+$/.test(h)) {
    throw new CaError('SERIAL_INVALID', `serial number "${serialHex}" is not hexadecimal`, { details: { serialHex } });
  }
  h = h.replace(/^0+/, '');
  if (h.length === 0) return '00';
  if (h.length % 2 === 1) h = `0${h}`;
  return parseInt(h.slice(0, 2), 16) >= 0x80 ? `00${h}` : h;
}

/** The DER INTEGER content octets of a serial number given in hex. */
export function serialHexToInteger(serialHex: string): Buffer {
  return Buffer.from(normalizeSerialHex(serialHex), 'hex');
}

/** Minimal two's-complement INTEGER content octets of a BigInt (X.690 8.3). */
export function bigintToInteger(n: bigint): Buffer {
  if (n === 0n) return Buffer.from([0]);
  if (n > 0n) {
    let h = n.toString(16);
    if (h.length % 2 === 1) h = `0${h}`;
    if (parseInt(h.slice(0, 2), 16) >= 0x80) h = `00${h}`;
    return Buffer.from(h, 'hex');
  }
  // Negative: smallest byte count whose two's complement range holds n.
  let bytes = 1;
  while (-(1n << BigInt(8 * bytes - 1)) > n) bytes++;
  const v = (1n << BigInt(8 * bytes)) + n;
  return Buffer.from(v.toString(16).padStart(bytes * 2, '0'), 'hex');
}

/** INTEGER content octets (two's complement) to a BigInt. */
export function integerToBigint(content: Uint8Array): bigint {
  if (content.length === 0) return 0n;
  const u = BigInt(`0x${Buffer.from(content).toString('hex')}`);
  return content[0]! & 0x80 ? u - (1n << BigInt(8 * content.length)) : u;
}

/** Reads a whole DER INTEGER (tag, length, content) to a BigInt; throws on anything else. */
export function readDerInteger(der: Uint8Array): bigint {
  const el = readDerElement(der, 0);
  if (el.tag !== 0x02 || el.end !== der.length || el.end === el.contentStart)
    throw new CaError('DER_MALFORMED', 'not a single DER INTEGER');
  return integerToBigint(der.subarray(el.contentStart, el.end));
}
