/**
 * The OCSP fast path (R-2.3: 24x7 at full request rate; issue 5's bench targets): a
 * connection-level handler in front of the fastify server that answers well-formed OCSP
 * requests itself, with one Buffer per answer (status line, the same headers the fastify route
 * sends, body), and hands everything else to fastify untouched.
 *
 * Why it exists beside the framework: for an OCSP answer, above all a pre-signed one an
 * RFC 5019 client asks for again, the generic HTTP stack (parser objects, routing, hooks,
 * header objects) costs several times the work of the answer itself (bench/ocsp.ts). What is
 * answered is not decided here: the answer comes from the same OcspSource the route asks
 * (ocsp-source.ts, the same keys `g<url>` / `p<body>`) and is written with the same headers
 * (ocsp-http.ts); pre-signed answers are then kept in their wire form, per second (max-age and
 * Date change).
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
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Clock } from '../clock.ts';
import type { AccessLog } from './access-log.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import { CRLFCRLF, type Parsed, parseFastRequest } from './fast-path-request.ts';
import { asciiOnly, FastPathCounts, FastPathWires, type Wire } from './fast-path-wire.ts';
import type { ServerMetrics } from './metrics.ts';
import { ocspAccessEntry } from './ocsp-http.ts';
import type { OcspAnswer, ServingState } from './ocsp-responder.ts';
import { decodeOcspGetPath, type OcspSource } from './ocsp-source.ts';

/** What the fast path answers from and reports to. */
export interface FastPathOptions {
  /** The serving state of the moment (read once per request batch). */
  state: () => ServingState | undefined;
  /** The answer source the fastify route asks too. */
  source: OcspSource;
  clock: Clock;
  metrics: ServerMetrics;
  accessLog?: AccessLog;
  /** Largest POST body (larger goes to fastify, which answers 413). */
  bodyLimit: number;
  /** The HTTP server's timeouts (connection-limits.ts), kept here on the connections the fast path holds. */
  limits: Pick<ConnectionLimits, 'idleTimeoutMs' | 'headersTimeoutMs' | 'requestTimeoutMs'>;
}

/** The installed fast path, as the server drives it. */
export interface FastPath {
  /** Requests answered here so far (tests, diagnostics). */
  readonly answered: number;
  /** Pushes the batched counts into prom-client now. */
  flush(): void;
  /** Stops answering and closes the connections the fast path holds (the server is shutting down). */
  close(): void;
}

/** Reads one request may take (Buffer.concat per read: a byte-at-a-time sender is the HTTP server's). */
const MAX_ROUNDS = 64;
/** RFC 9110 15.5.9, as node:http answers a request that took too long (then the connection closes). */
const REQUEST_TIMEOUT = Buffer.from(
  'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
  'latin1',
);

/** Requests answered by every fast path in this process (tests and diagnostics tell the paths apart with it). */
export const fastPathTotals = { answered: 0 };

/** Any socket event listener (events differ in their arguments). */
// biome-ignore lint/suspicious/noExplicitAny: node's socket listeners differ in their arguments per event
type Listener = (...args: any[]) => void;

/** What every connection of one fast path shares: options, counts, wires, and the sockets it holds. */
class FastPathServer {
  readonly sockets = new Set<Socket>();
  readonly counts: FastPathCounts;
  readonly wires: FastPathWires;
  answered = 0;
  closing = false;
  private readonly ipFields = new Map<string, string>();
  /** Our listeners on a socket, removed when it is handed over. */
  private readonly own = new WeakMap<Socket, [string, Listener][]>();
  /** Connections with answers made in this turn of the event loop, written after it (writeAnswersLater). */
  private readonly unwritten: FastConnection[] = [];
  private writeScheduled = false;

  constructor(
    private readonly server: HttpServer | HttpsServer,
    private readonly handOverTo: ((socket: Socket) => void)[],
    readonly o: FastPathOptions,
  ) {
    this.counts = new FastPathCounts(o.metrics);
    this.wires = new FastPathWires(this.counts);
  }

  listen(socket: Socket, event: string, fn: Listener): void {
    socket.on(event, fn);
    let l = this.own.get(socket);
    if (!l) {
      l = [];
      this.own.set(socket, l);
    }
    l.push([event, fn]);
  }

