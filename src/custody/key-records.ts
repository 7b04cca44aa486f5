/**
 * Persistence of CA key records (`ca_keys`, `key_shares`, `ca_key_objects`). Soft store: the
 * private key is stored only wrapped under the KEK, each share only sealed to its custodian.
 * pkcs11 store: the key stays in its tokens; the record says which tokens hold it (primary
 * first, then backups) and carries the sealed shares of each token's user PIN.
 */
import { CaError } from '../errors.ts';
import type { KeyObjectRef } from '../keys/pkcs11-keys.ts';
import type { SealedShare, SoftKeyRecord } from '../keys/soft-store.ts';
import type { KeyAlgorithm } from '../pki/algorithms.ts';
import { pinShares } from './hsm-tokens.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator, getOperatorById } from '../people/operators.ts';

/** One token holding a pkcs11 CA key, with what is needed to log in to it. */
export interface Pkcs11Location {
  tokenId: number;
  token: string;
  serial: string;
  module: string;
  role: 'primary' | 'backup';
  object: KeyObjectRef;
  threshold: number;
  /** Sealed shares of the token's user PIN. */
  shares: SealedShare[];
}

/**
 * A CA key of either store. For `pkcs11`, `wrappedPrivateKey` is empty and `threshold` and
 * `shares` are the primary token's user-PIN ones (all tokens of a key have the same custodians).
 */
export interface CaKeyRecord extends SoftKeyRecord {
  store: 'soft' | 'pkcs11';
  /** pkcs11 only: the tokens holding the key, primary first. */
  locations: Pkcs11Location[];
}

export function storeSoftKey(inst: Installation, record: SoftKeyRecord, createdAt: string): void {
  inst.db
    .prepare("INSERT INTO ca_keys (key_id, store, algorithm, public_key_spki, wrapped_private_key, threshold, created_at) VALUES (?, 'soft', ?, ?, ?, ?, ?)")
    .run(record.keyId, JSON.stringify(record.algorithm), record.publicKeySpki, record.wrappedPrivateKey, record.threshold, createdAt);
  const insert = inst.db.prepare('INSERT INTO key_shares (key_id, custodian_id, share_index, sealed) VALUES (?,?,?,?)');
  for (const s of record.shares) insert.run(record.keyId, getOperator(inst, s.custodian).id, s.index, s.sealed);
}

/** Inside the caller's transaction; the key objects are recorded with storeKeyObject. */
export function storePkcs11Key(inst: Installation, r: { keyId: string; algorithm: KeyAlgorithm; publicKeySpki: Buffer; threshold: number }, createdAt: string): void {
  inst.db
    .prepare("INSERT INTO ca_keys (key_id, store, algorithm, public_key_spki, wrapped_private_key, threshold, created_at) VALUES (?, 'pkcs11', ?, ?, NULL, ?, ?)")
    .run(r.keyId, JSON.stringify(r.algorithm), r.publicKeySpki, r.threshold, createdAt);
}

interface KeyRow { key_id: string; store: string; algorithm: string; public_key_spki: Buffer; wrapped_private_key: Buffer | null; threshold: number; status: string }
interface ObjectRow { token_id: number; label: string; serial: string; module_path: string; threshold: number; object_label: string; object_id: Buffer; role: 'primary' | 'backup' }

export function pkcs11Locations(inst: Installation, keyId: string): Pkcs11Location[] {
  return (inst.db.prepare(`SELECT o.token_id, t.label, t.serial, t.module_path, t.threshold, o.object_label, o.object_id, o.role
      FROM ca_key_objects o JOIN hsm_tokens t ON t.id = o.token_id WHERE o.key_id = ? AND o.status = 'present' ORDER BY o.role = 'backup', o.created_at, t.id`).all(keyId) as ObjectRow[])
    .map((o) => ({ tokenId: o.token_id, token: o.label, serial: o.serial, module: o.module_path, role: o.role, object: { label: o.object_label, id: o.object_id }, threshold: o.threshold, shares: pinShares(inst, o.token_id, 'user') }));
}

/**
 * Loads a CA key of either store (the name is historical); KEY_UNKNOWN, KEY_DESTROYED,
 * KEY_RETIRED. A key retired by a re-key loads only with `allowRetired` (status signing, CPS 5.6).
 */
export function loadSoftKey(inst: Installation, keyId: string, opts: { allowRetired?: boolean } = {}): CaKeyRecord {
  const row = inst.db.prepare('SELECT * FROM ca_keys WHERE key_id = ?').get(keyId) as KeyRow | undefined;
  if (!row) throw new CaError('KEY_UNKNOWN', `no key ${keyId} in the key store`);
  const algorithm = JSON.parse(row.algorithm) as KeyAlgorithm;
  if (row.status === 'retired' && !opts.allowRetired) throw new CaError('KEY_RETIRED', `key ${keyId} was retired by a re-key; it signs only CRLs and OCSP responses for what it issued (--retired-key)`);
  if (row.status !== 'active' && !(row.status === 'retired' && opts.allowRetired)) throw new CaError('KEY_DESTROYED', `key ${keyId} was destroyed and cannot sign`);
  if (row.store === 'pkcs11') {
    const locations = pkcs11Locations(inst, keyId);
    if (locations.length === 0) throw new CaError('KEY_DESTROYED', `key ${keyId} is held by no token any more and cannot sign`);
    return { store: 'pkcs11', keyId, algorithm, publicKeySpki: row.public_key_spki, wrappedPrivateKey: Buffer.alloc(0), threshold: locations[0]!.threshold, shares: locations[0]!.shares, locations };
  }
  if (row.store !== 'soft') throw new CaError('KEY_STORE_MISMATCH', `key ${keyId} lives in the ${row.store} key store`);
  if (!row.wrapped_private_key) throw new CaError('KEY_DESTROYED', `key ${keyId} was destroyed and cannot sign`);
  const shares = (inst.db.prepare('SELECT custodian_id, share_index, sealed FROM key_shares WHERE key_id = ? ORDER BY share_index').all(keyId) as { custodian_id: number; share_index: number; sealed: Buffer }[])
    .map((s) => ({ custodian: getOperatorById(inst, s.custodian_id).name, index: s.share_index, sealed: s.sealed }));
  return { store: 'soft', keyId, algorithm, publicKeySpki: row.public_key_spki, wrappedPrivateKey: row.wrapped_private_key, threshold: row.threshold, shares, locations: [] };
}

export const loadCaKey = loadSoftKey;

/** Custodians of a key, in share order: the KEK's share holders, or the user-PIN holders of the key's first token. */
export function keyCustodians(inst: Installation, keyId: string): string[] {
  const soft = (inst.db.prepare('SELECT o.name FROM key_shares s JOIN operators o ON o.id = s.custodian_id WHERE s.key_id = ? ORDER BY s.share_index').all(keyId) as { name: string }[]).map((r) => r.name);
  if (soft.length) return soft;
  const first = pkcs11Locations(inst, keyId)[0];
  return first ? first.shares.map((s) => s.custodian) : [];
}
