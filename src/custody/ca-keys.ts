/**
 * Making a CA key pair in either key store (CPS 6.1.1, 6.2.1; R-6.1, R-6.2). Used by the root
 * key ceremony and by re-keying. Store-agnostic: the caller names the store, the custodians
 * and the threshold, and gets back a record to sign with (`signOnceWithCaKey`) and to
 * persist inside its completing transaction — or to discard if the ceremony fails.
 *
 *   const key = await generateCaKey(inst, { keyId, algorithm, store: { store: 'soft' }, threshold: 2, holders: ['alice','bob','carol'], present });
 *   try { sig = await signOnceWithCaKey(inst, { record: key.record, custodians: present, ... }, tbs, alg);
 *         inst.db.transaction(() => { key.persist(now); ... }).immediate(); }
 *   catch (e) { await key.discard(); throw e; }
 *
 * soft: the key is generated in memory, wrapped under a KEK split M-of-N to `holders`; nothing
 *   exists outside the returned record until persist().
 * pkcs11: the key is generated inside the named token (set up with `rootca token init`, whose
 *   PIN holders and threshold must be `holders`/`threshold`), with the PIN rebuilt from the
 *   `present` custodians' shares; sensitive and non-extractable; backed up to `backupTokens`
 *   in the same session; discard() deletes what was made from every token.
 */
import { CaError } from '../errors.ts';
import { generateKeyPairInToken, keyProtection, publicKeySpkiOf, destroyKeyPair, labelInUse, type KeyObjectRef } from '../keys/pkcs11-keys.ts';
import { sealAgainstExtraction } from '../keys/pkcs11-backup.ts';
import { withLoggedInSession, tokenError, type SessionEnd } from '../keys/pkcs11-module.ts';
import { recoverFromCustodians } from '../keys/pkcs11-shares.ts';
import { generateSoftKey } from '../keys/soft-store.ts';
import { wipe } from '../keys/wipe.ts';
import { describeKeyAlgorithm, type KeyAlgorithm } from '../pki/algorithms.ts';
import { progressTask } from '../util/progress.ts';
import { getTokenRecord, pinContext, pinShares, storeKeyObject, type TokenRecord } from './hsm-tokens.ts';
import type { Installation } from '../installation/installation.ts';
import { backupIntoTokens, type BackupRecord } from './key-backup.ts';
import { storePkcs11Key, storeSoftKey, type CaKeyRecord } from './key-records.ts';
import { getOperator } from '../people/operators.ts';
import type { Participant } from '../people/participants.ts';

/** Which store, as the ceremony file's `key` section says. */
export type KeyStoreSpec =
  | { store: 'soft' }
  | { store: 'pkcs11'; module: string; token: string; keyLabel: string; backupTokens?: string[] };

export interface GenerateCaKeyParams {
  keyId: string;
  algorithm: KeyAlgorithm;
  store: KeyStoreSpec;
  /** M: custodians needed to activate (>= 2). */
  threshold: number;
  /** N: operator names of the custodians who receive shares. */
  holders: string[];
  /** Custodians present (unlocked); the pkcs11 store needs M of them to log in. */
  present: Participant[];
}

export interface NewCaKey {
  record: CaKeyRecord;
  /** Inside the caller's transaction: stores the key record (and where it lives). */
  persist(now: string): void;
  /** After a failure before persist(): deletes key objects made in tokens. Never throws. */
  discard(): Promise<string[]>;
  /** Facts for the ceremony's audit event and transcript. */
  details: Record<string, unknown>;
}

/** Checks a pkcs11 spec against the token register before anyone is asked for a passphrase. */
export function checkKeyStore(inst: Installation, spec: KeyStoreSpec, holders: string[], threshold: number): TokenRecord[] {
  if (spec.store === 'soft') return [];
  const tokens = [spec.token, ...(spec.backupTokens ?? [])].map((label) => getTokenRecord(inst, label));
  for (const t of tokens) {
    if (t.module !== spec.module) throw new CaError('TOKEN_MODULE_MISMATCH', `token ${t.label} was set up with module ${t.module}, the ceremony names ${spec.module}`, { details: { token: t.label } });
    if (t.threshold !== threshold || t.holders.join(',') !== holders.join(',')) {
      throw new CaError('TOKEN_CUSTODIANS_MISMATCH', `token ${t.label}'s PIN is held ${t.threshold}-of-${t.holders.length} by ${t.holders.join(', ')}; the ceremony names ${threshold}-of-${holders.length} ${holders.join(', ')}. The key's custodians are its token's PIN holders (CPS 6.4.1)`, { details: { token: t.label } });
    }
  }
  return tokens;
}

export async function generateCaKey(inst: Installation, p: GenerateCaKeyParams): Promise<NewCaKey> {
  const generating = progressTask(`generating the ${describeKeyAlgorithm(p.algorithm)} key`);
  if (p.store.store === 'soft') {
    const soft = await generateSoftKey({
      keyId: p.keyId, algorithm: p.algorithm, threshold: p.threshold,
      custodians: p.holders.map((h) => ({ name: h, encryptionPublicKey: getOperator(inst, h).credential.encryptionPublicKey })),
    }).finally(() => generating.done());
    return {
      record: { ...soft, store: 'soft', locations: [] },
      persist: (now) => storeSoftKey(inst, soft, now),
      discard: async () => [],
      details: { keyStore: 'soft' },
    };
  }
  return generateInToken(inst, p, p.store).finally(() => generating.done());
}

