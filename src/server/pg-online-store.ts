/**
 * The PostgreSQL adapter of the online store (issue 9): one database that many stateless
 * responders on many machines read, and that `rootca online import` writes a new publication
 * version into. Queries go through Kysely (the typed query layer of DESIGN.md) over a `pg` pool;
 * LISTEN uses a `pg` client of its own, because a pooled connection cannot hold a LISTEN.
 *
 * - Migrations run forward only, in one transaction under a transaction-scoped advisory lock,
 *   so several responders starting at once apply each exactly once; a schema newer than this
 *   rootca knows is refused (STORE_TOO_NEW).
 * - An import verifies the publication inside the transaction that inserts it, under an
 *   advisory lock (two importers cannot both pass the "newer than the current" check), and
 *   sends NOTIFY rootca_publication with the version, delivered on commit.
 * - Nothing is written per OCSP request (CPS 5.5.1 keeps the access log in segment files):
 *   only segment digests (each responder its own chain), server events, and a heartbeat row
 *   per responder process every few seconds.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, PostgresDialect, sql, type ColumnType, type Generated } from 'kysely';
import pg from 'pg';
import { systemClock, type Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import {
  refusalDetail, sha256Hex, verifyForImport,
  type AccessLogSegmentRecord, type ImportRecord, type ImportResult, type ResponderHeartbeat, type ResponderSeen, type ServerEventKind, type ServingStore,
} from './online-store.ts';

type WrittenAs<R, W> = ColumnType<R, W, W>;

interface Database {
  rootca_online_schema: { version: number; description: string; applied_at: WrittenAs<Date, string> };
  publications: { version: number; imported_at: WrittenAs<Date, string>; sha256: string; bytes: Buffer };
  trust_anchors: { sha256: string; der: Buffer; added_at: WrittenAs<Date, string> };
  access_log_segments: {
    seq: Generated<string>; responder: string; name: string; sha256: string; prev_sha256: string; lines: number; closed_at: WrittenAs<Date, string>;
  };
  server_events: { seq: Generated<string>; at: WrittenAs<Date, string>; kind: string; responder: string; pid: number; detail: WrittenAs<Record<string, unknown>, string> };
  responders: {
    name: string; pid: number; host: string; url: string | null; version: number | null; status: string;
    problems: WrittenAs<string[], string>; started_at: WrittenAs<Date, string>; seen_at: WrittenAs<Date, string>;
  };
}

interface PgMigration { version: number; description: string; statements: string[] }

/** Forward-only migrations (append, never edit one that has shipped). */
export const PG_ONLINE_MIGRATIONS: PgMigration[] = [
  {
    version: 1,
    description: 'publications, trust anchors, per-responder access-log chains, server events, responder heartbeats',
    statements: [
      `CREATE TABLE publications (
        version integer PRIMARY KEY,
        imported_at timestamptz NOT NULL,
        sha256 text NOT NULL,
        bytes bytea NOT NULL)`,
      `CREATE TABLE trust_anchors (
        sha256 text PRIMARY KEY,
        der bytea NOT NULL,
        added_at timestamptz NOT NULL)`,
      `CREATE TABLE access_log_segments (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        responder text NOT NULL,
        name text NOT NULL,
        sha256 text NOT NULL,
        prev_sha256 text NOT NULL,
        lines integer NOT NULL,
        closed_at timestamptz NOT NULL,
        UNIQUE (responder, name))`,
      `CREATE TABLE server_events (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL,
        kind text NOT NULL,
        responder text NOT NULL,
        pid integer NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}')`,
      `CREATE TABLE responders (
        name text NOT NULL,
        pid integer NOT NULL,
        host text NOT NULL,
        url text,
        version integer,
        status text NOT NULL,
        problems jsonb NOT NULL DEFAULT '[]',
        started_at timestamptz NOT NULL,
        seen_at timestamptz NOT NULL,
        PRIMARY KEY (name, pid))`,
      'CREATE INDEX responders_seen_at ON responders (seen_at)',
    ],
  },
];

/** The NOTIFY channel: its payload is the new version. */
export const PUBLICATION_CHANNEL = 'rootca_publication';

export interface PgStoreOptions {
  clock?: Clock;
  /** This process's responder name (its access-log chain and events); default the host name. */
  responder?: string;
  /** Largest wait between reconnect attempts of the LISTEN connection (default 5000 ms). */
  maxBackoffMs?: number;
}

