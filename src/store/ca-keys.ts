/** Repository of `ca_keys`: the CA key pairs, wrapped or in a token, with their custody threshold. */
import { first, run, sqliteQueries } from './query.ts';
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
  return first(db, q.selectFrom('ca_keys').select(['algorithm', 'threshold', 'status', 'created_at']).where('key_id', '=', keyId));
}

/** After a re-key the old key signs no certificate again (CPS 5.6); it is kept until destroyed. */
export function retireCaKey(db: Db, keyId: string): void {
  run(db, q.updateTable('ca_keys').set({ status: 'retired' }).where('key_id', '=', keyId));
}
