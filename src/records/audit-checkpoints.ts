/**
 * The audit log as a verifiable log: the audit key, signed checkpoints of the
 * RFC 9162 tree head, and inclusion and consistency proofs against them.
 *
 * The audit key is a service key (keys/service-key.ts), never a CA key: sealed 1-of-N to Log
 * Examiners, so any one of them signs a checkpoint without a quorum, and no CA key is
 * activated for routine evidence (CPS 6.2.9 keeps CA activations to what they sign).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointFileName,
  checkpointSignedBytes,
  checkpointToFile,
  insertCheckpoint,
  loadAuditPublicKeys,
  signatureHashOf,
  spkiFingerprint,
  toPem,
  verifyCheckpointSignature,
  type AuditCheckpoint,
  type AuditKeyKind,
  type CheckpointFile,
} from '../audit/checkpoint.ts';
import { CaError } from '../errors.ts';
import { createServiceKey, signWithServiceKey, type SealedServiceKey } from '../keys/service-key.ts';
import type { Installation } from '../installation/installation.ts';
import { runRecordedAction } from '../operation/recorded-action.ts';
import { getOperator } from '../people/operators.ts';
import {
  bringParticipant,
  lockAll,
  operationDigest,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import { checkDistinct, checkSlotRole } from '../people/permissions.ts';
import { checkFitForDuty } from '../people/personnel.ts';
import {
  auditKeyEnvelopes,
  auditKeyHolders,
  findActiveAuditKey,
  insertAuditKey,
  retireActiveAuditKey,
} from '../store/audit-keys.ts';
import { alreadyAudited, type Refuse } from '../operation/refusals.ts';

/**
 * An RFC 3161 time-stamping service (the internal TSA, wired by the archive): returns a
 * DER TimeStampToken whose messageImprint is the hash of `data`.
 */
export interface Timestamper {
  stamp(data: Buffer): Promise<Buffer>;
}

/** The folder under the home where checkpoint files are written. */
export const CHECKPOINTS_DIR = 'checkpoints';

/** The active audit key with its envelopes, or undefined when none was made yet. */
export function activeAuditKey(inst: Installation): SealedServiceKey | undefined {
  const row = findActiveAuditKey(inst.db);
  if (!row) return undefined;
  const envelopes = auditKeyEnvelopes(inst.db, row.key_id);
  return { keyId: row.key_id, kind: row.kind, publicKeySpki: row.public_key_spki, envelopes };
}

export interface AuditKeyInitResult {
  keyId: string;
  kind: AuditKeyKind;
  publicKeyPem: string;
  publicKeySha256: string;
  holders: string[];
  /** The key this one replaced (retired; its checkpoints keep verifying). */
  retired?: string;
}

/**
 * `rootca audit key init`: a new audit key sealed to the holders (Log Examiners), approved
 * by a Person Responsible with a Service Operation Manager present. Its public key is
 * recorded in an `audit.key-init` event, so every checkpoint it signs covers the record of
 * its own key. A previous active key is retired in the same transaction.
 */
export async function initAuditKey(
  inst: Installation,
  p: { holders: string[]; authoriser: string; witness: string; passphrases: PassphraseSource; kind?: AuditKeyKind },
): Promise<AuditKeyInitResult> {
  const holders = [...new Set(p.holders)].sort();
  const kind = p.kind ?? 'ed25519';
  const digest = operationDigest({ kind: 'audit.key-init', holders, keyKind: kind });
  return runRecordedAction(inst, {
    action: 'audit.key-init',
    target: 'audit-key',
    check: ({ refuse }) => checkedHolders(inst, p, holders, refuse),
    ask: async (_, { refuse }) => {
      const present: Participant[] = [];
      for (const [name, slot] of [
        [p.authoriser, 'authoriser'],
        [p.witness, 'witness'],
      ] as const) {
        const who = await bringParticipant(inst, name, p.passphrases, `${slot} of a new audit key`, digest, {
          operation: 'audit.key-init',
          slot,
        });
        if (!who) {
          lockAll(present);
          refuse('AUTHENTICATION_REQUIRED', `${name} (${slot}) did not authenticate; a new audit key needs both`);
        }
        present.push(who!);
      }
      lockAll(present);
      return present;
    },
    work: (holderRecords, present, audit) => {
      const now = inst.clock.now().toISOString();
      const keyId = `audit-${now.slice(0, 10).replaceAll('-', '')}-${inst.random(4).toString('hex')}`;
      const key = createServiceKey(
        keyId,
        kind,
        holderRecords.map((o) => ({ name: o.name, encryptionPublicKey: o.credential.encryptionPublicKey })),
      );
      const fingerprint = spkiFingerprint(key.publicKeySpki);
      const retired = retireActiveAuditKey(inst.db, now);
      const row = {
        key_id: keyId,
        kind,
        public_key_spki: key.publicKeySpki,
        created_at: now,
        authorised_by: p.authoriser,
        witness: p.witness,
      };
      insertAuditKey(inst.db, row, key.envelopes);
      audit({
        actor: `${p.authoriser}+${p.witness}`,
        roles: [...new Set(present.flatMap((x) => x.operator.roles))],
        details: {
          keyId,
          kind,
          publicKey: key.publicKeySpki.toString('base64'),
          publicKeySha256: fingerprint,
          holders,
          ...(retired ? { retires: retired } : {}),
          ...participantEvidence(
            digest,
            present.map((x, i) => ({ role: i === 0 ? 'authoriser' : 'witness', p: x })),
          ),
        },
      });
      return {
        keyId,
        kind,
        publicKeyPem: toPem(key.publicKeySpki),
        publicKeySha256: fingerprint,
        holders,
        ...(retired ? { retired } : {}),
      };
    },
  });
}

