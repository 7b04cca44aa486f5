/** Repository of `operators`: the people of the installation and their credentials. */
import type { Generated } from 'kysely';
import { first, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `operators` table (migrations 1 and 3). */
export interface OperatorsTable {
  id: Generated<number>;
  name: string;
  display_name: string;
  credential_kind: 'ed25519' | 'p256';
  signing_public_key: Buffer;
  encryption_public_key: Buffer;
  sealed_private_keys: Buffer;
  status: Generated<'active' | 'removed'>;
  created_at: string;
  removed_at: string | null;
  appointed_at: string | null;
  trained_on: string | null;
  background_checked_on: string | null;
}

const q = sqliteQueries<{ operators: OperatorsTable }>();

/** 'active' or 'removed', or undefined for a name that is no operator (checked before a ceremony asks anyone). */
export function operatorStatus(db: Db, name: string): 'active' | 'removed' | undefined {
  return first(db, q.selectFrom('operators').select('status').where('name', '=', name))?.status;
}
