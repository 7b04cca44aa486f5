/**
 * `rootca serve`: the Repository (HTML + files over HTTP and HTTPS) and the OCSP responder
 * (R-2.1, R-2.3), serving from the newest verified publication in the online store. It never
 * holds a root key (R-2.4): pre-signed responses come from the publication, live ones only
 * from a delegated responder key.
 *
 * The current publication sits in one reference (`Context.state`); a handler reads it once, so
 * each request is answered wholly from one version while a poll swaps in a newer one.
 *
 * HTTP status of OCSP answers: every OCSP-level outcome (successful, malformedRequest,
 * unauthorized, tryLater) is HTTP 200 with the OCSPResponse as the body, so OCSP clients read
 * the status the RFC defines; HTTP errors are kept for HTTP-level problems (413 body too large,
 * 414 GET request too long, 415 a POST whose Content-Type is not application/ocsp-request).
 * Only a bug gives 500 (with an internalError body).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../clock.ts';
import { CaError, httpStatusOf } from '../errors.ts';
import { normalizeSerialHex } from '../pki/crl.ts';
import { derToPem } from '../pki/pem.ts';
import { MEDIA_TYPES } from '../publish/format.ts';
import { verifyPublication, type VerifiedPublication } from '../publish/verify.ts';
import { AccessLog } from './access-log.ts';
import { capConnectionsPerAddress, fastifyTimeouts, resolveConnectionLimits, serverCreationOptions, type ConnectionLimits } from './connection-limits.ts';
import { continueWhenBodyIsRead } from './expect-continue.ts';
import { installFastPath } from './fast-path.ts';
import { createMetrics, type ServerMetrics } from './metrics.ts';
import { answerOcspRequest, decodeOcspGetPath, errorAnswer, PresignedAnswerCache, type ServingState } from './ocsp-responder.ts';
import type { AccessLogSegmentRecord, Awaitable, ServingStore, SqliteOnlineStore } from './online-store.ts';
import { PublicationFollower, type StoreConnection } from './publication-follower.ts';
import { PAGE_CSS_HASH, renderRepositoryPage } from './repository-page.ts';
import { bindResponders, loadResponderKey, type ResponderConfig, type ResponderKey } from './responders.ts';
import { keepingLocalCopy, PublicationCache } from './publication-cache.ts';
import { openServingStore, parseStoreLocation } from './store-location.ts';
import { openStoreOrLater } from './store-opened-later.ts';

export interface ServerOptions<S extends ServingStore = ServingStore> {
  /** An open store, or its spelling (`sqlite:PATH`, `postgres://…`), which the server then opens and closes. */
  store: S | string;
  /** This responder's name in heartbeats, events, access-log chains and metric labels (default host:port). */
  name?: string;
  /** Largest wait between store reconnect attempts (default 5000 ms). */
  maxBackoffMs?: number;
  /** How often this process records its heartbeat in the store (default 5000 ms; 0: never). */
  heartbeatMs?: number;
  /** Label every metric series with `responder` (default: when `name` is given or the store is not SQLite). */
  labelMetrics?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** HTTPS as well: PEM certificate (chain) and key; port default 8443. */
  tls?: { cert: string | Buffer; key: string | Buffer; port?: number };
  /** Delegated OCSP responders (at most one per CA). */
  responders?: ResponderConfig[];
  /** OCSP access log folder; no access log without it. */
  logDir?: string;
  /** How often the store is asked for a newer publication (default 2000 ms). */
  pollMs?: number;
  clock?: Clock;
  /** pino level; default 'silent'. */
  logLevel?: string;
  /** Where logs go (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** Life of live-signed OCSP responses (default 3600 s). */
  liveValiditySeconds?: number;
  /** Largest OCSP POST body (default 10 KiB); larger is HTTP 413. */
  ocspBodyLimit?: number;
  /** Timeouts and the per-address connection cap (defaults: DEFAULT_CONNECTION_LIMITS). */
  limits?: Partial<ConnectionLimits>;
  /** Running as a cluster worker: /metrics shows the whole cluster. */
  cluster?: boolean;
  /**
   * Folder of this responder's local copy of the last publication it switched to
   * (publication-cache.ts): served, after verifying it again, when the store is unreachable at
   * start or holds only older versions. None without it.
   */
  cacheDir?: string;
}

