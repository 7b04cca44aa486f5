/**
 * Ports of the key layer (CONVENTIONS 8): a `KeyStore` holds CA keys; activating one with a
 * quorum of custodians yields a `Signer` good for exactly one signing operation, or, for a batch
 * the people approved as one plan, for exactly the planned messages (CPS 6.2.9; see
 * docs/hsm.md "One access").
 * Adapters: `soft` (soft-store.ts: the key wrapped under a KEK split M-of-N) and `pkcs11`
 * (pkcs11-store.ts: the key inside tokens whose PINs are split M-of-N); `keyStoreNamed` in
 * key-stores.ts picks one by the name a key record carries.
 */
import type { CaError } from '../errors.ts';
import type { KeyAlgorithm, SignatureAlgorithmName } from '../pki/algorithms.ts';
import type { UnlockedCredential } from './credential.ts';

/** One signing operation with an activated CA key. */
export interface Signer {
  /** DER SubjectPublicKeyInfo of the key. */
  readonly publicKeySpki: Uint8Array;
  readonly algorithm: KeyAlgorithm;
  /**
   * Signs `data` (the whole message, hashed inside) and deactivates the key.
   * Returns the signature as it goes into a BIT STRING: PKCS#1 v1.5 bytes for RSA, a DER
   * ECDSA-Sig-Value for ECDSA. A second call fails with KEY_NOT_ACTIVE (a batch activation:
   * once its planned messages are signed).
   */
  sign(data: Uint8Array, algorithm: SignatureAlgorithmName): Promise<Uint8Array>;
}

/** One custodian's share of a key's activation data, sealed to their credential's encryption key. */
export interface SealedShare {
  custodian: string;
  /** 1-based position of the share; also inside the sealed plaintext, so a moved row is caught. */
  index: number;
  sealed: Buffer;
}

