/**
 * A key session: the people a CA key operation needs (operator, witness, M custodians, and
 * any other slot the permission table names) are brought together once, every signature in
 * the session is its own activation (CPS 6.2.9: deactivated after each use) except a batch the
 * people approved as one plan, which is one activation (signBatch), and at the end
 * everyone signs the transcript and their credentials are locked.
 */
import { CaError, type ErrorCode } from '../errors.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import { checkKeyPresent, signBatchWithCaKey, signOnceWithCaKey } from '../custody/activation.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { refuser } from './refusals.ts';
import { keyCustodians, loadSoftKey } from '../custody/key-records.ts';
import {
  bringParticipant,
  lockAll,
  operationDigest,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import { checkDistinct, type Operation, type Slot } from '../people/permissions.ts';
import { gatherQuorum } from '../people/quorum.ts';
import type { Transcript } from '../records/transcript.ts';
import { exportTranscript, makeTranscript, storeTranscript } from '../records/transcript-store.ts';
import { completeCeremony, failStartedCeremony, insertStartedCeremony } from '../store/ceremonies.ts';

export interface KeySessionRequest {
  operation: Operation;
  caName: string;
  operator: string;
  witness: string;
  /** Further named participants by slot (e.g. the approving RA officer of a revocation). */
  others?: Partial<Record<Slot, string>>;
  passphrases: PassphraseSource;
  /** What the participants sign when they authenticate. */
  describe: Record<string, unknown>;
  /** False when nothing will be signed (e.g. a revocation whose CRL is deferred): no custodians. */
  needsKey?: boolean;
  /** A key the CA retired at a re-key, instead of its current one: status signing only (status/retired-keys.ts, CPS 5.6). */
  retiredKeyId?: string;
  /** A key the CA delegated signing to (its OCSP responder or publication key, custody/delegated-keys.ts), with that key's own custodians. */
  delegatedKeyId?: string;
  /** How refusals are audited, when not as `operation` on the CA (e.g. an issuance's `CA/profile` with its requester). */
  refuse?: (code: ErrorCode, message: string, details?: Record<string, unknown>) => never;
  /** What the people are told they authenticate for, when not `OPERATION for CA`. */
  prompts?: { operator: string; quorum: string };
  /** Further details of the intent row, not signed by the people (e.g. the process that owns it). */
  intentDetails?: Record<string, unknown>;
  /** Intent written with the ceremony row, in its transaction (e.g. an issuance's serial reservation, R-3.1). */
  onIntent?(ceremonyId: number, startedAt: string): void;
}

/** Activations per key id (CPS 6.2.9: one per single signature, one per approved batch). */
export type KeyActivations = Record<string, number>;

export interface KeySession {
  ca: CaSummary;
  digest: Buffer;
  operator: Participant;
  witness: Participant;
  custodians: Participant[];
  others: Partial<Record<Slot, Participant>>;
  ceremonyId: number;
  startedAt: string;
  /** One activation, one signature. */
  sign(data: Uint8Array, algorithm: SignatureAlgorithmName, purpose: string): Promise<Buffer>;
  /**
   * One activation for the batch the people approved (e.g. the pre-signed OCSP responses of the
   * certificates they authenticated for): exactly `messages`, each once (CPS 6.2.9, signBatchWithCaKey).
   */
  signBatch(messages: readonly Uint8Array[], algorithm: SignatureAlgorithmName, purpose: string): Promise<Buffer[]>;
  /** Signatures made by the session's key. */
  signatures: number;
  /** Activations of the session's key: one per single signature, one per batch (from activationsByKey). */
  readonly activations: number;
  /**
   * Activations per key id in this session: its own key's, and those of the keys used beside it
   * (a root's responder and publication keys, status/delegated-in-session.ts) — the transcript's
   * `keyActivations` of a ceremony that uses several keys.
   */
  readonly activationsByKey: KeyActivations;
  /** Counts one activation of `keyId` made in this session (the session's own signatures count themselves). */
  countActivation(keyId: string): void;
  /** Who took part in which role, for audit details and the transcript. */
  people(): { as: string; p: Participant }[];
  evidence(): Record<string, unknown>;
  /** Inside the completing transaction: the signed transcript, stored. */
  transcript(x: {
    inputs: Transcript['inputs'];
    outputs: Transcript['outputs'];
    details: Record<string, unknown>;
  }): Transcript;
  lock(): void;
}

/** The checks before anyone is asked for anything: the CA signs, the people differ, the key is there (CPS 5.2.2, 6.2.8). */
function sessionKey(inst: Installation, r: KeySessionRequest, refuse: NonNullable<KeySessionRequest['refuse']>) {
  let ca: CaSummary;
  try {
    ca = getCa(inst, r.caName);
  } catch (e) {
    return refuse((e as CaError).code, (e as Error).message);
  }
  if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `CA ${ca.name} is ${ca.status}; its key does not sign`);
  const people: Partial<Record<Slot, string[]>> = { operator: [r.operator], witness: [r.witness] };
  for (const [slot, name] of Object.entries(r.others ?? {})) people[slot as Slot] = [name as string];
  try {
    checkDistinct(r.operation, people);
  } catch (e) {
    refuse((e as CaError).code, (e as Error).message);
  }
  if (r.retiredKeyId !== undefined && !RETIRED_KEY_OPERATIONS.includes(r.operation))
    refuse('RETIRED_KEY_STATUS_ONLY', `a retired key signs only CRLs and OCSP responses, not ${r.operation}`);
  const keyId = r.retiredKeyId ?? r.delegatedKeyId ?? ca.keyId;
  const record = (() => {
    try {
      return loadSoftKey(inst, keyId, { allowRetired: r.retiredKeyId !== undefined });
    } catch (e) {
      return refuse((e as CaError).code, (e as Error).message);
    }
  })();
  // A token key whose tokens are all absent is refused before anyone is asked for anything.
  if (r.needsKey !== false) {
    try {
      checkKeyPresent(record);
    } catch (e) {
      refuse((e as CaError).code, (e as Error).message);
    }
  }
  return { ca, keyId, record };
}

