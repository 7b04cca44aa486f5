/**
 * Destroying a CA private key (CPS 6.2.10; R-6): with the quorum and a witness present (the
 * caller's key session), the key is removed from every place that holds it — the software
 * store's wrapped key and sealed KEK shares, or the key objects in every PKCS#11 token (the
 * primary and each backup, CPS 6.2.4) — and the destruction is recorded. Afterwards the key
 * cannot sign: loading it fails with KEY_DESTROYED.
 *
 * Order: tokens first (each deletion recorded as it happens, so a token that fails midway
 * leaves an honest record of what is gone), then one transaction that marks the key destroyed
 * with its audit event. The soft store needs no outside step, so it is all one transaction.
 */
import { CaError, type ErrorCode } from '../errors.ts';
import { destroyKeyPair } from '../keys/pkcs11-keys.ts';
import { findToken, withLoggedInSession, type SessionEnd } from '../keys/pkcs11-module.ts';
import { recoverFromCustodians } from '../keys/pkcs11-shares.ts';
import { wipe } from '../keys/wipe.ts';
import { pinContext } from './hsm-tokens.ts';
import { retiredCaKeys } from '../lifecycle/ca-certificate-history.ts';
import { keyCustodians, pkcs11Locations } from './key-records.ts';
import { backupAfterChange, type BackupOutcome } from '../records/backups.ts';
import type { Installation } from '../installation/installation.ts';
import { exportTranscript, failSession, openKeySession, refuser, type KeySession } from '../operation/key-session.ts';
import type { PassphraseSource } from '../people/participants.ts';

interface KeyRow { key_id: string; store: string; status: string }

export async function destroyCaKey(inst: Installation, session: KeySession, reason: string): Promise<{ keyId: string; destroyedIn: string[]; retiredKeys: string[] }> {
  const keyId = session.ca.keyId;
  const actor = session.people().map(({ p }) => p.operator.name).join(',');
  const row = inst.db.prepare('SELECT key_id, store, status FROM ca_keys WHERE key_id = ?').get(keyId) as KeyRow | undefined;
  const refuse = (code: ErrorCode, message: string): never => {
    inst.audit.append({ actor, roles: [], action: 'key.destroy', target: session.ca.name, outcome: 'refused', details: { keyId, code, message } });
    throw new CaError(code, message, { details: { keyId } });
  };
  if (!row) return refuse('KEY_UNKNOWN', `no key ${keyId} in the key store`);
  if (row.status !== 'active' && row.status !== 'retired') return refuse('KEY_DESTROYED', `key ${keyId} of ${session.ca.name} was already destroyed`);
  if (!reason.trim()) return refuse('REASON_REQUIRED', 'a key is destroyed only with a recorded reason (CPS 6.2.10)');

  // A re-keyed CA's retired keys go first, under the same quorum and witness (CPS 5.6, 6.2.10):
  // once the current key is gone nothing could open a session for them. A token key needs M of
  // its own PIN custodians among this session's custodians.
  const retiredKeys: string[] = [];
  if (row.status === 'active') {
    const retired = retiredCaKeys(inst, session.ca.name).filter((k) => k.status === 'retired');
    for (const k of retired) {
      const r = inst.db.prepare('SELECT store FROM ca_keys WHERE key_id = ?').get(k.keyId) as { store: string };
      const holders = keyCustodians(inst, k.keyId);
      const present = session.custodians.filter((c) => holders.includes(c.operator.name)).length;
      const needed = r.store === 'pkcs11' ? pkcs11Locations(inst, k.keyId)[0]?.threshold ?? 0 : 0;
      if (present < needed) return refuse('RETIRED_KEY_CUSTODIANS_ABSENT', `the retired key ${k.keyId} of ${session.ca.name} is in a token whose PIN needs ${needed} of ${holders.join(', ')}; only ${present} of them are custodians in this session`);
    }
    for (const k of retired) {
      const r = await destroyCaKey(inst, { ...session, ca: { ...session.ca, keyId: k.keyId } }, reason);
      retiredKeys.push(r.keyId);
    }
  }

  let destroyedIn = ['soft'];
  if (row.store === 'pkcs11') {
    const locations = pkcs11Locations(inst, keyId);
    // Every token must be here before anything is deleted (CPS 6.2.10: "the backup Private Keys are also disposed of").
    const missing = locations.filter((l) => {
      try {
        findToken({ module: l.module, label: l.token, serial: l.serial });
        return false;
      } catch {
        return true;
      }
    });
    if (missing.length) return refuse('TOKEN_NOT_FOUND', `key ${keyId} is held by token(s) ${missing.map((l) => l.token).join(', ')} which are not present; bring every token holding the key (primary and backups) to destroy it`);
    destroyedIn = [];
    for (const l of locations) {
      let pin: Buffer | undefined;
      try {
        pin = await recoverFromCustodians(pinContext({ label: l.token, serial: l.serial }, 'user'), l.threshold, l.shares, session.custodians.map((c) => c.credential));
        let end: SessionEnd | undefined;
        const objects = await withLoggedInSession({ module: l.module, label: l.token, serial: l.serial }, pin, 'user', (mod, s) => destroyKeyPair(mod, s, l.object, l.token), (e) => { end = e; });
        // Recorded token by token, so a failure on a later token leaves an exact record of what is gone.
        inst.db.transaction(() => {
          inst.db.prepare("UPDATE ca_key_objects SET status = 'destroyed', destroyed_at = ? WHERE key_id = ? AND token_id = ?").run(inst.clock.now().toISOString(), keyId, l.tokenId);
          inst.audit.append({ actor, roles: [], action: 'key.destroy.token', target: l.token, outcome: 'success', details: { keyId, token: l.token, serial: l.serial, role: l.role, keyLabel: l.object.label, objectsDestroyed: objects, loggedOut: end?.loggedOut, sessionClosed: end?.closed } });
        }).immediate();
        destroyedIn.push(`pkcs11:${l.token}`);
      } catch (e) {
        const err = e instanceof CaError ? e : new CaError('TOKEN_DESTROY_FAILED', (e as Error).message, { cause: e });
        inst.audit.append({ actor, roles: [], action: 'key.destroy.token', target: l.token, outcome: 'failed', details: { keyId, token: l.token, code: err.code, message: err.message, alreadyDestroyedIn: destroyedIn } });
        throw err;
      } finally {
        wipe(pin);
      }
    }
  }

  const now = inst.clock.now().toISOString();
  // CPS 6.2.10: deleted bytes (wrapped key, sealed shares) are overwritten in the database file,
  // and the WAL is checkpointed afterwards so no old page image keeps them.
  inst.db.pragma('secure_delete = ON');
  inst.db.transaction(() => {
    inst.db.prepare("UPDATE ca_keys SET status = 'destroyed', wrapped_private_key = NULL, destroyed_at = ?, destroy_reason = ? WHERE key_id = ? AND status IN ('active', 'retired')").run(now, reason, keyId);
    // The sealed shares of a soft KEK are activation data of a key that no longer exists.
    const shares = inst.db.prepare('DELETE FROM key_shares WHERE key_id = ?').run(keyId).changes;
    inst.audit.append({
      actor,
      roles: [...new Set(session.people().flatMap(({ p }) => p.operator.roles))],
      action: 'key.destroy',
      target: session.ca.name,
      outcome: 'success',
      details: { keyId, store: row.store, ...(row.status === 'retired' ? { retired: true } : { retiredKeys }), reason, destroyedIn, sharesRemoved: shares, ceremonyId: session.ceremonyId, ...session.evidence() },
    });
  }).immediate();
  if (!inst.db.inTransaction) inst.db.pragma('wal_checkpoint(TRUNCATE)');
  return { keyId, destroyedIn, retiredKeys };
}

