/** Repository of `crls` and `crl_numbers`: every CRL a CA signed, and the last CRL number it took. */
import { sql, type Generated } from 'kysely';
import { each, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `crls` table (migration 4). */
export interface CrlsTable {
  id: Generated<number>;
  ca_id: number;
  crl_number: number;
  this_update: string;
  next_update: string;
  entries: number;
  sha256: string;
  der: Buffer;
  ceremony_id: number | null;
  created_at: string;
}

/** The `crl_numbers` table (migration 4): advanced and committed before a CRL is signed. */
export interface CrlNumbersTable {
  ca_id: number;
  last_number: number;
}

const q = sqliteQueries<{ crls: CrlsTable; crl_numbers: CrlNumbersTable }>();

/** Takes the CA's next CRL number (call in a transaction): a number is never used twice, even after a crash. */
export function takeNextCrlNumber(db: Db, caId: number): number {
  run(
    db,
    q
      .insertInto('crl_numbers')
      .values({ ca_id: caId, last_number: 1 })
      .onConflict((oc) => oc.column('ca_id').doUpdateSet({ last_number: sql<number>`last_number + 1` })),
  );
  return first(db, q.selectFrom('crl_numbers').select('last_number').where('ca_id', '=', caId))!.last_number;
}

/** A signed CRL, stored in the transaction with its audit event. */
export function insertCrl(
  db: Db,
  x: {
    caId: number;
    crlNumber: number;
    thisUpdate: string;
    nextUpdate: string;
    entries: number;
    sha256: string;
    der: Buffer;
    ceremonyId: number;
    createdAt: string;
  },
): void {
  run(
    db,
    q.insertInto('crls').values({
      ca_id: x.caId,
      crl_number: x.crlNumber,
      this_update: x.thisUpdate,
      next_update: x.nextUpdate,
      entries: x.entries,
      sha256: x.sha256,
      der: x.der,
      ceremony_id: x.ceremonyId,
      created_at: x.createdAt,
    }),
  );
}

/** A CA's CRLs, newest first, one at a time (the current one is the newest its current key signed). */
export function crlsNewestFirst(
  db: Db,
  caId: number,
): IterableIterator<{ crl_number: number; der: Buffer; this_update: string; next_update: string }> {
  return each(
    db,
    q
      .selectFrom('crls')
      .select(['crl_number', 'der', 'this_update', 'next_update'])
      .where('ca_id', '=', caId)
      .orderBy('crl_number', 'desc'),
  );
}

/** The CA's newest CRL, or the one numbered `crlNumber`. */
export function findCrl(db: Db, caId: number, crlNumber?: number): { crl_number: number; der: Buffer } | undefined {
  const base = q.selectFrom('crls').select(['crl_number', 'der']).where('ca_id', '=', caId);
  return first(
    db,
    crlNumber === undefined ? base.orderBy('crl_number', 'desc').limit(1) : base.where('crl_number', '=', crlNumber),
  );
}

/** The bytes of a stored CRL by digest, to write a lost output again rather than sign again (issue 14). */
export function crlDerBySha256(db: Db, sha256: string): Buffer | undefined {
  return first(db, q.selectFrom('crls').select('der').where('sha256', '=', sha256).limit(1))?.der;
}

const crlNumberWrites = sqliteQueries<{ crl_numbers: CrlNumbersTable; cas: { id: number; name: string } }>();

/** Moves the CA's last CRL number up to `n` (never down): a restore past a dropped set's CRLs (RFC 5280 5.2.3). */
export function raiseCrlNumberTo(db: Db, caName: string, n: number): void {
  run(
    db,
    crlNumberWrites
      .updateTable('crl_numbers')
      .set({ last_number: sql<number>`max(last_number, ${n})` })
      .where('ca_id', '=', crlNumberWrites.selectFrom('cas').select('id').where('name', '=', caName)),
  );
}

/** Skips `by` CRL numbers for every CA (after a restore, when CRLs may have been issued since the set). */
export function advanceAllCrlNumbers(db: Db, by: number): void {
  run(db, q.updateTable('crl_numbers').set({ last_number: sql<number>`last_number + ${by}` }));
}
