/**
 * The fast path's request reader (fast-path.ts): which bytes at the front of a connection are
 * one OCSP request it may answer itself, read by hand without allocating more than the
 * request's target and the values of the few headers it acts on. Strict on purpose (RFC
 * 9112): anything it does not recognise fully is the HTTP server's.
 */
import type { OcspAnswer } from './ocsp-responder.ts';

/** Longest request head looked at; longer ones go to the HTTP server (which has its own 16 KiB limit). */
const MAX_HEAD = 16 * 1024;
/** The end of a request head (RFC 9112 2.1). */
export const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const GET_PREFIX = Buffer.from('GET /ocsp/', 'latin1');
const POST_PREFIX = Buffer.from('POST /', 'latin1');
const HTTP11 = Buffer.from(' HTTP/1.1', 'latin1');
const HTTP10 = Buffer.from(' HTTP/1.0', 'latin1');

/** A byte class table over ASCII: the bytes of `chars` and the letters and digits. */
function asciiClass(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  return t;
}

/** RFC 9110 5.6.2 tchar. */
const TCHAR = asciiClass("!#$%&'*+-.^_`|~");
/** RFC 3986 3.3/3.4: the bytes of a path and query (unreserved, sub-delims, ":", "@", "/", "?", "%"). */
const URI_CHAR = asciiClass("-._~!$&'()*+,;=:@/?%");

/** What parseFastRequest makes of the bytes at an offset. */
export type Parsed =
  | { kind: 'need' }
  | { kind: 'other' }
  | {
      kind: 'hit';
      end: number;
      answer: OcspAnswer;
      method: 'GET' | 'POST';
      route: string;
      close: boolean;
      /** What `lookup` was asked with (the caller may ask again for the same bytes without parsing them). */
      key: string;
      target: string;
      /** The POST body: a view into the caller's buffer. */
      body: Buffer | undefined;
    };

/** Finds the answer to a request: `key` `g<target>` or `p<body>`; undefined leaves the request to the HTTP server. */
export type FastLookup = (key: string, target: string, body: Buffer | undefined) => OcspAnswer | undefined;

const NEED: Parsed = { kind: 'need' };
const OTHER: Parsed = { kind: 'other' };

/** The header fields the fast path acts on, read into one reused object (no allocation per request). */
const fields = { host: false, contentLength: -1, typeOk: false, close: false, keepAlive: false };

function startsWith(buf: Buffer, off: number, prefix: Buffer): boolean | undefined {
  const n = Math.min(prefix.length, buf.length - off);
  for (let i = 0; i < n; i++) if (buf[off + i] !== prefix[i]) return false;
  return n === prefix.length ? true : undefined; // undefined: too short to tell
}

function equalsAt(buf: Buffer, off: number, s: Buffer): boolean {
  if (off + s.length > buf.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[off + i] !== s[i]) return false;
  return true;
}

/** The header names the fast path acts on (lower case), by length: any other is skipped without making a string. */
const NAMES_BY_LENGTH: string[][] = [];
for (const n of [
  'host',
  'content-length',
  'content-type',
  'connection',
  'transfer-encoding',
  'expect',
  'upgrade',
  'if-none-match',
  'http2-settings',
]) {
  NAMES_BY_LENGTH[n.length] ??= [];
  NAMES_BY_LENGTH[n.length]!.push(n);
}

/** The known name the bytes `buf[from, to)` spell, in any case (RFC 9110 5.1), or undefined. */
function knownName(buf: Buffer, from: number, to: number): string | undefined {
  next: for (const name of NAMES_BY_LENGTH[to - from] ?? []) {
    for (let i = 0; i < name.length; i++) {
      const c = buf[from + i]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== name.charCodeAt(i)) continue next;
    }
    return name;
  }
  return undefined;
}

