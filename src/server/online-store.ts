/**
 * The online store: the publications imported so far, the trust anchors they are verified
 * against, and the chain of closed OCSP access-log segments (CPS 5.5.1: kept 10 years).
 * Two adapters (CONVENTIONS 8): one SQLite file (WAL; the responder processes of one machine
 * read it), here, and PostgreSQL for many responders on many machines (pg-online-store.ts).
 * Their SQL is in store/ (online-sqlite.ts, online-postgres.ts), one Kysely query style for
 * both; the adapters stay here because an import verifies the publication (publish/) inside
 * the transaction that stores it, which store/ may not import.
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
import type { Db } from '../store/db.ts';
import { segmentRecord, type AccessLogSegmentRecord, type OnlineServerEvent } from './online-records-rows.ts';
import {
  accessLogSegmentRows,
  accessLogSegmentsAfter,
  addOnlineTrustAnchor,
  insertAccessLogSegment,
  insertOnlinePublication,
  insertServerEvent,
  lastOnlineImport,
  lastRecordsExportDetail,
  lastServerEventSeq,
  lastSegmentSha256,
  latestOnlinePublication,
  latestOnlineVersion,
  onlineTrustAnchors,
  openOnlineDatabase,
  respondersSeenSince,
  serverEventPage,
  serverEventRows,
  serverEventSeqBefore,
  upsertResponderHeartbeat,
} from '../store/online-sqlite.ts';

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
  recordServerEvent(kind: ServerEventKind, detail: Record<string, unknown>): void;
  serverEvents(): OnlineServerEvent[];
  close(): void;
}

export type Awaitable<T> = T | Promise<T>;
export type { AccessLogSegmentRecord, OnlineServerEvent };

/** `records-export`: `rootca online export-records` wrote a bundle (its end point is where `--since last` starts). */
export type ServerEventKind = 'start' | 'stop' | 'import' | 'import-refused' | 'records-export';

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

/** A heartbeat as its row in `online_responders` (both stores), seen at `seenAt`. */
export function heartbeatRow(h: ResponderHeartbeat, seenAt: Date) {
  return {
    name: h.name,
    pid: h.pid,
    host: h.host,
    url: h.url ?? null,
    version: h.version ?? null,
    status: h.status,
    problems: JSON.stringify(h.problems),
    started_at: h.startedAt.toISOString(),
    seen_at: seenAt.toISOString(),
  };
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
  recordAccessLogSegment(s: {
    name: string;
    sha256: string;
    lines: number;
    closedAt: Date;
  }): Awaitable<AccessLogSegmentRecord>;
  /** The access-log chain (of one responder where each has its own: PostgreSQL). */
  accessLogSegments(responder?: string): Awaitable<AccessLogSegmentRecord[]>;
  recordServerEvent(kind: ServerEventKind, detail: Record<string, unknown>): Awaitable<void>;
  serverEvents(): Awaitable<OnlineServerEvent[]>;
  /** The detail of `source`'s newest `records-export` event (records-collect.ts; selected in SQL). */
  lastRecordsExport(source: string): Awaitable<Record<string, unknown> | undefined>;
  /** The seq of the last server event before the first one at or after `at` (0: none). */
  serverEventSeqBefore(at: string): Awaitable<number>;
  /** The seq of the newest server event (0: none). */
  lastServerEventSeq(): Awaitable<number>;
  /** Up to `limit` server events in (afterSeq, toSeq], in order: an export streams them page by page. */
  serverEventPage(afterSeq: number, toSeq: number, limit: number): Awaitable<OnlineServerEvent[]>;
  /** The segments after a point (a digest, '' for the start) or from a time, with the digest before them; undefined: no such digest. */
  accessLogSegmentsAfter(
    from: { sha256: string } | { at: string },
    responder?: string,
  ): Awaitable<{ afterSha256: string; segments: AccessLogSegmentRecord[] } | undefined>;
  /** Records that a responder process is alive and what it serves (an upsert, every few seconds). */
  heartbeat(h: ResponderHeartbeat): Awaitable<void>;
  /** Responder processes seen within the last `withinMs`. */
  responders(withinMs: number): Awaitable<ResponderSeen[]>;
  /**
   * Push notice of new versions (PostgreSQL LISTEN/NOTIFY). Stores without it are polled only.
   * `onConnection(true)` also follows a reconnect, after which notices may have been missed.
   */
  watch?(w: { onVersion(version: number): void; onConnection(up: boolean, error?: string): void }): {
    close(): Promise<void>;
  };
  /**
   * The process is stopping: a write being retried while the store is away (an access-log
   * segment record) gives up after its current attempt instead of waiting for the store; the
   * segment stays on disk and is recorded at the next start. Stores that never retry lack it.
   */
  stopRetrying?(): void;
  close(): Awaitable<void>;
}

export const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The check every adapter makes inside its import transaction: the publication verifies
 * against the stored anchors plus the new ones, and its version is newer than `previousVersion`.
 */
export function verifyForImport(
  bytes: Uint8Array,
  stored: Buffer[],
  added: Buffer[],
  previousVersion: number | undefined,
  now: Date,
): VerifiedPublication {
  const anchors = [...stored, ...added.filter((a) => !stored.some((s) => s.equals(a)))];
  if (anchors.length === 0) {
    throw new CaError(
      'TRUST_ANCHOR_MISSING',
      'the online store has no trust anchors yet: give the root certificates with --trust FILE on the first import',
    );
  }
  return verifyPublication(bytes, { trustAnchors: anchors, previousVersion, now });
}

