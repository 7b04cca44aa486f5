/**
 * Repository of `meta`: the installation's few named values (the audit chain's head, the
 * digest of the config last seen, when the personnel bootstrap closed).
 */
import { first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `meta` table: one value per key. */
export interface MetaTable {
  meta: { key: string; value: string };
}

const q = sqliteQueries<MetaTable>();

/** The value stored under `key`, or undefined. */
export function metaValue(db: Db, key: string): string | undefined {
  return first(db, q.selectFrom('meta').select('value').where('key', '=', key))?.value;
}

/** Stores `value` under `key`, replacing an earlier one. */
export function setMetaValue(db: Db, key: string, value: string): void {
  run(
    db,
    q
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value })),
  );
}

/** Stores `value` under a key that must not exist yet (the constraint error is the caller's guard). */
export function insertMetaValue(db: Db, key: string, value: string): void {
  run(db, q.insertInto('meta').values({ key, value }));
}
