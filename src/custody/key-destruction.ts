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
import { keyStoreNamed } from '../keys/key-stores.ts';
import type { DestroyReport } from '../keys/ports.ts';
import { retiredCaKeys } from '../lifecycle/ca-certificate-history.ts';
import { keyCustodians, pkcs11Locations } from './key-records.ts';
import type { Installation } from '../installation/installation.ts';
import { auditRefusal } from '../installation/refusal.ts';
import type { KeySession } from '../operation/key-session.ts';
import { runOperation, type BackupOutcome } from '../operation/runner.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { markKeyObjectDestroyed } from '../store/ca-key-objects.ts';
import { deleteKeyShares, findCaKey, markCaKeyDestroyed } from '../store/ca-keys.ts';
import { checkpointWal, secureDelete } from '../store/db.ts';

type Refuse = (code: ErrorCode, message: string) => never;

/**
 * A re-keyed CA's retired keys go first, under the same quorum and witness (CPS 5.6, 6.2.10):
 * once the current key is gone nothing could open a session for them. A token key needs M of
 * its own PIN custodians among this session's custodians (a soft key has no token quorum).
 */
async function destroyRetiredKeys(
  inst: Installation,
  session: KeySession,
  reason: string,
  refuse: Refuse,
): Promise<string[]> {
  const retired = retiredCaKeys(inst, session.ca.name).filter((k) => k.status === 'retired');
  for (const k of retired) {
    const holders = keyCustodians(inst, k.keyId);
    const present = session.custodians.filter((c) => holders.includes(c.operator.name)).length;
    const needed = pkcs11Locations(inst, k.keyId)[0]?.threshold ?? 0;
    if (present < needed) {
      refuse(
        'RETIRED_KEY_CUSTODIANS_ABSENT',
        `the retired key ${k.keyId} of ${session.ca.name} is in a token whose PIN needs ${needed} of ${holders.join(', ')}; only ${present} of them are custodians in this session`,
      );
    }
  }
  const done: string[] = [];
  for (const k of retired) {
    const r = await destroyCaKey(inst, { ...session, ca: { ...session.ca, keyId: k.keyId } }, reason);
    done.push(r.keyId);
  }
  return done;
}

/** Records each token's deletion as it happens (its own transaction), and a failure with what is already gone. */
function tokenByToken(inst: Installation, keyId: string, actor: string): DestroyReport {
  return {
    destroyed({ location: l, objects, loggedOut, sessionClosed }) {
      inst.db
        .transaction(() => {
          markKeyObjectDestroyed(inst.db, keyId, l.tokenId, inst.clock.now().toISOString());
          inst.audit.append({
            actor,
            roles: [],
            action: 'key.destroy.token',
            target: l.token,
            outcome: 'success',
            details: {
              keyId,
              token: l.token,
              serial: l.serial,
              role: l.role,
              keyLabel: l.object.label,
              objectsDestroyed: objects,
              loggedOut,
              sessionClosed,
            },
          });
        })
        .immediate();
    },
    failed(l, err, alreadyDestroyedIn) {
      inst.audit.append({
        actor,
        roles: [],
        action: 'key.destroy.token',
        target: l.token,
        outcome: 'failed',
        details: { keyId, token: l.token, code: err.code, message: err.message, alreadyDestroyedIn },
      });
    },
  };
}

