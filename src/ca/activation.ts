/**
 * Using a CA key (CPS 6.2.8, 6.2.9; R-6.3, R-6.4): M custodians' shares rebuild the KEK in
 * memory, the key signs exactly once, and it is deactivated — whatever happens in between.
 * Activation, refusal and deactivation are each an audit event.
 */
import { CaError } from '../errors.ts';
import { activateSoftKey, type SoftKeyRecord } from '../keys/soft-store.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import type { Installation } from './installation.ts';
import type { Participant } from './participants.ts';

export interface SignOnceParams {
  record: SoftKeyRecord;
  custodians: Participant[];
  /** What the signature is for (e.g. "self-signed certificate of rootca2"), for the record. */
  purpose: string;
  /** The CA or object acted on, for the audit event's target. */
  target: string;
}

export async function signOnceWithCaKey(inst: Installation, p: SignOnceParams, data: Uint8Array, algorithm: SignatureAlgorithmName): Promise<Buffer> {
  const names = p.custodians.map((c) => c.operator.name);
  const base = { keyId: p.record.keyId, purpose: p.purpose, custodians: names, threshold: p.record.threshold };
  let signer;
  try {
    signer = await activateSoftKey(p.record, p.custodians.map((c) => c.credential));
  } catch (e) {
    const code = e instanceof CaError ? e.code : 'ACTIVATION_FAILED';
    inst.audit.append({ actor: names.join(',') || inst.systemActor, roles: [], action: 'key.activate', target: p.target, outcome: 'refused', details: { ...base, code, message: (e as Error).message } });
    throw e;
  }
  inst.audit.append({ actor: names.join(','), roles: [], action: 'key.activate', target: p.target, outcome: 'success', details: base });
  try {
    return Buffer.from(await signer.sign(data, algorithm));
  } finally {
    signer.deactivate();
    inst.audit.append({ actor: names.join(','), roles: [], action: 'key.deactivate', target: p.target, outcome: 'success', details: { keyId: p.record.keyId, signatures: 1 } });
  }
}
