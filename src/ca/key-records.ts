/**
 * Persistence of software key-store records (`ca_keys` + `key_shares`). The private key is
 * stored only wrapped under the KEK; each share only sealed to its custodian.
 */
import { CaError } from '../errors.ts';
import type { SoftKeyRecord } from '../keys/soft-store.ts';
import type { KeyAlgorithm } from '../pki/algorithms.ts';
import type { Installation } from './installation.ts';
import { getOperator, getOperatorById } from './operators.ts';

export function storeSoftKey(inst: Installation, record: SoftKeyRecord, createdAt: string): void {
  inst.db
    .prepare("INSERT INTO ca_keys (key_id, store, algorithm, public_key_spki, wrapped_private_key, threshold, created_at) VALUES (?, 'soft', ?, ?, ?, ?, ?)")
    .run(record.keyId, JSON.stringify(record.algorithm), record.publicKeySpki, record.wrappedPrivateKey, record.threshold, createdAt);
  const insert = inst.db.prepare('INSERT INTO key_shares (key_id, custodian_id, share_index, sealed) VALUES (?,?,?,?)');
  for (const s of record.shares) insert.run(record.keyId, getOperator(inst, s.custodian).id, s.index, s.sealed);
}

interface KeyRow { key_id: string; store: string; algorithm: string; public_key_spki: Buffer; wrapped_private_key: Buffer | null; threshold: number; status: string }

export function loadSoftKey(inst: Installation, keyId: string): SoftKeyRecord {
  const row = inst.db.prepare('SELECT * FROM ca_keys WHERE key_id = ?').get(keyId) as KeyRow | undefined;
  if (!row) throw new CaError('KEY_UNKNOWN', `no key ${keyId} in the key store`);
  if (row.status !== 'active' || !row.wrapped_private_key) throw new CaError('KEY_DESTROYED', `key ${keyId} was destroyed and cannot sign`);
  if (row.store !== 'soft') throw new CaError('KEY_STORE_MISMATCH', `key ${keyId} lives in the ${row.store} key store`);
  const shares = (inst.db.prepare('SELECT custodian_id, share_index, sealed FROM key_shares WHERE key_id = ? ORDER BY share_index').all(keyId) as { custodian_id: number; share_index: number; sealed: Buffer }[])
    .map((s) => ({ custodian: getOperatorById(inst, s.custodian_id).name, index: s.share_index, sealed: s.sealed }));
  return {
    keyId,
    algorithm: JSON.parse(row.algorithm) as KeyAlgorithm,
    publicKeySpki: row.public_key_spki,
    wrappedPrivateKey: row.wrapped_private_key,
    threshold: row.threshold,
    shares,
  };
}

/** Custodian names of a key, in share order. */
export function keyCustodians(inst: Installation, keyId: string): string[] {
  return (inst.db.prepare('SELECT o.name FROM key_shares s JOIN operators o ON o.id = s.custodian_id WHERE s.key_id = ? ORDER BY s.share_index').all(keyId) as { name: string }[]).map((r) => r.name);
}
