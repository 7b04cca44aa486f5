/**
 * `rootca serve`: the Repository (HTML + files over HTTP and HTTPS) and the OCSP responder
 * (R-2.1, R-2.3), serving from the newest verified publication in the online store. It never
 * holds a root key (R-2.4): pre-signed responses come from the publication, live ones only
 * from a delegated responder key.
 *
 * This file starts and stops it: the store (opened here or given), the serving context
 * (serving-context.ts), the publication follower, the fastify listeners with their routes
 * (ocsp-route.ts, repository-routes.ts) and the OCSP fast path in front of the HTTP one
 * (fast-path.ts); OCSP answers come from one source (ocsp-source.ts) through one HTTP writer
 * (ocsp-http.ts) whichever door a request comes in by.
 */
import { hostname } from 'node:os';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { systemClock, type Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import { AccessLog } from './access-log.ts';
import { resolveConnectionLimits, serverCreationOptions, type ConnectionLimits } from './connection-limits.ts';
import { createMetrics, type ServerMetrics } from './metrics.ts';
import type { ServingState } from './ocsp-responder.ts';
import type { AccessLogSegmentRecord, Awaitable, ServingStore, SqliteOnlineStore } from './online-store.ts';
import { keepingLocalCopy, PublicationCache } from './publication-cache.ts';
import { PublicationFollower, type StoreConnection } from './publication-follower.ts';
import { bindResponders, loadResponderKey, type ResponderConfig } from './responders.ts';
import { ServingContext } from './serving-context.ts';
import { fastifyOptions, listenHttp, listenHttps, type Cleanup, type TlsListener } from './listeners.ts';
import { openServingStore, parseStoreLocation } from './store-location.ts';
import { openStoreOrLater } from './store-opened-later.ts';
import { forwardingEvents, SyslogForwarder, type SyslogForwarderOptions } from './syslog-forwarder.ts';

/** How `rootca serve` (and a test) starts a server. */
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
  tls?: TlsListener;
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
  /**
   * How long before a CRL or pre-signed OCSP nextUpdate, or a live responder certificate's
   * notAfter, /healthz turns degraded (default DEFAULT_STATUS_MARGIN_SECONDS, 14 days).
   */
  statusMarginSeconds?: number;
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
  /** Forward server events and closed access-log segments to a syslog collector (RFC 5424 over TCP/TLS). */
  syslog?: SyslogForwarderOptions;
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
function serveLocalCopy(
  ctx: ServingContext,
  cache: PublicationCache,
  unreachable: CaError | undefined,
  log: FastifyBaseLogger,
): ServingState | undefined {
  try {
    const held = cache.peekVersion();
    if (held === undefined || (ctx.state && ctx.state.version >= held)) return undefined;
    const copy = cache.loadVerified(ctx.clock.now())!;
    if (!ctx.adopt({ version: copy.version, bytes: copy.bytes }, copy.trustAnchors, copy.publication)) {
      if (!unreachable) return undefined;
      throw new CaError(
        'PUBLICATION_CACHE_INVALID',
        `the local copy of the publication ${cache.file} (version ${copy.version}) cannot be served: ${ctx.problems(ctx.clock.now()).join('; ')}`,
      );
    }
    log.warn(
      { version: copy.version, savedAt: copy.savedAt, file: cache.file, store: unreachable?.message },
      'serving the local copy of the publication',
    );
    return ctx.state;
  } catch (e) {
    if (!unreachable || !(e instanceof CaError)) {
      log.error({ err: (e as Error).message }, 'the local copy of the publication is not used');
      if (!unreachable) return undefined;
      throw e;
    }
    throw new CaError(e.code, `${e.message}, and ${unreachable.message}: nothing to serve`, {
      cause: e,
      details: e.details,
    });
  }
}

/** The serving context with its metrics and access log (an access-log failure marks service degraded). */
function createContext(
  options: ServerOptions,
  store: ServingStore,
  clock: Clock,
  name: string,
  log: FastifyBaseLogger,
  cleanup: Cleanup,
): ServingContext {
  const metrics = createMetrics({ cluster: options.cluster });
  // Several responders report to one Prometheus: each series says which responder it is from
  // (a named responder, or any on a shared store; one responder on SQLite keeps plain series).
  if (options.labelMetrics ?? (options.name !== undefined || !store.location.startsWith('sqlite:'))) {
    metrics.registry.setDefaultLabels({ responder: name });
  }
  const responderKeys = (options.responders ?? []).map((r, i) =>
    loadResponderKey({ ...r, source: r.source ?? `responder ${i + 1}` }),
  );
  let onLogError = (e: unknown) => log.error({ err: e }, 'OCSP access log');
  const accessLog = options.logDir
    ? new AccessLog({ dir: options.logDir, store, clock, onError: (e) => onLogError(e) })
    : undefined;
  if (accessLog) cleanup.unshift(() => accessLog.close()); // last: after the listeners stop
  const ocspBodyLimit = options.ocspBodyLimit ?? 10 * 1024;
  const ctx = new ServingContext(store, clock, metrics, log, responderKeys, accessLog, {
    liveValiditySeconds: options.liveValiditySeconds,
    ocspBodyLimit,
    statusMarginSeconds: options.statusMarginSeconds,
  });
  onLogError = (e) => {
    log.error({ err: e }, 'OCSP access log');
    ctx.accessLogError = { at: clock.now().getTime(), message: (e as Error)?.message ?? String(e) };
  };
  ctx.responderName = name;
  return ctx;
}

/** The follower that switches publications and records this process's heartbeat once it listens. */
function createFollower(
  options: ServerOptions,
  store: ServingStore,
  ctx: ServingContext,
  cache: PublicationCache | undefined,
  startedAt: Date,
  httpUrl: () => string | undefined,
): PublicationFollower {
  const { clock, log, metrics, responderName: name } = ctx;
  const notWritten = (e: unknown, file: string) =>
    log.warn({ err: (e as Error).message, file }, 'the local copy of the publication could not be written');
  const target = cache
    ? keepingLocalCopy(
        ctx,
        cache,
        () => clock.now(),
        (e) => notWritten(e, cache.file),
      )
    : ctx;
  return new PublicationFollower(store, target, {
    pollMs: options.pollMs ?? 2000,
    maxBackoffMs: options.maxBackoffMs,
    heartbeatMs: options.heartbeatMs,
    clock,
    log,
    registry: metrics.registry,
    heartbeat: () => {
      const url = httpUrl();
      if (!url) return undefined;
      const st = ctx.state;
      const problems = ctx.problems(clock.now());
      const status = !st ? 'unavailable' : problems.length ? 'degraded' : 'ready';
      return { name, pid: process.pid, host: hostname(), url, version: st?.version, status, problems, startedAt };
    },
  });
}

/** Records the stop in the store, unless the follower last found the store unreachable. */
function recordingStop(
  store: ServingStore,
  ctx: ServingContext,
  follower: PublicationFollower,
  httpUrl: string,
  startedAt: Date,
): () => Promise<void> {
  const name = ctx.responderName;
  return async () => {
    // A store that is away at shutdown must not keep the process from stopping: when the
    // follower last found it unreachable, the stop is not recorded at all (each attempt
    // could wait for a connection timeout).
    const connection = follower.connection();
    if (!connection.reachable) {
      ctx.log.warn({ err: connection.lastError }, 'the stop event is not recorded: the online store is unreachable');
      return;
    }
    try {
      await store.recordServerEvent('stop', { httpUrl, responder: name });
      // `online status` shows it stopped rather than ready until its heartbeat ages out.
      const version = ctx.state?.version;
      await store.heartbeat({
        name,
        pid: process.pid,
        host: hostname(),
        url: httpUrl,
        version,
        status: 'stopped',
        problems: [],
        startedAt,
      });
    } catch (e) {
      ctx.log.warn({ err: (e as Error).message }, 'the stop event could not be recorded');
    }
  };
}

/** Starts the Repository and OCSP server in this process (no cluster). */
export async function startServer<S extends ServingStore>(
  options: ServerOptions<S> & { store: S },
): Promise<RunningServer<S>>;
/** A store given by its spelling: the adapter (SQLite or PostgreSQL) is chosen at run time, so its type is not known here. */
// biome-ignore lint/suspicious/noExplicitAny: the store is chosen at run time from its spelling, so its type is not known here
export async function startServer(options: ServerOptions): Promise<RunningServer<any>>;
export async function startServer<S extends ServingStore = ServingStore>(
  options: ServerOptions<S>,
): Promise<RunningServer<S>> {
  const ownStore = typeof options.store === 'string';
  const clock = options.clock ?? systemClock;
  const name = options.name ?? `${hostname()}:${options.port ? options.port : `pid${process.pid}`}`;
  const cache = options.cacheDir ? new PublicationCache(options.cacheDir) : undefined;
  const spec = options.store;
  const opened =
    typeof spec === 'string'
      ? await openStoreOrLater(
          parseStoreLocation(spec).display,
          () => openServingStore(spec, { clock, responder: name }),
          () => hasLocalCopy(cache),
        )
      : { store: spec, unreachable: undefined };
  const cleanup: Cleanup = [];
  const syslog = options.syslog && new SyslogForwarder(options.syslog);
  const store = (syslog ? forwardingEvents(opened.store, syslog) : opened.store) as S;
  try {
    const server = await serve(options, store, clock, name, cache, opened.unreachable, cleanup, ownStore);
    if (!syslog) return server;
    syslog.register(server.metrics.registry);
    const close = server.close;
    return { ...server, close: () => close().then(() => syslog.close()) }; // last: after the stop event
  } catch (e) {
    await syslog?.close(0);
    for (const c of [...cleanup].reverse()) await Promise.resolve(c()).catch(() => undefined);
    if (ownStore) await store.close();
    throw e;
  }
}

/**
 * No route declares a JSON schema (the OCSP and Repository routes parse their own input), so
 * fastify never compiles one: given compilers, it does not load its defaults, ajv with its
 * formats and fast-json-stringify (about a hundred modules and 2 MB per worker; issue 17 item 4,
 * a responder process idle under 80 MB). A route that declared a schema fails at start-up.
 */
const NO_SCHEMA_COMPILERS = {
  compilersFactory: {
    buildValidator: (): never => {
      throw new Error('rootca serve routes declare no JSON schema to validate against');
    },
    buildSerializer: (): never => {
      throw new Error('rootca serve routes declare no JSON schema to serialize with');
    },
  },
};

/** startServer once the store is open (or known unreachable): everything it undoes is pushed on `cleanup`. */
async function serve<S extends ServingStore>(
  options: ServerOptions<S>,
  store: S,
  clock: Clock,
  name: string,
  cache: PublicationCache | undefined,
  unreachable: CaError | undefined,
  cleanup: Cleanup,
  ownStore: boolean,
): Promise<RunningServer<S>> {
  const host = options.host ?? '127.0.0.1';
  const level = options.logLevel ?? 'silent';
  const limits = resolveConnectionLimits(options.limits);
  const common = { ...fastifyOptions(limits), schemaController: NO_SCHEMA_COMPILERS };
  const logger = level === 'silent' ? false : { level, ...(options.logStream ? { stream: options.logStream } : {}) };
  const http = Fastify({ ...common, http: serverCreationOptions(limits), logger });
  cleanup.push(() => http.close());
  const log = http.log;
  const ctx = createContext(options, store, clock, name, log, cleanup);
  const { metrics } = ctx;
  const startedAt = clock.now();
  let httpUrl: string | undefined;
  const follower = createFollower(options, store, ctx, cache, startedAt, () => httpUrl);
  let localCopy: ServingState | undefined;
  ctx.storeProblem = () =>
    follower.problem(ctx.state?.version, ctx.state && ctx.state === localCopy ? 'the local copy' : 'memory');
  ctx.storeConnection = () => follower.connection();
  cleanup.push(() => follower.stop());
  await follower.pollNow();
  if (cache) localCopy = serveLocalCopy(ctx, cache, unreachable, log);
  if (ctx.state && ctx.responderKeys.length > 0) {
    const { problems } = bindResponders(ctx.state.publication, ctx.responderKeys, clock.now());
    if (problems.length) throw new CaError('RESPONDER_INVALID', `delegated responder refused: ${problems.join('; ')}`);
  }
  const refused = (address: string) => {
    metrics.connectionsRefused.inc();
    log.debug({ address }, 'connection over the per-address cap closed');
  };
  httpUrl = await listenHttp(http, ctx, limits, host, options.port ?? 8080, refused);
  ctx.ocspUrl = `${httpUrl}/ocsp`;

  const httpsUrl = options.tls
    ? await listenHttps(options.tls, common, ctx, limits, host, refused, cleanup)
    : undefined;
  follower.start();
  try {
    const version = ctx.state?.publication.manifest.version ?? null;
    await store.recordServerEvent('start', { httpUrl, httpsUrl: httpsUrl ?? null, version, responder: name });
  } catch (e) {
    if (!unreachable) throw e;
    log.warn({ err: (e as Error).message }, 'the start event could not be recorded: the online store is unreachable');
  }
  await follower.beat();
  cleanup.unshift(recordingStop(store, ctx, follower, httpUrl, startedAt));
  let closed: Promise<void> | undefined;
  return {
    httpUrl,
    httpsUrl,
    name,
    pollNow: () => follower.pollNow(),
    storeConnection: () => follower.connection(),
    current: () => ctx.state,
    closeSegmentNow: async () => ctx.accessLog?.closeSegmentNow(),
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
}