  /** Gives the connection to the HTTP server with the bytes not yet answered. */
  handOver(socket: Socket, rest: Buffer | undefined): void {
    this.sockets.delete(socket);
    for (const [event, fn] of this.own.get(socket) ?? []) socket.off(event, fn);
    this.own.delete(socket);
    socket.setTimeout(0);
    if (rest?.length) socket.unshift(rest);
    for (const l of this.handOverTo) l.call(this.server, socket);
  }

  /** The access log's `,"ip":"…"` part for the socket's address (undefined: not plain ASCII). */
  ipFieldOf(socket: Socket): string | undefined {
    const ip = socket.remoteAddress ?? '';
    let f = this.ipFields.get(ip);
    if (!f) {
      f = asciiOnly(`,"ip":${JSON.stringify(ip)}`);
      if (!f) return undefined;
      if (this.ipFields.size > 10_000) this.ipFields.clear();
      this.ipFields.set(ip, f);
    }
    return f;
  }

  /**
   * Writes `c`'s answers once the event loop has run every I/O callback of this turn
   * (setImmediate: libuv's check phase follows the poll phase). The answers of one turn then go
   * out back to back instead of one between each two requests answered: above all with live
   * signing (a ~25 us signature per answer), an answer written at once woke the client and the
   * kernel's loopback for every signature. Paired runs (wrk, 2 workers, 6 pairs): live answers
   * 16.4 k/s -> 19.2 k/s and ~10 us less server CPU each, pre-signed GET 62 k -> 65 k req/s.
   * Order on a connection is kept: a connection's bytes are written in the order answered, and
   * before anything that closes it or hands it to the HTTP server (FastConnection.writeOut).
   */
  writeAnswersLater(c: FastConnection): void {
    this.unwritten.push(c);
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    setImmediate(this.writeAnswers);
  }

  private writeAnswers = (): void => {
    this.writeScheduled = false;
    const list = this.unwritten;
    for (let i = 0; i < list.length; i++) list[i]!.writeOut(true);
    list.length = 0;
  };

  onConnection(socket: Socket): void {
    if (this.closing) this.handOver(socket, undefined);
    else new FastConnection(this, socket);
  }
}

type Hit = Extract<Parsed, { kind: 'hit' }>;

/** A request answered on a connection, byte for byte, and what it parsed to. */
interface Answered {
  bytes: Buffer;
  hit: Hit;
}

/** One connection while the fast path holds it: its unanswered bytes and its request timers. */
class FastConnection {
  private pending: Buffer | undefined;
  /** Chunks the request at the front has come in so far (a byte-by-byte sender is handed over). */
  private rounds = 0;
  private ipField: string | undefined;
  private closed = false;
  /** The request at the front arrives in pieces: when it started and the timer that ends its wait. */
  private partialSince = 0;
  private partialTimer: NodeJS.Timeout | undefined;
  /** The serving state and time of the chunk being answered (read once per chunk). */
  private st: ServingState | undefined;
  private now = new Date(0);
  /** Why answerAll stopped before the end of the bytes: a close request, or one for the HTTP server. */
  private stop: 'close' | 'other' | undefined;
  /** The answers of the chunk being answered, and their wires (reused: no arrays per chunk; emptied after it). */
  private readonly out: Buffer[] = [];
  private readonly served: Wire[] = [];
  /** Answered but not yet written (FastPathServer.writeAnswersLater). */
  private unwrittenBytes: Buffer | undefined;
  /**
   * The last pre-signed answer's request here: the same bytes again (an RFC 5019 client polling
   * one certificate, a keep-alive load generator) parse to the same request, so only the
   * answer is looked up again, under the key made the first time (its hash is kept with it).
   */
  private last: Answered | undefined;

