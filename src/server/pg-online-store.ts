/**
 * The PostgreSQL adapter of the online store (issue 9): one database that many stateless
 * responders on many machines read, and that `rootca online import` writes a new publication
 * version into. Its SQL, pool, migrations and LISTEN are store/online-postgres.ts; here are
 * the verification inside the import transaction, the retries, and the error mapping.
 *
 * - An import verifies the publication inside the transaction that inserts it, under an
 *   advisory lock (two importers cannot both pass the "newer than the current" check), and
 *   sends NOTIFY rootca_publication with the version, delivered on commit.
 * - Nothing is written per OCSP request (CPS 5.5.1 keeps the access log in segment files):
 *   only segment digests (each responder its own chain), server events, and a heartbeat row
 *   per responder process every few seconds.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import { redactUrl } from './store-url.ts';
import {
  addPgTrustAnchor,
  insertPgPublication,
  insertPgServerEvent,
  lastPgImport,
  latestPgPublication,
  latestPgVersion,
  listenForPublications,
  lockImports,
  migrateOnlinePg,
  onlinePgSchemaVersions,
  openOnlinePool,
  pgRespondersSince,
  pgServerEvents,
  pgTrustAnchors,
  prunePgResponders,
  upsertPgHeartbeat,
  type OnlinePgDb,
} from '../store/online-postgres.ts';
import { appendPgSegment, pgSegmentResponders, pgSegments } from '../store/online-postgres-segments.ts';
import {
  pgLastRecordsExportDetail,
  pgLastServerEventSeq,
  pgSegmentsAfter,
  pgServerEventPage,
  pgServerEventSeqBefore,
} from '../store/online-postgres-records.ts';
import { segmentRecord, type OnlineServerEvent } from './online-records-rows.ts';
import {
  heartbeatRow,
  refusalDetail,
  sha256Hex,
  verifyForImport,
  type AccessLogSegmentRecord,
  type ImportRecord,
  type ImportResult,
  type ResponderHeartbeat,
  type ResponderSeen,
  type ServerEventKind,
  type ServingStore,
} from './online-store.ts';

/** How a process opens the PostgreSQL store. */
export interface PgStoreOptions {
  clock?: Clock;
  /** This process's responder name (its access-log chain and events); default the host name. */
  responder?: string;
  /** Largest wait between reconnect attempts of the LISTEN connection (default 5000 ms). */
  maxBackoffMs?: number;
}

const iso = (d: Date) => d.toISOString();

export { redactUrl };

/** A PostgreSQL failure as a CaError: STORE_UNAVAILABLE when the server cannot be reached or went away, STORE_FAILED otherwise. */
function storeError(display: string, e: unknown): CaError {
  const code = (e as { code?: string }).code ?? '';
  const message = (e as Error).message || String(e);
  // Connection errors (ECONNREFUSED, ETIMEDOUT, …), class 08 (connection exception) and 57P0x (shutdown).
  if (
    /^E[A-Z]+$/.test(code) ||
    code.startsWith('08') ||
    code.startsWith('57P') ||
    /timeout|terminated|Connection/i.test(message)
  ) {
    return new CaError('STORE_UNAVAILABLE', `the online store ${display} cannot be reached: ${message}`, { cause: e });
  }
  return new CaError(
    'STORE_FAILED',
    `the online store ${display} refused the operation: ${message}${code ? ` (SQLSTATE ${code})` : ''}`,
    { cause: e },
  );
}

/** The ServingStore on PostgreSQL. */
export class PgOnlineStore implements ServingStore {
  readonly location: string;
  readonly responder: string;
  private readonly clock: Clock;
  private readonly maxBackoffMs: number;
  private closed = false;
  private prunedAt = 0;
  /** Aborted by stopRetrying() (shutdown): retry waits end at once. */
  private readonly retrying = new AbortController();

  private constructor(
    private readonly url: string,
    private readonly db: OnlinePgDb,
    options: PgStoreOptions,
  ) {
    this.location = redactUrl(url);
    this.responder = options.responder ?? hostname();
    this.clock = options.clock ?? systemClock;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
  }

  /** Connects and applies pending migrations. STORE_UNAVAILABLE when PostgreSQL cannot be reached. */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgOnlineStore> {
    const { pool, db } = openOnlinePool(url);
    const store = new PgOnlineStore(url, db, options);
    try {
      await migrateOnlinePg(db, iso(store.clock.now()), store.location);
    } catch (e) {
      await pool.end().catch(() => undefined);
      if (e instanceof CaError) throw e;
      throw storeError(store.location, e);
    }
    return store;
  }

  /** The applied schema versions (tests and `online status`). */
  async schemaVersions(): Promise<number[]> {
    return onlinePgSchemaVersions(this.db);
  }

  async latest(): Promise<{ version: number; bytes: Buffer } | undefined> {
    return latestPgPublication(this.db);
  }

  async latestVersion(): Promise<number | undefined> {
    return latestPgVersion(this.db);
  }

  async trustAnchors(): Promise<Buffer[]> {
    return pgTrustAnchors(this.db);
  }

  async lastImport(): Promise<ImportRecord | undefined> {
    const row = await lastPgImport(this.db);
    return row && { version: row.version, importedAt: iso(row.imported_at), sha256: row.sha256 };
  }

