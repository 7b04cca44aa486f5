/** Repository of `transcripts`: the ceremony transcripts every participant signed, kept with the ceremony. */
import { first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `transcripts` table (migration 3). */
export interface TranscriptsTable {
  ceremony_id: number;
  body: string;
  sha256: string;
  created_at: string;
}

const q = sqliteQueries<{ transcripts: TranscriptsTable }>();

/** A transcript, in its ceremony's completing transaction. */
export function insertTranscript(
  db: Db,
  x: { ceremonyId: number; body: string; sha256: string; createdAt: string },
): void {
  run(
    db,
    q
      .insertInto('transcripts')
      .values({ ceremony_id: x.ceremonyId, body: x.body, sha256: x.sha256, created_at: x.createdAt }),
  );
}

/** The stored transcript of a ceremony (JSON), if it has one. */
export function findTranscriptBody(db: Db, ceremonyId: number): string | undefined {
  return first(db, q.selectFrom('transcripts').select('body').where('ceremony_id', '=', ceremonyId))?.body;
}

/** A stored transcript by the digest of its body, to write a lost transcript file again (issue 14). */
export function findTranscriptBodyBySha256(db: Db, sha256: string): string | undefined {
  return first(db, q.selectFrom('transcripts').select('body').where('sha256', '=', sha256).limit(1))?.body;
}
