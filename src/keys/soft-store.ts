/**
 * The software key store (adapter `soft`, R-6.2). A CA private key never rests in plaintext
 * (CPS 6.2.6): its PKCS#8 is encrypted under a random key-encryption key (KEK), and the KEK
 * exists at rest only as M-of-N secret shares, each sealed to one custodian's credential
 * (CPS 6.2.2, 6.2.8, 6.4.1, 6.4.2; ). Activation needs M custodians present and yields a
 * Signer good for exactly one signature (CPS 6.2.9, R-6.4).
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, constants, generateKeyPair, randomBytes, randomFillSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { combine, split } from 'shamir-secret-sharing';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, describeKeyAlgorithm, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import type { UnlockedCredential } from './credential.ts';
import type { Signer } from './ports.ts';
import { sealToPublicKey } from './sealed-box.ts';
import { wipe } from './wipe.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** One custodian's share of a key's KEK, sealed to their credential's encryption key. */
export interface SealedShare {
  custodian: string;
  /** 1-based position of the share; also inside the sealed plaintext, so a moved row is caught. */
  index: number;
  sealed: Buffer;
}

/** A CA key as the software store keeps it. Nothing in it is secret without a quorum. */
export interface SoftKeyRecord {
  keyId: string;
  algorithm: KeyAlgorithm;
  publicKeySpki: Buffer;
  /** AES-256-GCM under the KEK: version(1) | iv(12) | tag(16) | ct. */
  wrappedPrivateKey: Buffer;
  threshold: number;
  shares: SealedShare[];
}

/** A custodian to receive a share: their operator name and credential encryption key (SPKI DER). */
export interface ShareRecipient {
  name: string;
  encryptionPublicKey: Buffer;
}

/** A Signer from the soft store, plus a way to drop an activation that was not used. */
export interface ActivatedSoftKey extends Signer {
  /** Wipes the KEK; later sign() calls throw KEY_NOT_ACTIVE. Safe to call more than once. */
  deactivate(): void;
  readonly active: boolean;
}

const WRAP_VERSION = 1;
const SHARE_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEK_LENGTH = 32;
const MAX_CUSTODIANS = 255; // shamir-secret-sharing works over GF(2^8)

const CPS_641 = 'CPS 6.4.1: "At least two digital keys are used for activation of CA Private Keys."';

/**
 * A plain Uint8Array view of the same bytes: shamir-secret-sharing checks
 * `constructor === Uint8Array`, so it refuses a Buffer.
 */
function plainView(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function shareAad(custodian: string): Buffer {
  return Buffer.from(`rootca-share|${custodian}`, 'utf8');
}

/** AAD of the wrapped private key: binds it to its keyId and public key. */
function wrapAad(keyId: string, publicKeySpki: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`rootca-soft-key|v1|${keyId}|`, 'utf8'), createHash('sha256').update(publicKeySpki).digest()]);
}

function wrapPrivateKey(kek: Uint8Array, pkcs8: Uint8Array, aad: Uint8Array): Buffer {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  return Buffer.concat([Buffer.from([WRAP_VERSION]), iv, cipher.getAuthTag(), ct]);
}

