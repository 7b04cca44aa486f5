/**
 * Making a CA key pair in either key store (CPS 6.1.1, 6.2.1; R-6.1, R-6.2). Used by the root
 * key ceremony and by re-keying. Store-agnostic: the caller names the store, the custodians
 * and the threshold, and gets back a record to sign with (`signOnceWithCaKey`) and to
 * persist inside its completing transaction — or to discard if the ceremony fails.
 *
 *   const key = await generateCaKey(inst, { keyId, algorithm, store: { store: 'soft' }, threshold: 2, holders, present });
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
import { keyStoreNamed } from '../keys/key-stores.ts';
import type { CaKeyRecord, KeyStoreName } from '../keys/ports.ts';
import { describeKeyAlgorithm, type KeyAlgorithm } from '../pki/algorithms.ts';
import { progressTask } from '../util/progress.ts';
import { getTokenRecord, tokenPlace, type TokenRecord } from './hsm-tokens.ts';
import type { Installation } from '../installation/installation.ts';
import { storeCaKey } from './key-records.ts';
import { getOperator } from '../people/operators.ts';
import type { Participant } from '../people/participants.ts';

/** Which store, as the ceremony file's `key` section says: its name, and the tokens for pkcs11. */
export interface KeyStoreSpec {
  store: KeyStoreName;
  /** pkcs11: the module, the primary token, the key object's label, the backup tokens (CPS 6.2.4). */
  pkcs11?: { module: string; token: string; keyLabel: string; backupTokens?: string[] };
}

/** What a new CA key is: its id and algorithm, where it is made, and its M-of-N custodians. */
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

/** A key just made: sign with `record`, then persist() in the completing transaction, or discard(). */
export interface NewCaKey {
  record: CaKeyRecord;
  /** Inside the caller's transaction: stores the key record (and where it lives). */
  persist(now: string): void;
  /** After a failure before persist(): deletes key objects made in tokens. Never throws. */
  discard(): Promise<string[]>;
  /** Facts for the ceremony's audit event and transcript. */
  details: Record<string, unknown>;
}

/** The tokens and key object a spec names (none for the soft store). */
function placementOf(spec: KeyStoreSpec): { module: string; tokens: string[]; keyLabel: string } | undefined {
  const t = spec.pkcs11;
  return t && { module: t.module, tokens: [t.token, ...(t.backupTokens ?? [])], keyLabel: t.keyLabel };
}

/** Checks the tokens a spec names against the token register before anyone is asked for a passphrase. */
export function checkKeyStore(
  inst: Installation,
  spec: KeyStoreSpec,
  holders: string[],
  threshold: number,
): TokenRecord[] {
  const placement = placementOf(spec);
  const tokens = (placement?.tokens ?? []).map((label) => getTokenRecord(inst, label));
  for (const t of tokens) {
    if (t.module !== placement!.module) {
      throw new CaError(
        'TOKEN_MODULE_MISMATCH',
        `token ${t.label} was set up with module ${t.module}, the ceremony names ${placement!.module}`,
        { details: { token: t.label } },
      );
    }
    if (t.threshold !== threshold || t.holders.join(',') !== holders.join(',')) {
      throw new CaError(
        'TOKEN_CUSTODIANS_MISMATCH',
        `token ${t.label}'s PIN is held ${t.threshold}-of-${t.holders.length} by ${t.holders.join(', ')}; the ceremony names ${threshold}-of-${holders.length} ${holders.join(', ')}. The key's custodians are its token's PIN holders (CPS 6.4.1)`,
        { details: { token: t.label } },
      );
    }
  }
  return tokens;
}

/** Makes the key in the store the spec names, through the KeyStore port. */
export async function generateCaKey(inst: Installation, p: GenerateCaKeyParams): Promise<NewCaKey> {
  const generating = progressTask(`generating the ${describeKeyAlgorithm(p.algorithm)} key`);
  try {
    const placement = placementOf(p.store);
    const tokens = checkKeyStore(inst, p.store, p.holders, p.threshold).map((t) => tokenPlace(inst, t));
    const store = keyStoreNamed(p.store.store, p.keyId);
    const made = await store.generate({
      keyId: p.keyId,
      algorithm: p.algorithm,
      threshold: p.threshold,
      present: p.present.map((c) => c.credential),
      recipients: p.holders.map((h) => ({
        name: h,
        encryptionPublicKey: getOperator(inst, h).credential.encryptionPublicKey,
      })),
      placement: placement && { tokens, object: { label: placement.keyLabel, id: inst.random(16) } },
    });
    return {
      record: made.record,
      persist: (now) => storeCaKey(inst, store.name, made.stored, now),
      discard: made.discard,
      details: made.details,
    };
  } finally {
    generating.done();
  }
}