/** `S`: the store's own type (SQLite by default, whose methods answer synchronously). */
export interface RunningServer<S extends ServingStore = SqliteOnlineStore> {
  /** `http://host:port` (no trailing slash). */
  httpUrl: string;
  httpsUrl?: string;
  /** This responder's name. */
  name: string;
  /** Asks the store for a newer publication now; true when it switched (synchronous with SQLite). */
  pollNow(): Awaitable<boolean>;
  /** The store connection as /healthz reports it. */
  storeConnection(): StoreConnection;
  /** What requests are answered from right now. */
  current(): ServingState | undefined;
  /** Closes the open access-log segment (gzip, chain, record). */
  closeSegmentNow(): Promise<AccessLogSegmentRecord | undefined>;
  store: S;
  metrics: ServerMetrics;
  log: FastifyBaseLogger;
  /** Stops listening, closes the access log (and the store when the server opened it). */
  close(): Promise<void>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const httpDate = (d: Date) => d.toUTCString();
const OCSP_RESPONSE = MEDIA_TYPES.ocsp;
const OCSP_REQUEST = 'application/ocsp-request';
const PEM_CHAIN = 'application/pem-certificate-chain';

/** Everything the routes of both listeners share. */
class Context {
  state: ServingState | undefined;
  private failed: { version: number; reason: string } | undefined;
  /** Set once the follower exists: why the store makes serving degraded (undefined: it does not). */
  storeProblem: () => string | undefined = () => undefined;
  storeConnection: () => StoreConnection | undefined = () => undefined;
  /** This responder's name (heartbeats, /healthz, metric label). */
  responderName = '';
  /** The last access-log failure (CPS 5.5.1 wants every request logged: degraded until it works again). */
  accessLogError: { at: number; message: string } | undefined;
  private readonly pages = new WeakMap<VerifiedPublication, { html: Buffer; etag: string }>();
  private readonly earliestNextUpdate = new WeakMap<VerifiedPublication, Date | undefined>();
  ocspUrl = '/ocsp';
  readonly answers = new PresignedAnswerCache();
  private readonly requestChildren = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();
  private readonly ocspChildren = new Map<string, { inc(): void }>();

  /** Counts a request (label children cached: prom-client hashes label objects otherwise). */
  countRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let c = this.requestChildren.get(key);
    if (!c) {
      c = { count: this.metrics.httpRequests.labels(route, method, String(status)), latency: this.metrics.latency.labels(route) };
      this.requestChildren.set(key, c);
    }
    c.count.inc();
    c.latency.observe(seconds);
  }

  countOcsp(outcome: string, source: string): void {
    const key = `${outcome} ${source}`;
    let c = this.ocspChildren.get(key);
    if (!c) {
      c = this.metrics.ocspResponses.labels(outcome, source);
      this.ocspChildren.set(key, c);
    }
    c.inc();
  }

  constructor(
    readonly store: ServingStore,
    readonly clock: Clock,
    readonly metrics: ServerMetrics,
    readonly log: FastifyBaseLogger,
    readonly responderKeys: ResponderKey[],
    readonly accessLog: AccessLog | undefined,
    readonly opts: { liveValiditySeconds?: number; ocspBodyLimit: number },
  ) {}

  /** FollowTarget: a version newer than the one served that was not refused before. */
  wants(latest: number | undefined): boolean {
    return !(latest === undefined || (this.state && latest <= this.state.version) || this.failed?.version === latest);
  }

  /**
   * FollowTarget: verifies a publication from the store and swaps it in. The new state is
   * built whole first and then set in one assignment: a request reads `state` once, so it is
   * answered wholly from the old or wholly from the new version.
   */
  adopt(row: { version: number; bytes: Buffer }, trustAnchors: Buffer[], verified?: VerifiedPublication): boolean {
    if (!this.wants(row.version)) return false;
    const now = this.clock.now();
    try {
      const publication = verified ?? verifyPublication(row.bytes, { trustAnchors, now });
      const { byCa, problems } = bindResponders(publication, this.responderKeys, now);
      for (const p of problems) this.log.warn({ problem: p }, 'delegated responder not used');
      this.state = { publication, version: publication.manifest.version, responders: byCa };
      this.answers.clear();
      this.failed = undefined;
      this.metrics.publicationVersion.set(publication.manifest.version);
      this.log.info({ version: publication.manifest.version, createdAt: publication.manifest.createdAt, responders: [...byCa.keys()] }, 'serving publication');
      return true;
    } catch (e) {
      this.failed = { version: row.version, reason: (e as Error).message };
      this.log.error({ version: row.version, err: (e as Error).message }, 'publication in the store refused; still serving the previous one');
      return false;
    }
  }