/** Brings the people together (CPS 5.2.2: operator and witness; 6.2.8: M custodians) and writes the intent row. */
export async function openKeySession(inst: Installation, r: KeySessionRequest): Promise<KeySession> {
  const refuse = r.refuse ?? refuser(inst, r.operation, r.caName);
  const { ca, keyId, record } = sessionKey(inst, r, refuse);
  const digest = operationDigest({ kind: r.operation, ca: ca.name, ...r.describe });
  const present: Participant[] = [];
  try {
    const operator = await bringParticipant(
      inst,
      r.operator,
      r.passphrases,
      r.prompts?.operator ?? `operator of ${r.operation} for ${ca.name}`,
      digest,
      { operation: r.operation, slot: 'operator' },
    );
    if (!operator) refuse('OPERATOR_ABSENT', `the CA Administrator ${r.operator} did not authenticate`);
    present.push(operator!);
    const others: Partial<Record<Slot, Participant>> = {};
    for (const [slot, name] of Object.entries(r.others ?? {}) as [Slot, string][]) {
      const p = await bringParticipant(inst, name, r.passphrases, `${slot} of ${r.operation} for ${ca.name}`, digest, {
        operation: r.operation,
        slot,
      });
      if (!p) refuse('AUTHENTICATION_REQUIRED', `${name} (${slot}) did not authenticate`);
      present.push(p!);
      others[slot] = p!;
    }
    const quorum =
      r.needsKey === false
        ? await witnessOnly(inst, r, digest, refuse)
        : await gatherQuorum(inst, {
            operationName: r.operation,
            witness: r.witness,
            holders: keyCustodians(inst, keyId),
            threshold: record.threshold,
            digest,
            passphrases: r.passphrases,
            operation: r.prompts?.quorum ?? `${r.operation} for ${ca.name}`,
            refuse,
            alreadyPresent: present,
          });
    const startedAt = inst.clock.now().toISOString();
    const ceremonyId = inst.db
      .transaction(() => {
        const id = insertStartedCeremony(inst.db, {
          kind: r.operation,
          startedAt,
          details: { ca: ca.name, ...r.describe, ...r.intentDetails },
        });
        r.onIntent?.(id, startedAt);
        return id;
      })
      .immediate();
    return sessionOf(inst, {
      r,
      ca,
      record,
      digest,
      operator: operator!,
      others,
      quorum,
      present,
      ceremonyId,
      startedAt,
    });
  } catch (e) {
    lockAll(present);
    throw e;
  }
}

interface SessionParts {
  r: KeySessionRequest;
  ca: CaSummary;
  record: ReturnType<typeof loadSoftKey>;
  digest: Buffer;
  operator: Participant;
  others: Partial<Record<Slot, Participant>>;
  quorum: { witness: Participant; custodians: Participant[]; lock(): void };
  present: Participant[];
  ceremonyId: number;
  startedAt: string;
}

