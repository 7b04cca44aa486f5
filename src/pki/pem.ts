/**
 * PEM (RFC 7468) <-> DER, and the DER framing check that tells "one whole DER element" from
 * truncated input or trailing garbage. Pure: no fs, clock or randomness.
 */
import { CaError } from '../errors.ts';
import { DerError } from './der.ts';

const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The DER bytes inside the one `-----BEGIN label-----` block of `text`.
 * RFC 7468 2: "Parsers SHOULD ignore whitespace and other non-base64 characters" between lines
 * and text outside the encapsulation boundaries; so CRLF, indentation and explanatory text (as
 * `openssl req -text` prints) are accepted. The base64 itself must be well-formed, and RFC 1421
 * headers (`Proc-Type`: an encrypted legacy block) are refused.
 */
export function pemToDer(text: string, label: string): Buffer {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const re = new RegExp(`${escapeRegExp(begin)}([\\s\\S]*?)${escapeRegExp(end)}`, 'g');
  const blocks = [...text.matchAll(re)];
  if (blocks.length === 0) {
    const other = /-----BEGIN ([^-\r\n]*)-----/.exec(text);
    const found = other ? `found a "${other[1]}" block instead` : 'found no PEM block';
    throw new CaError('PEM_INVALID', `expected a PEM "${label}" block (${begin} … ${end}); ${found}`, {
      details: { expectedLabel: label },
    });
  }
  if (blocks.length > 1) {
    throw new CaError('PEM_INVALID', `expected exactly one PEM "${label}" block, found ${blocks.length}`, {
      details: { expectedLabel: label },
    });
  }
  const body = blocks[0]![1]!;
  if (body.includes(':')) {
    throw new CaError(
      'PEM_INVALID',
      `PEM "${label}" block has RFC 1421 headers (encrypted or legacy PEM); expected plain base64`,
      {
        details: { expectedLabel: label },
      },
    );
  }
  const b64 = body.replace(/[\s]+/g, '');
  if (b64.length === 0) {
    throw new CaError('PEM_INVALID', `PEM "${label}" block is empty`, { details: { expectedLabel: label } });
  }
  if (!BASE64_BODY.test(b64) || b64.length % 4 !== 0) {
    throw new CaError('PEM_INVALID', `PEM "${label}" block is not valid base64`, { details: { expectedLabel: label } });
  }
  const der = Buffer.from(b64, 'base64');
  // Buffer.from silently skips what it cannot decode: a round trip proves nothing was skipped.
  if (der.toString('base64') !== b64) {
    throw new CaError('PEM_INVALID', `PEM "${label}" block is not canonical base64`, {
      details: { expectedLabel: label },
    });
  }
  return der;
}

/** RFC 7468 strict form: base64 in 64-character lines, LF line ends, trailing newline. */
export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${label}-----\n`;
}

/**
 * Bytes from a file that may be PEM or DER. DER of any structure this project reads starts with
 * a SEQUENCE tag (0x30); anything else that carries "-----BEGIN" is read as PEM (with `label`).
 * Everything else is returned as is, for the DER parser to refuse with a precise reason.
 */
export function readDerOrPem(bytes: Uint8Array, label: string): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length > 0 && buf[0] === 0x30) return Buffer.from(buf);
  const text = buf.toString('latin1');
  if (text.includes('-----BEGIN')) return pemToDer(text, label);
  return Buffer.from(buf);
}

/** One DER TLV: where it starts and ends in the input, and its tag. */
export interface DerElement {
  /** Identifier octet(s) value as read: class, constructed bit and number in one byte for low tags. */
  tag: number;
  constructed: boolean;
  /** Offset of the first identifier byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the last content byte. */
  end: number;
}

/**
 * Reads one DER element at `offset` of `der` (X.690 8.1, 10.1: definite, minimal lengths).
 * Throws a DerError with a precise reason; callers wrap it in their own CaError code.
 */
export function readDerElement(der: Uint8Array, offset: number): DerElement {
  let p = offset;
  if (p >= der.length) throw new DerError(`no DER element at byte ${offset}: input ends`);
  const first = der[p++]!;
  let tag = first;
  if ((first & 0x1f) === 0x1f) {
    // High tag number form (X.690 8.1.2.4): keep the first byte as the tag class marker; the number follows.
    let n = 0;
    let b: number;
    do {
      if (p >= der.length) throw new DerError(`truncated tag at byte ${offset}`);
      b = der[p++]!;
      n = n * 128 + (b & 0x7f);
      if (n > 0xffffff) throw new DerError(`tag number too large at byte ${offset}`);
    } while (b & 0x80);
    tag = first * 0x1000000 + n;
  }
  if (p >= der.length) throw new DerError(`truncated length at byte ${p}`);
  const l0 = der[p++]!;
  let len: number;
  if (l0 < 0x80) {
    len = l0;
  } else if (l0 === 0x80) {
    throw new DerError(`indefinite length at byte ${p - 1} (BER, not DER)`);
  } else {
    const count = l0 & 0x7f;
    if (count > 4) throw new DerError(`length of ${count} bytes at byte ${p - 1} is too large`);
    if (p + count > der.length) throw new DerError(`truncated length at byte ${p - 1}`);
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + der[p++]!;
    if (len < 0x80 || der[p - count] === 0)
      throw new DerError(`non-minimal length encoding at byte ${p - count - 1} (not DER)`);
  }
  const contentStart = p;
  const end = contentStart + len;
  if (end > der.length) {
    throw new DerError(
      `truncated: element at byte ${offset} declares ${len} content bytes, only ${der.length - contentStart} present`,
    );
  }
  return { tag, constructed: (first & 0x20) !== 0, start: offset, contentStart, end };
}

/** The direct children of a constructed DER element; their lengths must tile its content exactly. */
export function readDerChildren(der: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const child = readDerElement(der.subarray(0, parent.end), p);
    out.push(child);
    p = child.end;
  }
  return out;
}
