/** Repository of `crl_numbers`: the last CRL number used per CA (R-4.2; RFC 5280 5.2.3: they only grow). */
import { sql } from 'kysely';
import { run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

const crlNumberWrites = sqliteQueries<{ crl_numbers: { ca_id: number; last_number: number }; cas: { id: number; name: string } }>();

/** Moves the CA's last CRL number up to `n` (never down): a restore past a dropped set's CRLs. */
export function raiseCrlNumberTo(db: Db, caName: string, n: number): void {
  run(db, crlNumberWrites.updateTable('crl_numbers').set({ last_number: sql<number>`max(last_number, ${n})` })
    .where('ca_id', '=', crlNumberWrites.selectFrom('cas').select('id').where('name', '=', caName)));
}

/** Skips `by` CRL numbers for every CA (after a restore, when CRLs may have been issued since the set). */
export function advanceAllCrlNumbers(db: Db, by: number): void {
  run(db, crlNumberWrites.updateTable('crl_numbers').set({ last_number: sql<number>`last_number + ${by}` }));
}
