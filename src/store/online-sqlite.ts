/**
 * The SQL of the SQLite online store (one file, WAL; the responder processes of one machine
 * read it): its tables, its forward-only migrations, and one small function per statement, in
 * the Kysely style of query.ts (synchronous on better-sqlite3). The adapter that verifies
 * publications and keeps the transactions is server/online-store.ts (SqliteOnlineStore).
 */
import { sql, type Generated } from 'kysely';
import { openDatabase, type Db } from './db.ts';
import type { Migration } from './migrations.ts';
import { all, first, run, sqliteQueries } from './query.ts';

/** The online store's tables (ONLINE_MIGRATIONS). */
export interface OnlineSqliteTables {
  publications: { version: number; imported_at: string; sha256: string; bytes: Buffer };
  trust_anchors: { sha256: string; der: Buffer; added_at: string };
  access_log_segments: {
    seq: Generated<number>;
    name: string;
    sha256: string;
    prev_sha256: string;
    lines: number;
    closed_at: string;
  };
  server_events: { seq: Generated<number>; at: string; kind: string; pid: number; detail: string };
  responders: {
    name: string;
    pid: number;
    host: string;
    url: string | null;
    version: number | null;
    status: string;
    problems: string;
    started_at: string;
    seen_at: string;
  };
}

