/**
 * The OCSP fast path (R-2.3: 24x7 at full request rate; issue 5's bench targets): a
 * connection-level handler in front of the fastify server that answers well-formed OCSP
 * requests itself, with one Buffer per answer (status line, the same headers the fastify route
 * sends, body), and hands everything else to fastify untouched.
 *
 * Why: for an OCSP answer, above all a pre-signed one an RFC 5019 client asks for again, the
 * generic HTTP stack (parser objects, routing, hooks, header objects) costs several times the
 * work of the answer itself. The answer is decided exactly as the route decides it
 * (answerOcspRequest, the same PresignedAnswerCache and keys `g<url>` / `p<body>`); pre-signed
 * answers are then cached in their wire form, per second (max-age and Date change).
 *
 * Strict on purpose: HTTP/1.0 or 1.1 only; `GET /ocsp/…` without a body, If-None-Match or
 * Expect, whose path decodes to bytes; `POST /ocsp` or `POST /` with one decimal
 * Content-Length within the body limit and Content-Type application/ocsp-request; well-formed
 * header lines (token names, no control bytes, no obs-fold), Host present in 1.1, no
 * Transfer-Encoding or Upgrade. Anything else goes to the HTTP server with the bytes not yet
 * answered (socket.unshift) on the same connection, which is then the server's, with its own
 * limits, timeouts and errors (413, 414, 304, 400, the Repository); an `Expect: 100-continue`
 * gets its 100 there only once the body is read (expect-continue.ts). Keep-alive and pipelining
 * follow RFC 9112 9.3 (answers in request order; `Connection: close` and HTTP/1.0 without
 * keep-alive close after the answer). The server's idle, headers and request timeouts
 * (connection-limits.ts) hold here too: a request that arrives in pieces for longer is
 * answered 408 and its connection closed, as node:http does.
 *
 * Metrics and the access log count every answered request; both are batched (plain counters
 * flushed into prom-client once a second and before each exposition; access-log lines of
 * pre-signed answers built from a per-answer precomputed middle part).
 */
import { createHash } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../clock.ts';
import { ocspAccessFields, type AccessLog } from './access-log.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import type { ServerMetrics } from './metrics.ts';
import { answerOcspRequest, decodeOcspGetPath, type OcspAnswer, type PresignedAnswerCache, type ServingState } from './ocsp-responder.ts';

export interface FastPathOptions {
  /** The serving state of the moment (read once per request batch). */
  state: () => ServingState | undefined;
  answers: PresignedAnswerCache;
  clock: Clock;
  metrics: ServerMetrics;
  accessLog?: AccessLog;
  /** Largest POST body (larger goes to fastify, which answers 413). */
  bodyLimit: number;
  /** The HTTP server's timeouts (connection-limits.ts), kept here on the connections the fast path holds. */
  limits: Pick<ConnectionLimits, 'idleTimeoutMs' | 'headersTimeoutMs' | 'requestTimeoutMs'>;
  /** As the fastify route passes it to answerOcspRequest. */
  liveValiditySeconds?: number;
}

export interface FastPath {
  /** Requests answered here so far (tests, diagnostics). */
  readonly answered: number;
  /** Pushes the batched counts into prom-client now. */
  flush(): void;
  /** Stops answering and closes the connections the fast path holds (the server is shutting down). */
  close(): void;
}

/** Longest request head looked at; longer ones go to the HTTP server (which has its own 16 KiB limit). */
const MAX_HEAD = 16 * 1024;
/** Reads one request may take (Buffer.concat per read: a byte-at-a-time sender is the HTTP server's). */
const MAX_ROUNDS = 64;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const GET_PREFIX = Buffer.from('GET /ocsp/', 'latin1');
const POST_PREFIX = Buffer.from('POST /', 'latin1');
const HTTP11 = Buffer.from(' HTTP/1.1', 'latin1');
const HTTP10 = Buffer.from(' HTTP/1.0', 'latin1');
/** RFC 9110 15.5.9, as node:http answers a request that took too long (then the connection closes). */
const REQUEST_TIMEOUT = Buffer.from('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');

