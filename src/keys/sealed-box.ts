/**
 * Two ways to keep a secret at rest, both AES-256-GCM with caller-supplied AAD:
 *
 * - Sealing to a person's public key (ECIES): an ephemeral X25519 or ECDH P-256 key agreement
 *   with the recipient's encryption key, HKDF-SHA256 to the AES key. Used to hand each
 *   custodian their secret share (CPS 6.4.1, R-6.3): only that person's credential opens it.
 * - Sealing under a passphrase: scrypt (parameters stored in the blob, so they can be raised
 *   later without breaking old blobs) to the AES key. Used for operators' credentials.
 *
 * Neither box authenticates the sender: anyone holding the recipient's public key can make
 * one. What a box proves is only that its content was not altered and that its AAD matches.
 */
import {
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  scryptSync,
  type KeyObject,
} from 'node:crypto';
import { CaError } from '../errors.ts';
import { gcmOpen, gcmSeal, IV_LENGTH, TAG_LENGTH } from './aes-gcm.ts';
import { wipe } from './wipe.ts';

const AES_KEY_LENGTH = 32;

/** Recipient key kinds a sealed box supports, with their one-byte identifier in the blob. */
type BoxKind = 'x25519' | 'p256';

interface BoxKindInfo {
  id: number;
  /** Fixed DER prefix of the SubjectPublicKeyInfo; the raw public key follows it. */
  spkiPrefix: Buffer;
  rawLength: number;
}

const BOX_KINDS: Record<BoxKind, BoxKindInfo> = {
  // SEQUENCE { SEQUENCE { id-X25519 (RFC 8410) }, BIT STRING (32 bytes) }
  x25519: { id: 1, spkiPrefix: Buffer.from('302a300506032b656e032100', 'hex'), rawLength: 32 },
  // SEQUENCE { SEQUENCE { id-ecPublicKey, secp256r1 }, BIT STRING (uncompressed point, RFC 5480) }
  p256: {
    id: 2,
    spkiPrefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
    rawLength: 65,
  },
};

const PUBLIC_KEY_BOX_VERSION = 1;
const PASSPHRASE_BOX_VERSION = 1;
const KDF_SCRYPT = 1;
const SALT_LENGTH = 16;

/** Default scrypt cost: N = 2^17, r = 8, p = 1 (about 128 MiB and a few tenths of a second). */
export const DEFAULT_SCRYPT_LOG2N = 17;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
/** Bounds accepted when sealing and when opening (a blob cannot ask for unbounded memory). */
const SCRYPT_LOG2N_MIN = 10;
const SCRYPT_LOG2N_MAX = 20;

/** Options for passphrase sealing. Tests lower the cost; production keeps the default. */
export interface PassphraseSealOptions {
  /** log2 of the scrypt cost N; 10..20, default 17. */
  scryptLog2N?: number;
}

function boxKindOfKey(key: KeyObject): BoxKind | undefined {
  if (key.asymmetricKeyType === 'x25519') return 'x25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'p256';
  return undefined;
}

/** The raw public key (X25519 u-coordinate or uncompressed P-256 point) of a public KeyObject. */
function rawPublicKey(key: KeyObject, kind: BoxKind): Buffer {
  const info = BOX_KINDS[kind];
  const spki = key.export({ type: 'spki', format: 'der' });
  if (
    spki.length !== info.spkiPrefix.length + info.rawLength ||
    !spki.subarray(0, info.spkiPrefix.length).equals(info.spkiPrefix)
  ) {
    throw new CaError('SEALED_BOX_UNSUPPORTED_KEY', `unexpected ${kind} public key encoding`);
  }
  return spki.subarray(info.spkiPrefix.length);
}

function publicKeyFromRaw(raw: Uint8Array, kind: BoxKind): KeyObject {
  // OpenSSL rejects a P-256 point that is not on the curve here (invalid-curve attacks).
  return createPublicKey({ key: Buffer.concat([BOX_KINDS[kind].spkiPrefix, raw]), format: 'der', type: 'spki' });
}

