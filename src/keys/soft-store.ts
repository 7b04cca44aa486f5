/**
 * The software key store (adapter `soft`, R-6.2). A CA private key never rests in plaintext
 * (CPS 6.2.6): its PKCS#8 is encrypted under a random key-encryption key (KEK), and the KEK
 * exists at rest only as M-of-N secret shares, each sealed to one custodian's credential
 * (CPS 6.2.2, 6.2.8, 6.4.1, 6.4.2; ). Activation needs M custodians present and yields a
 * Signer good for exactly one signature, or for exactly the messages of one approved batch
 * (CPS 6.2.9, R-6.4; docs/hsm.md "One access").
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  constants,
  generateKeyPair,
  randomFillSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { CaError } from '../errors.ts';
import {
  SIGNATURE_ALGORITHMS,
  describeKeyAlgorithm,
  type KeyAlgorithm,
  type SignatureAlgorithmName,
} from '../pki/algorithms.ts';
import { gcmOpen, gcmSeal, IV_LENGTH, TAG_LENGTH } from './aes-gcm.ts';
import type { UnlockedCredential } from './credential.ts';
import type {
  ActiveBatchKey,
  ActiveKey,
  KeyStore,
  ShareRecipient,
  Signer,
  SigningPlan,
  SoftKeyRecord,
} from './ports.ts';
import { keyNotActive, PlannedMessages } from './signing-plan.ts';
import { checkCustodians, presentList, recoverKek, splitKek } from './soft-kek.ts';
import { wipe } from './wipe.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A Signer from the soft store, plus a way to drop an activation that was not used. */
export interface ActivatedSoftKey extends Signer {
  /** Wipes the KEK; later sign() calls throw KEY_NOT_ACTIVE. Safe to call more than once. */
  deactivate(): void;
  readonly active: boolean;
}

const WRAP_VERSION = 1;
const KEK_LENGTH = 32;

/** AAD of the wrapped private key: binds it to its keyId and public key. */
function wrapAad(keyId: string, publicKeySpki: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(`rootca-soft-key|v1|${keyId}|`, 'utf8'),
    createHash('sha256').update(publicKeySpki).digest(),
  ]);
}

function wrapPrivateKey(kek: Uint8Array, pkcs8: Uint8Array, aad: Uint8Array): Buffer {
  const { iv, tag, ct } = gcmSeal(kek, pkcs8, aad);
  return Buffer.concat([Buffer.from([WRAP_VERSION]), iv, tag, ct]);
}

