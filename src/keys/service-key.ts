/**
 * Service keys: keys that are not CA keys and sign routine evidence without a quorum — the
 * audit checkpoint key (CPS 5.4) and the internal time-stamping authority's key (CPS 5.5.5).
 * The private key never rests in plaintext: it is sealed separately to each holder's
 * credential (1 of N), so any one authenticated holder can use it for one operation, and the
 * plaintext is wiped right after. A root CA key is never a service key (M-of-N, R-6.3).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { CaError } from '../errors.ts';
import type { UnlockedCredential } from './credential.ts';
import { sealToPublicKey } from './sealed-box.ts';
import { wipe } from './wipe.ts';

export type ServiceKeyKind = 'ed25519' | 'p256' | 'p384';

export interface SealedServiceKey {
  keyId: string;
  kind: ServiceKeyKind;
  publicKeySpki: Buffer;
  /** One sealed copy of the PKCS#8 per holder. */
  envelopes: { holder: string; sealed: Buffer }[];
}

const aad = (keyId: string, holder: string) => Buffer.from(`rootca-service-key|${keyId}|${holder}`);

/** Generates a service key and seals it to each holder's credential encryption key. */
export function createServiceKey(
  keyId: string,
  kind: ServiceKeyKind,
  holders: { name: string; encryptionPublicKey: Buffer }[],
): SealedServiceKey {
  if (holders.length === 0) throw new CaError('SERVICE_KEY_HOLDERS', `service key ${keyId} needs at least one holder`);
  const pair =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: kind === 'p256' ? 'P-256' : 'P-384' });
  const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
  try {
    return {
      keyId,
      kind,
      publicKeySpki: pair.publicKey.export({ format: 'der', type: 'spki' }),
      envelopes: holders.map((h) => ({
        holder: h.name,
        sealed: sealToPublicKey(h.encryptionPublicKey, pkcs8, aad(keyId, h.name)),
      })),
    };
  } finally {
    wipe(pkcs8);
  }
}

/**
 * Opens the key with one holder's unlocked credential, signs once (Ed25519: pure; ECDSA:
 * with the given hash, DER signature), and drops the key. Throws SERVICE_KEY_NOT_HOLDER.
 */
export function signWithServiceKey(
  key: SealedServiceKey,
  holder: UnlockedCredential,
  data: Uint8Array,
  hash: 'sha256' | 'sha384' = 'sha256',
): Buffer {
  const env = key.envelopes.find((e) => e.holder === holder.operator);
  if (!env)
    throw new CaError(
      'SERVICE_KEY_NOT_HOLDER',
      `${holder.operator} holds no copy of service key ${key.keyId} (holders: ${key.envelopes.map((e) => e.holder).join(', ')})`,
    );
  const pkcs8 = holder.open(env.sealed, aad(key.keyId, holder.operator));
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } finally {
    wipe(pkcs8);
  }
  const matches = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).equals(key.publicKeySpki);
  if (!matches)
    throw new CaError(
      'SERVICE_KEY_MISMATCH',
      `service key ${key.keyId}: the sealed private key does not match the recorded public key`,
    );
  // KeyObjects cannot be zeroed from JS; the reference is dropped when this returns.
  return key.kind === 'ed25519' ? cryptoSign(null, data, privateKey) : cryptoSign(hash, data, privateKey);
}
