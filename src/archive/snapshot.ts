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
import { fsyncPath } from '../util/fsync.ts';
import type { RecordCounts } from './format.ts';

/** Writes a consistent copy of `db` to `dest` (which must not exist) and makes it durable. */
export async function snapshotDatabase(db: Db, dest: string): Promise<void> {
  if (existsSync(dest)) throw Object.assign(new Error(`${dest} already exists`), { code: 'EEXIST' });
  await db.backup(dest);
  const copy = new Database(dest, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
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

export function integrityCheck(db: Db): string {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((r) => r.integrity_check).join('; ');
}

function count(db: Db, sql: string): number {
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } catch {
    return 0; // a table this schema version does not have yet
  }
}

/** The records of CPS 5.5.1 in a store, counted. */
export function recordCounts(db: Db): RecordCounts {
  return {
    caCertificates: count(db, 'SELECT count(*) AS n FROM cas'),
    issuedCertificates: count(db, 'SELECT count(*) AS n FROM certificates WHERE id NOT IN (SELECT certificate_id FROM cas WHERE certificate_id IS NOT NULL)'),
    revocations: count(db, 'SELECT count(*) AS n FROM revocations'),
    crls: count(db, 'SELECT count(*) AS n FROM crls'),
    ocspResponses: count(db, 'SELECT count(*) AS n FROM ocsp_responses'),
    ceremonies: count(db, 'SELECT count(*) AS n FROM ceremonies'),
    transcripts: count(db, 'SELECT count(*) AS n FROM transcripts'),
    auditEvents: count(db, 'SELECT count(*) AS n FROM audit_events'),
    publications: count(db, 'SELECT count(*) AS n FROM publications'),
    timeStampTokens: count(db, 'SELECT count(*) AS n FROM tsa_tokens'),
    backups: count(db, 'SELECT count(*) AS n FROM backups'),
  };
}

export interface SnapshotFacts {
  schemaVersion: number;
  audit: { seq: number; hash: string };
  serials: { certificates: number; reservations: number; last: { ca: string; serial: string; certificateId: number } | null };
  crlNumbers: Record<string, number>;
  records: RecordCounts;
}

/** What the manifest states about a snapshot, read from the snapshot itself. */
export function snapshotFacts(db: Db, clock: Clock): SnapshotFacts {
  const last = db.prepare('SELECT x.id, x.serial_hex, c.name FROM certificates x JOIN cas c ON c.id = x.issuer_ca_id ORDER BY x.id DESC LIMIT 1').get() as { id: number; serial_hex: string; name: string } | undefined;
  const crlNumbers = Object.fromEntries((db.prepare('SELECT c.name, n.last_number FROM crl_numbers n JOIN cas c ON c.id = n.ca_id ORDER BY c.name').all() as { name: string; last_number: number }[]).map((r) => [r.name, r.last_number]));
  return {
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    audit: new AuditLog(db, clock).head(),
    serials: {
      certificates: count(db, 'SELECT count(*) AS n FROM certificates'),
      reservations: count(db, 'SELECT count(*) AS n FROM serial_reservations'),
      last: last ? { ca: last.name, serial: last.serial_hex, certificateId: last.id } : null,
    },
    crlNumbers,
    records: recordCounts(db),
  };
}
