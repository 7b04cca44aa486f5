/**
 * The online store: the publications imported so far, the trust anchors they are verified
 * against, and the chain of closed OCSP access-log segments (CPS 5.5.1: kept 10 years).
 * Two adapters (CONVENTIONS 8): one SQLite file (WAL; the responder processes of one machine
 * read it), here, and PostgreSQL for many responders on many machines (pg-online-store.ts).
 * `OnlineStore` is the synchronous port SQLite offers; `ServingStore` is the port the server
 * and the CLI use, whose answers may be promises (PostgreSQL) or plain values (SQLite).
 *
 * An import verifies the publication (src/publish/verify.ts) against the stored anchors and
 * inserts it in one transaction: a refused import changes nothing.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import { verifyPublication, type VerifiedPublication } from '../publish/verify.ts';
import { openDatabase, type Db } from '../store/db.ts';
import type { Migration } from '../store/migrations.ts';

/** A closed access-log segment as recorded in the chain. */
export interface AccessLogSegmentRecord {
  name: string;
  sha256: string;
  /** SHA-256 of the segment recorded before this one ('' for the first). */
  prevSha256: string;
  lines: number;
  closedAt: string;
}

export interface ImportResult {
  version: number;
  publication: VerifiedPublication;
}

/** The port the server reads publications from (CONVENTIONS 8: one adapter per database). */
export interface OnlineStore {
  /** The newest publication, or undefined before the first import. */
  latest(): { version: number; bytes: Buffer } | undefined;
  /** The newest version only (cheap; the server polls it). */
  latestVersion(): number | undefined;
  /**
   * Verifies and stores a publication; returns its version. `trustAnchors` (DER) are added to
   * the stored anchors when the import succeeds; the first import needs them.
   * Throws CaError PUBLICATION_INVALID / PUBLICATION_STALE / TRUST_ANCHOR_MISSING.
   */
  importPublication(bytes: Uint8Array, trustAnchors?: Buffer[]): number;
  /** The stored trust anchors (DER). */
  trustAnchors(): Buffer[];
  /** Appends a closed segment to the chain (its prev is the last recorded segment, chosen inside the transaction). */
  recordAccessLogSegment(s: { name: string; sha256: string; lines: number; closedAt: Date }): AccessLogSegmentRecord;
  /** The chain in the order it was recorded. */
  accessLogSegments(): AccessLogSegmentRecord[];
  /** CPS 5.4.1: server start/stop and refused imports, kept with the access-log chain. */
  recordServerEvent(kind: 'start' | 'stop' | 'import' | 'import-refused', detail: Record<string, unknown>): void;
  serverEvents(): { seq: number; at: string; kind: string; pid: number; detail: Record<string, unknown> }[];
  close(): void;
}

export type Awaitable<T> = T | Promise<T>;

export type ServerEventKind = 'start' | 'stop' | 'import' | 'import-refused';

/** What a responder process reports about itself every few seconds (never per request). */
export interface ResponderHeartbeat {
  /** The responder's name (`rootca serve --name`, default host:port); its workers share it. */
  name: string;
  pid: number;
  host: string;
  url?: string;
  /** The publication version it serves (undefined: none yet). */
  version?: number;
  /** 'stopped': the last heartbeat of a responder that shut down gracefully. */
  status: 'ready' | 'degraded' | 'unavailable' | 'stopped';
  problems: string[];
  startedAt: Date;
}

/** A responder process as `rootca online status` lists it. */
export interface ResponderSeen {
  name: string;
  pid: number;
  host: string;
  url: string | null;
  version: number | null;
  status: string;
  problems: string[];
  startedAt: string;
  seenAt: string;
}

export interface ImportRecord {
  version: number;
  importedAt: string;
  sha256: string;
}

/**
 * The port the server and the CLI use (CONVENTIONS 8). Every answer may be a promise; the
 * SQLite adapter answers synchronously, which the server uses to switch publications without
 * waiting a turn of the event loop.
 */