function deriveBoxKey(shared: Buffer, ephemeralRaw: Uint8Array, recipientRaw: Uint8Array, kind: BoxKind): Buffer {
  const salt = Buffer.concat([ephemeralRaw, recipientRaw]);
  return Buffer.from(hkdfSync('sha256', shared, salt, `rootca sealed-box v1 ${kind}`, AES_KEY_LENGTH));
}

/**
 * Seals `plaintext` to the holder of the private key behind `recipientSpkiDer` (an X25519 or
 * P-256 SubjectPublicKeyInfo). Blob: version(1) | kind(1) | ephemeral public key | iv(12) | tag(16) | ct.
 * The header is authenticated together with `aad`.
 */
export function sealToPublicKey(recipientSpkiDer: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  let recipient: KeyObject;
  try {
    recipient = createPublicKey({ key: Buffer.from(recipientSpkiDer), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new CaError('SEALED_BOX_UNSUPPORTED_KEY', 'the recipient public key is not a valid SubjectPublicKeyInfo', {
      cause,
    });
  }
  const kind = boxKindOfKey(recipient);
  if (!kind) {
    throw new CaError(
      'SEALED_BOX_UNSUPPORTED_KEY',
      `cannot seal to a ${recipient.asymmetricKeyType} key: only X25519 and P-256 recipients are supported`,
    );
  }
  const ephemeral =
    kind === 'x25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ephemeralRaw = rawPublicKey(ephemeral.publicKey, kind);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const key = deriveBoxKey(shared, ephemeralRaw, rawPublicKey(recipient, kind), kind);
  try {
    const header = Buffer.concat([Buffer.from([PUBLIC_KEY_BOX_VERSION, BOX_KINDS[kind].id]), ephemeralRaw]);
    const { iv, tag, ct } = gcmSeal(key, plaintext, Buffer.concat([header, aad]));
    return Buffer.concat([header, iv, tag, ct]);
  } finally {
    wipe(shared, key);
  }
}

/**
 * Opens a box made by `sealToPublicKey` with the recipient's private key. Throws
 * CaError('SEALED_BOX_INVALID') when the blob is malformed, was sealed to another key, was
 * altered, or `aad` differs.
 */
export function openWithPrivateKey(recipientPrivateKey: KeyObject, sealed: Uint8Array, aad: Uint8Array): Buffer {
  const kind = recipientPrivateKey.type === 'private' ? boxKindOfKey(recipientPrivateKey) : undefined;
  if (!kind) {
    throw new CaError('SEALED_BOX_UNSUPPORTED_KEY', 'opening a sealed box needs an X25519 or P-256 private key');
  }
  const info = BOX_KINDS[kind];
  const blob = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const headerLength = 2 + info.rawLength;
  if (blob.length < headerLength + IV_LENGTH + TAG_LENGTH || blob[0] !== PUBLIC_KEY_BOX_VERSION) {
    throw new CaError('SEALED_BOX_INVALID', 'sealed box is malformed or of an unknown version');
  }
  if (blob[1] !== info.id) {
    throw new CaError('SEALED_BOX_INVALID', `sealed box was not sealed to a ${kind} key`);
  }
  const header = blob.subarray(0, headerLength);
  const ephemeralRaw = blob.subarray(2, headerLength);
  const iv = blob.subarray(headerLength, headerLength + IV_LENGTH);
  const tag = blob.subarray(headerLength + IV_LENGTH, headerLength + IV_LENGTH + TAG_LENGTH);
  const ct = blob.subarray(headerLength + IV_LENGTH + TAG_LENGTH);
  let shared: Buffer | undefined;
  let key: Buffer | undefined;
  try {
    const ephemeral = publicKeyFromRaw(ephemeralRaw, kind);
    shared = diffieHellman({ privateKey: recipientPrivateKey, publicKey: ephemeral });
    key = deriveBoxKey(shared, ephemeralRaw, rawPublicKey(createPublicKey(recipientPrivateKey), kind), kind);
  } catch (cause) {
    wipe(shared, key);
    throw new CaError('SEALED_BOX_INVALID', 'sealed box carries an invalid ephemeral key', { cause });
  }
  try {
    const plaintext = gcmOpen(key, iv, tag, ct, Buffer.concat([header, aad]));
    if (!plaintext) {
      throw new CaError(
        'SEALED_BOX_INVALID',
        'sealed box does not authenticate: altered, sealed to another key, or opened with other associated data',
      );
    }
    return plaintext;
  } finally {
    wipe(shared, key);
  }
}

function scryptKey(passphrase: Uint8Array, salt: Uint8Array, log2N: number, r: number, p: number): Buffer {
  const N = 2 ** log2N;
  // OpenSSL needs 128*r*(N+2) + 128*r*p bytes; Node's default cap (32 MiB) is below N = 2^17.
  const maxmem = 128 * r * (N + 2) + 128 * r * p + 1024 * 1024;
  return scryptSync(passphrase, salt, AES_KEY_LENGTH, { N, r, p, maxmem });
}

/**
 * Seals `plaintext` under a passphrase. Blob: version(1) | kdf(1)=scrypt | log2N(1) | r(1) |
 * p(1) | salt(16) | iv(12) | tag(16) | ct; the header is authenticated together with `aad`.
 */
export function sealWithPassphrase(
  passphrase: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  options: PassphraseSealOptions = {},
): Buffer {
  const log2N = options.scryptLog2N ?? DEFAULT_SCRYPT_LOG2N;
  if (!Number.isInteger(log2N) || log2N < SCRYPT_LOG2N_MIN || log2N > SCRYPT_LOG2N_MAX) {
    throw new CaError(
      'INVALID_ARGUMENT',
      `scryptLog2N must be an integer from ${SCRYPT_LOG2N_MIN} to ${SCRYPT_LOG2N_MAX}`,
    );
  }
  const salt = randomBytes(SALT_LENGTH);
  const header = Buffer.concat([Buffer.from([PASSPHRASE_BOX_VERSION, KDF_SCRYPT, log2N, SCRYPT_R, SCRYPT_P]), salt]);
  const key = scryptKey(passphrase, salt, log2N, SCRYPT_R, SCRYPT_P);
  try {
    const { iv, tag, ct } = gcmSeal(key, plaintext, Buffer.concat([header, aad]));
    return Buffer.concat([header, iv, tag, ct]);
  } finally {
    wipe(key);
  }
}

/**
 * Opens a blob made by `sealWithPassphrase`. Throws CaError('WRONG_PASSPHRASE') when it does
 * not authenticate (wrong passphrase, altered blob, or other `aad`: these cannot be told
 * apart), CaError('SEALED_BOX_INVALID') when it is malformed or asks for unsupported parameters.
 */
export function openWithPassphrase(passphrase: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  const blob = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const headerLength = 5 + SALT_LENGTH;
  if (
    blob.length < headerLength + IV_LENGTH + TAG_LENGTH ||
    blob[0] !== PASSPHRASE_BOX_VERSION ||
    blob[1] !== KDF_SCRYPT
  ) {
    throw new CaError('SEALED_BOX_INVALID', 'passphrase-sealed blob is malformed or of an unknown version');
  }
  const log2N = blob[2]!;
  const r = blob[3]!;
  const p = blob[4]!;
  if (log2N < SCRYPT_LOG2N_MIN || log2N > SCRYPT_LOG2N_MAX || r < 1 || r > 32 || p < 1 || p > 16) {
    throw new CaError(
      'SEALED_BOX_INVALID',
      `passphrase-sealed blob asks for unsupported scrypt parameters (log2N=${log2N}, r=${r}, p=${p})`,
    );
  }
  const header = blob.subarray(0, headerLength);
  const salt = blob.subarray(5, headerLength);
  const iv = blob.subarray(headerLength, headerLength + IV_LENGTH);
  const tag = blob.subarray(headerLength + IV_LENGTH, headerLength + IV_LENGTH + TAG_LENGTH);
  const ct = blob.subarray(headerLength + IV_LENGTH + TAG_LENGTH);
  const key = scryptKey(passphrase, salt, log2N, r, p);
  try {
    const plaintext = gcmOpen(key, iv, tag, ct, Buffer.concat([header, aad]));
    if (!plaintext) throw new CaError('WRONG_PASSPHRASE', 'wrong passphrase (or the sealed data was altered)');
    return plaintext;
  } finally {
    wipe(key);
  }
}
