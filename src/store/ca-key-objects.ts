/**
 * Repository of `ca_key_objects`: which tokens hold which CA key, primary and backups
 * (CPS 6.2.4), so destruction can remove it from every one of them (CPS 6.2.10).
 */
import { sql, type Generated } from 'kysely';
import type { Db } from './db.ts';
import type { HsmTokensTable } from './hsm-tokens.ts';
import { all, run, sqliteQueries } from './query.ts';

/** `ca_key_objects`: a CA key's private (and public) key objects in one token, by label and CKA_ID. */
export interface CaKeyObjectsTable {
  key_id: string;
  token_id: number;
  object_label: string;
  object_id: Buffer;
  role: 'primary' | 'backup';
  status: Generated<string>;
  created_at: string;
  destroyed_at: string | null;
}

interface Tables {
  ca_key_objects: CaKeyObjectsTable;
  hsm_tokens: HsmTokensTable;
}

const q = sqliteQueries<Tables>();

/** One token still holding a key, with the token's register entry. */
export interface KeyObjectPlace {
  token_id: number;
  label: string;
  serial: string;
  module_path: string;
  threshold: number;
  object_label: string;
  object_id: Buffer;
  role: 'primary' | 'backup';
}

/** Inside the caller's transaction: the key now has objects in this token. */
export function insertKeyObject(
  db: Db,
  o: {
    keyId: string;
    tokenId: number;
    objectLabel: string;
    objectId: Buffer;
    role: 'primary' | 'backup';
    createdAt: string;
  },
): void {
  run(
    db,
    q.insertInto('ca_key_objects').values({
      key_id: o.keyId,
      token_id: o.tokenId,
      object_label: o.objectLabel,
      object_id: o.objectId,
      role: o.role,
      created_at: o.createdAt,
    }),
  );
}

/** The tokens still holding the key: the primary first, then backups in the order they were made. */
export function presentKeyObjects(db: Db, keyId: string): KeyObjectPlace[] {
  return all(
    db,
    q
      .selectFrom('ca_key_objects as o')
      .innerJoin('hsm_tokens as t', 't.id', 'o.token_id')
      .select(['o.token_id', 't.label', 't.serial', 't.module_path', 't.threshold'])
      .select(['o.object_label', 'o.object_id', 'o.role'])
      .where('o.key_id', '=', keyId)
      .where('o.status', '=', 'present')
      .orderBy(sql`o.role = 'backup'`)
      .orderBy('o.created_at')
      .orderBy('t.id'),
  );
}

/** CPS 6.2.10: the key's objects in this token were destroyed at `at`. */
export function markKeyObjectDestroyed(db: Db, keyId: string, tokenId: number, at: string): void {
  run(
    db,
    q
      .updateTable('ca_key_objects')
      .set({ status: 'destroyed', destroyed_at: at })
      .where('key_id', '=', keyId)
      .where('token_id', '=', tokenId),
  );
}
