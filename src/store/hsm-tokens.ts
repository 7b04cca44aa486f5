/**
 * Repository of the PKCS#11 token register (`hsm_tokens`) and the sealed M-of-N shares of each
 * token's PINs (`hsm_pin_shares`), CPS 6.2.1, 6.4.1, 6.4.2: no PIN is ever stored.
 */
import type { Generated } from 'kysely';
import type { Db } from './db.ts';
import { all, first, run, sqliteQueries } from './query.ts';

/** `hsm_tokens`: a token (HSM partition) this installation uses. */
export interface HsmTokensTable {
  id: Generated<number>;
  label: string;
  serial: string;
  module_path: string;
  threshold: number;
  status: Generated<string>;
  created_at: string;
}

/** `hsm_pin_shares`: one custodian's sealed share of a token's user ('user') or SO ('so') PIN. */
export interface HsmPinSharesTable {
  token_id: number;
  pin_kind: string;
  custodian_id: number;
  share_index: number;
  sealed: Buffer;
}

interface Tables {
  hsm_tokens: HsmTokensTable;
  hsm_pin_shares: HsmPinSharesTable;
}

const q = sqliteQueries<Tables>();

/** An `hsm_tokens` row as read back. */
export interface HsmTokenRow {
  id: number;
  label: string;
  serial: string;
  module_path: string;
  threshold: number;
  status: string;
  created_at: string;
}

/** The registered token with this label, or undefined. */
export function findHsmTokenByLabel(db: Db, label: string): HsmTokenRow | undefined {
  return first(db, q.selectFrom('hsm_tokens').selectAll().where('label', '=', label));
}

/** Every registered token, in the order they were set up. */
export function listHsmTokens(db: Db): HsmTokenRow[] {
  return all(db, q.selectFrom('hsm_tokens').selectAll().orderBy('id'));
}

/** Inside the caller's transaction: registers a token; returns its id. */
export function insertHsmToken(
  db: Db,
  t: { label: string; serial: string; module: string; threshold: number; createdAt: string },
): number {
  return run(
    db,
    q.insertInto('hsm_tokens').values({
      label: t.label,
      serial: t.serial,
      module_path: t.module,
      threshold: t.threshold,
      created_at: t.createdAt,
    }),
  ).lastInsertRowid;
}

/** The sealed shares of one of a token's PINs, in share order. */
export function hsmPinSharesOf(
  db: Db,
  tokenId: number,
  kind: string,
): { custodian_id: number; share_index: number; sealed: Buffer }[] {
  return all(
    db,
    q
      .selectFrom('hsm_pin_shares')
      .select(['custodian_id', 'share_index', 'sealed'])
      .where('token_id', '=', tokenId)
      .where('pin_kind', '=', kind)
      .orderBy('share_index'),
  );
}

/** Inside the caller's transaction: one custodian's sealed share of a token PIN. */
export function insertHsmPinShare(
  db: Db,
  s: { tokenId: number; kind: string; custodianId: number; index: number; sealed: Buffer },
): void {
  run(
    db,
    q.insertInto('hsm_pin_shares').values({
      token_id: s.tokenId,
      pin_kind: s.kind,
      custodian_id: s.custodianId,
      share_index: s.index,
      sealed: s.sealed,
    }),
  );
}
