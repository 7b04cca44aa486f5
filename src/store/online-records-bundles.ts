/** Repository of `online_records_bundles`: each online record bundle ingested, with its continuity points. */
import type { Generated } from 'kysely';
import type { Db } from './db.ts';
import { first, run, sqliteQueries } from './query.ts';

/** An ingested bundle; `events` is the JSON of the server events it carried. */
export interface OnlineRecordsBundleRow {
  id: number;
  source: string;
  sha256: string;
  responder: string | null;
  signer_sha256: string;
  created_at: string;
  after_event_seq: number;
  after_segment_sha256: string;
  to_event_seq: number;
  to_segment_sha256: string;
  events: string;
  ingested_at: string;
  ingested_by: string;
  retain_until: string;
}

/** The table of this repository, for Kysely. */
export interface OnlineRecordsBundleTables {
  online_records_bundles: Omit<OnlineRecordsBundleRow, 'id'> & { id: Generated<number> };
}

const q = sqliteQueries<OnlineRecordsBundleTables>();

/** The last bundle ingested from `source` (its `to` point is where the next one must start). */
export function lastOnlineRecordsBundle(db: Db, source: string): OnlineRecordsBundleRow | undefined {
  return first(
    db,
    q.selectFrom('online_records_bundles').selectAll().where('source', '=', source).orderBy('id', 'desc').limit(1),
  );
}

/** The bundle ingested with this file digest, if any (a replay). */
export function onlineRecordsBundleBySha256(db: Db, sha256: string): OnlineRecordsBundleRow | undefined {
  return first(db, q.selectFrom('online_records_bundles').selectAll().where('sha256', '=', sha256));
}

/** Stores an ingested bundle; returns its id. */
export function insertOnlineRecordsBundle(db: Db, row: Omit<OnlineRecordsBundleRow, 'id'>): number {
  return run(db, q.insertInto('online_records_bundles').values(row)).lastInsertRowid;
}