const iso = (d: Date) => d.toISOString();

/** The URL with any password replaced by `***` (for logs, messages and `online status`). */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}

/** A PostgreSQL failure as a CaError: STORE_UNAVAILABLE when the server cannot be reached or went away, STORE_FAILED otherwise. */
function storeError(display: string, e: unknown): CaError {
  const code = (e as { code?: string }).code ?? '';
  const message = (e as Error).message || String(e);
  // Connection errors (ECONNREFUSED, ETIMEDOUT, …), class 08 (connection exception) and 57P0x (shutdown).
  if (/^E[A-Z]+$/.test(code) || code.startsWith('08') || code.startsWith('57P') || /timeout|terminated|Connection/i.test(message)) {
    return new CaError('STORE_UNAVAILABLE', `the online store ${display} cannot be reached: ${message}`, { cause: e });
  }
  return new CaError('STORE_FAILED', `the online store ${display} refused the operation: ${message}${code ? ` (SQLSTATE ${code})` : ''}`, { cause: e });
}

export class PgOnlineStore implements ServingStore {
  readonly location: string;
  readonly responder: string;
  private readonly db: Kysely<Database>;
  private readonly clock: Clock;
  private readonly maxBackoffMs: number;
  private closed = false;
  private prunedAt = 0;
  /** Aborted by stopRetrying() (shutdown): retry waits end at once. */
  private readonly retrying = new AbortController();

  private constructor(private readonly url: string, private readonly pool: pg.Pool, options: PgStoreOptions) {
    this.location = redactUrl(url);
    this.responder = options.responder ?? hostname();
    this.clock = options.clock ?? systemClock;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }

