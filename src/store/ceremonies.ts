/** Repository of `ceremonies`: the intent row every key operation writes before it signs. */
import { sql, type Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `ceremonies` table (migration 1). */
export interface CeremoniesTable {
  id: Generated<number>;
  kind: string;
  file_sha256: string | null;
  status: 'started' | 'completed' | 'failed';
  started_at: string;
  finished_at: string | null;
  details: Generated<string>;
}

const q = sqliteQueries<{ ceremonies: CeremoniesTable }>();

/** Intent (DESIGN "write intent before signing"): a 'started' row; returns its id. */
export function insertStartedCeremony(
  db: Db,
  x: { kind: string; fileSha256?: string; startedAt: string; details: Record<string, unknown> },
): number {
  return run(
    db,
    q.insertInto('ceremonies').values({
      kind: x.kind,
      ...(x.fileSha256 !== undefined ? { file_sha256: x.fileSha256 } : {}),
      status: 'started',
      started_at: x.startedAt,
      details: JSON.stringify(x.details),
    }),
  ).lastInsertRowid;
}

/** Inside the committing transaction: the ceremony is done. */
export function completeCeremony(db: Db, id: number, finishedAt: string): void {
  run(db, q.updateTable('ceremonies').set({ status: 'completed', finished_at: finishedAt }).where('id', '=', id));
}

/** A ceremony still 'started' failed with this error code (a finished one is left as it is). */
export function failStartedCeremony(db: Db, id: number, finishedAt: string, code: string): void {
  run(
    db,
    q
      .updateTable('ceremonies')
      .set({ status: 'failed', finished_at: finishedAt, details: sql<string>`json_set(details, '$.error', ${code})` })
      .where('id', '=', id)
      .where('status', '=', 'started'),
  );
}

/** The newest completed ceremony of this kind that ran this very file for this CA (a rerun after a crash). */
export function findCompletedCeremonyOfFile(
  db: Db,
  kind: string,
  fileSha256: string,
  caName: string,
): number | undefined {
  return first(
    db,
    q
      .selectFrom('ceremonies')
      .select('id')
      .where('kind', '=', kind)
      .where('file_sha256', '=', fileSha256)
      .where('status', '=', 'completed')
      .where(sql<string>`json_extract(details, '$.ca')`, '=', caName)
      .orderBy('id', 'desc')
      .limit(1),
  )?.id;
}

/** A ceremony row as the never-half-done protocol reads it (operation/durable-outputs.ts). */
export interface CeremonyRow {
  id: number;
  kind: string;
  status: string;
  started_at: string;
  details: string;
}

const ROW = ['id', 'kind', 'status', 'started_at', 'details'] as const;

/** Merges `patch` into the ceremony's details (JSON merge patch): its owner, planned and staged outputs. */
export function patchCeremonyDetails(db: Db, id: number, patch: Record<string, unknown>): void {
  run(
    db,
    q
      .updateTable('ceremonies')
      .set({ details: sql<string>`json_patch(details, ${JSON.stringify(patch)})` })
      .where('id', '=', id),
  );
}

/** One ceremony, or undefined. */
export function findCeremony(db: Db, id: number): CeremonyRow | undefined {
  return first(db, q.selectFrom('ceremonies').select(ROW).where('id', '=', id));
}

/** Ceremonies a crash may have left: still 'started', or committed with outputs still to write (issue 14). */
export function unfinishedCeremonies(db: Db): CeremonyRow[] {
  return all(
    db,
    q
      .selectFrom('ceremonies')
      .select(ROW)
      .where((eb) =>
        eb.or([eb('status', '=', 'started'), eb(sql<number>`json_extract(details, '$.outputsPending')`, '=', 1)]),
      )
      .orderBy('id'),
  );
}

/** A 'started' ceremony whose process is gone is closed as failed with the reason it was abandoned. */
export function abandonStartedCeremony(db: Db, id: number, finishedAt: string, reason: string): void {
  run(
    db,
    q
      .updateTable('ceremonies')
      .set({
        status: 'failed',
        finished_at: finishedAt,
        details: sql<string>`json_set(details, '$.abandoned', ${reason})`,
      })
      .where('id', '=', id)
      .where('status', '=', 'started'),
  );
}

/** A committed ceremony's outputs are all written. */
export function markCeremonyOutputsWritten(db: Db, id: number): void {
  run(
    db,
    q
      .updateTable('ceremonies')
      .set({ details: sql<string>`json_set(details, '$.outputsPending', json('false'))` })
      .where('id', '=', id),
  );
}

/**
 * A ceremony a crash stopped after part of its work was committed, closed by the later one that
 * finished that work (a resumed CA end, CPS 5.7.1 / 5.8): completed, with what finished it.
 */
export function closeCeremonyFinishedLater(db: Db, id: number, finishedAt: string, by: Record<string, unknown>): void {
  run(
    db,
    q
      .updateTable('ceremonies')
      .set({
        status: 'completed',
        finished_at: finishedAt,
        details: sql<string>`json_patch(details, ${JSON.stringify({ finishedBy: by })})`,
      })
      .where('id', '=', id)
      .where('status', '=', 'started'),
  );
}