function sessionOf(inst: Installation, x: SessionParts): KeySession {
  const { r, ca, record, digest, operator, others, quorum, present, ceremonyId, startedAt } = x;
  const session: KeySession = {
    ca,
    digest,
    operator,
    witness: quorum.witness,
    custodians: quorum.custodians,
    others,
    ceremonyId,
    startedAt,
    signatures: 0,
    get activations() {
      return session.activationsByKey[record.keyId] ?? 0;
    },
    activationsByKey: {},
    countActivation(keyId) {
      const byKey = session.activationsByKey;
      byKey[keyId] = (byKey[keyId] ?? 0) + 1;
    },
    async sign(data, algorithm, purpose) {
      if (r.needsKey === false)
        throw new CaError('KEY_NOT_IN_SESSION', 'this session was opened without custodians; nothing can be signed');
      const sig = await signOnceWithCaKey(
        inst,
        { record, custodians: quorum.custodians, purpose, target: ca.name },
        data,
        algorithm,
      );
      session.signatures++;
      session.countActivation(record.keyId);
      return sig;
    },
    async signBatch(messages, algorithm, purpose) {
      if (r.needsKey === false)
        throw new CaError('KEY_NOT_IN_SESSION', 'this session was opened without custodians; nothing can be signed');
      const sigs = await signBatchWithCaKey(
        inst,
        { record, custodians: quorum.custodians, purpose, target: ca.name },
        messages,
        algorithm,
      );
      session.signatures += sigs.length;
      session.countActivation(record.keyId);
      return sigs;
    },
    people() {
      const list: { as: string; p: Participant }[] = [];
      const add = (as: string, p: Participant) => {
        const existing = list.find((y) => y.p === p);
        if (existing) existing.as = `${existing.as}+${as}`;
        else list.push({ as, p });
      };
      add('operator', operator);
      for (const [slot, p] of Object.entries(others)) add(slot, p!);
      add('witness', quorum.witness);
      for (const c of quorum.custodians) add('custodian', c);
      return list;
    },
    evidence() {
      return participantEvidence(
        digest,
        session.people().map(({ as, p }) => ({ role: as, p })),
      );
    },
    transcript(t) {
      completeCeremony(inst.db, ceremonyId, inst.clock.now().toISOString());
      const made = makeTranscript(inst, {
        operation: r.operation,
        ceremonyId,
        target: ca.name,
        startedAt,
        digest,
        people: session.people(),
        ...t,
      });
      storeTranscript(inst, made);
      return made;
    },
    lock() {
      quorum.lock();
      lockAll(present);
    },
  };
  return session;
}

/** What a retired key may still sign (CPS 5.6: status for what it issued, never a certificate). */
const RETIRED_KEY_OPERATIONS: Operation[] = ['crl.issue', 'ocsp.presign'];

async function witnessOnly(
  inst: Installation,
  r: KeySessionRequest,
  digest: Buffer,
  refuse: (code: ErrorCode, message: string) => never,
) {
  const w = await bringParticipant(inst, r.witness, r.passphrases, `witness of ${r.operation}`, digest, {
    operation: r.operation,
    slot: 'witness',
  });
  if (!w) refuse('WITNESS_ABSENT', `the witness ${r.witness} did not authenticate (CPS 5.2.2)`);
  return { witness: w!, custodians: [] as Participant[], lock: () => w!.credential.lock() };
}

/** How an unexpected error of an operation is reported: its code, what failed, and details for the audit event. */
export interface FailureReport {
  code: ErrorCode;
  what: string;
  details?: Record<string, unknown>;
}

/** Marks a session's ceremony failed and audits why; then rethrows. */
export function failSession(
  inst: Installation,
  s: KeySession,
  action: string,
  e: unknown,
  as: FailureReport = { code: 'OPERATION_FAILED', what: action },
): never {
  const err =
    e instanceof CaError ? e : new CaError(as.code, `${as.what} failed: ${(e as Error).message}`, { cause: e });
  failStartedCeremony(inst.db, s.ceremonyId, inst.clock.now().toISOString(), err.code);
  inst.audit.append({
    actor: inst.systemActor,
    roles: [],
    action,
    target: s.ca.name,
    outcome: 'failed',
    details: { ceremonyId: s.ceremonyId, ...as.details, code: err.code, message: err.message },
  });
  throw err;
}

export { exportTranscript };