/** The PKCS#8, or undefined when the KEK or the record is wrong. */
function unwrapPrivateKey(kek: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Buffer | undefined {
  const blob = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (blob.length < 1 + IV_LENGTH + TAG_LENGTH || blob[0] !== WRAP_VERSION) return undefined;
  return gcmOpen(
    kek,
    blob.subarray(1, 1 + IV_LENGTH),
    blob.subarray(1 + IV_LENGTH, 1 + IV_LENGTH + TAG_LENGTH),
    blob.subarray(1 + IV_LENGTH + TAG_LENGTH),
    aad,
  );
}

function checkAlgorithm(algorithm: KeyAlgorithm): void {
  const ok =
    (algorithm?.kind === 'rsa' && [2048, 3072, 4096].includes(algorithm.modulusBits)) ||
    (algorithm?.kind === 'ecdsa' && ['P-256', 'P-384'].includes(algorithm.curve));
  if (!ok) {
    throw new CaError(
      'UNSUPPORTED_ALGORITHM',
      `unsupported key algorithm ${JSON.stringify(algorithm)}: use RSA 2048/3072/4096 or ECDSA P-256/P-384 (CPS 6.1.5)`,
    );
  }
}

async function generateKeyPairDer(algorithm: KeyAlgorithm): Promise<{ publicKey: Buffer; privateKey: Buffer }> {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  if (algorithm.kind === 'rsa') {
    return generateKeyPairAsync('rsa', {
      modulusLength: algorithm.modulusBits,
      publicExponent: 65537,
      publicKeyEncoding,
      privateKeyEncoding,
    });
  }
  return generateKeyPairAsync('ec', { namedCurve: algorithm.curve, publicKeyEncoding, privateKeyEncoding });
}

/**
 * Generates a CA key pair in the software store and splits its KEK among `custodians`,
 * `threshold` of whom are needed to activate it. The KEK, the shares and the
 * PKCS#8 are wiped before returning.
 */
export async function generateSoftKey(p: {
  keyId: string;
  algorithm: KeyAlgorithm;
  threshold: number;
  custodians: ShareRecipient[];
}): Promise<SoftKeyRecord> {
  const { keyId, algorithm, threshold, custodians } = p;
  if (typeof keyId !== 'string' || keyId.length === 0 || Buffer.byteLength(keyId, 'utf8') > 0xffff) {
    throw new CaError('INVALID_ARGUMENT', 'keyId must be a non-empty string');
  }
  checkAlgorithm(algorithm);
  checkCustodians(keyId, custodians, threshold);

  const { publicKey, privateKey } = await generateKeyPairDer(algorithm);
  const kek = randomFillSync(new Uint8Array(KEK_LENGTH));
  try {
    const wrappedPrivateKey = wrapPrivateKey(kek, privateKey, wrapAad(keyId, publicKey));
    const shares = await splitKek(kek, { keyId, publicKeySpki: publicKey, threshold, custodians });
    return { keyId, algorithm, publicKeySpki: publicKey, wrappedPrivateKey, threshold, shares };
  } finally {
    wipe(kek, privateKey);
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

/** Refuses a signature algorithm of another key kind (ALGORITHM_MISMATCH). */
function checkSignatureAlgorithm(record: SoftKeyRecord, algorithmName: SignatureAlgorithmName): void {
  const info = SIGNATURE_ALGORITHMS[algorithmName];
  if (!info || info.keyKind !== record.algorithm.kind) {
    throw new CaError(
      'ALGORITHM_MISMATCH',
      `key ${record.keyId} is ${describeKeyAlgorithm(record.algorithm)} and cannot sign with ${String(algorithmName)}`,
      { details: { keyId: record.keyId, algorithm: algorithmName } },
    );
  }
}

/** Signs and verifies the signature with the recorded public key before releasing it. */
function signChecked(
  record: SoftKeyRecord,
  key: KeyObject,
  publicKey: KeyObject,
  data: Uint8Array,
  algorithmName: SignatureAlgorithmName,
): Buffer {
  const info = SIGNATURE_ALGORITHMS[algorithmName];
  const signature =
    record.algorithm.kind === 'rsa'
      ? cryptoSign(info.hash, data, { key, padding: constants.RSA_PKCS1_PADDING })
      : cryptoSign(info.hash, data, { key, dsaEncoding: 'der' });
  // Verify before releasing: a faulty RSA-CRT signature would leak the private key.
  const ok =
    record.algorithm.kind === 'rsa'
      ? cryptoVerify(info.hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature)
      : cryptoVerify(info.hash, data, { key: publicKey, dsaEncoding: 'der' }, signature);
  if (!ok)
    throw new CaError(
      'SIGNATURE_SELF_CHECK_FAILED',
      `key ${record.keyId}: the signature just made does not verify; it was not released`,
    );
  return signature;
}

const publicKeyOf = (record: SoftKeyRecord): KeyObject =>
  createPublicKey({ key: record.publicKeySpki, format: 'der', type: 'spki' });

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
      if (!kek) throw keyNotActive(record.keyId);
      const current = kek;
      kek = undefined; // spent from here on, whatever happens below (also against a concurrent call)
      let pkcs8: Buffer | undefined;
      try {
        checkSignatureAlgorithm(record, algorithmName);
        pkcs8 = unwrapOrThrow(record, current, names);
        // A KeyObject cannot be zeroed from JS: it is made here and its only reference dropped on return.
        const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
        wipe(pkcs8, current);
        return signChecked(record, key, publicKeyOf(record), data, algorithmName);
      } finally {
        wipe(pkcs8, current);
      }
    },
  };
}

/** A batch activation of the soft store (see activateSoftKeyBatch). */
export interface ActivatedSoftBatch extends ActivatedSoftKey {
  readonly signed: number;
  readonly planned: number;
}

