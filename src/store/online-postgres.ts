/**
 * The SQL of the PostgreSQL online store (issue 9: one database that many stateless responders
 * on many machines read): its tables, its forward-only migrations, the pool, and one small
 * function per statement, in Kysely like every store (query.ts is the SQLite side of the same
 * style). LISTEN uses a `pg` client of its own, because a pooled connection cannot hold a
 * LISTEN. The adapter that verifies publications, retries and maps errors is
 * server/pg-online-store.ts (PgOnlineStore).
 *
 * Migrations run forward only, in one transaction under a transaction-scoped advisory lock, so
 * several responders starting at once apply each exactly once; a schema newer than this rootca
 * knows is refused (STORE_TOO_NEW).
 */
import { Kysely, PostgresDialect, sql, type ColumnType, type Generated } from 'kysely';
import pg from 'pg';
import { CaError } from '../errors.ts';

/** A column read as `R` and written as `W` (timestamps as ISO strings, JSON as its text). */
type WrittenAs<R, W> = ColumnType<R, W, W>;

/** The PostgreSQL online store's tables (PG_ONLINE_MIGRATIONS). */
export interface OnlinePgTables {
  rootca_online_schema: { version: number; description: string; applied_at: WrittenAs<Date, string> };
  publications: { version: number; imported_at: WrittenAs<Date, string>; sha256: string; bytes: Buffer };
  trust_anchors: { sha256: string; der: Buffer; added_at: WrittenAs<Date, string> };
  access_log_segments: {
    seq: Generated<string>;
    responder: string;
    name: string;
    sha256: string;
    prev_sha256: string;
    lines: number;
    closed_at: WrittenAs<Date, string>;
  };
  server_events: {
    seq: Generated<string>;
    at: WrittenAs<Date, string>;
    kind: string;
    responder: string;
    pid: number;
    detail: WrittenAs<Record<string, unknown>, string>;
  };
  responders: {
    name: string;
    pid: number;
    host: string;
    url: string | null;
    version: number | null;
    status: string;
    problems: WrittenAs<string[], string>;
    started_at: WrittenAs<Date, string>;
    seen_at: WrittenAs<Date, string>;
  };
}

/** One migration: statements run in one transaction. */
export interface PgMigration {
  version: number;
  description: string;
  statements: string[];
}

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

/** Kysely over the online store's tables (a transaction is one as well). */
export type OnlinePgDb = Kysely<OnlinePgTables>;

/** The pool (at most 4 connections, each query bounded) and its Kysely. */
export function openOnlinePool(url: string): { pool: pg.Pool; db: OnlinePgDb } {
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 10_000,
    // A responder must notice an unreachable database, not hang on it (it keeps serving from memory).
    query_timeout: 15_000,
    keepAlive: true,
    application_name: 'rootca-online',
  });
  // A connection dropped by a PostgreSQL restart reports an 'error' event: on an idle pooled
  // connection to the pool, on a checked-out one (pg-pool removes its listener meanwhile) to the
  // client itself, where nobody listening would end the process. The query on it fails on its
  // own, the follower marks the store unreachable, and the next query opens a new connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { pool, db: new Kysely<OnlinePgTables>({ dialect: new PostgresDialect({ pool }) }) };
}

/**
 * Applies pending migrations, once, even with many responders starting together
 * (transaction-scoped advisory lock; DDL is transactional).
 */
export async function migrateOnlinePg(db: OnlinePgDb, appliedAt: string, location: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('rootca:online-schema'))`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS rootca_online_schema (
      version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL)`.execute(trx);
    const applied = new Set(await onlinePgSchemaVersions(trx));
    const known = Math.max(...PG_ONLINE_MIGRATIONS.map((m) => m.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new CaError(
        'STORE_TOO_NEW',
        `the online store ${location} has schema version ${newest}, ` +
          `newer than this rootca knows (${known}); use a newer rootca`,
      );
    }
    for (const m of PG_ONLINE_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      for (const statement of m.statements) await sql.raw(statement).execute(trx);
      await trx
        .insertInto('rootca_online_schema')
        .values({ version: m.version, description: m.description, applied_at: appliedAt })
        .execute();
    }
  });
}

/** The applied schema versions. */
export async function onlinePgSchemaVersions(db: OnlinePgDb): Promise<number[]> {
  const rows = await db.selectFrom('rootca_online_schema').select('version').orderBy('version').execute();
  return rows.map((r) => r.version);
}