  page(pub: VerifiedPublication): { html: Buffer; etag: string } {
    let p = this.pages.get(pub);
    if (!p) {
      const html = Buffer.from(renderRepositoryPage(pub, { ocspUrl: this.ocspUrl }), 'utf8');
      p = { html, etag: `"${sha256(html)}"` };
      this.pages.set(pub, p);
    }
    return p;
  }

  /** Why the service is degraded (empty: ready). */
  problems(now: Date): string[] {
    const out: string[] = [];
    const storeProblem = this.storeProblem();
    if (storeProblem) out.push(storeProblem);
    if (this.failed) out.push(`publication ${this.failed.version} was refused: ${this.failed.reason}`);
    if (this.accessLogError && now.getTime() - this.accessLogError.at < 15 * 60_000) out.push(`OCSP access log: ${this.accessLogError.message}`);
    const st = this.state;
    if (!st) return out;
    for (const crl of st.publication.crls.values()) {
      if (crl.parsed.nextUpdate && crl.parsed.nextUpdate < now) out.push(`CRL ${crl.path} is past its nextUpdate ${crl.parsed.nextUpdate.toISOString()}`);
    }
    if (!this.earliestNextUpdate.has(st.publication)) {
      let min: Date | undefined;
      for (const r of st.publication.index.values()) if (!min || r.nextUpdate < min) min = r.nextUpdate;
      this.earliestNextUpdate.set(st.publication, min);
    }
    const earliest = this.earliestNextUpdate.get(st.publication);
    if (earliest && earliest < now) {
      let n = 0;
      for (const r of st.publication.index.values()) if (r.nextUpdate < now) n++;
      out.push(`${n} pre-signed OCSP response(s) are past their nextUpdate`);
    }
    return out;
  }
}

function send304OrBody(req: FastifyRequest, reply: FastifyReply, etag: string, body: Buffer): FastifyReply {
  reply.header('etag', etag);
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return reply.code(304).send();
  return reply.send(body);
}

