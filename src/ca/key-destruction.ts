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
import { CaError } from '../errors.ts';
import { backupAfterChange, type BackupOutcome } from './archive.ts';
import type { Installation } from './installation.ts';
import { exportTranscript, failSession, openKeySession, refuser, type KeySession } from './key-session.ts';
import type { PassphraseSource } from './participants.ts';

interface KeyRow { key_id: string; store: string; status: string }

export async function destroyCaKey(inst: Installation, session: KeySession, reason: string): Promise<{ keyId: string; destroyedIn: string[] }> {
  const keyId = session.ca.keyId;
  const actor = session.people().map(({ p }) => p.operator.name).join(',');
  const row = inst.db.prepare('SELECT key_id, store, status FROM ca_keys WHERE key_id = ?').get(keyId) as KeyRow | undefined;
  const refuse = (code: string, message: string): never => {
    inst.audit.append({ actor, roles: [], action: 'key.destroy', target: session.ca.name, outcome: 'refused', details: { keyId, code, message } });
    throw new CaError(code, message, { details: { keyId } });
  };
  if (!row) return refuse('KEY_UNKNOWN', `no key ${keyId} in the key store`);
  if (row.status !== 'active') return refuse('KEY_DESTROYED', `key ${keyId} of ${session.ca.name} was already destroyed`);
  if (!reason.trim()) return refuse('REASON_REQUIRED', 'a key is destroyed only with a recorded reason (CPS 6.2.10)');

  if (row.store !== 'soft') return refuse('KEY_STORE_MISMATCH', `key ${keyId} lives in the ${row.store} key store, which this program cannot destroy keys in yet`);
  const destroyedIn = ['soft'];

  const now = inst.clock.now().toISOString();
  inst.db.transaction(() => {
    inst.db.prepare("UPDATE ca_keys SET status = 'destroyed', wrapped_private_key = NULL, destroyed_at = ?, destroy_reason = ? WHERE key_id = ? AND status = 'active'").run(now, reason, keyId);
    // The sealed shares of a soft KEK are activation data of a key that no longer exists.
    const shares = inst.db.prepare('DELETE FROM key_shares WHERE key_id = ?').run(keyId).changes;
    inst.audit.append({
      actor,
      roles: [...new Set(session.people().flatMap(({ p }) => p.operator.roles))],
      action: 'key.destroy',
      target: session.ca.name,
      outcome: 'success',
      details: { keyId, store: row.store, reason, destroyedIn, sharesRemoved: shares, ceremonyId: session.ceremonyId, ...session.evidence() },
    });
  }).immediate();
  return { keyId, destroyedIn };
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
export async function destroyKeyCeremony(inst: Installation, p: DestroyKeyParams): Promise<{ keyId: string; destroyedIn: string[]; transcriptFile: string; backup: BackupOutcome }> {
  if (!p.reason.trim()) refuser(inst, 'key.destroy', p.caName)('REASON_REQUIRED', 'a key is destroyed only with a recorded reason (CPS 6.2.10)');
  const s = await openKeySession(inst, { operation: 'key.destroy', caName: p.caName, operator: p.operator, witness: p.witness, passphrases: p.passphrases, describe: { reason: p.reason, at: inst.clock.now().toISOString() } });
  try {
    const r = await destroyCaKey(inst, s, p.reason);
    const t = inst.db.transaction(() => s.transcript({ inputs: [], outputs: [], details: { keyId: r.keyId, destroyedIn: r.destroyedIn, reason: p.reason } })).immediate();
    const transcriptFile = exportTranscript(inst, t);
    return { ...r, transcriptFile, backup: await backupAfterChange(inst, { reason: 'key.destroy', ceremonyId: s.ceremonyId, operator: s.operator }) };
  } catch (e) {
    return failSession(inst, s, 'key.destroy', e);
  } finally {
    s.lock();
  }
}
