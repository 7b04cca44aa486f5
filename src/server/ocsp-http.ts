/**
 * The one HTTP writer of OCSP answers, for both front doors: the status and the headers of an
 * answer (RFC 6960 A.1 media type; RFC 5019 6.2 caching headers) and its access-log entry.
 * The fastify route (ocsp-route.ts) sets these headers on its reply; the fast path
 * (fast-path.ts) writes them as bytes, the status line and the headers node:http adds around
 * them included, so both send the same headers in the same order (test/online-fast-path.test.ts
 * compares the two byte for byte).
 */
import { createHash } from 'node:crypto';
import { MEDIA_TYPES } from '../publish/format.ts';
import type { OcspAccessEntry } from './access-log.ts';
import type { OcspAnswer } from './ocsp-responder.ts';

const httpDate = (ms: number) => new Date(ms).toUTCString();

/** The answer's strong ETag (RFC 9110 8.8.3): the stored one, else the quoted SHA-256 of the body. */
export function etagOf(a: OcspAnswer): string {
  return a.etag ?? `"${createHash('sha256').update(a.body).digest('hex')}"`;
}

/** When the caching headers may be sent: a cacheable answer with both its times (RFC 5019 6.2). */
export function hasCachingHeaders(a: OcspAnswer): a is OcspAnswer & { thisUpdate: Date; nextUpdate: Date } {
  return a.cacheable && a.thisUpdate !== undefined && a.nextUpdate !== undefined;
}

/**
 * The answer's headers, in the order sent. RFC 5019 6.2: max-age no later than nextUpdate; ETag, Last-Modified (thisUpdate),
 * Expires (nextUpdate). A response not for caches (a nonce, an error) is `no-store`.
 */
export function ocspAnswerHeaders(a: OcspAnswer, nowMs: number): [string, string][] {
  if (!hasCachingHeaders(a))
    return [
      ['content-type', MEDIA_TYPES.ocsp],
      ['cache-control', 'no-store'],
    ];
  const maxAge = Math.max(0, Math.floor((a.nextUpdate.getTime() - nowMs) / 1000));
  return [
    ['content-type', MEDIA_TYPES.ocsp],
    ['cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`],
    ['last-modified', httpDate(a.thisUpdate.getTime())],
    ['expires', httpDate(a.nextUpdate.getTime())],
    ['etag', etagOf(a)],
  ];
}

/**
 * The HTTP status of an answer: 304 for a GET of a cacheable answer whose If-None-Match names
 * its ETag (RFC 9110 13.1.2), else 200 — every OCSP-level outcome is HTTP 200 (RFC 6960 A.1).
 */
export function ocspHttpStatus(a: OcspAnswer, method: 'GET' | 'POST', ifNoneMatch: string | undefined): 200 | 304 {
  if (method !== 'GET' || ifNoneMatch === undefined || !hasCachingHeaders(a)) return 200;
  const etag = etagOf(a);
  return ifNoneMatch === etag || ifNoneMatch.split(',').some((t) => t.trim() === etag) ? 304 : 200;
}

/** The Date header of the second `dateMs` (whole seconds), made once per second. */
let lastDate = { ms: Number.NaN, text: '' };
function dateHeader(dateMs: number): string {
  if (lastDate.ms !== dateMs) lastDate = { ms: dateMs, text: httpDate(dateMs) };
  return lastDate.text;
}

/**
 * The fast path's answer bytes for a connection kept alive or closing: the status line, the
 * headers the route's reply carries (ocspAnswerHeaders, the Connection header, then
 * content-length and Date as fastify and node:http add them), and the body, in one buffer of
 * its exact size. `dateMs` is whole seconds.
 */
export function ocspWireBytes(
  a: OcspAnswer,
  nowMs: number,
  dateMs: number,
  connection: 'keep-alive' | 'close',
): Buffer {
  let head = 'HTTP/1.1 200 OK\r\n';
  for (const [name, value] of ocspAnswerHeaders(a, nowMs)) head += `${name}: ${value}\r\n`;
  head += `connection: ${connection}\r\ncontent-length: ${a.body.length}\r\nDate: ${dateHeader(dateMs)}\r\n\r\n`;
  // Every header character is one latin1 byte (the values are ASCII).
  const out = Buffer.allocUnsafe(head.length + a.body.length);
  out.write(head, 0, 'latin1');
  a.body.copy(out, head.length);
  return out;
}

/** Both wire forms of an answer kept for its second (a pre-signed answer is asked for again). */
export function ocspWire(a: OcspAnswer, nowMs: number, dateMs: number): { keepAlive: Buffer; close: Buffer } {
  return {
    keepAlive: ocspWireBytes(a, nowMs, dateMs, 'keep-alive'),
    close: ocspWireBytes(a, nowMs, dateMs, 'close'),
  };
}

/** The access-log entry of one answered request (CPS 5.5.1: every OCSP request is logged). */
export function ocspAccessEntry(
  a: OcspAnswer,
  ip: string,
  method: 'GET' | 'POST',
  http: number,
  version: number | undefined,
  micros: number,
): OcspAccessEntry {
  return {
    ip,
    method,
    http,
    outcome: a.outcome,
    source: a.source,
    ca: a.ca,
    hash: a.hash,
    serials: a.serials,
    nonce: a.nonce,
    version,
    length: http === 304 ? 0 : a.body.length,
    micros,
    reason: a.source === 'error' ? a.reason : undefined,
  };
}