function registerRoutes(app: FastifyInstance, ctx: Context): void {
  const limit = ctx.opts.ocspBodyLimit;

  app.removeAllContentTypeParsers();
  // RFC 6960 A.1.1: "Content-Type: application/ocsp-request". Another type (or none) with a
  // body is refused with 415 before the body is read; a parameter (`; charset=…`) is allowed.
  app.addContentTypeParser(OCSP_REQUEST, { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('x-content-type-options', 'nosniff');
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    ctx.countRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? (err instanceof CaError ? httpStatusOf(err.code) : 500); // the error catalogue's status
    if (status === 413) return reply.code(413).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`request body too large: OCSP requests are limited to ${limit} bytes\n`);
    if (status === 415) return reply.code(415).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`unsupported media type: OCSP requests are sent as ${OCSP_REQUEST} (RFC 6960 A.1.1)\n`);
    if (status >= 400 && status < 500) return reply.code(status).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`${status} ${err.message}\n`);
    req.log.error({ err }, 'request failed');
    if (req.routeOptions.url?.startsWith('/ocsp') || (req.method === 'POST' && req.routeOptions.url === '/')) {
      ctx.countOcsp('internalError', 'error');
      return reply.code(500).type(OCSP_RESPONSE).header('cache-control', 'no-store').send(errorAnswer('internalError').body);
    }
    return reply.code(status).type('text/plain; charset=utf-8').send(status === 503 ? 'service unavailable\n' : 'internal error\n');
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/plain; charset=utf-8').send('not found\n'));

  // --- OCSP -----------------------------------------------------------------------------------
  type Decoded = { der?: Buffer; httpStatus?: number; reason?: string };
  /** `key`: the request as received, for the answer cache; `decode` turns it into DER. */
  const answer = (req: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST', key: string, decode: () => Decoded) => {
    const started = performance.now();
    const st = ctx.state; // one publication for the whole answer
    const now = ctx.clock.now();
    let a = ctx.answers.get(key, st, now);
    if (!a) {
      const decoded = decode();
      if (decoded.httpStatus) return reply.code(decoded.httpStatus).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`${decoded.reason}\n`);
      a = decoded.der
        ? answerOcspRequest(st, decoded.der, now, { liveValiditySeconds: ctx.opts.liveValiditySeconds })
        : errorAnswer('malformedRequest', { reason: decoded.reason ?? 'empty request' });
      ctx.answers.offer(key, st, a);
    }
    reply.type(OCSP_RESPONSE);
    let status = 200;
    ctx.countOcsp(a.outcome, a.source);
    if (a.cacheable && a.thisUpdate && a.nextUpdate) {
      // RFC 5019 6.2: max-age no later than nextUpdate; ETag, Last-Modified (thisUpdate), Expires (nextUpdate).
      const maxAge = Math.max(0, Math.floor((a.nextUpdate.getTime() - now.getTime()) / 1000));
      const etag = a.etag ?? `"${sha256(a.body)}"`;
      reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
      reply.header('last-modified', httpDate(a.thisUpdate));
      reply.header('expires', httpDate(a.nextUpdate));
      reply.header('etag', etag);
      const inm = req.headers['if-none-match'];
      if (method === 'GET' && inm !== undefined && (inm === etag || inm.split(',').some((t) => t.trim() === etag))) status = 304;
    } else {
      reply.header('cache-control', 'no-store');
    }
    ctx.accessLog?.appendOcsp({
      ip: req.ip, method, http: status, outcome: a.outcome, source: a.source, ca: a.ca, hash: a.hash, serials: a.serials, nonce: a.nonce,
      version: st?.version, length: status === 304 ? 0 : a.body.length, micros: Math.round((performance.now() - started) * 1000), reason: a.source === 'error' ? a.reason : undefined,
    });
    return status === 304 ? reply.code(304).send() : reply.code(status).send(a.body);
  };
  const post = (req: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    if (!body || body.length === 0) return answer(req, reply, 'POST', '', () => ({ reason: 'empty request body' }));
    return answer(req, reply, 'POST', body.length <= ctx.answers.maxKeyLength ? `p${body.toString('latin1')}` : '', () => ({ der: body }));
  };
  app.post('/ocsp', { bodyLimit: limit }, post);
  app.post('/', { bodyLimit: limit }, post);
  app.get('/ocsp/*', (req, reply) => {
    const url = req.raw.url ?? '';
    return answer(req, reply, 'GET', `g${url}`, () => decodeOcspGetPath(url, '/ocsp/', limit));
  });
  app.get('/ocsp', (req, reply) => answer(req, reply, 'GET', '', () => ({ reason: 'no request in the URL' })));

  // --- Repository -----------------------------------------------------------------------------
  const unavailable = (reply: FastifyReply) =>
    reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').header('retry-after', '30').send('no publication has been imported yet\n');

  const serveFile = (req: FastifyRequest, reply: FastifyReply, path: string, alt?: () => string | undefined) => {
    const st = ctx.state;
    if (!st) return unavailable(reply);
    const pub = st.publication;
    let item = pub.items.get(path);
    if (!item && alt) {
      const p = alt();
      if (p) item = pub.items.get(p);
    }
    if (!item || item.kind === 'ocsp-response') return reply.callNotFound();
    const data = pub.files.get(item.path)!;
    const now = ctx.clock.now();
    let cache = 'public, max-age=3600';
    if (item.kind === 'crl') {
      // A new CRL may be published at any time (R-2.2): revalidate at least hourly, never past nextUpdate.
      // The item is the CA's current CRL or, after a re-key, one signed by an earlier key.
      const crl = pub.previousKeyCrls.find((c) => c.path === item!.path) ?? pub.crls.get(item.ca!)!;
      const next = crl.parsed.nextUpdate;
      const left = next ? Math.max(0, Math.floor((next.getTime() - now.getTime()) / 1000)) : 3600;
      cache = `public, max-age=${Math.min(3600, left)}, must-revalidate`;
      reply.header('last-modified', httpDate(crl.parsed.thisUpdate));
    } else {
      if (item.kind === 'ca-certificate' || item.kind === 'certificate') cache = 'public, max-age=86400';
      reply.header('last-modified', httpDate(new Date(pub.manifest.createdAt)));
    }
    reply.type(item.mediaType).header('cache-control', cache);
    return send304OrBody(req, reply, `"${item.sha256}"`, data);
  };

  app.get('/certs/:file', (req, reply) => {
    const { file } = req.params as { file: string };
    if (file.endsWith('.pem')) {
      const st = ctx.state;
      if (!st) return unavailable(reply);
      // A CA certificate by name, or a re-keyed CA's link certificate by its .crt path.
      const der = st.publication.cas.get(file.slice(0, -4))?.der ?? st.publication.links.find((l) => l.path === `certs/${file.slice(0, -4)}.crt`)?.der;
      if (!der) return reply.callNotFound();
      const pem = Buffer.from(derToPem(der, 'CERTIFICATE'), 'ascii');
      reply.type(PEM_CHAIN).header('cache-control', 'public, max-age=86400').header('last-modified', httpDate(new Date(st.publication.manifest.createdAt)));
      return send304OrBody(req, reply, `"${sha256(pem)}"`, pem);
    }
    return serveFile(req, reply, `certs/${file}`);
  });
  app.get('/crl/:file', (req, reply) => serveFile(req, reply, `crl/${(req.params as { file: string }).file}`));
  app.get('/docs/:file', (req, reply) => serveFile(req, reply, `docs/${(req.params as { file: string }).file}`));
  app.get('/issued/:ca/:file', (req, reply) => {
    const { ca, file } = req.params as { ca: string; file: string };
    return serveFile(req, reply, `issued/${ca}/${file}`, () => {
      // Any spelling of the serial (upper case, leading zeros, 0x) finds the certificate.
      if (!file.endsWith('.crt')) return undefined;
      try {
        return ctx.state?.publication.certificates.get(ca)?.get(normalizeSerialHex(file.slice(0, -4)))?.path;
      } catch {
        return undefined;
      }
    });
  });

  app.get('/', (req, reply) => {
    const st = ctx.state;
    if (!st) return unavailable(reply);
    const { html, etag } = ctx.page(st.publication);
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'public, max-age=60')
      .header('content-security-policy', `default-src 'none'; style-src ${PAGE_CSS_HASH}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`)
      .header('referrer-policy', 'no-referrer')
      .header('last-modified', httpDate(new Date(st.publication.manifest.createdAt)));
    return send304OrBody(req, reply, etag, html);
  });

  // --- Operations -----------------------------------------------------------------------------
  app.get('/healthz', (_req, reply) => {
    const st = ctx.state;
    reply.header('cache-control', 'no-store');
    const problems = ctx.problems(ctx.clock.now());
    const responder = ctx.responderName;
    const store = { location: ctx.store.location, ...ctx.storeConnection() };
    if (!st) return reply.code(503).send({ status: 'unavailable', version: null, createdAt: null, responder, store, problems: ['no publication has been imported yet', ...problems] });
    // Degraded is still HTTP 200: the answers come from a verified publication held in memory.
    return reply.send({
      status: problems.length ? 'degraded' : 'ready',
      version: st.version,
      responder,
      store,
      createdAt: st.publication.manifest.createdAt,
      installation: st.publication.manifest.installation,
      cas: [...st.publication.cas.keys()],
      responders: [...st.responders.keys()],
      problems,
      pid: process.pid,
    });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(ctx.metrics.registry.contentType).header('cache-control', 'no-store');
    return ctx.metrics.text();
  });
}

