/** Repository of `ca_policies`: the certificate policy OIDs registered for a CA, by purpose. */
import type { Generated } from 'kysely';
import { all, run, sqliteQueries } from './query.ts';
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
export function insertCaPolicy(
  db: Db,
  caId: number,
  purpose: CaPoliciesTable['purpose'],
  oid: string,
  registeredAt: string,
): void {
  run(db, q.insertInto('ca_policies').values({ ca_id: caId, purpose, oid, registered_at: registeredAt }));
}

/** The OIDs a CA asserts for a purpose, in registration order. */
export function policyOidsOf(db: Db, caId: number, purpose: CaPoliciesTable['purpose']): string[] {
  return all(
    db,
    q.selectFrom('ca_policies').select('oid').where('ca_id', '=', caId).where('purpose', '=', purpose).orderBy('id'),
  ).map((r) => r.oid);
}

/** A registered policy with its CA's name (`rootca policy list`). */
export interface RegisteredPolicyRow {
  ca: string;
  purpose: CaPoliciesTable['purpose'];
  oid: string;
  name: string | null;
  registered_at: string;
  registered_by: string | null;
}

const withCa = sqliteQueries<{ ca_policies: CaPoliciesTable; cas: { id: number; name: string } }>();

/** The policies registered for one CA or all, by CA name, purpose and registration order. */
export function listRegisteredPolicyRows(db: Db, caName?: string): RegisteredPolicyRow[] {
  const rows = withCa
    .selectFrom('ca_policies as p')
    .innerJoin('cas as c', 'c.id', 'p.ca_id')
    .select(['c.name as ca', 'p.purpose', 'p.oid', 'p.name', 'p.registered_at', 'p.registered_by']);
  return all(
    db,
    (caName === undefined ? rows : rows.where('c.name', '=', caName))
      .orderBy('c.name')
      .orderBy('p.purpose')
      .orderBy('p.id'),
  );
}

/** A CP OID registered later (CPS 1.2), by whom, in the transaction with its audit event. */
export function insertRegisteredPolicy(
  db: Db,
  x: {
    caId: number;
    purpose: CaPoliciesTable['purpose'];
    oid: string;
    registeredAt: string;
    name: string;
    registeredBy: string;
  },
): void {
  run(
    db,
    q.insertInto('ca_policies').values({
      ca_id: x.caId,
      purpose: x.purpose,
      oid: x.oid,
      registered_at: x.registeredAt,
      name: x.name,
      registered_by: x.registeredBy,
    }),
  );
}