  async importVerified(bytes: Uint8Array, trustAnchors: Buffer[] = []): Promise<ImportResult> {
    let result: ImportResult;
    try {
      result = await this.db.transaction().execute(async (trx) => {
        // One importer at a time: the version check and the insert see the same newest version.
        await lockImports(trx);
        const stored = await pgTrustAnchors(trx);
        const newest = await latestPgVersion(trx);
        const now = this.clock.now();
        const publication = verifyForImport(bytes, stored, trustAnchors, newest, now);
        const version = publication.manifest.version;
        for (const a of trustAnchors) await addPgTrustAnchor(trx, { sha256: sha256Hex(a), der: a, addedAt: iso(now) });
        // NOTIFY is delivered to every LISTENing responder when (and only if) this transaction commits.
        await insertPgPublication(trx, {
          version,
          importedAt: iso(now),
          sha256: publication.sha256,
          bytes: Buffer.from(bytes),
        });
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
  async recordAccessLogSegment(s: {
    name: string;
    sha256: string;
    lines: number;
    closedAt: Date;
  }): Promise<AccessLogSegmentRecord> {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await appendPgSegment(this.db, this.responder, {
          name: s.name,
          sha256: s.sha256,
          lines: s.lines,
          closedAt: iso(s.closedAt),
        });
        return {
          name: r.name,
          sha256: r.sha256,
          prevSha256: r.prev_sha256,
          lines: r.lines,
          closedAt: iso(r.closed_at),
        };
      } catch (e) {
        if (this.closed || this.retrying.signal.aborted || attempt >= 6) throw e;
        await sleep(Math.min(500 * 2 ** attempt, 15_000), undefined, { signal: this.retrying.signal }).catch(
          () => undefined,
        );
        if (this.retrying.signal.aborted) throw e;
      }
    }
  }

  async accessLogSegments(responder: string = this.responder): Promise<AccessLogSegmentRecord[]> {
    return (await pgSegments(this.db, responder)).map((r) => segmentRecord({ ...r, closed_at: iso(r.closed_at) }));
  }

  async accessLogSegmentsAfter(
    from: { sha256: string } | { at: string },
    responder: string = this.responder,
  ): Promise<{ afterSha256: string; segments: AccessLogSegmentRecord[] } | undefined> {
    const r = await pgSegmentsAfter(this.db, responder, from);
    return (
      r && {
        afterSha256: r.afterSha256,
        segments: r.rows.map((x) => segmentRecord({ ...x, closed_at: iso(x.closed_at) })),
      }
    );
  }

  lastRecordsExport(source: string): Promise<Record<string, unknown> | undefined> {
    return pgLastRecordsExportDetail(this.db, source);
  }

  serverEventSeqBefore(at: string): Promise<number> {
    return pgServerEventSeqBefore(this.db, at);
  }

  lastServerEventSeq(): Promise<number> {
    return pgLastServerEventSeq(this.db);
  }

  async serverEventPage(afterSeq: number, toSeq: number, limit: number): Promise<OnlineServerEvent[]> {
    return (await pgServerEventPage(this.db, afterSeq, toSeq, limit)).map(pgEvent);
  }

  /** The responders that have recorded access-log segments. */
  async accessLogResponders(): Promise<string[]> {
    return pgSegmentResponders(this.db);
  }

  async recordServerEvent(kind: ServerEventKind, detail: Record<string, unknown>): Promise<void> {
    await insertPgServerEvent(this.db, {
      at: iso(this.clock.now()),
      kind,
      responder: this.responder,
      pid: process.pid,
      detail: JSON.stringify(detail),
    });
  }

  async serverEvents(): Promise<(OnlineServerEvent & { responder: string })[]> {
    return (await pgServerEvents(this.db)).map(pgEvent);
  }

  async heartbeat(h: ResponderHeartbeat): Promise<void> {
    const now = this.clock.now();
    if (now.getTime() - this.prunedAt > 3_600_000) {
      // Each start of a responder process adds a row: rows not seen for 30 days go, at most hourly.
      this.prunedAt = now.getTime();
      await prunePgResponders(this.db, iso(new Date(now.getTime() - 30 * 86_400_000)));
    }
    await upsertPgHeartbeat(this.db, heartbeatRow(h, now));
  }

  async responders(withinMs: number): Promise<ResponderSeen[]> {
    const rows = await pgRespondersSince(this.db, iso(new Date(this.clock.now().getTime() - withinMs)));
    return rows.map((r) => ({
      name: r.name,
      pid: r.pid,
      host: r.host,
      url: r.url,
      version: r.version,
      status: r.status,
      problems: r.problems,
      startedAt: iso(r.started_at),
      seenAt: iso(r.seen_at),
    }));
  }

  /**
   * LISTEN on a connection of its own, reconnecting with backoff (250 ms doubling up to
   * `maxBackoffMs`). After every (re)connect `onConnection(true)` is called: the caller polls,
   * since notices sent while it was away are lost.
   */
  watch(w: { onVersion(version: number): void; onConnection(up: boolean, error?: string): void }): {
    close(): Promise<void>;
  } {
    return listenForPublications(this.url, this.maxBackoffMs, w);
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

/** A PostgreSQL server event row as the port gives it (with the responder that recorded it). */
function pgEvent(r: Awaited<ReturnType<typeof pgServerEventPage>>[number]): OnlineServerEvent & { responder: string } {
  return { seq: Number(r.seq), at: iso(r.at), kind: r.kind, pid: r.pid, responder: r.responder, detail: r.detail };
}
