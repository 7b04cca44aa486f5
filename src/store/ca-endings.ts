/**
 * Repository of `ca_endings` (migration 9): the intent record of a CA's end, a compromise
 * (CPS 5.7.1) or a termination (CPS 5.8), open ('started') until the CA's new status is stored.
 */
import { sql, type Generated } from 'kysely';
import { first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The kinds of end a CA can have. */
export type EndingKind = 'compromise' | 'termination';

/** The `ca_endings` table; at most one row a CA is 'started' (a unique partial index). */
export interface CaEndingsTable {
  id: Generated<number>;
  ca_id: number;
  kind: EndingKind;
  status: 'started' | 'completed';
  started_at: string;
  finished_at: string | null;
  details: Generated<string>;
}

const q = sqliteQueries<{ ca_endings: CaEndingsTable }>();

/** The CA's end that was begun and not completed, if any. */
export function findOpenEnding(
  db: Db,
  caId: number,
): { id: number; kind: EndingKind; started_at: string; details: string } | undefined {
  return first(
    db,
    q
      .selectFrom('ca_endings')
      .select(['id', 'kind', 'started_at', 'details'])
      .where('ca_id', '=', caId)
      .where('status', '=', 'started'),
  );
}

/** Intent: the end began. Returns the row's id. */
export function insertStartedEnding(
  db: Db,
  caId: number,
  kind: EndingKind,
  startedAt: string,
  details: Record<string, unknown>,
): number {
  return run(
    db,
    q.insertInto('ca_endings').values({
      ca_id: caId,
      kind,
      status: 'started',
      started_at: startedAt,
      details: JSON.stringify(details),
    }),
  ).lastInsertRowid;
}

/** Closes an open end, merging `details` into the record; false if it was no longer open. */
export function completeOpenEnding(db: Db, id: number, finishedAt: string, details: Record<string, unknown>): boolean {
  return (
    run(
      db,
      q
        .updateTable('ca_endings')
        .set({
          status: 'completed',
          finished_at: finishedAt,
          details: sql<string>`json_patch(details, ${JSON.stringify(details)})`,
        })
        .where('id', '=', id)
        .where('status', '=', 'started'),
    ).changes === 1
  );
}
