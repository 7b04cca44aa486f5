/**
 * An operator's credential (R-5.1: each person is an operator with their own credential): a
 * signing key pair, to authenticate what the person approves, and an encryption key pair, to
 * receive secret shares of CA keys. Both private keys are sealed together under the
 * person's passphrase and never stored in plaintext.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { CaError } from '../errors.ts';
import {
  openWithPassphrase,
  openWithPrivateKey,
  sealWithPassphrase,
  type PassphraseSealOptions,
} from './sealed-box.ts';
import { wipe } from './wipe.ts';

/** 'ed25519': Ed25519 signing + X25519 encryption; 'p256': ECDSA P-256 signing + ECDH P-256 encryption. */
export type CredentialKind = 'ed25519' | 'p256';

/** A credential as stored: public keys in the clear, private keys sealed under the passphrase. */
export interface SealedCredential {
  kind: CredentialKind;
  /** SPKI DER. */
  signingPublicKey: Buffer;
  /** SPKI DER. */
  encryptionPublicKey: Buffer;
  /** sealWithPassphrase(passphrase, <both PKCS#8 DERs>, aad = 'rootca-credential|' + operator name). */
  sealedPrivateKeys: Buffer;
}

/** Options for createCredential; tests lower the scrypt cost. */
export type CredentialOptions = PassphraseSealOptions;

const PAYLOAD_VERSION = 1;
const KIND_IDS: Record<CredentialKind, number> = { ed25519: 1, p256: 2 };

function credentialAad(operator: string): Buffer {
  return Buffer.from(`rootca-credential|${operator}`, 'utf8');
}

function checkOperator(operator: string): void {
  if (typeof operator !== 'string' || operator.length === 0) {
    throw new CaError('INVALID_ARGUMENT', 'operator name must be a non-empty string');
  }
}

function checkKind(kind: CredentialKind): void {
  if (kind !== 'ed25519' && kind !== 'p256') {
    throw new CaError('INVALID_ARGUMENT', `credential kind must be 'ed25519' or 'p256', not '${String(kind)}'`);
  }
}

/** Payload sealed under the passphrase: version(1) | kind(1) | len(2) | signing PKCS#8 | len(2) | encryption PKCS#8. */
function encodePayload(kind: CredentialKind, signingPkcs8: Buffer, encryptionPkcs8: Buffer): Buffer {
  const out = Buffer.alloc(2 + 2 + signingPkcs8.length + 2 + encryptionPkcs8.length);
  out[0] = PAYLOAD_VERSION;
  out[1] = KIND_IDS[kind];
  out.writeUInt16BE(signingPkcs8.length, 2);
  signingPkcs8.copy(out, 4);
  out.writeUInt16BE(encryptionPkcs8.length, 4 + signingPkcs8.length);
  encryptionPkcs8.copy(out, 6 + signingPkcs8.length);
  return out;
}

/** Views into `payload` (wiping the payload wipes them). */
function decodePayload(
  operator: string,
  kind: CredentialKind,
  payload: Buffer,
): { signing: Buffer; encryption: Buffer } {
  const corrupt = (why: string) =>
    new CaError('CREDENTIAL_CORRUPT', `credential of operator ${operator} is corrupt: ${why}`);
  if (payload.length < 6 || payload[0] !== PAYLOAD_VERSION) throw corrupt('unknown payload version');
  if (payload[1] !== KIND_IDS[kind]) throw corrupt(`it is not a ${kind} credential`);
  const signingLength = payload.readUInt16BE(2);
  if (4 + signingLength + 2 > payload.length) throw corrupt('truncated');
  const encryptionLength = payload.readUInt16BE(4 + signingLength);
  if (6 + signingLength + encryptionLength !== payload.length) throw corrupt('bad length');
  return {
    signing: payload.subarray(4, 4 + signingLength),
    encryption: payload.subarray(6 + signingLength),
  };
}

interface DerKeyPair {
  publicKey: Buffer;
  privateKey: Buffer;
}

function generatePair(type: 'ed25519' | 'x25519' | 'p256'): DerKeyPair {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  if (type === 'ed25519') return generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding });
  if (type === 'x25519') return generateKeyPairSync('x25519', { publicKeyEncoding, privateKeyEncoding });
  return generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
}

function generatePairs(kind: CredentialKind): { signing: DerKeyPair; encryption: DerKeyPair } {
  return kind === 'ed25519'
    ? { signing: generatePair('ed25519'), encryption: generatePair('x25519') }
    : { signing: generatePair('p256'), encryption: generatePair('p256') };
}

/**
 * Creates a credential for `operator`. The caller checks the passphrase against
 * `checkPassphrasePolicy` first (kept separate so the CLI can ask again before any key exists).
 */
export function createCredential(
  operator: string,
  kind: CredentialKind,
  passphrase: Uint8Array,
  options: CredentialOptions = {},
): SealedCredential {
  checkOperator(operator);
  checkKind(kind);
  const { signing, encryption } = generatePairs(kind);
  const payload = encodePayload(kind, signing.privateKey, encryption.privateKey);
  try {
    return {
      kind,
      signingPublicKey: signing.publicKey,
      encryptionPublicKey: encryption.publicKey,
      sealedPrivateKeys: sealWithPassphrase(passphrase, payload, credentialAad(operator), options),
    };
  } finally {
    wipe(payload, signing.privateKey, encryption.privateKey);
  }
}

