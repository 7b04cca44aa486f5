/**
 * Repository of the audit key (a service key, never a CA key) that signs checkpoints: `audit_keys`
 * and its copies sealed 1-of-N to Log Examiners, `audit_key_envelopes`. One key is active at a
 * time; retired keys stay to verify old checkpoints (triggers refuse any other change).
 */
import { sql } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';
import { hasTable } from './tables.ts';

/** A row of `audit_keys`. */
export interface AuditKeyRow {
  key_id: string;
  kind: 'ed25519' | 'p256' | 'p384';
  public_key_spki: Buffer;
  status: 'active' | 'retired';
  created_at: string;
  authorised_by: string;
  witness: string;
  retired_at: string | null;
}

/** The tables of this repository, for Kysely. */
export interface AuditKeyTables {
  audit_keys: AuditKeyRow;
  audit_key_envelopes: { key_id: string; holder: string; sealed: Buffer };
}

const q = sqliteQueries<AuditKeyTables>();

/** The active audit key, or undefined when none was made yet. */
export function findActiveAuditKey(db: Db): Omit<AuditKeyRow, 'authorised_by' | 'witness' | 'retired_at'> | undefined {
  return first(
    db,
    q
      .selectFrom('audit_keys')
      .select(['key_id', 'kind', 'public_key_spki', 'status', 'created_at'])
      .where('status', '=', 'active'),
  );
}

/** Every audit key ever made (public halves), oldest first; none in a database from before audit keys. */
export function listAuditKeyRows(db: Db): Omit<AuditKeyRow, 'authorised_by' | 'witness'>[] {
  if (!hasTable(db, 'audit_keys')) return [];
  return all(
    db,
    q
      .selectFrom('audit_keys')
      .select(['key_id', 'kind', 'public_key_spki', 'status', 'created_at', 'retired_at'])
      .orderBy('created_at')
      .orderBy(sql`rowid`),
  );
}

/** Retires the active key, if any; returns its id. */
export function retireActiveAuditKey(db: Db, at: string): string | undefined {
  const active = first(db, q.selectFrom('audit_keys').select('key_id').where('status', '=', 'active'))?.key_id;
  if (active)
    run(db, q.updateTable('audit_keys').set({ status: 'retired', retired_at: at }).where('key_id', '=', active));
  return active;
}

/** Stores a new active key with its sealed copies. */
export function insertAuditKey(
  db: Db,
  key: Omit<AuditKeyRow, 'status' | 'retired_at'>,
  envelopes: { holder: string; sealed: Buffer }[],
): void {
  run(db, q.insertInto('audit_keys').values({ ...key, status: 'active' }));
  for (const e of envelopes)
    run(db, q.insertInto('audit_key_envelopes').values({ key_id: key.key_id, holder: e.holder, sealed: e.sealed }));
}

/** The sealed copies of one key, by holder. */
export function auditKeyEnvelopes(db: Db, keyId: string): { holder: string; sealed: Buffer }[] {
  return all(
    db,
    q.selectFrom('audit_key_envelopes').select(['holder', 'sealed']).where('key_id', '=', keyId).orderBy('holder'),
  );
}

/** Who holds a copy of one key, by name. */
export function auditKeyHolders(db: Db, keyId: string): string[] {
  return all(
    db,
    q.selectFrom('audit_key_envelopes').select('holder').where('key_id', '=', keyId).orderBy('holder'),
  ).map((r) => r.holder);
}