/** Destroys the session's CA key (and first its retired keys) everywhere it is held, then records it destroyed. */
export async function destroyCaKey(
  inst: Installation,
  session: KeySession,
  reason: string,
): Promise<{ keyId: string; destroyedIn: string[]; retiredKeys: string[] }> {
  const keyId = session.ca.keyId;
  const actor = session
    .people()
    .map(({ p }) => p.operator.name)
    .join(',');
  const row = findCaKey(inst.db, keyId);
  const refuse: Refuse = (code, message) => {
    auditRefusal(
      inst,
      { action: 'key.destroy', target: session.ca.name, actor },
      { code, message, details: { keyId } },
    );
    throw new CaError(code, message, { details: { keyId } });
  };
  if (!row) return refuse('KEY_UNKNOWN', `no key ${keyId} in the key store`);
  if (row.status !== 'active' && row.status !== 'retired')
    return refuse('KEY_DESTROYED', `key ${keyId} of ${session.ca.name} was already destroyed`);
  if (!reason.trim()) return refuse('REASON_REQUIRED', 'a key is destroyed only with a recorded reason (CPS 6.2.10)');
  const retiredKeys = row.status === 'active' ? await destroyRetiredKeys(inst, session, reason, refuse) : [];

  const store = keyStoreNamed(row.store, keyId);
  const key = { keyId, locations: pkcs11Locations(inst, keyId) };
  try {
    store.checkPresent(key, 'every');
  } catch (e) {
    if (!(e instanceof CaError)) throw e;
    refuse(e.code, e.message);
  }
  const destroyedIn = await store.destroy(
    key,
    session.custodians.map((c) => c.credential),
    tokenByToken(inst, keyId, actor),
  );

  const now = inst.clock.now().toISOString();
  // CPS 6.2.10: deleted bytes (wrapped key, sealed shares) are overwritten in the database file,
  // and the WAL is checkpointed afterwards so no old page image keeps them.
  secureDelete(inst.db);
  inst.db
    .transaction(() => {
      markCaKeyDestroyed(inst.db, keyId, now, reason);
      // The sealed shares of a soft KEK are activation data of a key that no longer exists.
      const shares = deleteKeyShares(inst.db, keyId);
      inst.audit.append({
        actor,
        roles: [...new Set(session.people().flatMap(({ p }) => p.operator.roles))],
        action: 'key.destroy',
        target: session.ca.name,
        outcome: 'success',
        details: {
          keyId,
          store: row.store,
          ...(row.status === 'retired' ? { retired: true } : { retiredKeys }),
          reason,
          destroyedIn,
          sharesRemoved: shares,
          ceremonyId: session.ceremonyId,
          ...session.evidence(),
        },
      });
    })
    .immediate();
  if (!inst.db.inTransaction) checkpointWal(inst.db);
  return { keyId, destroyedIn, retiredKeys };
}

/** What `rootca key destroy` did: where the key (and the CA's retired keys) went, the transcript and the backup. */
export interface DestroyKeyResult {
  keyId: string;
  destroyedIn: string[];
  retiredKeys: string[];
  transcriptFile: string;
  backup: BackupOutcome;
}

/** Who destroys which CA's key, and why (CPS 6.2.10 wants the reason recorded). */
export interface DestroyKeyParams {
  caName: string;
  operator: string;
  witness: string;
  reason: string;
  passphrases: PassphraseSource;
}

/**
 * `rootca key destroy`: a ceremony of its own, on the operation runner. The operator, the
 * witness and a quorum of the key's custodians are present (the same control as activation,
 * CPS 6.2.2), the key is destroyed everywhere, everyone signs the transcript, and a backup
 * records the change.
 */
export async function destroyKeyCeremony(inst: Installation, p: DestroyKeyParams): Promise<DestroyKeyResult> {
  return runOperation(inst, {
    action: 'key.destroy',
    target: p.caName,
    check: ({ refuse }) => {
      if (!p.reason.trim()) refuse('REASON_REQUIRED', 'a key is destroyed only with a recorded reason (CPS 6.2.10)');
    },
    people: () => ({
      caName: p.caName,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      describe: { reason: p.reason, at: inst.clock.now().toISOString() },
    }),
    work: (_, { session }) => destroyCaKey(inst, session, p.reason),
    transcript: (_, r) => ({
      inputs: [],
      outputs: [],
      details: { keyId: r.keyId, destroyedIn: r.destroyedIn, retiredKeys: r.retiredKeys, reason: p.reason },
    }),
    finish: (_, r, after) => ({ ...r, transcriptFile: after.transcriptFile, backup: after.backup! }),
  });
}
