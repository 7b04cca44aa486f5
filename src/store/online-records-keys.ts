/** Repository of `online_records_keys`: the public keys registered to sign a source's online record bundles. */
import type { Generated } from 'kysely';
import type { Db } from './db.ts';
import { all, first, run, sqliteQueries } from './query.ts';

/** A registered online records key. */
export interface OnlineRecordsKeyRow {
  id: number;
  source: string;
  public_key_sha256: string;
  public_key_spki: Buffer;
  registered_at: string;
  authorised_by: string;
  witness: string;
}

/** The table of this repository, for Kysely. */
export interface OnlineRecordsKeyTables {
  online_records_keys: Omit<OnlineRecordsKeyRow, 'id'> & { id: Generated<number> };
}

const q = sqliteQueries<OnlineRecordsKeyTables>();

/** The key registered for `source` with this SPKI digest, if any. */
export function findOnlineRecordsKey(db: Db, source: string, sha256: string): OnlineRecordsKeyRow | undefined {
  return first(
    db,
    q
      .selectFrom('online_records_keys')
      .selectAll()
      .where('source', '=', source)
      .where('public_key_sha256', '=', sha256),
  );
}

/** Every registered key, oldest first. */
export function listOnlineRecordsKeys(db: Db): OnlineRecordsKeyRow[] {
  return all(db, q.selectFrom('online_records_keys').selectAll().orderBy('id'));
}

/** Registers a key (the caller checked it is not registered yet). */
export function insertOnlineRecordsKey(db: Db, row: Omit<OnlineRecordsKeyRow, 'id'>): void {
  run(db, q.insertInto('online_records_keys').values(row));
}