/** Whether there is a local copy to try (a damaged one counts: it is refused with its reason when loaded). */
function hasLocalCopy(cache: PublicationCache | undefined): boolean {
  try {
    return cache?.peekVersion() !== undefined;
  } catch {
    return true;
  }
}

/**
 * At start: serves the verified local copy when the store is unreachable (`unreachable`) or holds
 * only older versions than the copy (never backwards). A copy that fails verification is refused:
 * with the store unreachable the responder does not start (PUBLICATION_CACHE_INVALID); with the
 * store reachable it is logged and replaced at the next switch. Returns the state it installed.
 */
function serveLocalCopy(ctx: Context, cache: PublicationCache, unreachable: CaError | undefined, log: FastifyBaseLogger): ServingState | undefined {
  try {
    const held = cache.peekVersion();
    if (held === undefined || (ctx.state && ctx.state.version >= held)) return undefined;
    const copy = cache.loadVerified(ctx.clock.now())!;
    if (!ctx.adopt({ version: copy.version, bytes: copy.bytes }, copy.trustAnchors, copy.publication)) {
      if (!unreachable) return undefined;
      throw new CaError('PUBLICATION_CACHE_INVALID', `the local copy of the publication ${cache.file} (version ${copy.version}) cannot be served: ${ctx.problems(ctx.clock.now()).join('; ')}`);
    }
    log.warn({ version: copy.version, savedAt: copy.savedAt, file: cache.file, store: unreachable?.message }, 'serving the local copy of the publication');
    return ctx.state;
  } catch (e) {
    if (!unreachable || !(e instanceof CaError)) {
      log.error({ err: (e as Error).message }, 'the local copy of the publication is not used');
      if (!unreachable) return undefined;
      throw e;
    }
    throw new CaError(e.code, `${e.message}, and ${unreachable.message}: nothing to serve`, { cause: e, details: e.details });
  }
}

