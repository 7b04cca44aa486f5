/**
 * Checking a signature over exact TBS bytes (a certificate's, a CRL's, an OCSP ResponseData)
 * with a SubjectPublicKeyInfo, for any signature algorithm of algorithms.ts.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CaError } from '../errors.ts';
import { signatureAlgorithmByOid } from './algorithms.ts';

/**
 * Verifies a signature over exact TBS bytes with a SubjectPublicKeyInfo (DER). Throws
 * CaError('SIGNATURE_ALGORITHM_UNSUPPORTED') for an algorithm outside algorithms.ts and
 * CaError('PUBLIC_KEY_INVALID') for key bytes node:crypto cannot load; a wrong key or a bad
 * signature is `false`.
 */
export function verifyTbsSignature(
  tbsDer: Uint8Array,
  signatureAlgorithmOid: string,
  signature: Uint8Array,
  spkiDer: Uint8Array,
): boolean {
  const info = signatureAlgorithmByOid(signatureAlgorithmOid);
  if (!info) {
    throw new CaError(
      'SIGNATURE_ALGORITHM_UNSUPPORTED',
      `signature algorithm ${signatureAlgorithmOid} is not supported`,
      { details: { oid: signatureAlgorithmOid } },
    );
  }
  const key = publicKeyOfSpki(spkiDer);
  try {
    return verify(info.hash, tbsDer, key, signature);
  } catch {
    return false;
  }
}

/** A node:crypto key from SubjectPublicKeyInfo DER; CaError('PUBLIC_KEY_INVALID') when it cannot be loaded. */
export function publicKeyOfSpki(spkiDer: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch (e) {
    throw new CaError(
      'PUBLIC_KEY_INVALID',
      `not a usable SubjectPublicKeyInfo: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}