/**
 * M-of-N activation for one approved batch (CPS 6.2.9: one access = the plan the people
 * approved; docs/hsm.md "One access"). Same quorum and errors as activateSoftKey. The key object
 * is made once and the KEK and PKCS#8 are wiped at once; sign() accepts only the plan's messages
 * (KEY_BATCH_NOT_IN_PLAN), each once, verifies each signature before releasing it, and the
 * activation ends — the only reference to the key object dropped — after the last planned
 * signature, on any error, or at deactivate(); then sign() throws KEY_NOT_ACTIVE.
 */
export async function activateSoftKeyBatch(
  record: SoftKeyRecord,
  present: UnlockedCredential[],
  plan: SigningPlan,
): Promise<ActivatedSoftBatch> {
  const planned = new PlannedMessages(record.keyId, plan);
  const kek = await recoverKek(record, present);
  let pkcs8: Buffer | undefined;
  let key: KeyObject | undefined;
  try {
    pkcs8 = unwrapOrThrow(
      record,
      kek,
      present.map((c) => c.operator),
    );
    key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } finally {
    wipe(kek, pkcs8);
  }
  const publicKey = publicKeyOf(record);
  let signed = 0;
  const deactivate = () => {
    key = undefined;
  };
  return {
    publicKeySpki: record.publicKeySpki,
    algorithm: record.algorithm,
    get active() {
      return key !== undefined;
    },
    get signed() {
      return signed;
    },
    planned: planned.planned,
    deactivate,
    async sign(data: Uint8Array, algorithmName: SignatureAlgorithmName): Promise<Uint8Array> {
      if (!key) throw keyNotActive(record.keyId, planned);
      try {
        checkSignatureAlgorithm(record, algorithmName);
        planned.take(data);
        const signature = signChecked(record, key, publicKey, data, algorithmName);
        signed++;
        if (planned.remaining === 0) deactivate();
        return signature;
      } catch (e) {
        deactivate();
        throw e;
      }
    },
  };
}

/**
 * Returns the CA private key as PKCS#8 DER, for key-backup ceremonies (CPS 6.2.4, R-6.5) and
 * the at-rest scanning test; needs the same quorum as `activateSoftKey` and throws the same
 * errors. The caller must wipe the result.
 */
export async function reconstructPrivateKeyPkcs8(
  record: SoftKeyRecord,
  present: UnlockedCredential[],
): Promise<Buffer> {
  const kek = await recoverKek(record, present);
  try {
    return unwrapOrThrow(
      record,
      kek,
      present.map((c) => c.operator),
    );
  } finally {
    wipe(kek);
  }
}

/** The port's view of a soft activation (no token: nothing to log out of). */
function asActiveKey(k: ActivatedSoftKey): ActiveKey {
  return {
    publicKeySpki: k.publicKeySpki,
    algorithm: k.algorithm,
    get active() {
      return k.active;
    },
    where: {},
    sign: (data, algorithm) => k.sign(data, algorithm),
    deactivate: () => {
      k.deactivate();
      return {};
    },
  };
}

/**
 * The `soft` adapter of the KeyStore port: the wrapped key and the sealed KEK shares are all
 * there is, and they live in the records, so the key is always present and nothing outside
 * the records holds it when it is destroyed.
 */
export const softKeyStore: KeyStore = {
  name: 'soft',
  async generate(r) {
    const soft = await generateSoftKey({
      keyId: r.keyId,
      algorithm: r.algorithm,
      threshold: r.threshold,
      custodians: r.recipients,
    });
    return {
      record: { ...soft, store: 'soft', locations: [] },
      stored: { ...soft, locations: [] },
      discard: async () => [],
      details: { keyStore: 'soft' },
    };
  },
  open(k) {
    if (!k.wrappedPrivateKey) throw new CaError('KEY_DESTROYED', `key ${k.keyId} was destroyed and cannot sign`);
    const { keyId, algorithm, publicKeySpki, wrappedPrivateKey, threshold, shares } = k;
    return { store: 'soft', keyId, algorithm, publicKeySpki, wrappedPrivateKey, threshold, shares, locations: [] };
  },
  checkPresent() {},
  async activate(key, present) {
    return asActiveKey(await activateSoftKey(key, present));
  },
  async activateBatch(key, present, plan) {
    const k = await activateSoftKeyBatch(key, present, plan);
    return Object.defineProperties(asActiveKey(k), {
      signed: { get: () => k.signed },
      planned: { value: k.planned },
    }) as ActiveBatchKey;
  },
  async destroy() {
    return ['soft'];
  },
};
