/**
 * Using a CA key (CPS 6.2.8, 6.2.9; R-6.3, R-6.4): M custodians' shares rebuild the
 * activation data in memory — the soft store's KEK, or a token's user PIN — the key signs
 * exactly once (or exactly the messages of one approved batch: signBatchWithCaKey), and it is
 * deactivated (KEK wiped; token session logged out and closed) — whatever happens in between.
 * Activation, refusal and deactivation are each an audit event.
 */
import { CaError } from '../errors.ts';
import { keyStoreNamed } from '../keys/key-stores.ts';
import type { ActiveKey, CaKeyRecord } from '../keys/ports.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import type { Installation } from '../installation/installation.ts';
import type { Participant } from '../people/participants.ts';
import { auditRefusal } from '../installation/refusal.ts';

/** Which key signs, with whom, and for what (the audit events name it). */
export interface SignOnceParams {
  /** A key from loadCaKey or generateCaKey. */
  record: CaKeyRecord;
  custodians: Participant[];
  /** What the signature is for (e.g. "self-signed certificate of rootca2"), for the record. */
  purpose: string;
  /** The CA or object acted on, for the audit event's target. */
  target: string;
}

/**
 * Test seam: runs between a successful activation and the signature. The HSM tests use it to
 * remove a token at exactly that moment, and bench/offline-presign.ts to time presigning from
 * the activation on; nothing in the product sets it.
 */
export const activationHooks: { afterActivation?: (token: string | undefined) => void } = {};

/** Activates the key with the custodians present, signs `data` once, and deactivates it, each step audited. */
export async function signOnceWithCaKey(
  inst: Installation,
  p: SignOnceParams,
  data: Uint8Array,
  algorithm: SignatureAlgorithmName,
): Promise<Buffer> {
  const store = keyStoreNamed(p.record.store, p.record.keyId);
  const present = p.custodians.map((c) => c.credential);
  return withActivation(
    inst,
    p,
    () => store.activate(p.record, present),
    async (signer) => Buffer.from(await signer.sign(data, algorithm)),
    {},
  );
}

/**
 * One activation for one approved batch (CPS 6.2.9: "CA Private Keys are automatically
 * deactivated after completion of a successful access thereto"; we read one access as one
 * approved use — here the exact list of `messages` the people approved when they authenticated,
 * docs/hsm.md "One access"). The key signs each message once, in order, and nothing else (the
 * store refuses any other, KEY_BATCH_NOT_IN_PLAN), and is deactivated after the last one or on
 * the first error. One key.activate and one key.deactivate event record the batch and how many
 * signatures it made.
 */
export async function signBatchWithCaKey(
  inst: Installation,
  p: SignOnceParams,
  messages: readonly Uint8Array[],
  algorithm: SignatureAlgorithmName,
): Promise<Buffer[]> {
  const store = keyStoreNamed(p.record.store, p.record.keyId);
  const present = p.custodians.map((c) => c.credential);
  const plan = { purpose: p.purpose, messages };
  return withActivation(
    inst,
    p,
    () => store.activateBatch(p.record, present, plan),
    async (signer) => {
      const out: Buffer[] = [];
      for (const m of messages) out.push(Buffer.from(await signer.sign(m, algorithm)));
      return out;
    },
    { batch: messages.length },
  );
}

/**
 * Activates (auditing a refusal), audits the activation, runs `use`, and deactivates whatever
 * happened, auditing how many signatures were made. `extra` joins both events' details.
 */
async function withActivation<K extends ActiveKey, T>(
  inst: Installation,
  p: SignOnceParams,
  activate: () => Promise<K>,
  use: (signer: K) => Promise<T>,
  extra: { batch?: number },
): Promise<T> {
  const names = p.custodians.map((c) => c.operator.name);
  const base = {
    keyId: p.record.keyId,
    purpose: p.purpose,
    custodians: names,
    threshold: p.record.threshold,
    ...extra,
  };
  const actor = names.join(',');
  let signer: K;
  try {
    signer = await activate();
  } catch (e) {
    const code = e instanceof CaError ? e.code : 'ACTIVATION_FAILED';
    auditRefusal(
      inst,
      { action: 'key.activate', target: p.target, actor: actor || inst.systemActor },
      { code, message: (e as Error).message, details: base },
    );
    throw e;
  }
  const where = signer.where;
  inst.audit.append({
    actor,
    roles: [],
    action: 'key.activate',
    target: p.target,
    outcome: 'success',
    details: { ...base, ...where },
  });
  let failure: CaError | undefined;
  let signatures = 0;
  try {
    activationHooks.afterActivation?.(signer.where.token);
    return await use(counting(signer, () => signatures++));
  } catch (e) {
    failure = e instanceof CaError ? e : new CaError('SIGN_FAILED', (e as Error).message, { cause: e });
    throw e;
  } finally {
    const session = signer.deactivate();
    inst.audit.append({
      actor,
      roles: [],
      action: 'key.deactivate',
      target: p.target,
      outcome: failure ? 'failed' : 'success',
      details: {
        keyId: p.record.keyId,
        ...extra,
        signatures,
        ...where,
        ...session,
        ...(failure ? { code: failure.code, message: failure.message } : {}),
      },
    });
  }
}

/** The signer, counting each signature it releases. */
function counting<K extends ActiveKey>(signer: K, count: () => void): K {
  return Object.create(signer, {
    sign: {
      value: async (data: Uint8Array, algorithm: SignatureAlgorithmName) => {
        const sig = await signer.sign(data, algorithm);
        count();
        return sig;
      },
    },
  }) as K;
}

/** Before anyone is asked for a passphrase: a place holding the key can be reached (TOKEN_NOT_FOUND otherwise). */
export function checkKeyPresent(record: CaKeyRecord): void {
  keyStoreNamed(record.store, record.keyId).checkPresent(record, 'one');
}