/** The audit key's checks: holders are fit Log Examiners, and the people differ (CPS 5.2.2); returns the holders' records. */
function checkedHolders(
  inst: Installation,
  p: { authoriser: string; witness: string },
  holders: string[],
  refuse: Refuse,
) {
  if (holders.length === 0) refuse('SERVICE_KEY_HOLDERS', 'the audit key needs at least one holder (a Log Examiner)');
  const holderRecords = holders.map((name) => {
    try {
      const op = getOperator(inst, name);
      checkSlotRole('audit.key-init', 'holder', name, op.roles);
      checkFitForDuty(inst, op);
      return op;
    } catch (e) {
      if (e instanceof CaError) return refuse(e.code, e.message, { holder: name });
      throw e;
    }
  });
  try {
    checkDistinct('audit.key-init', { authoriser: [p.authoriser], witness: [p.witness], holder: holders });
  } catch (e) {
    refuse((e as CaError).code, (e as Error).message);
  }
  return holderRecords;
}

/** The audit keys (public halves) for `rootca audit key list`. */
export function listAuditKeys(inst: Installation): {
  keyId: string;
  kind: AuditKeyKind;
  status: string;
  createdAt: string;
  retiredAt: string | null;
  publicKeySha256: string;
  holders: string[];
}[] {
  return loadAuditPublicKeys(inst.db).map((k) => ({
    keyId: k.keyId,
    kind: k.kind,
    status: k.status,
    createdAt: k.createdAt,
    retiredAt: k.retiredAt,
    publicKeySha256: spkiFingerprint(k.publicKeySpki),
    holders: auditKeyHolders(inst.db, k.keyId),
  }));
}

export interface CheckpointResult {
  checkpoint: AuditCheckpoint;
  file: string;
  content: CheckpointFile;
}

/**
 * `rootca audit checkpoint`: a Log Examiner holding the audit key signs the current tree
 * head; with a `timestamper` the signature is time-stamped (RFC 3161) and the token kept with
 * it. The log is verified first: a checkpoint is never signed over a log that does not hold.
 * The checkpoint, its `audit.checkpoint` event and checkpoints/checkpoint-N.json are written
 * together (the file inside the transaction, created exclusively).
 */
export async function createCheckpoint(
  inst: Installation,
  p: { examiner: string; passphrases: PassphraseSource; timestamper?: Timestamper },
): Promise<CheckpointResult> {
  return runRecordedAction(inst, {
    action: 'audit.checkpoint',
    target: 'audit-log',
    check: ({ refuse }) => checkpointKey(inst, p.examiner, refuse),
    ask: async (key, { refuse }) => {
      const digest = operationDigest({ kind: 'audit.checkpoint', keyId: key.keyId });
      const who = await bringParticipant(inst, p.examiner, p.passphrases, 'signing an audit checkpoint', digest, {
        operation: 'audit.checkpoint',
        slot: 'examiner',
      });
      if (!who)
        refuse(
          'AUTHENTICATION_REQUIRED',
          `${p.examiner} did not authenticate; a checkpoint is signed by an authenticated Log Examiner`,
        );
      const { body, signature } = signCheckpoint(inst, key, who!, refuse);
      const timeStampToken = await stampCheckpoint(inst, p, who!, body, signature);
      const dir = join(inst.home, CHECKPOINTS_DIR);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return { who: who!, digest, body, signature, timeStampToken, dir };
    },
    work: (key, { who, digest, body, signature, timeStampToken, dir }, audit) => {
      const checkpoint = insertCheckpoint(
        inst.db,
        { body, keyId: key.keyId, signature, ...(timeStampToken ? { timeStampToken } : {}) },
        p.examiner,
      );
      const content = checkpointToFile(checkpoint, {
        kind: key.kind as AuditKeyKind,
        publicKeySpki: key.publicKeySpki,
      });
      const file = join(dir, checkpointFileName(checkpoint.number));
      audit({
        actor: p.examiner,
        roles: who.operator.roles,
        details: {
          number: checkpoint.number,
          treeSize: body.treeSize,
          rootHash: body.rootHash,
          at: body.at,
          keyId: key.keyId,
          signature: signature.toString('base64'),
          timeStamped: !!timeStampToken,
          file: join(CHECKPOINTS_DIR, checkpointFileName(checkpoint.number)),
          ...participantEvidence(digest, [{ role: 'examiner', p: who }]),
        },
      });
      try {
        writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      } catch (e) {
        throw new CaError(
          'OUTPUT_EXISTS',
          `cannot write ${file} (${(e as NodeJS.ErrnoException).code}); nothing was stored`,
          { cause: e },
        );
      }
      return { checkpoint, file, content };
    },
  });
}