/** Forward-only migrations of the online store (same rules as migrations.ts). */
export const ONLINE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'publications, trust anchors, OCSP access-log segment chain',
    sql: `
      CREATE TABLE publications (
        version INTEGER PRIMARY KEY,
        imported_at TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes BLOB NOT NULL
      );
      CREATE TABLE trust_anchors (
        sha256 TEXT PRIMARY KEY,
        der BLOB NOT NULL,
        added_at TEXT NOT NULL
      );
      CREATE TABLE access_log_segments (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        sha256 TEXT NOT NULL,
        prev_sha256 TEXT NOT NULL,
        lines INTEGER NOT NULL,
        closed_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'server events: start, stop, imports and refused imports (CPS 5.4.1)',
    sql: `
      CREATE TABLE server_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        pid INTEGER NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
      );
    `,
  },
  {
    version: 3,
    description: 'responder heartbeats for `rootca online status`',
    sql: `
      CREATE TABLE responders (
        name TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        url TEXT,
        version INTEGER,
        status TEXT NOT NULL,
        problems TEXT NOT NULL DEFAULT '[]',
        started_at TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (name, pid)
      );
    `,
  },
];

const q = sqliteQueries<OnlineSqliteTables>();

/** Opens (creating if missing) and migrates the SQLite online store at `path`. */
export function openOnlineDatabase(path: string): Db {
  return openDatabase(path, { create: true, migrations: ONLINE_MIGRATIONS });
}

/** The newest publication's version and bytes. */
export function latestOnlinePublication(db: Db): { version: number; bytes: Buffer } | undefined {
  return first(db, q.selectFrom('publications').select(['version', 'bytes']).orderBy('version', 'desc').limit(1));
}

/** The newest version (the server polls it: cheap). */
export function latestOnlineVersion(db: Db): number | undefined {
  return (
    first(
      db,
      q.selectFrom('publications').select((eb) => eb.fn.max('version').as('v')),
    )?.v ?? undefined
  );
}

/** The newest import's version, time and digest. */
export function lastOnlineImport(db: Db): { version: number; imported_at: string; sha256: string } | undefined {
  return first(
    db,
    q.selectFrom('publications').select(['version', 'imported_at', 'sha256']).orderBy('version', 'desc').limit(1),
  );
}

/** Stores an imported publication (the caller verified it, in the same transaction). */
export function insertOnlinePublication(
  db: Db,
  p: { version: number; importedAt: string; sha256: string; bytes: Buffer },
): void {
  run(
    db,
    q
      .insertInto('publications')
      .values({ version: p.version, imported_at: p.importedAt, sha256: p.sha256, bytes: p.bytes }),
  );
}

/** The stored trust anchors (DER), oldest first. */
export function onlineTrustAnchors(db: Db): Buffer[] {
  return all(db, q.selectFrom('trust_anchors').select('der').orderBy('added_at').orderBy('sha256')).map((r) => r.der);
}

/** Adds a trust anchor unless it is stored already. */
export function addOnlineTrustAnchor(db: Db, a: { sha256: string; der: Buffer; addedAt: string }): void {
  run(db, q.insertInto('trust_anchors').orIgnore().values({ sha256: a.sha256, der: a.der, added_at: a.addedAt }));
}

/** Records a server event (CPS 5.4.1); `detail` is JSON. */
export function insertServerEvent(db: Db, e: { at: string; kind: string; pid: number; detail: string }): void {
  run(db, q.insertInto('server_events').values(e));
}

/** Every server event in the order recorded. */
export function serverEventRows(db: Db): { seq: number; at: string; kind: string; pid: number; detail: string }[] {
  return all(db, q.selectFrom('server_events').select(['seq', 'at', 'kind', 'pid', 'detail']).orderBy('seq'));
}

/** Records a responder process's heartbeat (one row per name and pid, updated in place). */
export function upsertResponderHeartbeat(db: Db, r: OnlineSqliteTables['responders']): void {
  run(
    db,
    q
      .insertInto('responders')
      .values(r)
      .onConflict((oc) =>
        oc.columns(['name', 'pid']).doUpdateSet((eb) => ({
          host: eb.ref('excluded.host'),
          url: eb.ref('excluded.url'),
          version: eb.ref('excluded.version'),
          status: eb.ref('excluded.status'),
          problems: eb.ref('excluded.problems'),
          seen_at: eb.ref('excluded.seen_at'),
        })),
      ),
  );
}

/** The responder processes seen at or after `since` (ISO time). */
export function respondersSeenSince(db: Db, since: string): OnlineSqliteTables['responders'][] {
  return all(
    db,
    q
      .selectFrom('responders')
      .select(['name', 'pid', 'host', 'url', 'version', 'status', 'problems', 'started_at', 'seen_at'])
      .where('seen_at', '>=', since)
      .orderBy('name')
      .orderBy('pid'),
  );
}

/** The digest of the last recorded access-log segment (the next one's prev). */
export function lastSegmentSha256(db: Db): string | undefined {
  return first(db, q.selectFrom('access_log_segments').select('sha256').orderBy('seq', 'desc').limit(1))?.sha256;
}

/** Appends a closed access-log segment to the chain. */
export function insertAccessLogSegment(
  db: Db,
  s: { name: string; sha256: string; prevSha256: string; lines: number; closedAt: string },
): void {
  run(
    db,
    q.insertInto('access_log_segments').values({
      name: s.name,
      sha256: s.sha256,
      prev_sha256: s.prevSha256,
      lines: s.lines,
      closed_at: s.closedAt,
    }),
  );
}

/** The access-log chain in the order recorded. */
export function accessLogSegmentRows(
  db: Db,
): { name: string; sha256: string; prev_sha256: string; lines: number; closed_at: string }[] {
  return all(
    db,
    q.selectFrom('access_log_segments').select(['name', 'sha256', 'prev_sha256', 'lines', 'closed_at']).orderBy('seq'),
  );
}

/*
 * What `rootca online export-records` selects (CPS 5.4.1, 5.5.1): the starting point and the
 * rows after it are chosen here, in SQL, so an export never reads the whole store.
 */

/** The end point of `source`'s last export, from its newest `records-export` event (its detail, JSON). */
export function lastRecordsExportDetail(db: Db, source: string): string | undefined {
  return first(
    db,
    q
      .selectFrom('server_events')
      .select('detail')
      .where('kind', '=', 'records-export')
      .where(sql<string>`json_extract(detail, '$.source')`, '=', source)
      .orderBy('seq', 'desc')
      .limit(1),
  )?.detail;
}

/** The seq of the last event recorded before the first one at or after `at` (0: none before). */
export function serverEventSeqBefore(db: Db, at: string): number {
  const firstAt = first(db, q.selectFrom('server_events').select('seq').where('at', '>=', at).orderBy('seq').limit(1));
  const before = q.selectFrom('server_events').select((eb) => eb.fn.max('seq').as('seq'));
  return first(db, firstAt ? before.where('seq', '<', firstAt.seq) : before)?.seq ?? 0;
}

/** The seq of the newest server event (0: none yet). */
export function lastServerEventSeq(db: Db): number {
  return (
    first(
      db,
      q.selectFrom('server_events').select((eb) => eb.fn.max('seq').as('seq')),
    )?.seq ?? 0
  );
}

/** Up to `limit` server events after `afterSeq` and up to `toSeq`, in order (an export reads them page by page). */
export function serverEventPage(
  db: Db,
  afterSeq: number,
  toSeq: number,
  limit: number,
): { seq: number; at: string; kind: string; pid: number; detail: string }[] {
  return all(
    db,
    q
      .selectFrom('server_events')
      .select(['seq', 'at', 'kind', 'pid', 'detail'])
      .where('seq', '>', afterSeq)
      .where('seq', '<=', toSeq)
      .orderBy('seq')
      .limit(limit),
  );
}

/**
 * The segments recorded after the one with digest `from.sha256` ('' : all), or from the first
 * closed at or after `from.at`, with the digest of the segment before them ('' : none).
 * Undefined when no segment has that digest.
 */
export function accessLogSegmentsAfter(
  db: Db,
  from: { sha256: string } | { at: string },
): { afterSha256: string; rows: ReturnType<typeof accessLogSegmentRows> } | undefined {
  const columns = ['name', 'sha256', 'prev_sha256', 'lines', 'closed_at'] as const;
  const startSeq =
    'at' in from
      ? first(db, q.selectFrom('access_log_segments').select('seq').where('closed_at', '>=', from.at).orderBy('seq'))
          ?.seq
      : from.sha256 === ''
        ? 0
        : first(db, q.selectFrom('access_log_segments').select('seq').where('sha256', '=', from.sha256))?.seq;
  if (startSeq === undefined && !('at' in from)) return undefined;
  // A point names the last segment taken (start after it); a time names the first one to take.
  const after = 'at' in from ? (startSeq ?? Number.MAX_SAFE_INTEGER) - 1 : startSeq!;
  const before = first(
    db,
    q.selectFrom('access_log_segments').select('sha256').where('seq', '<=', after).orderBy('seq', 'desc').limit(1),
  );
  const rows = all(db, q.selectFrom('access_log_segments').select(columns).where('seq', '>', after).orderBy('seq'));
  return { afterSha256: before?.sha256 ?? '', rows };
}
