/**
 * What `rootca online export-records` selects from the PostgreSQL online store (CPS 5.4.1,
 * 5.5.1): the starting point and the rows after it, chosen in SQL so an export never reads
 * the whole store (the SQLite side is in online-sqlite.ts).
 */
import { sql } from 'kysely';
import type { OnlinePgDb } from './online-postgres.ts';

/** The detail of `source`'s newest `records-export` event (its end point is where `--since last` starts). */
export async function pgLastRecordsExportDetail(
  db: OnlinePgDb,
  source: string,
): Promise<Record<string, unknown> | undefined> {
  const row = await db
    .selectFrom('server_events')
    .select('detail')
    .where('kind', '=', 'records-export')
    .where(sql<string>`detail->>'source'`, '=', source)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.detail;
}

const seqOf = (v: string | number | bigint | null | undefined) => (v == null ? 0 : Number(v));

/** The seq of the last event recorded before the first one at or after `at` (0: none before). */
export async function pgServerEventSeqBefore(db: OnlinePgDb, at: string): Promise<number> {
  const firstAt = await db
    .selectFrom('server_events')
    .select('seq')
    .where('at', '>=', at as unknown as Date)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  let before = db.selectFrom('server_events').select((eb) => eb.fn.max('seq').as('seq'));
  if (firstAt) before = before.where('seq', '<', firstAt.seq);
  return seqOf((await before.executeTakeFirst())?.seq);
}

/** The seq of the newest server event (0: none yet). */
export async function pgLastServerEventSeq(db: OnlinePgDb): Promise<number> {
  const row = await db
    .selectFrom('server_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return seqOf(row?.seq);
}

/** Up to `limit` server events after `afterSeq` and up to `toSeq`, in order (an export reads them page by page). */
export async function pgServerEventPage(db: OnlinePgDb, afterSeq: number, toSeq: number, limit: number) {
  return db
    .selectFrom('server_events')
    .selectAll()
    .where('seq', '>', String(afterSeq))
    .where('seq', '<=', String(toSeq))
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/**
 * `responder`'s segments recorded after the one with digest `from.sha256` ('' : all), or from
 * the first closed at or after `from.at`, with the digest of the segment before them ('' :
 * none). Undefined when the chain has no segment with that digest.
 */
export async function pgSegmentsAfter(db: OnlinePgDb, responder: string, from: { sha256: string } | { at: string }) {
  const chain = db.selectFrom('access_log_segments').where('responder', '=', responder);
  let after: string;
  if ('at' in from) {
    const start = await chain
      .select('seq')
      .where('closed_at', '>=', from.at as unknown as Date)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    // A time names the first segment to take; none closed since: start after the last one.
    after = start ? String(BigInt(start.seq) - 1n) : '9223372036854775806';
  } else if (from.sha256 === '') after = '0';
  else {
    const named = await chain.select('seq').where('sha256', '=', from.sha256).limit(1).executeTakeFirst();
    if (!named) return undefined;
    after = named.seq;
  }
  const before = await chain
    .select('sha256')
    .where('seq', '<=', after)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const rows = await chain
    .select(['name', 'sha256', 'prev_sha256', 'lines', 'closed_at'])
    .where('seq', '>', after)
    .orderBy('seq')
    .execute();
  return { afterSha256: before?.sha256 ?? '', rows };
}