/** RFC 9110 5.6.2 tchar. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** RFC 3986 3.3/3.4: the bytes of a path and query (unreserved, sub-delims, ":", "@", "/", "?", "%"). */
const URI_CHAR = new Uint8Array(128);
for (const c of "-._~!$&'()*+,;=:@/?%") URI_CHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) URI_CHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) URI_CHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) URI_CHAR[c] = 1;

/** One route/outcome combination's counts since the last flush. */
interface Stats {
  route: string;
  method: 'GET' | 'POST';
  outcome: string;
  source: string;
  n: number;
  /** Latencies (s) since the last flush, observed into the histogram at flush time. */
  latencies: number[];
}

/** The wire form of one cached answer for one second (max-age and Date change every second). */
interface Wire {
  clockSecond: number;
  dateSecond: number;
  keepAlive: Buffer;
  close: Buffer;
  stats: Stats;
  /** Access-log fields between the ip and "us" (ocspAccessFields); undefined: the line is made from `answer`. */
  logMiddle?: string;
  answer: OcspAnswer;
}

/** Any socket event listener (events differ in their arguments). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

type Parsed =
  | { kind: 'need' }
  | { kind: 'other' }
  | { kind: 'hit'; end: number; answer: OcspAnswer; method: 'GET' | 'POST'; route: string; close: boolean };

/** Requests answered by every fast path in this process (tests and diagnostics tell the paths apart with it). */
export const fastPathTotals = { answered: 0 };

const NEED: Parsed = { kind: 'need' };
const OTHER: Parsed = { kind: 'other' };

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

/**
 * The one request starting at `off`, when it is one the fast path may answer: `need` (wait for
 * more bytes), `other` (the HTTP server's), or `hit` with the cached answer.
 */
export function parseFastRequest(buf: Buffer, off: number, lookup: (key: string, target: string, body: Buffer | undefined) => OcspAnswer | undefined, bodyLimit: number): Parsed {
  const isGet = startsWith(buf, off, GET_PREFIX);
  const isPost = isGet ? false : startsWith(buf, off, POST_PREFIX);
  if (isGet === false && isPost === false) return OTHER;
  const headEnd = buf.indexOf(CRLFCRLF, off);
  if (headEnd < 0) return buf.length - off > MAX_HEAD ? OTHER : NEED;
  if (headEnd - off > MAX_HEAD || !isGet && !isPost) return OTHER;

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
  if (!route) return OTHER;

  // Header lines: token ":" value, no control bytes but HTAB, CRLF only as the line end.
  let sawClose = false;
  let sawKeepAlive = false;
  let host = false;
  let contentLength = -1;
  let typeOk = false;
  let p = lineEnd + 2;
  while (p < headEnd + 2) {
    const eol = buf.indexOf(0x0d, p);
    if (eol < 0 || buf[eol + 1] !== 0x0a) return OTHER;
    let colon = p;
    while (colon < eol && buf[colon]! < 0x80 && TCHAR[buf[colon]!]) colon++;
    if (colon === p || buf[colon] !== 0x3a) return OTHER; // empty name, obs-fold, a non-token byte
    for (let i = colon + 1; i < eol; i++) {
      const c = buf[i]!;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return OTHER;
    }
    const name = buf.toString('latin1', p, colon).toLowerCase();
    const value = () => buf.toString('latin1', colon + 1, eol).trim();
    switch (name) {
      case 'host':
        if (host) return OTHER;
        host = true;
        break;
      case 'content-length': {
        const v = value();
        if (contentLength >= 0 || !/^\d{1,9}$/.test(v)) return OTHER;
        contentLength = Number(v);
        break;
      }
      case 'content-type':
        if (typeOk || value().toLowerCase() !== 'application/ocsp-request') return OTHER;
        typeOk = true;
        break;
      case 'connection':
        for (const t of value().toLowerCase().split(',')) {
          const tok = t.trim();
          if (tok === 'close') sawClose = true;
          else if (tok === 'keep-alive') sawKeepAlive = true;
          else if (tok !== '') return OTHER;
        }
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
      case 'if-none-match':
      case 'http2-settings':
        return OTHER;
      default:
        break;
    }
    p = eol + 2;
  }
  if (v11 && !host) return OTHER;
  const keepAlive = !sawClose && (v11 || sawKeepAlive);

  let end = headEnd + 4;
  let key: string;
  let body: Buffer | undefined;
  if (isGet) {
    if (contentLength > 0) return OTHER;
    key = `g${target}`;
  } else {
    if (contentLength <= 0 || contentLength > bodyLimit || !typeOk) return OTHER;
    if (buf.length < end + contentLength) return NEED;
    body = buf.subarray(end, end + contentLength);
    key = `p${body.toString('latin1')}`;
    end += contentLength;
  }
  const answer = lookup(key, target, body);
  if (!answer) return OTHER;
  return { kind: 'hit', end, answer, method: isGet ? 'GET' : 'POST', route, close: !keepAlive };
}

