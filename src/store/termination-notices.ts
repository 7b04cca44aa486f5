/** Repository of `termination_notices` (migration 9): the notice of a CA's termination, kept for good (CPS 5.8). */
import type { Generated } from 'kysely';
import { first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';
import type { CasTable } from './cas.ts';

/** The `termination_notices` table; one a CA, never deleted (a trigger refuses it). */
export interface TerminationNoticesTable {
  id: Generated<number>;
  ca_id: number;
  termination_date: string;
  announced_at: string;
  announced_by: string;
  details: Generated<string>;
}

const q = sqliteQueries<{ termination_notices: TerminationNoticesTable; cas: CasTable }>();

/** The notice given for the CA of this name, if any. */
export function findTerminationNotice(
  db: Db,
  caName: string,
): { id: number; name: string; termination_date: string; announced_at: string; announced_by: string } | undefined {
  return first(
    db,
    q
      .selectFrom('termination_notices as n')
      .innerJoin('cas as c', 'c.id', 'n.ca_id')
      .select(['n.id', 'c.name', 'n.termination_date', 'n.announced_at', 'n.announced_by'])
      .where('c.name', '=', caName),
  );
}

/** Records a notice (CPS 5.8: three months ahead); returns its id. */
export function insertTerminationNotice(
  db: Db,
  x: {
    caId: number;
    terminationDate: string;
    announcedAt: string;
    announcedBy: string;
    details: Record<string, unknown>;
  },
): number {
  return run(
    db,
    q.insertInto('termination_notices').values({
      ca_id: x.caId,
      termination_date: x.terminationDate,
      announced_at: x.announcedAt,
      announced_by: x.announcedBy,
      details: JSON.stringify(x.details),
    }),
  ).lastInsertRowid;
}