function urlOf(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Starts the Repository and OCSP server in this process (no cluster). */
export async function startServer<S extends ServingStore>(options: ServerOptions<S> & { store: S }): Promise<RunningServer<S>>;
/** A store given by its spelling: the adapter (SQLite or PostgreSQL) is chosen at run time, so its type is not known here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function startServer(options: ServerOptions): Promise<RunningServer<any>>;
export async function startServer<S extends ServingStore = ServingStore>(options: ServerOptions<S>): Promise<RunningServer<S>> {
  const ownStore = typeof options.store === 'string';
  const clock = options.clock ?? systemClock;
  const host = options.host ?? '127.0.0.1';
  const name = options.name ?? `${hostname()}:${options.port ? options.port : `pid${process.pid}`}`;
  const cache = options.cacheDir ? new PublicationCache(options.cacheDir) : undefined;
  const spec = options.store;
  const opened = typeof spec === 'string'
    ? await openStoreOrLater(parseStoreLocation(spec).display, () => openServingStore(spec, { clock, responder: name }), () => hasLocalCopy(cache))
    : { store: spec, unreachable: undefined };
  const store = opened.store as S;
  const level = options.logLevel ?? 'silent';
  const limits = resolveConnectionLimits(options.limits);
  const common = {
    // One access-log line per OCSP request is written by AccessLog; pino keeps to events and errors.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 8192, ignoreTrailingSlash: true },
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    ...fastifyTimeouts(limits),
  };
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    const http = Fastify({ ...common, http: serverCreationOptions(limits), logger: level === 'silent' ? false : { level, ...(options.logStream ? { stream: options.logStream } : {}) } });
    cleanup.push(() => http.close());
    const log = http.log;
    const metrics = createMetrics({ cluster: options.cluster });
    // Several responders report to one Prometheus: each series says which responder it is from
    // (a named responder, or any on a shared store; one responder on SQLite keeps plain series).
    if (options.labelMetrics ?? (options.name !== undefined || !store.location.startsWith('sqlite:'))) metrics.registry.setDefaultLabels({ responder: name });
    const responderKeys = (options.responders ?? []).map((r, i) => loadResponderKey({ ...r, source: r.source ?? `responder ${i + 1}` }));
    let onLogError = (e: unknown) => log.error({ err: e }, 'OCSP access log');
    const accessLog = options.logDir ? new AccessLog({ dir: options.logDir, store, clock, onError: (e) => onLogError(e) }) : undefined;
    if (accessLog) cleanup.unshift(() => accessLog.close()); // last: after the listeners stop
    const ctx = new Context(store, clock, metrics, log, responderKeys, accessLog, { liveValiditySeconds: options.liveValiditySeconds, ocspBodyLimit: options.ocspBodyLimit ?? 10 * 1024 });
    onLogError = (e) => {
      log.error({ err: e }, 'OCSP access log');
      ctx.accessLogError = { at: clock.now().getTime(), message: (e as Error)?.message ?? String(e) };
    };
    ctx.responderName = name;
    const startedAt = clock.now();
    let httpUrl: string | undefined;
    const target = cache ? keepingLocalCopy(ctx, cache, () => clock.now(), (e) => log.warn({ err: (e as Error).message, file: cache.file }, 'the local copy of the publication could not be written')) : ctx;
    const follower = new PublicationFollower(store, target, {
      pollMs: options.pollMs ?? 2000, maxBackoffMs: options.maxBackoffMs, heartbeatMs: options.heartbeatMs, clock, log, registry: metrics.registry,
      heartbeat: () => {
        if (!httpUrl) return undefined;
        const st = ctx.state;
        const problems = ctx.problems(clock.now());
        return { name, pid: process.pid, host: hostname(), url: httpUrl, version: st?.version, status: !st ? 'unavailable' : problems.length ? 'degraded' : 'ready', problems, startedAt };
      },
    });
    let localCopy: ServingState | undefined;
    ctx.storeProblem = () => follower.problem(ctx.state?.version, ctx.state && ctx.state === localCopy ? 'the local copy' : 'memory');
    ctx.storeConnection = () => follower.connection();
    cleanup.push(() => follower.stop());
    await follower.pollNow();
    if (cache) localCopy = serveLocalCopy(ctx, cache, opened.unreachable, log);
    if (ctx.state && responderKeys.length > 0) {
      const { problems } = bindResponders(ctx.state.publication, responderKeys, clock.now());
      if (problems.length) throw new CaError('RESPONDER_INVALID', `delegated responder refused: ${problems.join('; ')}`);
    }
    registerRoutes(http, ctx);
    continueWhenBodyIsRead(http.server);
    // Well-formed OCSP requests are answered before fastify (fast-path.ts); all else reaches it.
    const fastPath = installFastPath(http.server, {
      state: () => ctx.state, answers: ctx.answers, clock, metrics, accessLog,
      bodyLimit: ctx.opts.ocspBodyLimit, limits, liveValiditySeconds: ctx.opts.liveValiditySeconds,
    });
    const refused = (address: string) => {
      metrics.connectionsRefused.inc();
      log.debug({ address }, 'connection over the per-address cap closed');
    };
    capConnectionsPerAddress(http.server, limits.maxConnectionsPerAddress, refused); // in front of the fast path
    http.addHook('preClose', (done) => {
      fastPath.close();
      done();
    });
    await http.listen({ host, port: options.port ?? 8080 });
    const httpPort = (http.server.address() as { port: number }).port;
    httpUrl = urlOf('http', host, httpPort);
    ctx.ocspUrl = `${httpUrl}/ocsp`;

    let httpsUrl: string | undefined;
    if (options.tls) {
      // handshakeTimeout: a TLS handshake is part of getting the request head in.
      const https = Fastify({ ...common, loggerInstance: log, https: { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: limits.headersTimeoutMs, ...serverCreationOptions(limits) } });
      cleanup.push(() => https.close());
      registerRoutes(https, ctx);
      continueWhenBodyIsRead(https.server);
      capConnectionsPerAddress(https.server, limits.maxConnectionsPerAddress, refused);
      await https.listen({ host, port: options.tls.port ?? 8443 });
      httpsUrl = urlOf('https', host, (https.server.address() as { port: number }).port);
    }
    follower.start();
    try {
      await store.recordServerEvent('start', { httpUrl, httpsUrl: httpsUrl ?? null, version: ctx.state?.publication.manifest.version ?? null, responder: name });
    } catch (e) {
      if (!opened.unreachable) throw e;
      log.warn({ err: (e as Error).message }, 'the start event could not be recorded: the online store is unreachable');
    }
    await follower.beat();
    cleanup.unshift(async () => {
      // A store that is away at shutdown must not keep the process from stopping: when the
      // follower last found it unreachable, the stop is not recorded at all (each attempt
      // could wait for a connection timeout).
      const connection = follower.connection();
      if (!connection.reachable) {
        log.warn({ err: connection.lastError }, 'the stop event is not recorded: the online store is unreachable');
        return;
      }
      try {
        await store.recordServerEvent('stop', { httpUrl, responder: name });
        // `online status` shows it stopped rather than ready until its heartbeat ages out.
        await store.heartbeat({ name, pid: process.pid, host: hostname(), url: httpUrl, version: ctx.state?.version, status: 'stopped', problems: [], startedAt });
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'the stop event could not be recorded');
      }
    });
    let closed: Promise<void> | undefined;
    return {
      httpUrl,
      httpsUrl,
      name,
      pollNow: () => follower.pollNow(),
      storeConnection: () => follower.connection(),
      current: () => ctx.state,
      closeSegmentNow: async () => accessLog?.closeSegmentNow(),
      store,
      metrics,
      log,
      close: () => {
        closed ??= (async () => {
          store.stopRetrying?.(); // in-flight answers are finished; nothing waits for an absent store
          for (const c of [...cleanup].reverse()) await c();
          if (ownStore) await store.close();
        })();
        return closed;
      },
    };
  } catch (e) {
    for (const c of [...cleanup].reverse()) await Promise.resolve(c()).catch(() => undefined);
    if (ownStore) await store.close();
    throw e;
  }
}
