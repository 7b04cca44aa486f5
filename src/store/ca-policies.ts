/** Repository of `ca_policies`: the certificate policy OIDs registered for a CA, by purpose. */
import type { Generated } from 'kysely';
import { run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `ca_policies` table (migrations 2 and 10). */
export interface CaPoliciesTable {
  id: Generated<number>;
  ca_id: number;
  purpose: 'subordinate-ca' | 'time-stamping';
  oid: string;
  registered_at: string;
  name: string | null;
  registered_by: string | null;
}

const q = sqliteQueries<{ ca_policies: CaPoliciesTable }>();

/** A policy the root ceremony file names for the new CA (CPS 1.2: the CP OIDs it issues under). */
export function insertCaPolicy(db: Db, caId: number, purpose: CaPoliciesTable['purpose'], oid: string, registeredAt: string): void {
  run(db, q.insertInto('ca_policies').values({ ca_id: caId, purpose, oid, registered_at: registeredAt }));
}
