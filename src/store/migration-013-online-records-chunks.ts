/**
 * Migration 13: an archived access-log segment's bytes in chunks (issue 16 item 4). A segment
 * can be hundreds of megabytes; better-sqlite3 writes a BLOB only whole, so the ingest, which
 * streams a bundle, stores each segment as numbered chunks of 1 MiB and leaves the segment
 * row's `data` empty (segments archived before this migration keep their bytes there).
 */
import type { Migration } from './migration.ts';

export const MIGRATION_013_ONLINE_RECORDS_CHUNKS: Migration = {
  version: 13,
  description: 'online records: archived access-log segments stored in chunks',
  sql: `
    CREATE TABLE online_records_segment_chunks (
      segment_id INTEGER NOT NULL REFERENCES online_records_segments(id),
      n INTEGER NOT NULL,
      data BLOB NOT NULL,
      PRIMARY KEY (segment_id, n)
    );
  `,
};
