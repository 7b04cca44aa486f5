/**
 * Consistent snapshots of the live store (CPS 5.5.4) and what they hold. The snapshot is made
 * with SQLite's online backup API (better-sqlite3 `db.backup`), never by copying the file of a
 * live database, then switched to rollback-journal mode so the set is one self-contained file.
 */
import { existsSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditLog } from '../audit/log.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import {
  countIssuedCertificates,
  countRows,
  crlNumbersByCa,
  lastCertificate,
  schemaVersion,
  useRollbackJournal,
} from '../store/snapshot.ts';
import { fsyncPath } from '../util/fsync.ts';
import type { RecordCounts } from './format.ts';

/** Writes a consistent copy of `db` to `dest` (which must not exist) and makes it durable. */
export async function snapshotDatabase(db: Db, dest: string): Promise<void> {
  if (existsSync(dest)) throw Object.assign(new Error(`${dest} already exists`), { code: 'EEXIST' });
  // Every page in one backup step rather than better-sqlite3's 100 per event-loop turn (a
  // thousand turns at 1 M revocations); the CLI has nothing else to run meanwhile, and one step
  // also keeps a writer in another process from restarting the copy.
  await db.backup(dest, { progress: () => 0x7fffffff });
  const copy = new Database(dest, { fileMustExist: true });
  try {
    useRollbackJournal(copy);
  } finally {
    copy.close();
  }
  for (const extra of ['-wal', '-shm', '-journal']) if (existsSync(dest + extra)) rmSync(dest + extra);
  fsyncPath(dest);
}

/** Opens a snapshot read-only (it is in rollback-journal mode, so nothing is written beside it). */
export function openSnapshot(path: string): Db {
  return new Database(path, { readonly: true, fileMustExist: true });
}

/** PRAGMA integrity_check on a temporary copy of a stored snapshot (the stored file is never opened for writing). */
export function withTemporaryCopy<T>(path: string, fn: (copyPath: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'rootca-archive-'));
  try {
    const copy = join(dir, 'check.db');
    copyFileSync(path, copy);
    return fn(copy);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The records of CPS 5.5.1 in a store, counted. */
export function recordCounts(db: Db): RecordCounts {
  return {
    caCertificates: countRows(db, 'cas'),
    issuedCertificates: countIssuedCertificates(db),
    revocations: countRows(db, 'revocations'),
    crls: countRows(db, 'crls'),
    ocspResponses: countRows(db, 'ocsp_responses'),
    ceremonies: countRows(db, 'ceremonies'),
    transcripts: countRows(db, 'transcripts'),
    auditEvents: countRows(db, 'audit_events'),
    publications: countRows(db, 'publications'),
    timeStampTokens: countRows(db, 'tsa_tokens'),
    backups: countRows(db, 'backups'),
  };
}

export interface SnapshotFacts {
  schemaVersion: number;
  audit: { seq: number; hash: string };
  serials: {
    certificates: number;
    reservations: number;
    last: { ca: string; serial: string; certificateId: number } | null;
  };
  crlNumbers: Record<string, number>;
  records: RecordCounts;
}

/** What the manifest states about a snapshot, read from the snapshot itself. */
export function snapshotFacts(db: Db, clock: Clock): SnapshotFacts {
  const last = lastCertificate(db);
  return {
    schemaVersion: schemaVersion(db),
    audit: new AuditLog(db, clock).head(),
    serials: {
      certificates: countRows(db, 'certificates'),
      reservations: countRows(db, 'serial_reservations'),
      last: last ? { ca: last.name, serial: last.serial_hex, certificateId: last.id } : null,
    },
    crlNumbers: crlNumbersByCa(db),
    records: recordCounts(db),
  };
}