  /** Connects and applies pending migrations. STORE_UNAVAILABLE when PostgreSQL cannot be reached. */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgOnlineStore> {
    const pool = new pg.Pool({
      connectionString: url, max: 4, connectionTimeoutMillis: 3000, idleTimeoutMillis: 10_000,
      // A responder must notice an unreachable database, not hang on it (it keeps serving from memory).
      query_timeout: 15_000, keepAlive: true, application_name: 'rootca-online',
    });
    // A connection dropped by a PostgreSQL restart reports an 'error' event: on an idle pooled
    // connection to the pool, on a checked-out one (pg-pool removes its listener meanwhile) to the
    // client itself, where nobody listening would end the process. The query on it fails on its
    // own, the follower marks the store unreachable, and the next query opens a new connection.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const store = new PgOnlineStore(url, pool, options);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end().catch(() => undefined);
      if (e instanceof CaError) throw e;
      throw storeError(store.location, e);
    }
    return store;
  }

  /** Forward-only, once, even with many responders starting together (transaction-scoped advisory lock; DDL is transactional). */
  private async migrate(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext('rootca:online-schema'))`.execute(trx);
      await sql`CREATE TABLE IF NOT EXISTS rootca_online_schema (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL)`.execute(trx);
      const applied = new Set((await trx.selectFrom('rootca_online_schema').select('version').execute()).map((r) => r.version));
      const known = Math.max(...PG_ONLINE_MIGRATIONS.map((m) => m.version));
      const newest = Math.max(0, ...applied);
      if (newest > known) throw new CaError('STORE_TOO_NEW', `the online store ${this.location} has schema version ${newest}, newer than this rootca knows (${known}); use a newer rootca`);
      for (const m of PG_ONLINE_MIGRATIONS) {
        if (applied.has(m.version)) continue;
        for (const statement of m.statements) await sql.raw(statement).execute(trx);
        await trx.insertInto('rootca_online_schema').values({ version: m.version, description: m.description, applied_at: iso(this.clock.now()) }).execute();
      }
    });
  }

  /** The applied schema versions (tests and `online status`). */
  async schemaVersions(): Promise<number[]> {
    return (await this.db.selectFrom('rootca_online_schema').select('version').orderBy('version').execute()).map((r) => r.version);
  }

  async latest(): Promise<{ version: number; bytes: Buffer } | undefined> {
    return this.db.selectFrom('publications').select(['version', 'bytes']).orderBy('version', 'desc').limit(1).executeTakeFirst();
  }

  async latestVersion(): Promise<number | undefined> {
    const row = await this.db.selectFrom('publications').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
    return row?.v ?? undefined;
  }

  async trustAnchors(): Promise<Buffer[]> {
    return (await this.db.selectFrom('trust_anchors').select('der').orderBy('added_at').orderBy('sha256').execute()).map((r) => r.der);
  }

  async lastImport(): Promise<ImportRecord | undefined> {
    const row = await this.db.selectFrom('publications').select(['version', 'imported_at', 'sha256']).orderBy('version', 'desc').limit(1).executeTakeFirst();
    return row && { version: row.version, importedAt: iso(row.imported_at), sha256: row.sha256 };
  }

  async importVerified(bytes: Uint8Array, trustAnchors: Buffer[] = []): Promise<ImportResult> {
    let result: ImportResult;
    try {
      result = await this.db.transaction().execute(async (trx) => {
        // One importer at a time: the version check and the insert see the same newest version.
        await sql`SELECT pg_advisory_xact_lock(hashtext('rootca:import'))`.execute(trx);
        const stored = (await trx.selectFrom('trust_anchors').select('der').orderBy('added_at').orderBy('sha256').execute()).map((r) => r.der);
        const newest = await trx.selectFrom('publications').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
        const now = this.clock.now();
        const publication = verifyForImport(bytes, stored, trustAnchors, newest?.v ?? undefined, now);
        const version = publication.manifest.version;
        for (const a of trustAnchors) {
          await trx.insertInto('trust_anchors').values({ sha256: sha256Hex(a), der: a, added_at: iso(now) }).onConflict((oc) => oc.column('sha256').doNothing()).execute();
        }
        await trx.insertInto('publications').values({ version, imported_at: iso(now), sha256: publication.sha256, bytes: Buffer.from(bytes) }).execute();
        // Delivered to every LISTENing responder when (and only if) this transaction commits.
        await sql`SELECT pg_notify(${PUBLICATION_CHANNEL}, ${String(version)})`.execute(trx);
        return { version, publication };
      });
    } catch (e) {
      await this.recordServerEvent('import-refused', refusalDetail(bytes, e)).catch(() => undefined);
      if (e instanceof CaError) throw e;
      throw storeError(this.location, e);
    }
    await this.recordServerEvent('import', { version: result.version, sha256: sha256Hex(bytes) });
    return result;
  }

  /**
   * Appends a closed segment to this responder's chain (prev chosen under a lock on the chain,
   * so its worker processes never fork it). Idempotent by name (a segment recorded before a
   * crash is not recorded twice). Retried for about a minute while PostgreSQL is away (not
   * once the process is stopping: stopRetrying): the segment file is kept until the record is
   * written, and recovered at the next start if not.
   */
  async recordAccessLogSegment(s: { name: string; sha256: string; lines: number; closedAt: Date }): Promise<AccessLogSegmentRecord> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.recordSegmentOnce(s);
      } catch (e) {
        if (this.closed || this.retrying.signal.aborted || attempt >= 6) throw e;
        await sleep(Math.min(500 * 2 ** attempt, 15_000), undefined, { signal: this.retrying.signal }).catch(() => undefined);
        if (this.retrying.signal.aborted) throw e;
      }
    }
  }

  private async recordSegmentOnce(s: { name: string; sha256: string; lines: number; closedAt: Date }): Promise<AccessLogSegmentRecord> {
    const responder = this.responder;
    return this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`rootca:segments:${responder}`}))`.execute(trx);
      const existing = await trx.selectFrom('access_log_segments').selectAll().where('responder', '=', responder).where('name', '=', s.name).executeTakeFirst();
      if (existing) return { name: existing.name, sha256: existing.sha256, prevSha256: existing.prev_sha256, lines: existing.lines, closedAt: iso(existing.closed_at) };
      const prev = await trx.selectFrom('access_log_segments').select('sha256').where('responder', '=', responder).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const rec: AccessLogSegmentRecord = { name: s.name, sha256: s.sha256, prevSha256: prev?.sha256 ?? '', lines: s.lines, closedAt: iso(s.closedAt) };
      await trx.insertInto('access_log_segments').values({ responder, name: rec.name, sha256: rec.sha256, prev_sha256: rec.prevSha256, lines: rec.lines, closed_at: rec.closedAt }).execute();
      return rec;
    });
  }

  async accessLogSegments(responder: string = this.responder): Promise<AccessLogSegmentRecord[]> {
    const rows = await this.db.selectFrom('access_log_segments').selectAll().where('responder', '=', responder).orderBy('seq').execute();
    return rows.map((r) => ({ name: r.name, sha256: r.sha256, prevSha256: r.prev_sha256, lines: r.lines, closedAt: iso(r.closed_at) }));
  }

  /** The responders that have recorded access-log segments. */
  async accessLogResponders(): Promise<string[]> {
    return (await this.db.selectFrom('access_log_segments').select('responder').distinct().orderBy('responder').execute()).map((r) => r.responder);
  }

  async recordServerEvent(kind: ServerEventKind, detail: Record<string, unknown>): Promise<void> {
    await this.db.insertInto('server_events').values({ at: iso(this.clock.now()), kind, responder: this.responder, pid: process.pid, detail: JSON.stringify(detail) }).execute();
  }

  async serverEvents(): Promise<{ seq: number; at: string; kind: string; pid: number; responder: string; detail: Record<string, unknown> }[]> {
    const rows = await this.db.selectFrom('server_events').selectAll().orderBy('seq').execute();
    return rows.map((r) => ({ seq: Number(r.seq), at: iso(r.at), kind: r.kind, pid: r.pid, responder: r.responder, detail: r.detail }));
  }

  async heartbeat(h: ResponderHeartbeat): Promise<void> {
    const now = this.clock.now();
    if (now.getTime() - this.prunedAt > 3_600_000) {
      // Each start of a responder process adds a row: rows not seen for 30 days go, at most hourly.
      this.prunedAt = now.getTime();
      await this.db.deleteFrom('responders').where('seen_at', '<', iso(new Date(now.getTime() - 30 * 86_400_000)) as unknown as Date).execute();
    }
    const row = {
      name: h.name, pid: h.pid, host: h.host, url: h.url ?? null, version: h.version ?? null, status: h.status,
      problems: JSON.stringify(h.problems), started_at: iso(h.startedAt), seen_at: iso(now),
    };
    await this.db.insertInto('responders').values(row)
      .onConflict((oc) => oc.columns(['name', 'pid']).doUpdateSet({ host: row.host, url: row.url, version: row.version, status: row.status, problems: row.problems, started_at: row.started_at, seen_at: row.seen_at }))
      .execute();
  }

  async responders(withinMs: number): Promise<ResponderSeen[]> {
    const since = iso(new Date(this.clock.now().getTime() - withinMs));
    const rows = await this.db.selectFrom('responders').selectAll().where('seen_at', '>=', since as unknown as Date).orderBy('name').orderBy('pid').execute();
    return rows.map((r) => ({ name: r.name, pid: r.pid, host: r.host, url: r.url, version: r.version, status: r.status, problems: r.problems, startedAt: iso(r.started_at), seenAt: iso(r.seen_at) }));
  }

  /**
   * LISTEN on a connection of its own, reconnecting with backoff (250 ms doubling up to
   * `maxBackoffMs`). After every (re)connect `onConnection(true)` is called: the caller polls,
   * since notices sent while it was away are lost.
   */
  watch(w: { onVersion(version: number): void; onConnection(up: boolean, error?: string): void }): { close(): Promise<void> } {
    let client: pg.Client | undefined;
    let stopped = false;
    let delay = 250;
    let timer: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      if (stopped) return;
      const c = new pg.Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: 3000, application_name: 'rootca-online-listen' });
      client = c;
      let lost = false;
      const onLost = (err?: Error) => {
        if (lost) return;
        lost = true;
        c.end().catch(() => undefined);
        if (stopped) return;
        w.onConnection(false, err?.message || 'the LISTEN connection ended');
        timer = setTimeout(() => void connect(), delay);
        timer.unref();
        delay = Math.min(delay * 2, this.maxBackoffMs);
      };
      c.on('error', onLost);
      c.on('end', () => onLost());
      c.on('notification', (n) => {
        const v = Number(n.payload);
        if (n.channel === PUBLICATION_CHANNEL && Number.isSafeInteger(v)) w.onVersion(v);
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${PUBLICATION_CHANNEL}`);
        if (lost || stopped) return;
        delay = 250;
        w.onConnection(true);
      } catch (e) {
        onLost(e as Error);
      }
    };
    void connect();
    return {
      close: async () => {
        stopped = true;
        clearTimeout(timer);
        await client?.end().catch(() => undefined);
      },
    };
  }

  stopRetrying(): void {
    this.retrying.abort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy().catch(() => undefined);
  }
}
