/**
 * Persistence of CA key records (`ca_keys`, `key_shares`, `ca_key_objects`) through the store's
 * repositories. Soft store: the private key is stored only wrapped under the KEK, each share
 * only sealed to its custodian. pkcs11 store: the key stays in its tokens; the record says
 * which tokens hold it (primary first, then backups) and carries the sealed shares of each
 * token's user PIN. Which parts a key has is its store's business (KeyStore.open).
 */
import { CaError } from '../errors.ts';
import { keyStoreNamed } from '../keys/key-stores.ts';
import type { CaKeyRecord, KeyStoreName, Pkcs11Location, StoredKeyParts } from '../keys/ports.ts';
import type { KeyAlgorithm } from '../pki/algorithms.ts';
import { pinShares, storeKeyObject } from './hsm-tokens.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator, getOperatorById } from '../people/operators.ts';
import { presentKeyObjects } from '../store/ca-key-objects.ts';
import { findCaKey, insertCaKey, insertKeyShare, keyShareHolders, keySharesOf } from '../store/ca-keys.ts';

/** Inside the caller's transaction: records a new key with what its store keeps (CPS 6.2.6). */
export function storeCaKey(inst: Installation, store: KeyStoreName, k: StoredKeyParts, createdAt: string): void {
  insertCaKey(inst.db, {
    keyId: k.keyId,
    store,
    algorithm: JSON.stringify(k.algorithm),
    publicKeySpki: k.publicKeySpki,
    wrappedPrivateKey: k.wrappedPrivateKey,
    threshold: k.threshold,
    createdAt,
  });
  for (const s of k.shares) {
    const custodianId = getOperator(inst, s.custodian).id;
    insertKeyShare(inst.db, { keyId: k.keyId, custodianId, index: s.index, sealed: s.sealed });
  }
  for (const l of k.locations) {
    storeKeyObject(inst, { keyId: k.keyId, tokenId: l.tokenId, object: l.object, role: l.role, now: createdAt });
  }
}

/** The tokens still holding a key, primary first, with their user-PIN shares (none for a soft key). */
export function pkcs11Locations(inst: Installation, keyId: string): Pkcs11Location[] {
  return presentKeyObjects(inst.db, keyId).map((o) => ({
    tokenId: o.token_id,
    token: o.label,
    serial: o.serial,
    module: o.module_path,
    role: o.role,
    object: { label: o.object_label, id: o.object_id },
    threshold: o.threshold,
    shares: pinShares(inst, o.token_id, 'user'),
  }));
}

/**
 * Loads a CA key of either store (the name is historical); KEY_UNKNOWN, KEY_DESTROYED,
 * KEY_RETIRED. A key retired by a re-key loads only with `allowRetired` (status signing, CPS 5.6).
 */
export function loadSoftKey(inst: Installation, keyId: string, opts: { allowRetired?: boolean } = {}): CaKeyRecord {
  const row = findCaKey(inst.db, keyId);
  if (!row) throw new CaError('KEY_UNKNOWN', `no key ${keyId} in the key store`);
  const algorithm = JSON.parse(row.algorithm) as KeyAlgorithm;
  if (row.status === 'retired' && !opts.allowRetired) {
    throw new CaError(
      'KEY_RETIRED',
      `key ${keyId} was retired by a re-key; it signs only CRLs and OCSP responses for what it issued (--retired-key)`,
    );
  }
  if (row.status !== 'active' && !(row.status === 'retired' && opts.allowRetired))
    throw new CaError('KEY_DESTROYED', `key ${keyId} was destroyed and cannot sign`);
  const store = keyStoreNamed(row.store, keyId);
  const shares = keySharesOf(inst.db, keyId).map((s) => ({
    custodian: getOperatorById(inst, s.custodian_id).name,
    index: s.share_index,
    sealed: s.sealed,
  }));
  return store.open({
    keyId,
    algorithm,
    publicKeySpki: row.public_key_spki,
    wrappedPrivateKey: row.wrapped_private_key,
    threshold: row.threshold,
    shares,
    locations: pkcs11Locations(inst, keyId),
  });
}

/** The same loader under the name that says what it does. */
export const loadCaKey = loadSoftKey;

/** Custodians of a key, in share order: the KEK's share holders, or the user-PIN holders of the key's first token. */
export function keyCustodians(inst: Installation, keyId: string): string[] {
  const soft = keyShareHolders(inst.db, keyId);
  if (soft.length) return soft;
  const first = pkcs11Locations(inst, keyId)[0];
  return first ? first.shares.map((s) => s.custodian) : [];
}