/** A custodian to receive a share: their operator name and credential encryption key (SPKI DER). */
export interface ShareRecipient {
  name: string;
  encryptionPublicKey: Buffer;
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

/** Where a key lives in a token: its CKA_LABEL and CKA_ID (both on the private and public object). */
export interface KeyObjectRef {
  label: string;
  id: Buffer;
}

/** A registered token (HSM partition): where to find it and the sealed shares of its user PIN. */
export interface TokenPlace {
  tokenId: number;
  token: string;
  serial: string;
  module: string;
  threshold: number;
  /** Sealed shares of the token's user PIN. */
  shares: SealedShare[];
}

/** One token holding a pkcs11 CA key, with what is needed to log in to it. */
export interface Pkcs11Location extends TokenPlace {
  role: 'primary' | 'backup';
  object: KeyObjectRef;
}

/** The names of the adapters, as `ca_keys.store` and the ceremony file's `key.store` spell them. */
export type KeyStoreName = 'soft' | 'pkcs11';

/**
 * A CA key of either store. For `pkcs11`, `wrappedPrivateKey` is empty and `threshold` and
 * `shares` are the primary token's user-PIN ones (all tokens of a key have the same custodians).
 */
export interface CaKeyRecord extends SoftKeyRecord {
  store: KeyStoreName;
  /** pkcs11 only: the tokens holding the key, primary first. */
  locations: Pkcs11Location[];
}

/** What the records hold about a key, before its store says whether it can still sign. */
export interface StoredKeyParts {
  keyId: string;
  algorithm: KeyAlgorithm;
  publicKeySpki: Buffer;
  wrappedPrivateKey: Buffer | null;
  threshold: number;
  /** The soft store's sealed KEK shares (none for a token key). */
  shares: SealedShare[];
  /** The tokens still holding the key (none for a soft key). */
  locations: Pkcs11Location[];
}

/** An activated CA key: a Signer for one signature, ended by deactivate() whatever happened. */
export interface ActiveKey extends Signer {
  readonly active: boolean;
  /** For the audit record: the token used, when the key is in one. */
  readonly where: { store?: 'pkcs11'; token?: string };
  /** Ends the activation (KEK wiped; token logged out, session closed); says what that achieved. */
  deactivate(): { loggedOut?: boolean; sessionClosed?: boolean };
}

/**
 * What a batch activation may sign (CPS 6.2.9, one access = one approved plan): exactly these
 * messages, each once, in any order; anything else is refused (KEY_BATCH_NOT_IN_PLAN) and ends
 * the activation, which also ends after the last planned message is signed.
 */
export interface SigningPlan {
  /** What the batch is for (e.g. "2002 OCSP responses of rootca2"), for messages and the record. */
  purpose: string;
  /** The exact bytes to be signed (e.g. each OCSP tbsResponseData), built before activation. */
  messages: readonly Uint8Array[];
}

/** A batch activation: an ActiveKey that signs the planned messages and then deactivates itself. */
export interface ActiveBatchKey extends ActiveKey {
  /** Signatures made so far. */
  readonly signed: number;
  /** Messages in the plan. */
  readonly planned: number;
}

/** What a new CA key needs, whichever store makes it (CPS 6.1.1, 6.2.1; ). */
export interface NewKeyRequest {
  keyId: string;
  algorithm: KeyAlgorithm;
  /** M: custodians needed to activate (>= 2, CPS 6.4.1). */
  threshold: number;
  /** N: the custodians receiving shares, in share order. */
  recipients: ShareRecipient[];
  /** Custodians present (unlocked); the pkcs11 store needs M of them to log in. */
  present: UnlockedCredential[];
  /** pkcs11: the registered tokens to make the key in (primary first, then backups) and its object. */
  placement?: { tokens: TokenPlace[]; object: KeyObjectRef };
}

/** A key just made, not yet recorded: the caller keeps `stored` in its records or calls discard(). */
export interface NewKey {
  record: CaKeyRecord;
  /** What the records keep: the soft store's wrapped key and KEK shares, or the tokens holding it. */
  stored: StoredKeyParts;
  /** After a failure before the record is kept: deletes key objects made in tokens. Never throws. */
  discard(): Promise<string[]>;
  /** Facts for the ceremony's audit event and transcript. */
  details: Record<string, unknown>;
}

/** What destroying a key in one place achieved, reported as it happens (CPS 6.2.10). */
export interface DestroyedPlace {
  location: Pkcs11Location;
  objects: number;
  loggedOut?: boolean;
  sessionClosed?: boolean;
}

/** Told about each place as the key is removed from it, so a failure midway leaves an exact record. */
export interface DestroyReport {
  destroyed(place: DestroyedPlace): void;
  failed(location: Pkcs11Location, error: CaError, alreadyDestroyedIn: string[]): void;
}

/** Where CA keys live and what custody does with them there (CPS 6.2). */
export interface KeyStore {
  readonly name: KeyStoreName;
  /** Makes a key with its activation data split M-of-N among the recipients (CPS 6.2.2, 6.4.1). */
  generate(request: NewKeyRequest): Promise<NewKey>;
  /** The key as this store holds it; KEY_DESTROYED when nothing able to sign is left. */
  open(parts: StoredKeyParts): CaKeyRecord;
  /**
   * Before anyone is asked for a passphrase (TOKEN_NOT_FOUND otherwise): one place holding the
   * key can be reached, to sign; or every one, to destroy it everywhere (CPS 6.2.10).
   */
  checkPresent(key: { keyId: string; locations: Pkcs11Location[] }, need: 'one' | 'every'): void;
  /** M custodians activate the key for exactly one signature (CPS 6.2.8, 6.2.9). */
  activate(key: CaKeyRecord, present: UnlockedCredential[]): Promise<ActiveKey>;
  /**
   * M custodians activate the key for one approved batch (CPS 6.2.9 as docs/hsm.md "One access"
   * reads it): it signs only the plan's messages, each once, each verified before release, and is
   * deactivated after the last one, on any error, or by deactivate(). Refuses an empty plan.
   */
  activateBatch(key: CaKeyRecord, present: UnlockedCredential[], plan: SigningPlan): Promise<ActiveBatchKey>;
  /**
   * Removes the key from every place outside the records that holds it, backups included
   * (CPS 6.2.10), after checkPresent(key, 'every'). Returns where it was destroyed.
   */
  destroy(
    key: { keyId: string; locations: Pkcs11Location[] },
    present: UnlockedCredential[],
    report: DestroyReport,
  ): Promise<string[]>;
}
