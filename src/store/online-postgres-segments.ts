/**
 * The SQL of the access-log segment chain in the PostgreSQL online store (online-postgres.ts
 * holds the tables and the rest): each responder's closed segments, linked by digest.
 */
import { sql } from 'kysely';
import type { OnlinePgDb } from './online-postgres.ts';

/** A closed access-log segment as the chain records it. */
type SegmentRow = { name: string; sha256: string; prev_sha256: string; lines: number; closed_at: Date };

/**
 * Appends a closed segment to `responder`'s chain, prev chosen under a lock on the chain (its
 * worker processes never fork it); a segment recorded before (by name) is returned as stored.
 */
export async function appendPgSegment(
  db: OnlinePgDb,
  responder: string,
  s: { name: string; sha256: string; lines: number; closedAt: string },
): Promise<SegmentRow> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`rootca:segments:${responder}`}))`.execute(trx);
    const existing = await trx
      .selectFrom('access_log_segments')
      .selectAll()
      .where('responder', '=', responder)
      .where('name', '=', s.name)
      .executeTakeFirst();
    if (existing) return existing;
    const prev = await trx
      .selectFrom('access_log_segments')
      .select('sha256')
      .where('responder', '=', responder)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const row = {
      responder,
      name: s.name,
      sha256: s.sha256,
      prev_sha256: prev?.sha256 ?? '',
      lines: s.lines,
      closed_at: s.closedAt,
    };
    await trx.insertInto('access_log_segments').values(row).execute();
    return { ...row, closed_at: new Date(s.closedAt) };
  });
}

/** One responder's access-log chain in the order recorded. */
export async function pgSegments(db: OnlinePgDb, responder: string): Promise<SegmentRow[]> {
  return db.selectFrom('access_log_segments').selectAll().where('responder', '=', responder).orderBy('seq').execute();
}

/** The responders that have recorded access-log segments. */
export async function pgSegmentResponders(db: OnlinePgDb): Promise<string[]> {
  const rows = await db.selectFrom('access_log_segments').select('responder').distinct().orderBy('responder').execute();
  return rows.map((r) => r.responder);
}