/** The checkpoint's checks: an audit key exists and the examiner is a Log Examiner holding a copy of it. */
function checkpointKey(inst: Installation, examiner: string, refuse: Refuse) {
  const key = activeAuditKey(inst);
  if (!key)
    refuse(
      'AUDIT_KEY_MISSING',
      'no audit key yet: make one with `rootca audit key init --holders LOG-EXAMINER… --by PERSON-RESPONSIBLE --witness OPERATION-MANAGER`',
    );
  try {
    checkSlotRole('audit.checkpoint', 'examiner', examiner, getOperator(inst, examiner).roles);
  } catch (e) {
    if (e instanceof CaError) refuse(e.code, e.message);
    throw e;
  }
  if (!key!.envelopes.some((e) => e.holder === examiner)) {
    refuse(
      'SERVICE_KEY_NOT_HOLDER',
      `${examiner} holds no copy of audit key ${key!.keyId} (holders: ${key!.envelopes.map((e) => e.holder).join(', ')})`,
    );
  }
  return key!;
}

type CheckpointKey = ReturnType<typeof checkpointKey>;
type Examiner = NonNullable<Awaited<ReturnType<typeof bringParticipant>>>;

/** Verifies the log, then signs its tree head and checks the signature: never a checkpoint over a log that does not hold. */
function signCheckpoint(inst: Installation, key: CheckpointKey, who: Examiner, refuse: Refuse) {
  let signature: Buffer;
  let body: AuditCheckpoint['body'];
  try {
    const v = inst.audit.verify();
    if (!v.ok) {
      const why = v.firstBad
        ? `event ${v.firstBad.position}: ${v.firstBad.problem}`
        : v.checkpoints.problems[0]?.problem;
      refuse(
        'AUDIT_LOG_BROKEN',
        `the audit log does not verify (${why}); no checkpoint is signed over a log that does not hold`,
      );
    }
    body = {
      installation: inst.config.installation.name,
      treeSize: v.treeSize,
      rootHash: v.rootHash,
      at: inst.clock.now().toISOString(),
    };
    signature = signWithServiceKey(
      key,
      who.credential,
      checkpointSignedBytes(body),
      signatureHashOf(key.kind as AuditKeyKind),
    );
  } finally {
    who.credential.lock();
  }
  if (
    !verifyCheckpointSignature(
      { number: 0, body, keyId: key.keyId, signature },
      { kind: key.kind as AuditKeyKind, publicKeySpki: key.publicKeySpki },
    )
  ) {
    refuse('SERVICE_KEY_MISMATCH', `audit key ${key.keyId} made a signature that does not verify; nothing was stored`);
  }
  return { body, signature };
}

/** With a timestamper, the token over the signature; a failure is audited as failed and nothing is stored. */
async function stampCheckpoint(
  inst: Installation,
  p: { examiner: string; timestamper?: Timestamper },
  who: Examiner,
  body: AuditCheckpoint['body'],
  signature: Buffer,
): Promise<Buffer | undefined> {
  if (!p.timestamper) return undefined;
  try {
    // The token covers the signature: it proves the signed tree head existed at that time.
    return await p.timestamper.stamp(signature);
  } catch (e) {
    inst.audit.append({
      actor: p.examiner,
      roles: who.operator.roles,
      action: 'audit.checkpoint',
      target: 'audit-log',
      outcome: 'failed',
      details: { code: 'TIMESTAMP_FAILED', message: (e as Error).message, treeSize: body.treeSize },
    });
    throw alreadyAudited(
      new CaError(
        'TIMESTAMP_FAILED',
        `the checkpoint could not be time-stamped: ${(e as Error).message}; nothing was stored`,
        { cause: e },
      ),
    );
  }
}

// The proofs a Log Examiner reads live in audit-proofs.ts; their callers import them from here.
