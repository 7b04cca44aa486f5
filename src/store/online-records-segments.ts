/** Repository of `online_records_segments`: access-log segments archived from the online side (CPS 5.5.1). */
import type { Generated } from 'kysely';
import type { Db } from './db.ts';
import { all, first, run, sqliteQueries } from './query.ts';

/** An archived segment: the gzip file as the online side wrote it, kept until `retain_until`. */
export interface OnlineRecordsSegmentRow {
  id: number;
  bundle_id: number;
  source: string;
  name: string;
  sha256: string;
  prev_sha256: string;
  lines: number;
  closed_at: string;
  data: Buffer;
  retain_until: string;
}

/** The table of this repository, for Kysely. */
export interface OnlineRecordsSegmentTables {
  online_records_segments: Omit<OnlineRecordsSegmentRow, 'id'> & { id: Generated<number> };
}

const q = sqliteQueries<OnlineRecordsSegmentTables>();

/** Whether `source`'s archive holds a segment with this digest. */
export function hasOnlineRecordsSegment(db: Db, source: string, sha256: string): boolean {
  return !!first(
    db,
    q.selectFrom('online_records_segments').select('id').where('source', '=', source).where('sha256', '=', sha256),
  );
}

/** Archives one segment. */
export function insertOnlineRecordsSegment(db: Db, row: Omit<OnlineRecordsSegmentRow, 'id'>): void {
  run(db, q.insertInto('online_records_segments').values(row));
}

/** A source's archived segments in the order ingested (without their bytes). */
export function listOnlineRecordsSegments(db: Db, source: string): Omit<OnlineRecordsSegmentRow, 'data'>[] {
  return all(
    db,
    q
      .selectFrom('online_records_segments')
      .select(['id', 'bundle_id', 'source', 'name', 'sha256', 'prev_sha256', 'lines', 'closed_at', 'retain_until'])
      .where('source', '=', source)
      .orderBy('id'),
  );
}

/** One archived segment's bytes. */
export function onlineRecordsSegmentData(db: Db, source: string, sha256: string): Buffer | undefined {
  return first(
    db,
    q.selectFrom('online_records_segments').select('data').where('source', '=', source).where('sha256', '=', sha256),
  )?.data;
}
