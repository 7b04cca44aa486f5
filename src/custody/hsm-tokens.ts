/**
 * The register of PKCS#11 tokens this installation uses (CPS 6.2.1, 6.2.4, 6.4.1): label,
 * serial, module, and the sealed M-of-N shares of each token's PINs. No PIN is ever stored.
 */
import { CaError } from '../errors.ts';
import type { SealedShare } from '../keys/soft-store.ts';
import type { KeyObjectRef } from '../keys/pkcs11-keys.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator, getOperatorById } from '../people/operators.ts';

export interface TokenRecord {
  id: number;
  label: string;
  serial: string;
  module: string;
  threshold: number;
  status: string;
  /** Holders of the user PIN's shares, in share order. */
  holders: string[];
}

export type PinKind = 'user' | 'so';

/** What a PIN share is bound to: this token (label and serial) and this PIN. */
export const pinContext = (t: { label: string; serial: string }, kind: PinKind): string => `pkcs11 token ${t.label} (serial ${t.serial}) ${kind} PIN`;

interface TokenRow { id: number; label: string; serial: string; module_path: string; threshold: number; status: string }

function toRecord(inst: Installation, r: TokenRow): TokenRecord {
  return { id: r.id, label: r.label, serial: r.serial, module: r.module_path, threshold: r.threshold, status: r.status, holders: pinShares(inst, r.id, 'user').map((s) => s.custodian) };
}

export function findTokenRecord(inst: Installation, label: string): TokenRecord | undefined {
  const r = inst.db.prepare('SELECT * FROM hsm_tokens WHERE label = ?').get(label) as TokenRow | undefined;
  return r && toRecord(inst, r);
}

export function getTokenRecord(inst: Installation, label: string): TokenRecord {
  const t = findTokenRecord(inst, label);
  if (!t) throw new CaError('TOKEN_UNKNOWN', `token "${label}" is not registered in this installation; set it up with \`rootca token init\` first`, { details: { token: label } });
  if (t.status !== 'active') throw new CaError('TOKEN_RETIRED', `token "${label}" was retired`, { details: { token: label } });
  return t;
}

export function listTokenRecords(inst: Installation): TokenRecord[] {
  return (inst.db.prepare('SELECT * FROM hsm_tokens ORDER BY id').all() as TokenRow[]).map((r) => toRecord(inst, r));
}

export function pinShares(inst: Installation, tokenId: number, kind: PinKind): SealedShare[] {
  return (inst.db.prepare('SELECT custodian_id, share_index, sealed FROM hsm_pin_shares WHERE token_id = ? AND pin_kind = ? ORDER BY share_index').all(tokenId, kind) as { custodian_id: number; share_index: number; sealed: Buffer }[])
    .map((s) => ({ custodian: getOperatorById(inst, s.custodian_id).name, index: s.share_index, sealed: s.sealed }));
}

/** Inside the caller's transaction. */
export function storeTokenRecord(inst: Installation, t: { label: string; serial: string; module: string; threshold: number; shares: Record<PinKind, SealedShare[]>; now: string }): number {
  const id = Number(inst.db.prepare('INSERT INTO hsm_tokens (label, serial, module_path, threshold, created_at) VALUES (?,?,?,?,?)').run(t.label, t.serial, t.module, t.threshold, t.now).lastInsertRowid);
  const insert = inst.db.prepare('INSERT INTO hsm_pin_shares (token_id, pin_kind, custodian_id, share_index, sealed) VALUES (?,?,?,?,?)');
  for (const kind of ['user', 'so'] as const) for (const s of t.shares[kind]) insert.run(id, kind, getOperator(inst, s.custodian).id, s.index, s.sealed);
  return id;
}

/** Inside the caller's transaction: the key now has objects in this token. */
export function storeKeyObject(inst: Installation, o: { keyId: string; tokenId: number; object: KeyObjectRef; role: 'primary' | 'backup'; now: string }): void {
  inst.db.prepare('INSERT INTO ca_key_objects (key_id, token_id, object_label, object_id, role, created_at) VALUES (?,?,?,?,?,?)').run(o.keyId, o.tokenId, o.object.label, o.object.id, o.role, o.now);
}