/** What a refused import records (CPS 5.4.1). */
export function refusalDetail(bytes: Uint8Array, e: unknown): Record<string, unknown> {
  return { sha256: sha256Hex(bytes), code: (e as CaError).code ?? 'ERROR', message: (e as Error).message };
}

/** A SQLite server event row with its detail parsed. */
const parsedEvent = (r: { seq: number; at: string; kind: string; pid: number; detail: string }): OnlineServerEvent => ({
  ...r,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
});

/** The SQLite adapter (its SQL: store/online-sqlite.ts). */
export class SqliteOnlineStore implements OnlineStore, ServingStore {
  readonly path: string;
  readonly location: string;
  private readonly db: Db;
  private readonly clock: Clock;

  constructor(path: string, options: { clock?: Clock } = {}) {
    this.path = path;
    this.location = `sqlite:${path}`;
    this.clock = options.clock ?? systemClock;
    this.db = openOnlineDatabase(path);
  }

  latest(): { version: number; bytes: Buffer } | undefined {
    const row = latestOnlinePublication(this.db);
    return row ? { version: row.version, bytes: row.bytes } : undefined;
  }

  latestVersion(): number | undefined {
    return latestOnlineVersion(this.db);
  }

  trustAnchors(): Buffer[] {
    return onlineTrustAnchors(this.db);
  }

  importPublication(bytes: Uint8Array, trustAnchors: Buffer[] = []): number {
    return this.importVerified(bytes, trustAnchors).version;
  }

  recordServerEvent(kind: ServerEventKind, detail: Record<string, unknown>): void {
    insertServerEvent(this.db, {
      at: this.clock.now().toISOString(),
      kind,
      pid: process.pid,
      detail: JSON.stringify(detail),
    });
  }

  serverEvents(): OnlineServerEvent[] {
    return serverEventRows(this.db).map(parsedEvent);
  }

  lastRecordsExport(source: string): Record<string, unknown> | undefined {
    const detail = lastRecordsExportDetail(this.db, source);
    return detail === undefined ? undefined : (JSON.parse(detail) as Record<string, unknown>);
  }

  serverEventSeqBefore(at: string): number {
    return serverEventSeqBefore(this.db, at);
  }

  lastServerEventSeq(): number {
    return lastServerEventSeq(this.db);
  }

  serverEventPage(afterSeq: number, toSeq: number, limit: number): OnlineServerEvent[] {
    return serverEventPage(this.db, afterSeq, toSeq, limit).map(parsedEvent);
  }

  accessLogSegmentsAfter(
    from: { sha256: string } | { at: string },
  ): { afterSha256: string; segments: AccessLogSegmentRecord[] } | undefined {
    const r = accessLogSegmentsAfter(this.db, from);
    return r && { afterSha256: r.afterSha256, segments: r.rows.map(segmentRecord) };
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
      for (const a of trustAnchors) addOnlineTrustAnchor(this.db, { sha256: sha256Hex(a), der: a, addedAt: at });
      insertOnlinePublication(this.db, {
        version,
        importedAt: at,
        sha256: publication.sha256,
        bytes: Buffer.from(bytes),
      });
      return { version, publication };
    });
    return run.immediate();
  }

  lastImport(): ImportRecord | undefined {
    const row = lastOnlineImport(this.db);
    return row && { version: row.version, importedAt: row.imported_at, sha256: row.sha256 };
  }

  heartbeat(h: ResponderHeartbeat): void {
    upsertResponderHeartbeat(this.db, heartbeatRow(h, this.clock.now()));
  }

  responders(withinMs: number): ResponderSeen[] {
    const since = new Date(this.clock.now().getTime() - withinMs).toISOString();
    return respondersSeenSince(this.db, since).map((r) => ({
      name: r.name,
      pid: r.pid,
      host: r.host,
      url: r.url,
      version: r.version,
      status: r.status,
      problems: JSON.parse(r.problems) as string[],
      startedAt: r.started_at,
      seenAt: r.seen_at,
    }));
  }

  recordAccessLogSegment(s: { name: string; sha256: string; lines: number; closedAt: Date }): AccessLogSegmentRecord {
    const run = this.db.transaction((): AccessLogSegmentRecord => {
      const rec: AccessLogSegmentRecord = {
        name: s.name,
        sha256: s.sha256,
        prevSha256: lastSegmentSha256(this.db) ?? '',
        lines: s.lines,
        closedAt: s.closedAt.toISOString(),
      };
      insertAccessLogSegment(this.db, rec);
      return rec;
    });
    return run.immediate();
  }

  accessLogSegments(): AccessLogSegmentRecord[] {
    return accessLogSegmentRows(this.db).map(segmentRecord);
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
  if (/^postgres(ql)?:/.test(spec))
    throw new CaError(
      'STORE_UNSUPPORTED',
      `this opens SQLite stores only (${spec.replace(/\/\/[^@/]*@/, '//***@')}): use openServingStore for PostgreSQL`,
    );
  const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
  if (path.length === 0) throw new CaError('STORE_UNSUPPORTED', 'the store path is empty (sqlite:PATH)');
  mkdirSync(dirname(path), { recursive: true });
  return new SqliteOnlineStore(path, options);
}