async function generateInToken(inst: Installation, p: GenerateCaKeyParams, spec: Extract<KeyStoreSpec, { store: 'pkcs11' }>): Promise<NewCaKey> {
  const [primary, ...backups] = checkKeyStore(inst, spec, p.holders, p.threshold);
  const object: KeyObjectRef = { label: spec.keyLabel, id: inst.random(16) };
  const creds = p.present.map((c) => c.credential);
  const made: TokenRecord[] = [];
  const discard = async (): Promise<string[]> => {
    const removed: string[] = [];
    for (const t of made) {
      let pin: Buffer | undefined;
      try {
        pin = await recoverFromCustodians(pinContext(t, 'user'), t.threshold, pinShares(inst, t.id, 'user'), creds);
        await withLoggedInSession({ module: t.module, label: t.label, serial: t.serial }, pin, 'user', (mod, s) => destroyKeyPair(mod, s, object, t.label));
        removed.push(t.label);
      } catch {
        // reported by the caller's failure record: the token lists what could not be removed
      } finally {
        wipe(pin);
      }
    }
    return removed;
  };
  let publicKeySpki!: Buffer;
  let backupRecords: BackupRecord[] = [];
  let protection!: ReturnType<typeof keyProtection>;
  let sessionEnd: SessionEnd | undefined;
  const pin = await recoverFromCustodians(pinContext(primary!, 'user'), primary!.threshold, pinShares(inst, primary!.id, 'user'), creds);
  try {
    await withLoggedInSession({ module: primary!.module, label: primary!.label, serial: primary!.serial }, pin, 'user', async (mod, session) => {
      if (labelInUse(mod, session, object.label)) throw new CaError('KEY_LABEL_IN_USE', `token ${primary!.label} already holds an object labelled "${object.label}"; CA key labels are unique`, { details: { token: primary!.label, keyLabel: object.label } });
      let pair;
      try {
        // Extractable only for the few calls until the backups are made, then never again.
        pair = generateKeyPairInToken(mod, session, p.algorithm, object, backups.length > 0);
      } catch (e) {
        throw tokenError(e, primary!.label, 'generating the key pair', 'TOKEN_KEYGEN_FAILED');
      }
      made.push(primary!);
      publicKeySpki = publicKeySpkiOf(mod, session, pair.publicKey, p.algorithm);
      if (backups.length) {
        try {
          backupRecords = await backupIntoTokens(inst, {
            keyId: p.keyId, algorithm: p.algorithm, object, backups, threshold: p.threshold, present: p.present,
            source: { mod, session, privateKey: pair.privateKey, publicKey: pair.publicKey },
            recipients: p.holders.map((h) => ({ name: h, encryptionPublicKey: getOperator(inst, h).credential.encryptionPublicKey })),
          });
        } finally {
          made.push(...backups.filter((b) => !made.includes(b)));
          try {
            sealAgainstExtraction(mod, session, pair.privateKey);
          } catch {
            // checked just below: a key still extractable fails the ceremony and is discarded
          }
        }
      }
      protection = keyProtection(mod, session, pair.privateKey);
      if (!protection.token || !protection.private || !protection.sensitive || protection.extractable) {
        throw new CaError('TOKEN_KEY_NOT_PROTECTED', `token ${primary!.label} did not keep the key sensitive and non-extractable (${JSON.stringify(protection)})`, { details: { protection } });
      }
    }, (end) => { sessionEnd = end; });
  } catch (e) {
    const removed = await discard();
    if (e instanceof CaError) e.details.keyRemovedFrom = removed;
    throw e;
  } finally {
    wipe(pin);
  }
  const locations = [primary!, ...backups].map((t, i) => ({
    tokenId: t.id, token: t.label, serial: t.serial, module: t.module, role: (i === 0 ? 'primary' : 'backup') as 'primary' | 'backup', object, threshold: t.threshold, shares: pinShares(inst, t.id, 'user'),
  }));
  const record: CaKeyRecord = { store: 'pkcs11', keyId: p.keyId, algorithm: p.algorithm, publicKeySpki, wrappedPrivateKey: Buffer.alloc(0), threshold: p.threshold, shares: locations[0]!.shares, locations };
  return {
    record,
    persist(now) {
      storePkcs11Key(inst, record, now);
      for (const l of locations) storeKeyObject(inst, { keyId: p.keyId, tokenId: l.tokenId, object, role: l.role, now });
    },
    discard,
    details: {
      keyStore: 'pkcs11', module: spec.module, token: primary!.label, tokenSerial: primary!.serial, keyLabel: object.label, keyObjectId: object.id.toString('hex'),
      protection: { sensitive: protection.sensitive, extractable: protection.extractable, private: protection.private, token: protection.token },
      backups: backupRecords,
      // CPS 6.2.9: the generation session was logged out and closed before the certificate is signed.
      generationSession: { loggedOut: sessionEnd?.loggedOut ?? false, closed: sessionEnd?.closed ?? false },
    },
  };
}
