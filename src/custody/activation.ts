/**
 * Using a CA key (CPS 6.2.8, 6.2.9; R-6.3, R-6.4): M custodians' shares rebuild the
 * activation data in memory — the soft store's KEK, or a token's user PIN — the key signs
 * exactly once, and it is deactivated (KEK wiped; token session logged out and closed) —
 * whatever happens in between. Activation, refusal and deactivation are each an audit event.
 */
import { CaError } from '../errors.ts';
import { activatePkcs11Key, type ActivatedPkcs11Key } from '../keys/pkcs11-store.ts';
import { recoverFromCustodians } from '../keys/pkcs11-shares.ts';
import { findToken } from '../keys/pkcs11-module.ts';
import { activateSoftKey, type ActivatedSoftKey, type SoftKeyRecord } from '../keys/soft-store.ts';
import { wipe } from '../keys/wipe.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import { pinContext } from './hsm-tokens.ts';
import type { Installation } from '../installation/installation.ts';
import type { CaKeyRecord, Pkcs11Location } from './key-records.ts';
import type { Participant } from '../people/participants.ts';

export interface SignOnceParams {
  /** A soft record, or any CaKeyRecord from loadSoftKey/loadCaKey. */
  record: SoftKeyRecord | CaKeyRecord;
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

type Activated = (ActivatedSoftKey | ActivatedPkcs11Key) & { token?: string };

export async function signOnceWithCaKey(inst: Installation, p: SignOnceParams, data: Uint8Array, algorithm: SignatureAlgorithmName): Promise<Buffer> {
  const names = p.custodians.map((c) => c.operator.name);
  const base = { keyId: p.record.keyId, purpose: p.purpose, custodians: names, threshold: p.record.threshold };
  let signer: Activated;
  try {
    signer = 'store' in p.record && p.record.store === 'pkcs11'
      ? await activateInToken(p.record, p.custodians)
      : await activateSoftKey(p.record, p.custodians.map((c) => c.credential));
  } catch (e) {
    const code = e instanceof CaError ? e.code : 'ACTIVATION_FAILED';
    inst.audit.append({ actor: names.join(',') || inst.systemActor, roles: [], action: 'key.activate', target: p.target, outcome: 'refused', details: { ...base, code, message: (e as Error).message } });
    throw e;
  }
  const where = signer.token ? { store: 'pkcs11', token: signer.token } : {};
  inst.audit.append({ actor: names.join(','), roles: [], action: 'key.activate', target: p.target, outcome: 'success', details: { ...base, ...where } });
  let failure: CaError | undefined;
  try {
    activationHooks.afterActivation?.(signer.token);
    return Buffer.from(await signer.sign(data, algorithm));
  } catch (e) {
    failure = e instanceof CaError ? e : new CaError('SIGN_FAILED', (e as Error).message, { cause: e });
    throw e;
  } finally {
    const end = signer.deactivate() as { loggedOut: boolean; closed: boolean } | undefined;
    const session = end ? { loggedOut: end.loggedOut, sessionClosed: end.closed } : {};
    inst.audit.append({
      actor: names.join(','), roles: [], action: 'key.deactivate', target: p.target, outcome: failure ? 'failed' : 'success',
      details: { keyId: p.record.keyId, signatures: failure ? 0 : 1, ...where, ...session, ...(failure ? { code: failure.code, message: failure.message } : {}) },
    });
  }
}

/**
 * The first token holding the key that is present (primary, else a backup) is used: its user
 * PIN is rebuilt from the custodians' shares, only in memory, and wiped after login.
 */
async function activateInToken(record: CaKeyRecord, custodians: Participant[]): Promise<Activated> {
  const loc = presentLocation(record);
  const pin = await recoverFromCustodians(pinContext({ label: loc.token, serial: loc.serial }, 'user'), loc.threshold, loc.shares, custodians.map((c) => c.credential));
  try {
    const signer = activatePkcs11Key({ module: loc.module, label: loc.token, serial: loc.serial, object: loc.object }, record.algorithm, record.publicKeySpki, pin, record.keyId);
    return Object.assign(signer, { token: loc.token });
  } finally {
    wipe(pin);
  }
}

/** The first token holding the key that is present; TOKEN_NOT_FOUND when none is. */
export function presentLocation(record: CaKeyRecord): Pkcs11Location {
  const missing: string[] = [];
  for (const loc of record.locations) {
    try {
      findToken({ module: loc.module, label: loc.token, serial: loc.serial });
      return loc;
    } catch (e) {
      if (!(e instanceof CaError) || !['TOKEN_NOT_FOUND', 'TOKEN_UNAVAILABLE'].includes(e.code)) throw e;
      missing.push(loc.token);
    }
  }
  throw new CaError('TOKEN_NOT_FOUND', `key ${record.keyId}: none of the tokens holding it is present (${missing.join(', ')})`, { details: { keyId: record.keyId, tokens: missing } });
}
