/**
 * The `pkcs11` key store behind the Signer port (CONVENTIONS 8; CPS 6.2.8, 6.2.9). Activation
 * logs in to the token with the user PIN (rebuilt by the caller from M custodians' shares) and
 * finds the key; the activation signs once, verifies the signature against the recorded
 * public key, then logs out and closes the session, whatever happened in between.
 */
import { createPublicKey, verify as cryptoVerify, constants } from 'node:crypto';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { findKeyPair, signInToken, type KeyObjectRef } from './pkcs11-keys.ts';
import { findToken, P11, pkcs11Module, tokenError, type Handle, type SessionEnd, type TokenRef } from './pkcs11-module.ts';
import type { Signer } from './ports.ts';

export interface ActivatedPkcs11Key extends Signer {
  /** Logs out and closes the session if still open; returns what that achieved. Idempotent. */
  deactivate(): SessionEnd;
  readonly active: boolean;
}

export interface Pkcs11KeyLocation extends TokenRef {
  object: KeyObjectRef;
}

/** Logs in and finds the key: TOKEN_NOT_FOUND, TOKEN_PIN_INCORRECT, TOKEN_KEY_NOT_FOUND, TOKEN_UNAVAILABLE. */
export function activatePkcs11Key(loc: Pkcs11KeyLocation, algorithm: KeyAlgorithm, publicKeySpki: Buffer, pin: Buffer, keyId: string): ActivatedPkcs11Key {
  const mod = pkcs11Module(loc.module);
  const token = findToken(loc);
  let session: Handle | undefined;
  try {
    session = mod.C_OpenSession(token.slot, P11.CKF_SERIAL_SESSION | P11.CKF_RW_SESSION);
  } catch (e) {
    throw tokenError(e, loc.label, 'opening a session');
  }
  let loggedIn = false;
  const end: SessionEnd = { loggedOut: false, closed: false };
  const deactivate = (): SessionEnd => {
    if (!session) return end;
    const s = session;
    session = undefined;
    if (loggedIn) {
      try {
        mod.C_Logout(s);
        end.loggedOut = true;
      } catch {
        // a removed token has no login left to end
      }
    }
    try {
      mod.C_CloseSession(s);
      end.closed = true;
    } catch {
      // as above
    }
    return end;
  };
  let privateKey: Handle;
  try {
    try {
      mod.C_Login(session, P11.CKU_USER, pin.toString('latin1'));
      loggedIn = true;
    } catch (e) {
      throw tokenError(e, loc.label, 'logging in');
    }
    try {
      privateKey = findKeyPair(mod, session, loc.object, loc.label).privateKey;
    } catch (e) {
      throw tokenError(e, loc.label, `finding key "${loc.object.label}"`);
    }
  } catch (e) {
    deactivate();
    throw e;
  }
  return {
    publicKeySpki,
    algorithm,
    get active() {
      return session !== undefined;
    },
    deactivate,
    async sign(data: Uint8Array, name: SignatureAlgorithmName): Promise<Uint8Array> {
      if (!session) throw new CaError('KEY_NOT_ACTIVE', `key ${keyId} is not active: an activation signs once (CPS 6.2.9); activate it again with a quorum`, { details: { keyId } });
      const s = session;
      try {
        let signature: Buffer;
        try {
          signature = signInToken(mod, s, privateKey, algorithm, name, data);
        } catch (e) {
          throw tokenError(e, loc.label, `signing with key "${loc.object.label}"`, 'TOKEN_SIGN_FAILED');
        }
        const info = SIGNATURE_ALGORITHMS[name];
        const key = createPublicKey({ key: publicKeySpki, format: 'der', type: 'spki' });
        const ok = algorithm.kind === 'rsa'
          ? cryptoVerify(info.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
          : cryptoVerify(info.hash, data, { key, dsaEncoding: 'der' }, signature);
        if (!ok) throw new CaError('SIGNATURE_SELF_CHECK_FAILED', `key ${keyId}: the token's signature does not verify with the recorded public key; it was not released`, { details: { keyId, token: loc.label } });
        return signature;
      } finally {
        deactivate();
      }
    },
  };
}
