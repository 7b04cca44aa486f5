/** Repository of `ceremonies`: the intent row every key operation writes before it signs. */
import { sql, type Generated } from 'kysely';
import { first, run, sqliteQueries } from './query.ts';
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
  return run(db, q.insertInto('ceremonies').values({
    kind: x.kind, ...(x.fileSha256 !== undefined ? { file_sha256: x.fileSha256 } : {}), status: 'started',
    started_at: x.startedAt, details: JSON.stringify(x.details),
  })).lastInsertRowid;
}

/** Inside the committing transaction: the ceremony is done. */
export function completeCeremony(db: Db, id: number, finishedAt: string): void {
  run(db, q.updateTable('ceremonies').set({ status: 'completed', finished_at: finishedAt }).where('id', '=', id));
}

/** A ceremony still 'started' failed with this error code (a finished one is left as it is). */
export function failStartedCeremony(db: Db, id: number, finishedAt: string, code: string): void {
  run(db, q.updateTable('ceremonies')
    .set({ status: 'failed', finished_at: finishedAt, details: sql<string>`json_set(details, '$.error', ${code})` })
    .where('id', '=', id).where('status', '=', 'started'));
}

/** The newest completed ceremony of this kind that ran this very file for this CA (a rerun after a crash). */
export function findCompletedCeremonyOfFile(db: Db, kind: string, fileSha256: string, caName: string): number | undefined {
  return first(db, q.selectFrom('ceremonies').select('id')
    .where('kind', '=', kind).where('file_sha256', '=', fileSha256).where('status', '=', 'completed')
    .where(sql<string>`json_extract(details, '$.ca')`, '=', caName)
    .orderBy('id', 'desc').limit(1))?.id;
}
