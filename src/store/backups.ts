/**
 * Repository of `backups`, the register of backup sets (CPS 5.5.2: kept, a trigger refuses
 * deleting a row). A row is written 'started' before a set is written (intent) and closed as
 * completed, failed or abandoned; `details` is JSON (the writer's pid, host and locations, and
 * for a set a restore gave up, `droppedByRestore`).
 */
import { sql } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** A row of `backups`. */
export interface BackupRow {
  number: number;
  set_name: string;
  reason: string;
  ceremony_id: number | null;
  status: 'started' | 'completed' | 'failed' | 'abandoned';
  started_at: string;
  finished_at: string | null;
  manifest_sha256: string | null;
  signer: string | null;
  stamped: number | null;
  details: string;
}

/** The table of this repository, for Kysely. */
export interface BackupTables {
  backups: BackupRow;
}

const q = sqliteQueries<BackupTables>();

/** Backups still marked started (written by a process that may have died), oldest first. */
export function startedBackups(
  db: Db,
): Pick<BackupRow, 'number' | 'set_name' | 'status' | 'manifest_sha256' | 'details'>[] {
  return all(
    db,
    q
      .selectFrom('backups')
      .select(['number', 'set_name', 'status', 'manifest_sha256', 'details'])
      .where('status', '=', 'started')
      .orderBy('number'),
  );
}

/** An interrupted backup completed from its verified copy. */
export function markBackupRecovered(db: Db, number: number, at: string, manifestSha256: string): void {
  run(
    db,
    q
      .updateTable('backups')
      .set({
        status: 'completed',
        finished_at: at,
        manifest_sha256: manifestSha256,
        details: sql<string>`json_set(details, '$.recovered', json('true'))`,
      })
      .where('number', '=', number),
  );
}

/** An interrupted backup given up (its incomplete set removed). */
export function markBackupAbandoned(db: Db, number: number, at: string): void {
  run(db, q.updateTable('backups').set({ status: 'abandoned', finished_at: at }).where('number', '=', number));
}

/** The number the next backup takes. */
export function nextBackupNumber(db: Db): number {
  return (
    (first(
      db,
      q.selectFrom('backups').select((eb) => eb.fn.max('number').as('n')),
    )?.n ?? 0) + 1
  );
}

/** The last completed backup with a manifest: the one a new manifest links to. */
export function lastCompletedBackup(db: Db): Pick<BackupRow, 'number' | 'set_name' | 'manifest_sha256'> | undefined {
  return first(
    db,
    q
      .selectFrom('backups')
      .select(['number', 'set_name', 'manifest_sha256'])
      .where('status', '=', 'completed')
      .where('manifest_sha256', 'is not', null)
      .orderBy('number', 'desc')
      .limit(1),
  );
}

/** The intent row of a backup about to be written. */
export function insertStartedBackup(
  db: Db,
  row: Pick<BackupRow, 'number' | 'set_name' | 'reason' | 'ceremony_id' | 'started_at' | 'signer' | 'details'>,
): void {
  run(db, q.insertInto('backups').values({ ...row, status: 'started' }));
}

/** A backup written to every location. */
export function markBackupCompleted(
  db: Db,
  number: number,
  at: string,
  manifestSha256: string,
  stamped: boolean,
): void {
  run(
    db,
    q
      .updateTable('backups')
      .set({ status: 'completed', finished_at: at, manifest_sha256: manifestSha256, stamped: stamped ? 1 : 0 })
      .where('number', '=', number),
  );
}

/** A backup that failed while still started, with the error in its details. */
export function markBackupFailed(db: Db, number: number, at: string, message: string): void {
  run(
    db,
    q
      .updateTable('backups')
      .set({ status: 'failed', finished_at: at, details: sql<string>`json_set(details, '$.error', ${message})` })
      .where('number', '=', number)
      .where('status', '=', 'started'),
  );
}

/** Every completed backup, in order: what the locations must hold. */
export function completedBackups(db: Db): Pick<BackupRow, 'set_name' | 'manifest_sha256' | 'details'>[] {
  return all(
    db,
    q
      .selectFrom('backups')
      .select(['set_name', 'manifest_sha256', 'details'])
      .where('status', '=', 'completed')
      .orderBy('number'),
  );
}

/** Sets a restore gave up with an accepted loss, with the set restored instead. */
export function backupsDroppedByRestore(db: Db): { set_name: string; after: string }[] {
  return all(
    db,
    q
      .selectFrom('backups')
      .select(['set_name', sql<string>`json_extract(details, '$.droppedByRestore.after')`.as('after')])
      .where('status', '=', 'abandoned')
      .where(sql<unknown>`json_extract(details, '$.droppedByRestore')`, 'is not', null)
      .orderBy('number'),
  );
}

/** In a restored store: the restored set completed, and any backup the snapshot caught started abandoned. */
export function settleRestoredRegister(db: Db, setName: string, created: string, manifestSha256: string | null): void {
  run(
    db,
    q
      .updateTable('backups')
      .set({
        status: 'completed',
        finished_at: sql<string>`coalesce(finished_at, ${created})`,
        manifest_sha256: manifestSha256,
      })
      .where('set_name', '=', setName),
  );
  run(db, q.updateTable('backups').set({ status: 'abandoned' }).where('status', '=', 'started'));
}

/** A set a restore gave up, kept in the register as abandoned so its number is never reused (a row already there stays). */
export function insertDroppedBackup(
  db: Db,
  row: Pick<BackupRow, 'number' | 'set_name' | 'reason' | 'started_at' | 'finished_at' | 'details'>,
): void {
  run(
    db,
    q
      .insertInto('backups')
      .values({ ...row, ceremony_id: null, status: 'abandoned' })
      .onConflict((oc) => oc.doNothing()),
  );
}