export interface ServingStore {
  /** The store as shown in messages (`sqlite:PATH`, or the PostgreSQL URL without password). */
  readonly location: string;
  latest(): Awaitable<{ version: number; bytes: Buffer } | undefined>;
  latestVersion(): Awaitable<number | undefined>;
  trustAnchors(): Awaitable<Buffer[]>;
  /** Verifies and stores a publication as a new version (PUBLICATION_INVALID / PUBLICATION_STALE / TRUST_ANCHOR_MISSING), recording the import or the refusal. */
  importVerified(bytes: Uint8Array, trustAnchors?: Buffer[]): Awaitable<ImportResult>;
  /** The newest import, if any. */
  lastImport(): Awaitable<ImportRecord | undefined>;
  recordAccessLogSegment(s: { name: string; sha256: string; lines: number; closedAt: Date }): Awaitable<AccessLogSegmentRecord>;
  /** The access-log chain (of one responder where each has its own: PostgreSQL). */
  accessLogSegments(responder?: string): Awaitable<AccessLogSegmentRecord[]>;
  recordServerEvent(kind: ServerEventKind, detail: Record<string, unknown>): Awaitable<void>;
  serverEvents(): Awaitable<{ seq: number; at: string; kind: string; pid: number; detail: Record<string, unknown> }[]>;
  /** Records that a responder process is alive and what it serves (an upsert, every few seconds). */
  heartbeat(h: ResponderHeartbeat): Awaitable<void>;
  /** Responder processes seen within the last `withinMs`. */
  responders(withinMs: number): Awaitable<ResponderSeen[]>;
  /**
   * Push notice of new versions (PostgreSQL LISTEN/NOTIFY). Stores without it are polled only.
   * `onConnection(true)` also follows a reconnect, after which notices may have been missed.
   */
  watch?(w: { onVersion(version: number): void; onConnection(up: boolean, error?: string): void }): { close(): Promise<void> };
  /**
   * The process is stopping: a write being retried while the store is away (an access-log
   * segment record) gives up after its current attempt instead of waiting for the store; the
   * segment stays on disk and is recorded at the next start. Stores that never retry lack it.
   */
  stopRetrying?(): void;
  close(): Awaitable<void>;
}

/** Forward-only migrations of the online store (same rules as src/store/migrations.ts). */
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

export const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The check every adapter makes inside its import transaction: the publication verifies
 * against the stored anchors plus the new ones, and its version is newer than `previousVersion`.
 */
export function verifyForImport(bytes: Uint8Array, stored: Buffer[], added: Buffer[], previousVersion: number | undefined, now: Date): VerifiedPublication {
  const anchors = [...stored, ...added.filter((a) => !stored.some((s) => s.equals(a)))];
  if (anchors.length === 0) {
    throw new CaError('TRUST_ANCHOR_MISSING', 'the online store has no trust anchors yet: give the root certificates with --trust FILE on the first import');
  }
  return verifyPublication(bytes, { trustAnchors: anchors, previousVersion, now });
}

/** What a refused import records (CPS 5.4.1). */
export function refusalDetail(bytes: Uint8Array, e: unknown): Record<string, unknown> {
  return { sha256: sha256Hex(bytes), code: (e as CaError).code ?? 'ERROR', message: (e as Error).message };
}

/** The SQLite adapter. */
export class SqliteOnlineStore implements OnlineStore, ServingStore {
  readonly path: string;
  readonly location: string;
  private readonly db: Db;
  private readonly clock: Clock;

  constructor(path: string, options: { clock?: Clock } = {}) {
    this.path = path;
    this.location = `sqlite:${path}`;
    this.clock = options.clock ?? systemClock;
    this.db = openDatabase(path, { create: true, migrations: ONLINE_MIGRATIONS });
  }

  latest(): { version: number; bytes: Buffer } | undefined {
    const row = this.db.prepare('SELECT version, bytes FROM publications ORDER BY version DESC LIMIT 1').get() as { version: number; bytes: Buffer } | undefined;
    return row ? { version: row.version, bytes: row.bytes } : undefined;
  }

  latestVersion(): number | undefined {
    const row = this.db.prepare('SELECT max(version) AS v FROM publications').get() as { v: number | null };
    return row.v ?? undefined;
  }

  trustAnchors(): Buffer[] {
    return (this.db.prepare('SELECT der FROM trust_anchors ORDER BY added_at, sha256').all() as { der: Buffer }[]).map((r) => r.der);
  }

  importPublication(bytes: Uint8Array, trustAnchors: Buffer[] = []): number {
    return this.importVerified(bytes, trustAnchors).version;
  }

  recordServerEvent(kind: 'start' | 'stop' | 'import' | 'import-refused', detail: Record<string, unknown>): void {
    this.db.prepare('INSERT INTO server_events (at, kind, pid, detail) VALUES (?,?,?,?)').run(this.clock.now().toISOString(), kind, process.pid, JSON.stringify(detail));
  }

