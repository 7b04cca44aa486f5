/**
 * The few raw DER encodings we assemble by hand, so the bytes a CA key signs are embedded
 * unchanged in the signed object (no re-encoding between "sign" and "emit").
 */
import { CaError } from '../errors.ts';

/**
 * A structural DER problem (X.690) found while reading bytes, with the precise reason as its
 * message. Readers that know what the bytes should be (a CRL, an OCSP request, a token) catch
 * it and answer with their own code; a DerError that escapes is DER_MALFORMED.
 */
export class DerError extends CaError {
  constructor(reason: string) {
    super('DER_MALFORMED', reason);
    this.name = 'DerError';
  }
}

/** DER length octets (X.690 8.1.3, definite form, minimal). */
export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A TLV with the given tag byte around already-encoded content. */
export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

/** SEQUENCE of already-encoded elements. */
export function derSequence(...elements: Uint8Array[]): Buffer {
  return derTlv(0x30, Buffer.concat(elements));
}

/** BIT STRING with no unused bits (signatures, public keys). */
export function derBitString(bytes: Uint8Array): Buffer {
  return derTlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

/** The DER NULL used as RSA algorithm parameters. */
export const DER_NULL = Buffer.from([0x05, 0x00]);

/**
 * Splits a DER buffer into its top-level TLV elements' full encodings, checking the lengths
 * add up exactly (no trailing bytes). Used to pick the exact tbsCertificate bytes.
 */
export function derChildren(der: Uint8Array): Buffer[] {
  const buf = Buffer.from(der);
  const { headerLength, contentLength } = readHeader(buf, 0);
  if (headerLength + contentLength !== buf.length) throw new DerError('DER: outer length does not match the data');
  const out: Buffer[] = [];
  let off = headerLength;
  while (off < buf.length) {
    const h = readHeader(buf, off);
    const end = off + h.headerLength + h.contentLength;
    if (end > buf.length) throw new DerError('DER: element runs past its container');
    out.push(buf.subarray(off, end));
    off = end;
  }
  return out;
}

function readHeader(buf: Buffer, off: number): { headerLength: number; contentLength: number } {
  if (off + 2 > buf.length) throw new DerError('DER: truncated header');
  const first = buf[off + 1];
  if (first < 0x80) return { headerLength: 2, contentLength: first };
  const n = first & 0x7f;
  if (n === 0 || n > 4 || off + 2 + n > buf.length) throw new DerError('DER: bad length');
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
  return { headerLength: 2 + n, contentLength: len };
}
