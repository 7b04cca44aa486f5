/** Repository of `ca_keys`: the CA key pairs, wrapped or in a token, with their custody threshold. */
import type { Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `ca_keys` table (migrations 1 and 7). */
export interface CaKeysTable {
  key_id: string;
  store: string;
  algorithm: string;
  public_key_spki: Buffer;
  wrapped_private_key: Buffer | null;
  threshold: number;
  status: string;
  created_at: string;
  destroyed_at: string | null;
  destroy_reason: string | null;
}

const q = sqliteQueries<{ ca_keys: CaKeysTable }>();

/** What a changeover asks of a key: its algorithm (JSON), M, status and age (CPS 5.6 key life). */
export function findCaKeyFacts(
  db: Db,
  keyId: string,
): { algorithm: string; threshold: number; status: string; created_at: string } | undefined {
  return first(
    db,
    q.selectFrom('ca_keys').select(['algorithm', 'threshold', 'status', 'created_at']).where('key_id', '=', keyId),
  );
}

/** After a re-key the old key signs no certificate again (CPS 5.6); it is kept until destroyed. */
export function retireCaKey(db: Db, keyId: string): void {
  run(db, q.updateTable('ca_keys').set({ status: 'retired' }).where('key_id', '=', keyId));
}

// Custody (CPS 6.2.6, 6.2.8, 6.2.10): a private key is kept only wrapped, each KEK share only
// sealed to its custodian, and a destroyed key keeps its row with neither.

/** `key_shares`: one custodian's sealed share of a soft key's KEK. */
export interface KeySharesTable {
  key_id: string;
  custodian_id: number;
  share_index: number;
  sealed: Buffer;
}

/** The columns of `operators` a custodian list reads (the table is the people repository's). */
interface OperatorNames {
  id: Generated<number>;
  name: string;
}

/** The tables custody reads and writes; a new key's status is the column's default ('active'). */
interface CustodyTables {
  ca_keys: Omit<CaKeysTable, 'status'> & { status: Generated<string> };
  key_shares: KeySharesTable;
  operators: OperatorNames;
}

const custody = sqliteQueries<CustodyTables>();

/** A `ca_keys` row as read back. */
export type CaKeyRow = CaKeysTable;

/** Inside the caller's transaction: records a new CA key (soft: wrapped; pkcs11: no private part). */
export function insertCaKey(
  db: Db,
  k: {
    keyId: string;
    store: string;
    algorithm: string;
    publicKeySpki: Buffer;
    wrappedPrivateKey: Buffer | null;
    threshold: number;
    createdAt: string;
  },
): void {
  run(
    db,
    custody.insertInto('ca_keys').values({
      key_id: k.keyId,
      store: k.store,
      algorithm: k.algorithm,
      public_key_spki: k.publicKeySpki,
      wrapped_private_key: k.wrappedPrivateKey,
      threshold: k.threshold,
      created_at: k.createdAt,
    }),
  );
}

/** The key's row, or undefined when no such key was ever made. */
export function findCaKey(db: Db, keyId: string): CaKeyRow | undefined {
  return first(db, custody.selectFrom('ca_keys').selectAll().where('key_id', '=', keyId));
}

/** Inside the caller's transaction: one custodian's sealed KEK share of a soft key. */
export function insertKeyShare(db: Db, s: { keyId: string; custodianId: number; index: number; sealed: Buffer }): void {
  run(
    db,
    custody.insertInto('key_shares').values({
      key_id: s.keyId,
      custodian_id: s.custodianId,
      share_index: s.index,
      sealed: s.sealed,
    }),
  );
}

/** A soft key's sealed KEK shares in share order. */
export function keySharesOf(db: Db, keyId: string): { custodian_id: number; share_index: number; sealed: Buffer }[] {
  return all(
    db,
    custody
      .selectFrom('key_shares')
      .select(['custodian_id', 'share_index', 'sealed'])
      .where('key_id', '=', keyId)
      .orderBy('share_index'),
  );
}

/** Operator names of a soft key's KEK share holders, in share order (empty for a token key). */
export function keyShareHolders(db: Db, keyId: string): string[] {
  return all(
    db,
    custody
      .selectFrom('key_shares as s')
      .innerJoin('operators as o', 'o.id', 's.custodian_id')
      .select('o.name')
      .where('s.key_id', '=', keyId)
      .orderBy('s.share_index'),
  ).map((r) => r.name);
}

/**
 * CPS 6.2.10: marks an active or retired key destroyed with when and why, dropping its wrapped
 * private key; a key already destroyed is left as it is.
 */
export function markCaKeyDestroyed(db: Db, keyId: string, at: string, reason: string): void {
  run(
    db,
    custody
      .updateTable('ca_keys')
      .set({ status: 'destroyed', wrapped_private_key: null, destroyed_at: at, destroy_reason: reason })
      .where('key_id', '=', keyId)
      .where('status', 'in', ['active', 'retired']),
  );
}

/** Deletes a key's sealed KEK shares (activation data of a destroyed key); how many went. */
export function deleteKeyShares(db: Db, keyId: string): number {
  return run(db, custody.deleteFrom('key_shares').where('key_id', '=', keyId)).changes;
}