  serverEvents(): { seq: number; at: string; kind: string; pid: number; detail: Record<string, unknown> }[] {
    return (this.db.prepare('SELECT seq, at, kind, pid, detail FROM server_events ORDER BY seq').all() as { seq: number; at: string; kind: string; pid: number; detail: string }[])
      .map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  /** As importPublication, also returning the verified publication. */
  importVerified(bytes: Uint8Array, trustAnchors: Buffer[] = []): ImportResult {
    try {
      const r = this.importInTransaction(bytes, trustAnchors);
      this.recordServerEvent('import', { version: r.version, sha256: sha256Hex(bytes) });
      return r;
    } catch (e) {
      this.recordServerEvent('import-refused', refusalDetail(bytes, e));
      throw e;
    }
  }

  private importInTransaction(bytes: Uint8Array, trustAnchors: Buffer[]): ImportResult {
    const run = this.db.transaction((): ImportResult => {
      const now = this.clock.now();
      const publication = verifyForImport(bytes, this.trustAnchors(), trustAnchors, this.latestVersion(), now);
      const version = publication.manifest.version;
      const at = now.toISOString();
      const addAnchor = this.db.prepare('INSERT OR IGNORE INTO trust_anchors (sha256, der, added_at) VALUES (?, ?, ?)');
      for (const a of trustAnchors) addAnchor.run(sha256Hex(a), a, at);
      this.db.prepare('INSERT INTO publications (version, imported_at, sha256, bytes) VALUES (?, ?, ?, ?)').run(version, at, publication.sha256, Buffer.from(bytes));
      return { version, publication };
    });
    return run.immediate();
  }

  lastImport(): ImportRecord | undefined {
    const row = this.db.prepare('SELECT version, imported_at, sha256 FROM publications ORDER BY version DESC LIMIT 1').get() as { version: number; imported_at: string; sha256: string } | undefined;
    return row && { version: row.version, importedAt: row.imported_at, sha256: row.sha256 };
  }

  heartbeat(h: ResponderHeartbeat): void {
    this.db.prepare(`INSERT INTO responders (name, pid, host, url, version, status, problems, started_at, seen_at) VALUES (?,?,?,?,?,?,?,?,?)
      ON CONFLICT (name, pid) DO UPDATE SET host = excluded.host, url = excluded.url, version = excluded.version, status = excluded.status, problems = excluded.problems, seen_at = excluded.seen_at`)
      .run(h.name, h.pid, h.host, h.url ?? null, h.version ?? null, h.status, JSON.stringify(h.problems), h.startedAt.toISOString(), this.clock.now().toISOString());
  }

  responders(withinMs: number): ResponderSeen[] {
    const since = new Date(this.clock.now().getTime() - withinMs).toISOString();
    return (this.db.prepare('SELECT name, pid, host, url, version, status, problems, started_at, seen_at FROM responders WHERE seen_at >= ? ORDER BY name, pid').all(since) as {
      name: string; pid: number; host: string; url: string | null; version: number | null; status: string; problems: string; started_at: string; seen_at: string;
    }[]).map((r) => ({ name: r.name, pid: r.pid, host: r.host, url: r.url, version: r.version, status: r.status, problems: JSON.parse(r.problems) as string[], startedAt: r.started_at, seenAt: r.seen_at }));
  }

  recordAccessLogSegment(s: { name: string; sha256: string; lines: number; closedAt: Date }): AccessLogSegmentRecord {
    const run = this.db.transaction((): AccessLogSegmentRecord => {
      const prev = this.db.prepare('SELECT sha256 FROM access_log_segments ORDER BY seq DESC LIMIT 1').get() as { sha256: string } | undefined;
      const rec: AccessLogSegmentRecord = { name: s.name, sha256: s.sha256, prevSha256: prev?.sha256 ?? '', lines: s.lines, closedAt: s.closedAt.toISOString() };
      this.db.prepare('INSERT INTO access_log_segments (name, sha256, prev_sha256, lines, closed_at) VALUES (?, ?, ?, ?, ?)').run(rec.name, rec.sha256, rec.prevSha256, rec.lines, rec.closedAt);
      return rec;
    });
    return run.immediate();
  }

  accessLogSegments(): AccessLogSegmentRecord[] {
    return (this.db.prepare('SELECT name, sha256, prev_sha256, lines, closed_at FROM access_log_segments ORDER BY seq').all() as {
      name: string; sha256: string; prev_sha256: string; lines: number; closed_at: string;
    }[]).map((r) => ({ name: r.name, sha256: r.sha256, prevSha256: r.prev_sha256, lines: r.lines, closedAt: r.closed_at }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens a SQLite store from its `--store` spelling: `sqlite:PATH` (or a bare path).
 * `openServingStore` (store-location.ts) opens either adapter.
 */
export function openOnlineStore(spec: string, options: { clock?: Clock } = {}): SqliteOnlineStore {
  if (/^postgres(ql)?:/.test(spec)) throw new CaError('STORE_UNSUPPORTED', `this opens SQLite stores only (${spec.replace(/\/\/[^@/]*@/, '//***@')}): use openServingStore for PostgreSQL`);
  const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
  if (path.length === 0) throw new CaError('STORE_UNSUPPORTED', 'the store path is empty (sqlite:PATH)');
  mkdirSync(dirname(path), { recursive: true });
  return new SqliteOnlineStore(path, options);
}
