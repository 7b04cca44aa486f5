/** Repository of `certificates`: every certificate a CA signed, its own included (profile 'root'). */
import { sql } from 'kysely';
import { first, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

const certificateCeremonyReads = sqliteQueries<{ certificates: { id: number; details: string } }>();

/** The ceremony that issued the certificate, as its `details` record it (null for none). */
export function certificateCeremonyId(db: Db, certificateId: number): number | null {
  const row = first(db, certificateCeremonyReads.selectFrom('certificates')
    .select(sql<number | null>`json_extract(details, '$.ceremonyId')`.as('id')).where('id', '=', certificateId));
  return row!.id;
}