/** The newest publication's version and bytes. */
export async function latestPgPublication(db: OnlinePgDb): Promise<{ version: number; bytes: Buffer } | undefined> {
  return db
    .selectFrom('publications')
    .select(['version', 'bytes'])
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The newest version (the server polls it: cheap). */
export async function latestPgVersion(db: OnlinePgDb): Promise<number | undefined> {
  const row = await db
    .selectFrom('publications')
    .select((eb) => eb.fn.max('version').as('v'))
    .executeTakeFirst();
  return row?.v ?? undefined;
}

/** The stored trust anchors (DER), oldest first. */
export async function pgTrustAnchors(db: OnlinePgDb): Promise<Buffer[]> {
  const rows = await db.selectFrom('trust_anchors').select('der').orderBy('added_at').orderBy('sha256').execute();
  return rows.map((r) => r.der);
}

/** The newest import's version, time and digest. */
export async function lastPgImport(
  db: OnlinePgDb,
): Promise<{ version: number; imported_at: Date; sha256: string } | undefined> {
  return db
    .selectFrom('publications')
    .select(['version', 'imported_at', 'sha256'])
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Waits, inside `trx`, until no other importer holds the import lock (the version check and
 * the insert see the same newest version).
 */
export async function lockImports(trx: OnlinePgDb): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('rootca:import'))`.execute(trx);
}

/** Adds a trust anchor unless it is stored already. */
export async function addPgTrustAnchor(
  trx: OnlinePgDb,
  a: { sha256: string; der: Buffer; addedAt: string },
): Promise<void> {
  await trx
    .insertInto('trust_anchors')
    .values({ sha256: a.sha256, der: a.der, added_at: a.addedAt })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
}

/** Stores an imported publication and notifies the LISTENing responders (delivered when, and only if, `trx` commits). */
export async function insertPgPublication(
  trx: OnlinePgDb,
  p: { version: number; importedAt: string; sha256: string; bytes: Buffer },
): Promise<void> {
  await trx
    .insertInto('publications')
    .values({ version: p.version, imported_at: p.importedAt, sha256: p.sha256, bytes: p.bytes })
    .execute();
  await sql`SELECT pg_notify(${PUBLICATION_CHANNEL}, ${String(p.version)})`.execute(trx);
}

/** Records a server event (CPS 5.4.1); `detail` is JSON text. */
export async function insertPgServerEvent(
  db: OnlinePgDb,
  e: { at: string; kind: string; responder: string; pid: number; detail: string },
): Promise<void> {
  await db.insertInto('server_events').values(e).execute();
}

/** Every server event in the order recorded. */
export async function pgServerEvents(db: OnlinePgDb) {
  return db.selectFrom('server_events').selectAll().orderBy('seq').execute();
}

/** Forgets responder rows not seen since `before` (ISO time). */
export async function prunePgResponders(db: OnlinePgDb, before: string): Promise<void> {
  await db
    .deleteFrom('responders')
    .where('seen_at', '<', before as unknown as Date)
    .execute();
}

/** Records a responder process's heartbeat (one row per name and pid, updated in place). */
export async function upsertPgHeartbeat(
  db: OnlinePgDb,
  row: {
    name: string;
    pid: number;
    host: string;
    url: string | null;
    version: number | null;
    status: string;
    problems: string;
    started_at: string;
    seen_at: string;
  },
): Promise<void> {
  await db
    .insertInto('responders')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['name', 'pid']).doUpdateSet({
        host: row.host,
        url: row.url,
        version: row.version,
        status: row.status,
        problems: row.problems,
        started_at: row.started_at,
        seen_at: row.seen_at,
      }),
    )
    .execute();
}

/** The responder processes seen at or after `since` (ISO time). */
export async function pgRespondersSince(db: OnlinePgDb, since: string) {
  return db
    .selectFrom('responders')
    .selectAll()
    .where('seen_at', '>=', since as unknown as Date)
    .orderBy('name')
    .orderBy('pid')
    .execute();
}

/**
 * LISTEN on a connection of its own, reconnecting with backoff (250 ms doubling up to
 * `maxBackoffMs`). After every (re)connect `onConnection(true)` is called: the caller polls,
 * since notices sent while it was away are lost.
 */
export function listenForPublications(
  url: string,
  maxBackoffMs: number,
  w: { onVersion(version: number): void; onConnection(up: boolean, error?: string): void },
): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let stopped = false;
  let delay = 250;
  let timer: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = new pg.Client({
      connectionString: url,
      keepAlive: true,
      connectionTimeoutMillis: 3000,
      application_name: 'rootca-online-listen',
    });
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
      delay = Math.min(delay * 2, maxBackoffMs);
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