/** The PKCS#8, or undefined when the KEK or the record is wrong. */
function unwrapPrivateKey(kek: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Buffer | undefined {
  const blob = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (blob.length < 1 + IV_LENGTH + TAG_LENGTH || blob[0] !== WRAP_VERSION) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', kek, blob.subarray(1, 1 + IV_LENGTH), { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(blob.subarray(1 + IV_LENGTH, 1 + IV_LENGTH + TAG_LENGTH));
  const head = decipher.update(blob.subarray(1 + IV_LENGTH + TAG_LENGTH));
  try {
    const tail = decipher.final();
    const out = Buffer.concat([head, tail]);
    wipe(head, tail);
    return out;
  } catch {
    wipe(head);
    return undefined;
  }
}

/** What a custodian's sealed share carries, so a share moved to another key or row is caught. */
interface SharePayload {
  keyId: string;
  spkiSha256: Buffer;
  index: number;
  threshold: number;
  share: Buffer;
}

/** version(1) | keyIdLen(2) | keyId | SHA-256(SPKI)(32) | index(1) | threshold(1) | shareLen(2) | share. */
function encodeSharePayload(p: SharePayload): Buffer {
  const keyId = Buffer.from(p.keyId, 'utf8');
  const out = Buffer.alloc(1 + 2 + keyId.length + 32 + 1 + 1 + 2 + p.share.length);
  let o = 0;
  out[o++] = SHARE_VERSION;
  out.writeUInt16BE(keyId.length, o); o += 2;
  keyId.copy(out, o); o += keyId.length;
  p.spkiSha256.copy(out, o); o += 32;
  out[o++] = p.index;
  out[o++] = p.threshold;
  out.writeUInt16BE(p.share.length, o); o += 2;
  p.share.copy(out, o);
  return out;
}

/** Views into `buf` (wiping `buf` wipes the share); undefined when malformed. */
function decodeSharePayload(buf: Buffer): SharePayload | undefined {
  if (buf.length < 3 || buf[0] !== SHARE_VERSION) return undefined;
  const keyIdLength = buf.readUInt16BE(1);
  let o = 3;
  if (buf.length < o + keyIdLength + 32 + 4) return undefined;
  const keyId = buf.subarray(o, o + keyIdLength).toString('utf8'); o += keyIdLength;
  const spkiSha256 = buf.subarray(o, o + 32); o += 32;
  const index = buf[o++]!;
  const threshold = buf[o++]!;
  const shareLength = buf.readUInt16BE(o); o += 2;
  if (buf.length !== o + shareLength) return undefined;
  return { keyId, spkiSha256, index, threshold, share: buf.subarray(o) };
}

function checkAlgorithm(algorithm: KeyAlgorithm): void {
  const ok =
    (algorithm?.kind === 'rsa' && [2048, 3072, 4096].includes(algorithm.modulusBits)) ||
    (algorithm?.kind === 'ecdsa' && ['P-256', 'P-384'].includes(algorithm.curve));
  if (!ok) {
    throw new CaError('UNSUPPORTED_ALGORITHM', `unsupported key algorithm ${JSON.stringify(algorithm)}: use RSA 2048/3072/4096 or ECDSA P-256/P-384 (CPS 6.1.5)`);
  }
}

function checkThreshold(threshold: number, custodianCount: number, keyId: string): void {
  if (!Number.isInteger(threshold) || threshold < 2) {
    throw new CaError('THRESHOLD_TOO_LOW', `key ${keyId}: threshold ${threshold} refused, at least 2 custodians must be needed to activate a CA key (${CPS_641})`, {
      details: { keyId, threshold },
    });
  }
  if (threshold > custodianCount) {
    throw new CaError('THRESHOLD_EXCEEDS_CUSTODIANS', `key ${keyId}: threshold ${threshold} exceeds the ${custodianCount} custodian(s) named; the key could never be activated`, {
      details: { keyId, threshold, custodians: custodianCount },
    });
  }
}

function duplicatesOf(names: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

async function generateKeyPairDer(algorithm: KeyAlgorithm): Promise<{ publicKey: Buffer; privateKey: Buffer }> {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  if (algorithm.kind === 'rsa') {
    return generateKeyPairAsync('rsa', { modulusLength: algorithm.modulusBits, publicExponent: 65537, publicKeyEncoding, privateKeyEncoding });
  }
  return generateKeyPairAsync('ec', { namedCurve: algorithm.curve, publicKeyEncoding, privateKeyEncoding });
}

/**
 * Generates a CA key pair in the software store and splits its KEK among `custodians`,
 * `threshold` of whom are needed to activate it. The KEK, the shares and the
 * PKCS#8 are wiped before returning.
 */
export async function generateSoftKey(p: { keyId: string; algorithm: KeyAlgorithm; threshold: number; custodians: ShareRecipient[] }): Promise<SoftKeyRecord> {
  const { keyId, algorithm, threshold, custodians } = p;
  if (typeof keyId !== 'string' || keyId.length === 0 || Buffer.byteLength(keyId, 'utf8') > 0xffff) {
    throw new CaError('INVALID_ARGUMENT', 'keyId must be a non-empty string');
  }
  checkAlgorithm(algorithm);
  if (!Array.isArray(custodians) || custodians.some((c) => typeof c?.name !== 'string' || c.name.length === 0)) {
    throw new CaError('INVALID_ARGUMENT', `key ${keyId}: every custodian needs a non-empty operator name`);
  }
  const names = custodians.map((c) => c.name);
  const dups = duplicatesOf(names);
  if (dups.length > 0) {
    throw new CaError('DUPLICATE_CUSTODIAN', `key ${keyId}: custodian(s) ${dups.join(', ')} named more than once; each share must go to a different person (CPS 6.4.2)`, {
      details: { keyId, duplicates: dups },
    });
  }
  checkThreshold(threshold, custodians.length, keyId);
  if (custodians.length > MAX_CUSTODIANS) {
    throw new CaError('TOO_MANY_CUSTODIANS', `key ${keyId}: at most ${MAX_CUSTODIANS} custodians, ${custodians.length} named`);
  }

  const { publicKey, privateKey } = await generateKeyPairDer(algorithm);
  const kek = randomFillSync(new Uint8Array(KEK_LENGTH));
  let shares: Uint8Array[] = [];
  const payloads: Buffer[] = [];
  try {
    const wrappedPrivateKey = wrapPrivateKey(kek, privateKey, wrapAad(keyId, publicKey));
    shares = await split(kek, custodians.length, threshold);
    const spkiSha256 = createHash('sha256').update(publicKey).digest();
    const sealedShares = custodians.map((c, i): SealedShare => {
      const payload = encodeSharePayload({ keyId, spkiSha256, index: i + 1, threshold, share: Buffer.from(shares[i]!.buffer, shares[i]!.byteOffset, shares[i]!.byteLength) });
      payloads.push(payload);
      return { custodian: c.name, index: i + 1, sealed: sealToPublicKey(c.encryptionPublicKey, payload, shareAad(c.name)) };
    });
    return { keyId, algorithm, publicKeySpki: publicKey, wrappedPrivateKey, threshold, shares: sealedShares };
  } finally {
    wipe(kek, privateKey, ...shares, ...payloads);
  }
}

function presentList(names: string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

/**
 * Checks who is present against the record and combines their shares into the KEK, which
 * the caller must wipe. Error codes as documented on `activateSoftKey`.
 */
async function recoverKek(record: SoftKeyRecord, present: UnlockedCredential[]): Promise<Buffer> {
  const { keyId, threshold } = record;
  const custodians = record.shares.map((s) => s.custodian);
  // A tampered record must not lower the bar below what CPS 6.4.1 allows.
  checkThreshold(threshold, custodians.length, keyId);
  const names = present.map((c) => c.operator);

  const dups = duplicatesOf(names);
  if (dups.length > 0) {
    throw new CaError(
      'DUPLICATE_CUSTODIAN',
      `key ${keyId}: ${dups.join(', ')} presented more than once; a person counts once toward the quorum (needs ${threshold} different custodians, CPS 6.2.2)`,
      { details: { keyId, duplicates: dups } },
    );
  }
  const strangers = names.filter((n) => !custodians.includes(n));
  if (strangers.length > 0) {
    throw new CaError('NOT_A_CUSTODIAN', `key ${keyId}: ${strangers.join(', ')} hold(s) no share of this key; its custodians are ${custodians.join(', ')}`, {
      details: { keyId, notCustodians: strangers, custodians },
    });
  }
  if (names.length < threshold) {
    throw new CaError(
      'QUORUM_NOT_MET',
      `key ${keyId} needs ${threshold} of ${custodians.length} custodians, ${names.length} present (${presentList(names)})`,
      { details: { keyId, threshold, custodians, present: names } },
    );
  }

  const spkiSha256 = createHash('sha256').update(record.publicKeySpki).digest();
  const opened: Buffer[] = [];
  try {
    const shares: Uint8Array[] = [];
    for (const cred of present) {
      const row = record.shares.find((s) => s.custodian === cred.operator)!;
      let plaintext: Buffer;
      try {
        plaintext = cred.open(row.sealed, shareAad(row.custodian));
      } catch (cause) {
        if (cause instanceof CaError && cause.code === 'CREDENTIAL_LOCKED') throw cause;
        throw new CaError('SHARE_INVALID', `key ${keyId}: the share sealed for ${row.custodian} does not open with ${cred.operator}'s credential (altered, or sealed to an earlier credential)`, {
          cause,
          details: { keyId, custodian: row.custodian },
        });
      }
      opened.push(plaintext);
      const payload = decodeSharePayload(plaintext);
      if (!payload) {
        throw new CaError('SHARE_INVALID', `key ${keyId}: the share sealed for ${row.custodian} is malformed`, { details: { keyId, custodian: row.custodian } });
      }
      if (payload.keyId !== keyId || !payload.spkiSha256.equals(spkiSha256) || payload.index !== row.index || payload.threshold !== threshold) {
        throw new CaError(
          'SHARE_WRONG_KEY',
          `key ${keyId}: the share sealed for ${row.custodian} belongs to key ${payload.keyId} share ${payload.index} (threshold ${payload.threshold}), ` +
            `not to key ${keyId} share ${row.index} (threshold ${threshold}); share rows were moved between keys or edited`,
          { details: { keyId, custodian: row.custodian, shareKeyId: payload.keyId, shareIndex: payload.index, rowIndex: row.index } },
        );
      }
      shares.push(plainView(payload.share));
    }
    let kek: Uint8Array;
    try {
      kek = await combine(shares);
    } catch (cause) {
      throw new CaError('KEY_RECONSTRUCTION_FAILED', `key ${keyId}: the shares of ${presentList(names)} do not combine`, { cause, details: { keyId, present: names } });
    }
    return Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength);
  } finally {
    wipe(...opened);
  }
}

function reconstructionFailed(record: SoftKeyRecord, present: string[]): CaError {
  return new CaError(
    'KEY_RECONSTRUCTION_FAILED',
    `key ${record.keyId}: the shares of ${presentList(present)} combine, but the wrapped private key does not decrypt with the result (wrong shares, or the key record was altered)`,
    { details: { keyId: record.keyId, present } },
  );
}

/** Decrypts the PKCS#8 with the KEK; throws KEY_RECONSTRUCTION_FAILED. The caller wipes the result. */
function unwrapOrThrow(record: SoftKeyRecord, kek: Uint8Array, present: string[]): Buffer {
  const pkcs8 = unwrapPrivateKey(kek, record.wrappedPrivateKey, wrapAad(record.keyId, record.publicKeySpki));
  if (!pkcs8) throw reconstructionFailed(record, present);
  return pkcs8;
}

function signOnce(record: SoftKeyRecord, key: KeyObject, data: Uint8Array, algorithmName: SignatureAlgorithmName): Buffer {
  const info = SIGNATURE_ALGORITHMS[algorithmName];
  const signature =
    record.algorithm.kind === 'rsa'
      ? cryptoSign(info.hash, data, { key, padding: constants.RSA_PKCS1_PADDING })
      : cryptoSign(info.hash, data, { key, dsaEncoding: 'der' });
  // Verify before releasing: a faulty RSA-CRT signature would leak the private key.
  const publicKey = createPublicKey({ key: record.publicKeySpki, format: 'der', type: 'spki' });
  const ok =
    record.algorithm.kind === 'rsa'
      ? cryptoVerify(info.hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature)
      : cryptoVerify(info.hash, data, { key: publicKey, dsaEncoding: 'der' }, signature);
  if (!ok) throw new CaError('SIGNATURE_SELF_CHECK_FAILED', `key ${record.keyId}: the signature just made does not verify; it was not released`);
  return signature;
}

/**
 * M-of-N activation (CPS 6.2.8, R-6.3/R-6.4). `present` are the custodians who unlocked their credentials.
 * Errors, each a distinct CaError code naming the people involved:
 *  'DUPLICATE_CUSTODIAN' (the same person twice: a person counts once),
 *  'NOT_A_CUSTODIAN' (a present person holds no share of this key),
 *  'QUORUM_NOT_MET' (fewer than threshold distinct custodians: "needs 2 of 3 custodians, 1 present (alice)"),
 *  'SHARE_WRONG_KEY' (a share opens but its header names another keyId or index: rows swapped between keys),
 *  'SHARE_INVALID' (a share does not open with the person's credential),
 *  'KEY_RECONSTRUCTION_FAILED' (shares combine but the wrapped key does not decrypt),
 *  'CREDENTIAL_LOCKED' (a present credential was already locked).
 * All present custodians' shares are used, so a bad share is caught even beyond the threshold.
 *
 * Activation checks that the KEK opens the wrapped key (the trial plaintext is wiped at once,
 * no key object is made), so a bad quorum fails here rather than mid-ceremony.
 * Returns a Signer usable for exactly ONE sign() call: the key is decrypted for use only inside
 * sign(), then KEK and PKCS#8 are wiped and the activation is spent, whether sign() succeeded or
 * failed; a second sign() throws 'KEY_NOT_ACTIVE'. The signature is verified before it is
 * returned ('SIGNATURE_SELF_CHECK_FAILED' otherwise). sign() throws 'ALGORITHM_MISMATCH' when the
 * signature algorithm does not fit the key kind.
 */
export async function activateSoftKey(record: SoftKeyRecord, present: UnlockedCredential[]): Promise<ActivatedSoftKey> {
  const names = present.map((c) => c.operator);
  let kek: Buffer | undefined = await recoverKek(record, present);
  // Check now that the KEK opens the wrapped key, so a bad quorum fails at activation rather
  // than mid-ceremony; the trial plaintext is wiped at once and no key object is made from it.
  try {
    wipe(unwrapOrThrow(record, kek, names));
  } catch (e) {
    wipe(kek);
    throw e;
  }

  const deactivate = () => {
    wipe(kek);
    kek = undefined;
  };
  return {
    publicKeySpki: record.publicKeySpki,
    algorithm: record.algorithm,
    get active() {
      return kek !== undefined;
    },
    deactivate,
    async sign(data: Uint8Array, algorithmName: SignatureAlgorithmName): Promise<Uint8Array> {
      if (!kek) {
        throw new CaError('KEY_NOT_ACTIVE', `key ${record.keyId} is not active: an activation signs once (CPS 6.2.9); activate it again with a quorum`, {
          details: { keyId: record.keyId },
        });
      }
      const current = kek;
      kek = undefined; // spent from here on, whatever happens below (also against a concurrent call)
      let pkcs8: Buffer | undefined;
      try {
        const info = SIGNATURE_ALGORITHMS[algorithmName];
        if (!info || info.keyKind !== record.algorithm.kind) {
          throw new CaError('ALGORITHM_MISMATCH', `key ${record.keyId} is ${describeKeyAlgorithm(record.algorithm)} and cannot sign with ${String(algorithmName)}`, {
            details: { keyId: record.keyId, algorithm: algorithmName },
          });
        }
        pkcs8 = unwrapOrThrow(record, current, names);
        // A KeyObject cannot be zeroed from JS: it is made here and its only reference dropped on return.
        const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
        wipe(pkcs8, current);
        return signOnce(record, key, data, algorithmName);
      } finally {
        wipe(pkcs8, current);
      }
    },
  };
}

/**
 * Returns the CA private key as PKCS#8 DER, for key-backup ceremonies (CPS 6.2.4, R-6.5) and
 * the at-rest scanning test; needs the same quorum as `activateSoftKey` and throws the same
 * errors. The caller must wipe the result.
 */
export async function reconstructPrivateKeyPkcs8(record: SoftKeyRecord, present: UnlockedCredential[]): Promise<Buffer> {
  const kek = await recoverKek(record, present);
  try {
    return unwrapOrThrow(record, kek, present.map((c) => c.operator));
  } finally {
    wipe(kek);
  }
}