/** Reads one known header's value (`buf[from, to)`, trimmed) into `fields`; false when the request is not one for the fast path. */
function readField(name: string, buf: Buffer, from: number, to: number): boolean {
  const value = () => buf.toString('latin1', from, to).trim();
  switch (name) {
    case 'host':
      if (fields.host) return false;
      fields.host = true;
      return true;
    case 'content-length': {
      const v = value();
      if (fields.contentLength >= 0 || !/^\d{1,9}$/.test(v)) return false;
      fields.contentLength = Number(v);
      return true;
    }
    case 'content-type':
      if (fields.typeOk || value().toLowerCase() !== 'application/ocsp-request') return false;
      fields.typeOk = true;
      return true;
    case 'connection':
      for (const t of value().toLowerCase().split(',')) {
        const tok = t.trim();
        if (tok === 'close') fields.close = true;
        else if (tok === 'keep-alive') fields.keepAlive = true;
        else if (tok !== '') return false;
      }
      return true;
    default:
      return false; // transfer-encoding, expect, upgrade, if-none-match, http2-settings: the HTTP server's
  }
}

/** Header lines from `p` to the head's end: token ":" value, no control bytes but HTAB, CRLF only as the line end. */
function readFields(buf: Buffer, p: number, headEnd: number): boolean {
  fields.host = false;
  fields.contentLength = -1;
  fields.typeOk = false;
  fields.close = false;
  fields.keepAlive = false;
  while (p < headEnd + 2) {
    const eol = buf.indexOf(0x0d, p);
    if (eol < 0 || buf[eol + 1] !== 0x0a) return false;
    let colon = p;
    while (colon < eol && buf[colon]! < 0x80 && TCHAR[buf[colon]!]) colon++;
    if (colon === p || buf[colon] !== 0x3a) return false; // empty name, obs-fold, a non-token byte
    for (let i = colon + 1; i < eol; i++) {
      const c = buf[i]!;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
    }
    const name = knownName(buf, p, colon);
    if (name !== undefined && !readField(name, buf, colon + 1, eol)) return false;
    p = eol + 2;
  }
  return true;
}

/**
 * The one request starting at `off`, when it is one the fast path may answer: `need` (wait for
 * more bytes), `other` (the HTTP server's), or `hit` with the answer `lookup` gives.
 */
export function parseFastRequest(buf: Buffer, off: number, lookup: FastLookup, bodyLimit: number): Parsed {
  const isGet = startsWith(buf, off, GET_PREFIX);
  const isPost = isGet ? false : startsWith(buf, off, POST_PREFIX);
  if (isGet === false && isPost === false) return OTHER;
  const headEnd = buf.indexOf(CRLFCRLF, off);
  if (headEnd < 0) return buf.length - off > MAX_HEAD ? OTHER : NEED;
  if (headEnd - off > MAX_HEAD || (!isGet && !isPost)) return OTHER;

  // Request line: METHOD SP target SP HTTP/1.x CRLF, the target visible ASCII.
  const lineEnd = buf.indexOf(0x0d, off);
  const targetStart = off + (isGet ? 4 : 5);
  let targetEnd = targetStart;
  while (targetEnd < lineEnd && buf[targetEnd]! < 0x80 && URI_CHAR[buf[targetEnd]!]) targetEnd++;
  if (lineEnd - targetEnd !== HTTP11.length) return OTHER;
  const v11 = equalsAt(buf, targetEnd, HTTP11);
  if (!v11 && !equalsAt(buf, targetEnd, HTTP10)) return OTHER;
  const target = buf.toString('latin1', targetStart, targetEnd);
  const route = isGet ? '/ocsp/*' : target === '/ocsp' ? '/ocsp' : target === '/' ? '/' : undefined;
  if (!route || !readFields(buf, lineEnd + 2, headEnd)) return OTHER;
  if (v11 && !fields.host) return OTHER;
  const keepAlive = !fields.close && (v11 || fields.keepAlive);

  let end = headEnd + 4;
  let key: string;
  let body: Buffer | undefined;
  const contentLength = fields.contentLength;
  if (isGet) {
    if (contentLength > 0) return OTHER;
    key = `g${target}`;
  } else {
    if (contentLength <= 0 || contentLength > bodyLimit || !fields.typeOk) return OTHER;
    if (buf.length < end + contentLength) return NEED;
    body = buf.subarray(end, end + contentLength);
    key = `p${body.toString('latin1')}`;
    end += contentLength;
  }
  const answer = lookup(key, target, body);
  if (!answer) return OTHER;
  return { kind: 'hit', end, answer, method: isGet ? 'GET' : 'POST', route, close: !keepAlive, key, target, body };
}