  constructor(
    private readonly fp: FastPathServer,
    private readonly socket: Socket,
  ) {
    const limits = fp.o.limits;
    fp.sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs);
    fp.listen(socket, 'timeout', () => socket.destroy());
    fp.listen(socket, 'error', () => socket.destroy());
    fp.listen(socket, 'close', () => {
      fp.sockets.delete(socket);
      this.requestDone();
    });
    // allowHalfOpen (node:http's setting): a client that ends its side gets its answers, then our end.
    fp.listen(socket, 'end', () => {
      this.writeOut(false);
      socket.end();
    });
    fp.listen(socket, 'data', (chunk: Buffer) => this.onData(chunk));
  }

  private requestDone(): void {
    clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }

  /** A request head due within headersTimeoutMs of its start, the whole request within requestTimeoutMs. */
  private checkPartial = (): void => {
    const limits = this.fp.o.limits;
    const waited = performance.now() - this.partialSince;
    const headComplete = this.pending !== undefined && this.pending.indexOf(CRLFCRLF) >= 0;
    const left = (headComplete ? limits.requestTimeoutMs : limits.headersTimeoutMs) - waited;
    if (left > 0) {
      this.partialTimer = setTimeout(this.checkPartial, left);
      return;
    }
    this.partialTimer = undefined;
    this.closed = true;
    this.pending = undefined;
    this.fp.sockets.delete(this.socket);
    this.writeOut(false);
    this.socket.end(REQUEST_TIMEOUT);
    this.socket.once('finish', () => this.socket.destroy()); // whatever the client still sends is not read
  };

  /** The answer the fast path gives, or undefined to leave the request to the HTTP server. */
  private lookup = (key: string, target: string, body: Buffer | undefined): OcspAnswer | undefined => {
    const source = this.fp.o.source;
    const hit = source.cached(key, this.st, this.now);
    if (hit) return hit;
    // Not seen before: decided by the source the fastify route asks. A GET URL that is not
    // base64 of anything stays the route's (its 414 / malformedRequest reasons).
    const der = body ?? decodeOcspGetPath(target, '/ocsp/', this.fp.o.bodyLimit).der;
    if (!der || der.length === 0) return undefined;
    return source.answer(key, this.st, der, this.now);
  };

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const started = performance.now();
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (this.fp.closing || ++this.rounds > MAX_ROUNDS) {
      this.requestDone();
      this.writeOut(false);
      return this.fp.handOver(this.socket, buf);
    }
    this.st = this.fp.o.state();
    this.now = this.fp.o.clock.now();
    const { out, served } = this;
    const off = this.answerAll(buf, out, served);
    const close = this.stop === 'close';
    const other = this.stop === 'other';
    if (out.length) this.send(out, served, started, close || other);
    out.length = 0; // a live answer is not kept past its chunk
    served.length = 0;
    if (close) {
      this.fp.sockets.delete(this.socket);
      this.pending = undefined;
      this.closed = true; // bytes after a close request are ignored (RFC 9112 9.6)
      this.socket.end();
    } else if (other) {
      this.pending = undefined;
      this.fp.handOver(this.socket, buf.subarray(off));
    }
    if (this.pending === undefined) this.requestDone();
    else if (off > 0 || this.partialTimer === undefined) {
      // A new request began arriving in pieces: its head is due within the headers timeout.
      this.requestDone();
      this.partialSince = started;
      this.partialTimer = setTimeout(this.checkPartial, this.fp.o.limits.headersTimeoutMs);
    }
  }

  /**
   * Answers the requests in `buf` in order into `out` and `served`, up to one that is
   * incomplete (kept in `pending`), the server's (`stop` 'other') or a close (`stop` 'close');
   * returns the offset of the first byte not answered.
   */
  private answerAll(buf: Buffer, out: Buffer[], served: Wire[]): number {
    this.stop = undefined;
    let off = 0;
    while (off < buf.length) {
      const r = this.repeated(buf, off) ?? parseFastRequest(buf, off, this.lookup, this.fp.o.bodyLimit);
      if (r.kind === 'need') {
        this.pending = Buffer.from(buf.subarray(off)); // a copy: the chunk is not kept alive
        if (off > 0) this.rounds = 1;
        break;
      }
      if (r.kind === 'other') {
        this.stop = 'other';
        break;
      }
      if (r.answer.source === 'presigned' && !r.close && this.last?.hit !== r) {
        // Copies: the chunk is not kept alive.
        const bytes = Buffer.from(buf.subarray(off, r.end));
        const body = r.body && bytes.subarray(bytes.length - r.body.length);
        this.last = { bytes, hit: { ...r, end: 0, body } };
      }
      const w = this.fp.wires.wireFor(r.answer, r.route, r.method, this.now.getTime(), this.st?.version);
      out.push(r.close ? w.close : w.keepAlive);
      served.push(w);
      off = r.end;
      this.rounds = 0;
      if (r.close) {
        this.stop = 'close';
        break;
      }
    }
    return off;
  }

  /** The last answered request again at `off`, with its answer of now; undefined: parse it. */
  private repeated(buf: Buffer, off: number): Hit | undefined {
    const last = this.last;
    if (last === undefined) return undefined;
    const n = last.bytes.length;
    if (buf.length - off < n || buf.compare(last.bytes, 0, n, off, off + n) !== 0) return undefined;
    const hit = last.hit;
    const answer = this.lookup(hit.key, hit.target, hit.body);
    if (answer === undefined) return undefined;
    hit.answer = answer;
    hit.end = off + n;
    return hit;
  }

  /**
   * Writes what was answered and not yet written. `paceReads`: a client that pipelines without
   * reading waits for its answers to drain (not when the connection is closing or being handed
   * over, whose reads are no longer ours).
   */
  writeOut(paceReads: boolean): void {
    const bytes = this.unwrittenBytes;
    if (bytes === undefined) return;
    this.unwrittenBytes = undefined;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (!socket.write(bytes) && paceReads && !this.closed) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }

  /**
   * Writes the answers (after this turn of the event loop, FastPathServer.writeAnswersLater; at
   * once, behind what is still unwritten, when the connection closes or is handed over after
   * them), then counts and logs each (CPS 5.5.1: every request is logged).
   */
  private send(out: Buffer[], served: Wire[], started: number, ending: boolean): void {
    const socket = this.socket;
    const bytes = out.length === 1 ? out[0]! : Buffer.concat(out);
    const before = this.unwrittenBytes;
    this.unwrittenBytes = before === undefined ? bytes : Buffer.concat([before, bytes]);
    if (ending) this.writeOut(false);
    else if (before === undefined) this.fp.writeAnswersLater(this);
    const seconds = (performance.now() - started) / 1000;
    this.fp.answered += served.length;
    fastPathTotals.answered += served.length;
    const log = this.fp.o.accessLog;
    if (log) this.ipField ??= this.fp.ipFieldOf(socket);
    for (const w of served) {
      w.stats.n++;
      if (w.stats.latencies.length < 100_000) w.stats.latencies.push(seconds);
      const micros = Math.round(seconds * 1e6);
      if (w.logMiddle !== undefined && this.ipField !== undefined) {
        log?.appendOcspPrepared(this.ipField, w.logMiddle, micros, this.now.getTime());
      } else {
        const ip = socket.remoteAddress ?? '';
        log?.appendOcsp(ocspAccessEntry(w.answer, ip, w.stats.method, 200, this.st?.version, micros));
      }
    }
  }
}

/**
 * Puts the fast path in front of `server` (a node:http or node:https server fastify made): its
 * listeners of `event` are called only for the sockets handed over. node:http takes a plain
 * connection on 'connection'; node:https takes the TLS socket on 'secureConnection', once the
 * handshake is done, so the fast path reads the decrypted bytes the same way on both.
 */
export function installFastPath(
  server: HttpServer | HttpsServer,
  o: FastPathOptions,
  event: 'connection' | 'secureConnection' = 'connection',
): FastPath {
  const handOverTo = server.listeners(event) as ((socket: Socket) => void)[];
  server.removeAllListeners(event);
  const fp = new FastPathServer(server, handOverTo, o);
  const flush = () => fp.counts.flush();
  const unhook = o.metrics.beforeCollect(flush);
  const timer = setInterval(flush, 1000);
  timer.unref();
  server.on(event, (socket: Socket) => fp.onConnection(socket));
  return {
    get answered() {
      return fp.answered;
    },
    flush,
    close() {
      if (fp.closing) return;
      fp.closing = true;
      clearInterval(timer);
      flush();
      unhook();
      for (const s of fp.sockets) s.destroy();
      fp.sockets.clear();
    },
  };
}