const httpDate = (ms: number) => new Date(ms).toUTCString();

/** `s` when it is printable ASCII (appendOcspPrepared copies it byte for byte), else undefined. */
const asciiOnly = (s: string): string | undefined => (/^[\x20-\x7e]*$/.test(s) ? s : undefined);

/**
 * Puts the fast path in front of `server` (a plain node:http server fastify made): its
 * 'connection' listeners are called only for the sockets handed over.
 */
export function installFastPath(server: HttpServer, o: FastPathOptions): FastPath {
  const handOverTo = server.listeners('connection') as ((socket: Socket) => void)[];
  // What node:http puts in the Keep-Alive header for the same idle timeout (whole seconds).
  const keepAliveSeconds = Math.floor(o.limits.idleTimeoutMs / 1000);
  server.removeAllListeners('connection');
  const sockets = new Set<Socket>();
  const statsByKey = new Map<string, Stats>();
  const wires = new WeakMap<OcspAnswer, Wire>();
  const ipFields = new Map<string, string>();
  let answered = 0;
  let closing = false;
  const requestChildren = new Map<Stats, { count: { inc(n: number): void }; ocsp: { inc(n: number): void }; latency: { observe(v: number): void } }>();

  const flush = () => {
    for (const s of statsByKey.values()) {
      if (s.n === 0) continue;
      let c = requestChildren.get(s);
      if (!c) {
        c = {
          count: o.metrics.httpRequests.labels(s.route, s.method, '200'),
          ocsp: o.metrics.ocspResponses.labels(s.outcome, s.source),
          latency: o.metrics.latency.labels(s.route),
        };
        requestChildren.set(s, c);
      }
      c.count.inc(s.n);
      c.ocsp.inc(s.n);
      for (const v of s.latencies) c.latency.observe(v);
      s.n = 0;
      s.latencies.length = 0;
    }
  };
  const unhook = o.metrics.beforeCollect(flush);
  const timer = setInterval(flush, 1000);
  timer.unref();

  const statsFor = (route: string, method: 'GET' | 'POST', a: OcspAnswer): Stats => {
    const k = `${route} ${method} ${a.outcome} ${a.source}`;
    let s = statsByKey.get(k);
    if (!s) {
      s = { route, method, outcome: a.outcome, source: a.source, n: 0, latencies: [] };
      statsByKey.set(k, s);
    }
    return s;
  };

  /** The answer's bytes for this second: the headers fastify's OCSP route sends, in its order. */
  const wireFor = (a: OcspAnswer, route: string, method: 'GET' | 'POST', nowMs: number, version: number | undefined): Wire => {
    const clockSecond = Math.floor(nowMs / 1000);
    const dateMs = Date.now();
    const dateSecond = Math.floor(dateMs / 1000);
    const cached = wires.get(a);
    if (cached && cached.clockSecond === clockSecond && cached.dateSecond === dateSecond && cached.stats.route === route && cached.stats.method === method) return cached;
    const maxAge = Math.max(0, Math.floor((a.nextUpdate!.getTime() - nowMs) / 1000));
    const head = 'HTTP/1.1 200 OK\r\n'
      + 'x-content-type-options: nosniff\r\n'
      + 'content-type: application/ocsp-response\r\n'
      + `cache-control: max-age=${maxAge}, public, no-transform, must-revalidate\r\n`
      + `last-modified: ${httpDate(a.thisUpdate!.getTime())}\r\n`
      + `expires: ${httpDate(a.nextUpdate!.getTime())}\r\n`
      + `etag: ${a.etag ?? `"${createHash('sha256').update(a.body).digest('hex')}"`}\r\n`
      + `content-length: ${a.body.length}\r\n`
      + `Date: ${httpDate(dateSecond * 1000)}\r\n`;
    const w: Wire = {
      clockSecond,
      dateSecond,
      keepAlive: Buffer.concat([Buffer.from(`${head}Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`, 'latin1'), a.body]),
      close: Buffer.concat([Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1'), a.body]),
      stats: statsFor(route, method, a),
      answer: a,
      logMiddle: a.reason === undefined ? asciiOnly(ocspAccessFields({ method, http: 200, outcome: a.outcome, source: a.source, ca: a.ca, hash: a.hash, serials: a.serials, nonce: a.nonce, version, length: a.body.length })) : undefined,
    };
    if (a.source === 'presigned') wires.set(a, w); // the others are answered once
    return w;
  };

  /** A response not for caches (a nonce, an error): the route's `cache-control: no-store` headers. */
  const noStoreWire = (a: OcspAnswer, route: string, method: 'GET' | 'POST'): Wire => {
    const head = 'HTTP/1.1 200 OK\r\n'
      + 'x-content-type-options: nosniff\r\n'
      + 'content-type: application/ocsp-response\r\n'
      + 'cache-control: no-store\r\n'
      + `content-length: ${a.body.length}\r\n`
      + `Date: ${httpDate(Math.floor(Date.now() / 1000) * 1000)}\r\n`;
    return {
      clockSecond: 0,
      dateSecond: 0,
      keepAlive: Buffer.concat([Buffer.from(`${head}Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`, 'latin1'), a.body]),
      close: Buffer.concat([Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1'), a.body]),
      stats: statsFor(route, method, a),
      answer: a,
    };
  };

  /** Our listeners on a socket, removed when it is handed over. */
  const own = new WeakMap<Socket, [string, Listener][]>();
  const listen = (socket: Socket, event: string, fn: Listener) => {
    socket.on(event, fn);
    let l = own.get(socket);
    if (!l) own.set(socket, (l = []));
    l.push([event, fn]);
  };
  const handOver = (socket: Socket, rest: Buffer | undefined) => {
    sockets.delete(socket);
    for (const [event, fn] of own.get(socket) ?? []) socket.off(event, fn);
    own.delete(socket);
    socket.setTimeout(0);
    if (rest && rest.length) socket.unshift(rest);
    for (const l of handOverTo) l.call(server, socket);
  };

  const onConnection = (socket: Socket) => {
    if (closing) {
      handOver(socket, undefined);
      return;
    }
    sockets.add(socket);
    let pending: Buffer | undefined;
    /** Chunks the request at the front has come in so far (a byte-by-byte sender is handed over). */
    let rounds = 0;
    let ipField: string | undefined;
    let closed = false;
    /** The request at the front arrives in pieces: when it started and the timer that ends its wait. */
    let partialSince = 0;
    let partialTimer: NodeJS.Timeout | undefined;
    const requestDone = () => {
      clearTimeout(partialTimer);
      partialTimer = undefined;
    };
    /** A request head due within headersTimeoutMs of its start, the whole request within requestTimeoutMs. */
    const checkPartial = () => {
      const waited = performance.now() - partialSince;
      const headComplete = pending !== undefined && pending.indexOf(CRLFCRLF) >= 0;
      const left = (headComplete ? o.limits.requestTimeoutMs : o.limits.headersTimeoutMs) - waited;
      if (left > 0) {
        partialTimer = setTimeout(checkPartial, left);
        return;
      }
      partialTimer = undefined;
      closed = true;
      pending = undefined;
      sockets.delete(socket);
      socket.end(REQUEST_TIMEOUT);
      socket.once('finish', () => socket.destroy()); // whatever the client still sends is not read
    };
    socket.setNoDelay(true);
    socket.setTimeout(o.limits.idleTimeoutMs);
    listen(socket, 'timeout', () => socket.destroy());
    listen(socket, 'error', () => socket.destroy());
    listen(socket, 'close', () => {
      sockets.delete(socket);
      requestDone();
    });
    // allowHalfOpen (node:http's setting): a client that ends its side gets its answers, then our end.
    listen(socket, 'end', () => socket.end());
    /** The serving state and time of the chunk being answered (read once per chunk). */
    let st: ServingState | undefined;
    let now = new Date(0);
    const lookup = (key: string, target: string, body: Buffer | undefined): OcspAnswer | undefined => {
      const hit = o.answers.get(key, st, now);
      if (hit) return hit;
      // Not seen before: decided here exactly as the fastify route decides (answerOcspRequest);
      // a pre-signed answer is cached for the next request. A GET URL that is not base64 of
      // anything stays the route's (its 414 / malformedRequest reasons).
      const der = body ?? decodeOcspGetPath(target, '/ocsp/', o.bodyLimit).der;
      if (!der || der.length === 0) return undefined;
      const a = answerOcspRequest(st, der, now, { liveValiditySeconds: o.liveValiditySeconds });
      o.answers.offer(key, st, a);
      return a;
    };
    listen(socket, 'data', (chunk: Buffer) => {
      if (closed) return;
      const started = performance.now();
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      if (closing || ++rounds > MAX_ROUNDS) {
        requestDone();
        return handOver(socket, buf);
      }
      st = o.state();
      now = o.clock.now();
      const out: Buffer[] = [];
      const served: Wire[] = [];
      let off = 0;
      let close = false;
      let other = false;
      while (off < buf.length) {
        const r = parseFastRequest(buf, off, lookup, o.bodyLimit);
        if (r.kind === 'need') {
          pending = Buffer.from(buf.subarray(off)); // a copy: the chunk is not kept alive
          if (off > 0) rounds = 1;
          break;
        }
        if (r.kind === 'other') {
          other = true;
          break;
        }
        const a = r.answer;
        const w = a.cacheable && a.thisUpdate && a.nextUpdate ? wireFor(a, r.route, r.method, now.getTime(), st?.version) : noStoreWire(a, r.route, r.method);
        out.push(r.close ? w.close : w.keepAlive);
        served.push(w);
        off = r.end;
        rounds = 0;
        if (r.close) {
          close = true;
          break;
        }
      }
      if (out.length) {
        const ok = socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
        if (!ok && !close && !other) {
          socket.pause(); // a client that pipelines without reading waits for its answers to drain
          socket.once('drain', () => socket.resume());
        }
        const seconds = (performance.now() - started) / 1000;
        answered += served.length;
        fastPathTotals.answered += served.length;
        if (o.accessLog) ipField ??= ipFieldOf(socket);
        for (const w of served) {
          w.stats.n++;
          if (w.stats.latencies.length < 100_000) w.stats.latencies.push(seconds);
          const micros = Math.round(seconds * 1e6);
          if (w.logMiddle !== undefined && ipField !== undefined) o.accessLog?.appendOcspPrepared(ipField, w.logMiddle, micros, now.getTime());
          else {
            const a = w.answer;
            o.accessLog?.appendOcsp({
              ip: socket.remoteAddress ?? '', method: w.stats.method, http: 200, outcome: a.outcome, source: a.source, ca: a.ca, hash: a.hash, serials: a.serials,
              nonce: a.nonce, version: st?.version, length: a.body.length, micros, reason: a.source === 'error' ? a.reason : undefined,
            });
          }
        }
      }
      if (close) {
        sockets.delete(socket);
        pending = undefined;
        closed = true; // bytes after a close request are ignored (RFC 9112 9.6)
        socket.end();
      } else if (other) {
        pending = undefined;
        handOver(socket, buf.subarray(off));
      }
      if (pending === undefined) requestDone();
      else if (off > 0 || partialTimer === undefined) {
        // A new request began arriving in pieces: its head is due within the headers timeout.
        requestDone();
        partialSince = started;
        partialTimer = setTimeout(checkPartial, o.limits.headersTimeoutMs);
      }
    });
  };

  const ipFieldOf = (socket: Socket): string | undefined => {
    const ip = socket.remoteAddress ?? '';
    let f = ipFields.get(ip);
    if (!f) {
      f = asciiOnly(`,"ip":${JSON.stringify(ip)}`);
      if (!f) return undefined;
      if (ipFields.size > 10_000) ipFields.clear();
      ipFields.set(ip, f);
    }
    return f;
  };

  server.on('connection', onConnection);
  return {
    get answered() {
      return answered;
    },
    flush,
    close() {
      if (closing) return;
      closing = true;
      clearInterval(timer);
      flush();
      unhook();
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