export interface DestroyKeyParams {
  caName: string;
  operator: string;
  witness: string;
  reason: string;
  passphrases: PassphraseSource;
}

/**
 * `rootca key destroy`: a ceremony of its own. The operator, the witness and a quorum of the
 * key's custodians are present (the same control as activation, CPS 6.2.2), the key is
 * destroyed everywhere, everyone signs the transcript, and a backup records the change.
 */
export async function destroyKeyCeremony(inst: Installation, p: DestroyKeyParams): Promise<{ keyId: string; destroyedIn: string[]; retiredKeys: string[]; transcriptFile: string; backup: BackupOutcome }> {
  if (!p.reason.trim()) refuser(inst, 'key.destroy', p.caName)('REASON_REQUIRED', 'a key is destroyed only with a recorded reason (CPS 6.2.10)');
  const s = await openKeySession(inst, { operation: 'key.destroy', caName: p.caName, operator: p.operator, witness: p.witness, passphrases: p.passphrases, describe: { reason: p.reason, at: inst.clock.now().toISOString() } });
  try {
    const r = await destroyCaKey(inst, s, p.reason);
    const t = inst.db.transaction(() => s.transcript({ inputs: [], outputs: [], details: { keyId: r.keyId, destroyedIn: r.destroyedIn, retiredKeys: r.retiredKeys, reason: p.reason } })).immediate();
    const transcriptFile = exportTranscript(inst, t);
    return { ...r, transcriptFile, backup: await backupAfterChange(inst, { reason: 'key.destroy', ceremonyId: s.ceremonyId, operator: s.operator }) };
  } catch (e) {
    return failSession(inst, s, 'key.destroy', e);
  } finally {
    s.lock();
  }
}
