/**
 * Using a CA key (CPS 6.2.8, 6.2.9; R-6.3, R-6.4): M custodians' shares rebuild the
 * activation data in memory — the soft store's KEK, or a token's user PIN — the key signs
 * exactly once, and it is deactivated (KEK wiped; token session logged out and closed) —
 * whatever happens in between. Activation, refusal and deactivation are each an audit event.
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
 * remove a token at exactly that moment; nothing else sets it.
 */
export const activationHooks: { afterActivation?: (token: string | undefined) => void } = {};

/** Activates the key with the custodians present, signs `data` once, and deactivates it, each step audited. */
export async function signOnceWithCaKey(
  inst: Installation,
  p: SignOnceParams,
  data: Uint8Array,
  algorithm: SignatureAlgorithmName,
): Promise<Buffer> {
  const names = p.custodians.map((c) => c.operator.name);
  const base = { keyId: p.record.keyId, purpose: p.purpose, custodians: names, threshold: p.record.threshold };
  let signer: ActiveKey;
  try {
    signer = await keyStoreNamed(p.record.store, p.record.keyId).activate(
      p.record,
      p.custodians.map((c) => c.credential),
    );
  } catch (e) {
    const code = e instanceof CaError ? e.code : 'ACTIVATION_FAILED';
    auditRefusal(
      inst,
      { action: 'key.activate', target: p.target, actor: names.join(',') || inst.systemActor },
      { code, message: (e as Error).message, details: base },
    );
    throw e;
  }
  const where = signer.where;
  inst.audit.append({
    actor: names.join(','),
    roles: [],
    action: 'key.activate',
    target: p.target,
    outcome: 'success',
    details: { ...base, ...where },
  });
  let failure: CaError | undefined;
  try {
    activationHooks.afterActivation?.(signer.where.token);
    return Buffer.from(await signer.sign(data, algorithm));
  } catch (e) {
    failure = e instanceof CaError ? e : new CaError('SIGN_FAILED', (e as Error).message, { cause: e });
    throw e;
  } finally {
    const session = signer.deactivate();
    inst.audit.append({
      actor: names.join(','),
      roles: [],
      action: 'key.deactivate',
      target: p.target,
      outcome: failure ? 'failed' : 'success',
      details: {
        keyId: p.record.keyId,
        signatures: failure ? 0 : 1,
        ...where,
        ...session,
        ...(failure ? { code: failure.code, message: failure.message } : {}),
      },
    });
  }
}

/** Before anyone is asked for a passphrase: a place holding the key can be reached (TOKEN_NOT_FOUND otherwise). */
export function checkKeyPresent(record: CaKeyRecord): void {
  keyStoreNamed(record.store, record.keyId).checkPresent(record, 'one');
}
