/**
 * A root's delegated keys (OCSP responder, publication; custody/delegated-keys.ts) as a key
 * session signs with them: in a session opened for the delegated key itself, or beside the
 * root key when the root's custodians present also hold the delegated key (BR 6.1.7: the root
 * key itself signs only certificates and CRLs).
 */
import { signBatchWithCaKey, signOnceWithCaKey } from '../custody/activation.ts';
import { delegatedSigner, type DelegatedPurpose, type DelegatedSigner } from '../custody/delegated-signers.ts';
import { keyCustodians, loadCaKey } from '../custody/key-records.ts';
import type { Installation } from '../installation/installation.ts';
import type { KeySession } from '../operation/key-session.ts';
import type { CaKeyRecord } from '../keys/ports.ts';
import type { Participant } from '../people/participants.ts';

/** A delegated key as a session signs with it. */
export type DelegatedInSession = DelegatedSigner & {
  sign(data: Uint8Array, purpose: string): Promise<Buffer>;
  /** One activation for an approved batch: exactly `messages`, each once (CPS 6.2.9, signBatchWithCaKey). */
  signBatch(messages: readonly Uint8Array[], purpose: string): Promise<Buffer[]>;
};

/** In a session opened for the delegated key itself (`rootca ocsp presign`, `rootca publish`): the session's own signatures. */
export function delegatedOfSession(s: KeySession, key: DelegatedSigner): DelegatedInSession {
  return {
    ...key,
    sign: (data, purpose) => s.sign(data, key.algorithm, purpose),
    signBatch: (messages, purpose) => s.signBatch(messages, key.algorithm, purpose),
  };
}

/**
 * In a root key session (a revocation, a CA's end, the status ceremony): the CA's delegated key
 * for `purpose`, activated by the custodians present who hold it, when it is in date now (and
 * passes `inDate`, e.g. a responder's window for a response made now); undefined otherwise.
 */
export function delegatedBesideRoot(
  inst: Installation,
  s: KeySession,
  purpose: DelegatedPurpose,
  inDate: (key: DelegatedSigner) => void = () => {},
): DelegatedInSession | undefined {
  let key: DelegatedSigner;
  try {
    key = delegatedSigner(inst, s.ca, purpose, inst.clock.now());
    inDate(key);
  } catch {
    return undefined;
  }
  const held = holdersPresent(inst, s, key.keyId);
  if (!held) return undefined;
  const params = (why: string) => ({ record: held.record, custodians: held.present, purpose: why, target: s.ca.name });
  return {
    ...key,
    // Counted in the session beside its own key's (the transcript's keyActivations, per key).
    sign: async (data, why) => {
      const signature = await signOnceWithCaKey(inst, params(why), data, key.algorithm);
      s.countActivation(key.keyId);
      return signature;
    },
    signBatch: async (messages, why) => {
      const signatures = await signBatchWithCaKey(inst, params(why), messages, key.algorithm);
      s.countActivation(key.keyId);
      return signatures;
    },
  };
}

/**
 * The session's custodians who hold the delegated key `keyId`, with its record, when they are
 * at least its threshold (CPS 6.2.8); undefined otherwise. Whether its certificate is in date
 * is not asked here (the status ceremony re-certifies a key whose certificate runs out).
 */
export function holdersPresent(
  inst: Installation,
  s: KeySession,
  keyId: string,
): { record: CaKeyRecord; present: Participant[] } | undefined {
  const record = loadCaKey(inst, keyId);
  const holders = new Set(keyCustodians(inst, keyId));
  const present = s.custodians.filter((c) => holders.has(c.operator.name));
  return present.length < record.threshold ? undefined : { record, present };
}
