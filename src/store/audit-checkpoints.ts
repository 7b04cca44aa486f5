/**
 * Repository of `audit_checkpoints`: signed heads of the audit trail's Merkle tree. Append-only
 * (triggers refuse the rest); `body` is the canonical JSON that was signed.
 */
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';
import { hasTable } from './tables.ts';

/** A row of `audit_checkpoints`. */
export interface AuditCheckpointRow {
  number: number;
  tree_size: number;
  root_hash: string;
  at: string;
  body: string;
  key_id: string;
  signature: Buffer;
  timestamp_token: Buffer | null;
  examiner: string;
  file: string | null;
}

/** The table of this repository, for Kysely. */
export interface AuditCheckpointTables {
  audit_checkpoints: AuditCheckpointRow;
}

const q = sqliteQueries<AuditCheckpointTables>();

/** Every stored checkpoint by number; none in a database from before checkpoints. */
export function listCheckpointRows(db: Db): AuditCheckpointRow[] {
  if (!hasTable(db, 'audit_checkpoints')) return [];
  return all(db, q.selectFrom('audit_checkpoints').selectAll().orderBy('number'));
}

/** The number the next checkpoint takes. */
export function nextCheckpointNumber(db: Db): number {
  return (
    (first(
      db,
      q.selectFrom('audit_checkpoints').select((eb) => eb.fn.max('number').as('n')),
    )?.n ?? 0) + 1
  );
}

/** Stores one checkpoint. */
export function insertCheckpointRow(db: Db, row: AuditCheckpointRow): void {
  run(db, q.insertInto('audit_checkpoints').values(row));
}
