/**
 * The `pkcs11` adapter of the KeyStore port (CONVENTIONS 8; CPS 6.2.8, 6.2.9, 6.2.10). Activation
 * logs in to the first token holding the key that is present, with the user PIN rebuilt from
 * M custodians' shares, and finds the key; the activation signs once (or exactly the messages
 * of one approved batch, CPS 6.2.9), verifies each signature against the recorded public key,
 * then logs out and closes the session, whatever happened in between. Destruction removes the key from every token holding it, primary and backups.
 */
import { createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import type { UnlockedCredential } from './credential.ts';
import { generateInTokens } from './pkcs11-generate.ts';
import { destroyKeyPair, findKeyPair, signInToken } from './pkcs11-keys.ts';
import {
  endSession,
  findToken,
  logIn,
  openSession,
  pkcs11Module,
  tokenError,
  withLoggedInSession,
  type Handle,
  type SessionEnd,
  type TokenRef,
} from './pkcs11-module.ts';
import { recoverUserPin } from './pkcs11-shares.ts';
import type {
  ActiveBatchKey,
  CaKeyRecord,
  DestroyReport,
  KeyObjectRef,
  KeyStore,
  Pkcs11Location,
  Signer,
  SigningPlan,
} from './ports.ts';
import { keyNotActive, PlannedMessages } from './signing-plan.ts';
import { wipe } from './wipe.ts';

/** A Signer from a token session, plus a way to end the session unused. */
export interface ActivatedPkcs11Key extends Signer {
  /** Logs out and closes the session if still open; returns what that achieved. Idempotent. */
  deactivate(): SessionEnd;
  readonly active: boolean;
  /** Signatures made so far (1 at most without a plan). */
  readonly signed: number;
}

/** A token and the key object in it. */
export interface Pkcs11KeyLocation extends TokenRef {
  object: KeyObjectRef;
}

/**
 * Logs in and finds the key: TOKEN_NOT_FOUND, TOKEN_PIN_INCORRECT, TOKEN_KEY_NOT_FOUND,
 * TOKEN_UNAVAILABLE. Without `plan` the activation signs once; with one it signs exactly the
 * plan's messages (KEY_BATCH_NOT_IN_PLAN for any other; CPS 6.2.9, one access = one approved
 * batch). Either way the session is logged out and closed after the last signature or any error.
 */
export function activatePkcs11Key(
  loc: Pkcs11KeyLocation,
  algorithm: KeyAlgorithm,
  publicKeySpki: Buffer,
  pin: Buffer,
  keyId: string,
  plan?: PlannedMessages,
): ActivatedPkcs11Key {
  const mod = pkcs11Module(loc.module);
  const opened = openSession(mod, loc);
  let session: Handle | undefined = opened;
  let loggedIn = false;
  let end: SessionEnd = { loggedOut: false, closed: false };
  const deactivate = (): SessionEnd => {
    if (!session) return end;
    const s = session;
    session = undefined;
    end = endSession(mod, s, loggedIn);
    return end;
  };
  let privateKey: Handle;
  try {
    logIn(mod, opened, 'user', pin, loc.label);
    loggedIn = true;
    try {
      privateKey = findKeyPair(mod, opened, loc.object, loc.label).privateKey;
    } catch (e) {
      throw tokenError(e, loc.label, `finding key "${loc.object.label}"`);
    }
  } catch (e) {
    deactivate();
    throw e;
  }
  const publicKey = createPublicKey({ key: publicKeySpki, format: 'der', type: 'spki' });
  let signed = 0;
  return {
    publicKeySpki,
    algorithm,
    get active() {
      return session !== undefined;
    },
    get signed() {
      return signed;
    },
    deactivate,
    async sign(data: Uint8Array, name: SignatureAlgorithmName): Promise<Uint8Array> {
      if (!session) throw keyNotActive(keyId, plan);
      let done = true;
      try {
        plan?.take(data);
        const signature = signAndCheck(mod, session, privateKey, { keyId, loc, algorithm, publicKey }, data, name);
        signed++;
        done = !plan || plan.remaining === 0;
        return signature;
      } finally {
        if (done) deactivate();
      }
    },
  };
}

/** Signs in the token and verifies the signature with the recorded public key before releasing it. */
function signAndCheck(
  mod: ReturnType<typeof pkcs11Module>,
  session: Handle,
  privateKey: Handle,
  k: { keyId: string; loc: Pkcs11KeyLocation; algorithm: KeyAlgorithm; publicKey: KeyObject },
  data: Uint8Array,
  name: SignatureAlgorithmName,
): Buffer {
  let signature: Buffer;
  try {
    signature = signInToken(mod, session, privateKey, k.algorithm, name, data);
  } catch (e) {
    throw tokenError(e, k.loc.label, `signing with key "${k.loc.object.label}"`, 'TOKEN_SIGN_FAILED');
  }
  const info = SIGNATURE_ALGORITHMS[name];
  const key = k.publicKey;
  const ok =
    k.algorithm.kind === 'rsa'
      ? cryptoVerify(info.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
      : cryptoVerify(info.hash, data, { key, dsaEncoding: 'der' }, signature);
  if (!ok)
    throw new CaError(
      'SIGNATURE_SELF_CHECK_FAILED',
      `key ${k.keyId}: the token's signature does not verify with the recorded public key; it was not released`,
      { details: { keyId: k.keyId, token: k.loc.label } },
    );
  return signature;
}

const refOf = (l: Pkcs11Location): TokenRef => ({ module: l.module, label: l.token, serial: l.serial });

/** The first token holding the key that is present; TOKEN_NOT_FOUND when none is. */
function presentLocation(key: { keyId: string; locations: Pkcs11Location[] }): Pkcs11Location {
  const missing: string[] = [];
  for (const loc of key.locations) {
    try {
      findToken(refOf(loc));
      return loc;
    } catch (e) {
      if (!(e instanceof CaError) || !['TOKEN_NOT_FOUND', 'TOKEN_UNAVAILABLE'].includes(e.code)) throw e;
      missing.push(loc.token);
    }
  }
  throw new CaError(
    'TOKEN_NOT_FOUND',
    `key ${key.keyId}: none of the tokens holding it is present (${missing.join(', ')})`,
    {
      details: { keyId: key.keyId, tokens: missing },
    },
  );
}

/** CPS 6.2.10: every token must be here before anything is deleted ("the backup Private Keys are also disposed of"). */
function checkEveryPresent(key: { keyId: string; locations: Pkcs11Location[] }): void {
  const missing = key.locations.filter((l) => {
    try {
      findToken(refOf(l));
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    throw new CaError(
      'TOKEN_NOT_FOUND',
      `key ${key.keyId} is held by token(s) ${missing.map((l) => l.token).join(', ')} which are not present; bring every token holding the key (primary and backups) to destroy it`,
    );
  }
}

/**
 * The user PIN of the first present token holding the key is rebuilt only in memory and wiped
 * after login. With `plan`, the activation is a batch (see activatePkcs11Key).
 */
async function activateInToken(
  key: CaKeyRecord,
  present: UnlockedCredential[],
  plan?: SigningPlan,
): Promise<ActiveBatchKey> {
  const planned = plan && new PlannedMessages(key.keyId, plan);
  const loc = presentLocation(key);
  const pin = await recoverUserPin(loc, present);
  let k: ActivatedPkcs11Key;
  try {
    const ref = { ...refOf(loc), object: loc.object };
    k = activatePkcs11Key(ref, key.algorithm, key.publicKeySpki, pin, key.keyId, planned);
  } finally {
    wipe(pin);
  }
  return {
    publicKeySpki: k.publicKeySpki,
    algorithm: k.algorithm,
    get active() {
      return k.active;
    },
    get signed() {
      return k.signed;
    },
    planned: planned?.planned ?? 1,
    where: { store: 'pkcs11', token: loc.token },
    sign: (data, algorithm) => k.sign(data, algorithm),
    deactivate: () => {
      const end = k.deactivate();
      return { loggedOut: end.loggedOut, sessionClosed: end.closed };
    },
  };
}

/** Token by token, each reported as it goes, so a failure on a later token leaves an exact record. */
async function destroyInTokens(
  key: { locations: Pkcs11Location[] },
  present: UnlockedCredential[],
  report: DestroyReport,
): Promise<string[]> {
  const destroyedIn: string[] = [];
  for (const l of key.locations) {
    let pin: Buffer | undefined;
    try {
      pin = await recoverUserPin(l, present);
      let end: SessionEnd | undefined;
      const objects = await withLoggedInSession(
        refOf(l),
        pin,
        'user',
        (mod, s) => destroyKeyPair(mod, s, l.object, l.token),
        (e) => {
          end = e;
        },
      );
      report.destroyed({ location: l, objects, loggedOut: end?.loggedOut, sessionClosed: end?.closed });
      destroyedIn.push(`pkcs11:${l.token}`);
    } catch (e) {
      const err = e instanceof CaError ? e : new CaError('TOKEN_DESTROY_FAILED', (e as Error).message, { cause: e });
      report.failed(l, err, destroyedIn);
      throw err;
    } finally {
      wipe(pin);
    }
  }
  return destroyedIn;
}

/** The `pkcs11` adapter: the key stays in its tokens; the records say which tokens and hold their PIN shares. */
export const pkcs11KeyStore: KeyStore = {
  name: 'pkcs11',
  generate(r) {
    if (!r.placement?.tokens.length)
      throw new CaError('INVALID_ARGUMENT', `key ${r.keyId}: the pkcs11 store needs the tokens to make the key in`);
    return generateInTokens(r, r.placement.tokens, r.placement.object);
  },
  open(k) {
    const first = k.locations[0];
    if (!first) throw new CaError('KEY_DESTROYED', `key ${k.keyId} is held by no token any more and cannot sign`);
    const { keyId, algorithm, publicKeySpki, locations } = k;
    return {
      store: 'pkcs11',
      keyId,
      algorithm,
      publicKeySpki,
      wrappedPrivateKey: Buffer.alloc(0),
      threshold: first.threshold,
      shares: first.shares,
      locations,
    };
  },
  checkPresent(key, need) {
    if (need === 'every') checkEveryPresent(key);
    else presentLocation(key);
  },
  activate: (key, present) => activateInToken(key, present),
  activateBatch: activateInToken,
  destroy: destroyInTokens,
};
