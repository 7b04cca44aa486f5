/** Repository of `online_records_segments`: access-log segments archived from the online side (CPS 5.5.1). */
import type { Generated } from 'kysely';
import type { Db } from './db.ts';
import { all, each, first, run, sqliteQueries } from './query.ts';

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

/** The tables of this repository, for Kysely (a segment's bytes in chunks: migration 13). */
export interface OnlineRecordsSegmentTables {
  online_records_segments: Omit<OnlineRecordsSegmentRow, 'id'> & { id: Generated<number> };
  online_records_segment_chunks: { segment_id: number; n: number; data: Buffer };
}

const q = sqliteQueries<OnlineRecordsSegmentTables>();

/** Whether `source`'s archive holds a segment with this digest. */
export function hasOnlineRecordsSegment(db: Db, source: string, sha256: string): boolean {
  return !!first(
    db,
    q.selectFrom('online_records_segments').select('id').where('source', '=', source).where('sha256', '=', sha256),
  );
}

/** Archives one segment's record (its bytes in `data`, or empty and in chunks); returns its id. */
export function insertOnlineRecordsSegment(db: Db, row: Omit<OnlineRecordsSegmentRow, 'id'>): number {
  return run(db, q.insertInto('online_records_segments').values(row)).lastInsertRowid;
}

/** Stores chunk `n` of a segment's bytes. */
export function insertOnlineRecordsSegmentChunk(db: Db, segmentId: number, n: number, data: Buffer): void {
  run(db, q.insertInto('online_records_segment_chunks').values({ segment_id: segmentId, n, data }));
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

/** One archived segment's bytes, chunk by chunk (one chunk for a segment kept whole); nothing when not archived. */
export function* onlineRecordsSegmentChunks(db: Db, source: string, sha256: string): IterableIterator<Buffer> {
  const row = first(
    db,
    q
      .selectFrom('online_records_segments')
      .select(['id', 'data'])
      .where('source', '=', source)
      .where('sha256', '=', sha256),
  );
  if (!row) return;
  if (row.data.length > 0) yield row.data;
  const chunks = q.selectFrom('online_records_segment_chunks').select('data').where('segment_id', '=', row.id);
  for (const c of each(db, chunks.orderBy('n'))) yield c.data;
}

/** One archived segment's bytes, whole (for small segments and tests; large ones are read in chunks). */
export function onlineRecordsSegmentData(db: Db, source: string, sha256: string): Buffer | undefined {
  if (!hasOnlineRecordsSegment(db, source, sha256)) return undefined;
  return Buffer.concat([...onlineRecordsSegmentChunks(db, source, sha256)]);
}