/** A credential opened with its passphrase, for the duration of one ceremony step. */
export interface UnlockedCredential {
  readonly operator: string;
  /** Signs with Ed25519 (pure) or ECDSA P-256/SHA-256 (DER signature). */
  sign(data: Uint8Array): Buffer;
  /** openWithPrivateKey with the encryption key. */
  open(sealed: Uint8Array, aad: Uint8Array): Buffer;
  /** Drops the key objects; later calls throw CaError('CREDENTIAL_LOCKED'). */
  lock(): void;
}

function keyMatchesKind(key: KeyObject, kind: CredentialKind, use: 'signing' | 'encryption'): boolean {
  if (kind === 'ed25519') return key.asymmetricKeyType === (use === 'signing' ? 'ed25519' : 'x25519');
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

function signWith(key: KeyObject, kind: CredentialKind, data: Uint8Array): Buffer {
  return kind === 'ed25519' ? cryptoSign(null, data, key) : cryptoSign('sha256', data, { key, dsaEncoding: 'der' });
}

/**
 * Opens `sealed` with `passphrase`. Throws CaError('WRONG_PASSPHRASE',
 * `wrong passphrase for operator ${operator}`) on a wrong passphrase (or a credential sealed
 * for another operator), CaError('CREDENTIAL_CORRUPT') if the private keys inside do not
 * match the stored public keys. Wipes the decrypted PKCS#8 buffers after creating KeyObjects.
 */
export function unlockCredential(
  operator: string,
  sealed: SealedCredential,
  passphrase: Uint8Array,
): UnlockedCredential {
  checkOperator(operator);
  checkKind(sealed.kind);
  const kind = sealed.kind;
  let payload: Buffer;
  try {
    payload = openWithPassphrase(passphrase, sealed.sealedPrivateKeys, credentialAad(operator));
  } catch (e) {
    if (e instanceof CaError && e.code === 'WRONG_PASSPHRASE') {
      throw new CaError('WRONG_PASSPHRASE', `wrong passphrase for operator ${operator}`, {
        cause: e,
        details: { operator },
      });
    }
    throw e;
  }
  let signingKey: KeyObject | undefined;
  let encryptionKey: KeyObject | undefined;
  try {
    const der = decodePayload(operator, kind, payload);
    signingKey = createPrivateKey({ key: der.signing, format: 'der', type: 'pkcs8' });
    encryptionKey = createPrivateKey({ key: der.encryption, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    if (cause instanceof CaError) throw cause;
    throw new CaError(
      'CREDENTIAL_CORRUPT',
      `credential of operator ${operator} is corrupt: a private key does not parse`,
      { cause },
    );
  } finally {
    wipe(payload);
  }
  // The public keys are stored outside the sealed blob; make sure they belong to these private keys.
  const signingSpki = createPublicKey(signingKey).export({ type: 'spki', format: 'der' });
  const encryptionSpki = createPublicKey(encryptionKey).export({ type: 'spki', format: 'der' });
  if (
    !keyMatchesKind(signingKey, kind, 'signing') ||
    !keyMatchesKind(encryptionKey, kind, 'encryption') ||
    !signingSpki.equals(sealed.signingPublicKey) ||
    !encryptionSpki.equals(sealed.encryptionPublicKey)
  ) {
    throw new CaError(
      'CREDENTIAL_CORRUPT',
      `credential of operator ${operator} is corrupt: its public keys do not match its private keys`,
    );
  }

  // Held in the closure, not on the object, so they do not show up when it is logged or inspected.
  let keys: { signing: KeyObject; encryption: KeyObject } | undefined = {
    signing: signingKey,
    encryption: encryptionKey,
  };
  const active = () => {
    if (!keys)
      throw new CaError('CREDENTIAL_LOCKED', `credential of operator ${operator} is locked`, { details: { operator } });
    return keys;
  };
  return {
    operator,
    sign: (data) => signWith(active().signing, kind, data),
    open: (box, aad) => openWithPrivateKey(active().encryption, box, aad),
    lock: () => {
      // KeyObjects cannot be zeroed from JS; dropping the references is the most we can do.
      keys = undefined;
    },
  };
}

/** Verifies a signature made by `UnlockedCredential.sign`. False for a bad signature or a key of another kind. */
export function verifyCredentialSignature(
  signingPublicKeySpki: Uint8Array,
  kind: CredentialKind,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(signingPublicKeySpki), format: 'der', type: 'spki' });
    if (!keyMatchesKind(key, kind, 'signing')) return false;
    return kind === 'ed25519'
      ? cryptoVerify(null, data, key, signature)
      : cryptoVerify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** Minimum passphrase length in characters (Unicode code points). */
export const MIN_PASSPHRASE_CHARACTERS = 12;

/**
 * A passphrase policy: UTF-8 text of at least 12 characters, not only whitespace.
 * Throws CaError('WEAK_PASSPHRASE', …).
 */
export function checkPassphrasePolicy(passphrase: Uint8Array): void {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(passphrase);
  } catch {
    throw new CaError('WEAK_PASSPHRASE', 'passphrase must be UTF-8 text');
  }
  const characters = [...text].length;
  if (characters < MIN_PASSPHRASE_CHARACTERS) {
    throw new CaError(
      'WEAK_PASSPHRASE',
      `passphrase must have at least ${MIN_PASSPHRASE_CHARACTERS} characters, it has ${characters}`,
    );
  }
  if (text.trim().length === 0) {
    throw new CaError('WEAK_PASSPHRASE', 'passphrase must not be only whitespace');
  }
}
