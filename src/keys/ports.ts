/**
 * Ports of the key layer (CONVENTIONS 8): a `KeyStore` holds CA keys; activating one with a
 * quorum of custodians yields a `Signer` good for exactly one signing operation (CPS 6.2.9).
 * Adapters: `soft` (this folder's software store) and, later, `pkcs11`.
 */
import type { KeyAlgorithm, SignatureAlgorithmName } from '../pki/algorithms.ts';

/** One signing operation with an activated CA key. */
export interface Signer {
  /** DER SubjectPublicKeyInfo of the key. */
  readonly publicKeySpki: Uint8Array;
  readonly algorithm: KeyAlgorithm;
  /**
   * Signs `data` (the whole message, hashed inside) and deactivates the key.
   * Returns the signature as it goes into a BIT STRING: PKCS#1 v1.5 bytes for RSA, a DER
   * ECDSA-Sig-Value for ECDSA. A second call fails with KEY_NOT_ACTIVE.
   */
  sign(data: Uint8Array, algorithm: SignatureAlgorithmName): Promise<Uint8Array>;
}

/** A person proving presence: their operator name and passphrase (never stored). */
export interface CustodianPresence {
  operator: string;
  passphrase: Buffer;
}
