/**
 * Audit log proofs for a Log Examiner (CPS 5.4.4): `rootca audit prove` (an RFC 9162 inclusion
 * proof of one event) and `rootca audit consistency` (a signed checkpoint against the live log).
 */
import { loadAuditPublicKeys, loadCheckpoints, parseCheckpointFile, spkiFingerprint } from '../audit/checkpoint.ts';
import { consistencyProof, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../audit/merkle.ts';
import { MerkleTreeLevels } from '../audit/tree.ts';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { bringParticipant, operationDigest, type Participant, type PassphraseSource } from '../people/participants.ts';
import { refuser } from '../operation/refusals.ts';

/**
 * Who may see proofs (CPS 5.4.4 "secure sole access by the authorized personnel and to keep
 * the log from the eyes of those unauthorized"): proofs print only hashes, but an event's
 * leaf hash lets anyone confirm a guess of its contents (actor, action, target and time are
 * few and guessable), and tree sizes tell how much happened when. So `prove` and
 * `consistency` are Log Examiner reads, authenticated and audited like `audit list`; an
 * outside auditor checks the same things offline from an export bundle (verify-bundle
 * --checkpoint), with no access to the live log.
 */
async function examinerRead(
  inst: Installation,
  examiner: string,
  passphrases: PassphraseSource,
  what: Record<string, unknown>,
): Promise<Participant> {
  const refuse = refuser(inst, String(what.kind), 'audit-log');
  const who = await bringParticipant(
    inst,
    examiner,
    passphrases,
    `reading the audit log (${String(what.kind)})`,
    operationDigest(what),
    { operation: 'audit.read', slot: 'examiner' },
  );
  if (!who)
    refuse(
      'AUTHENTICATION_REQUIRED',
      `${examiner} did not authenticate; the audit log is read only by an authenticated Log Examiner (CPS 5.4.4)`,
    );
  who!.credential.lock();
  return who!;
}

/** An RFC 9162 inclusion proof of one event, as `rootca audit prove` prints it. */
export interface InclusionProofJson {
  format: 'rootca-audit-inclusion/1';
  event: number;
  /** 0-based leaf index (event - 1). */
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  rootHash: string;
  /** Audit path, hex, from the leaf's sibling upwards (RFC 9162 2.1.3.1). */
  path: string[];
  /** The stored checkpoint of exactly this tree size, when there is one; its signed root is what `verified` is checked against. */
  checkpoint: number | null;
  verified: boolean;
  problem?: string;
}

/** Builds and checks the inclusion proof of event `event` (1-based) in `tree`, against `signedRoot` when given (hex), else the tree's own root. */
export function inclusionProofFor(
  tree: MerkleTreeLevels,
  leaves: Buffer[],
  event: number,
  signedRoot?: string,
): Omit<InclusionProofJson, 'format' | 'checkpoint'> {
  const path = tree.inclusionProof(event - 1);
  const against = signedRoot ? Buffer.from(signedRoot, 'hex') : tree.root();
  const verified = verifyInclusion(leaves[event - 1], event - 1, tree.size, path, against);
  return {
    event,
    leafIndex: event - 1,
    treeSize: tree.size,
    leafHash: leaves[event - 1].toString('hex'),
    rootHash: against.toString('hex'),
    path: path.map((h) => h.toString('hex')),
    verified,
    ...(verified
      ? {}
      : {
          problem: `the stored events do not lead to the signed root at size ${tree.size}: the log was changed after that checkpoint (run rootca audit verify)`,
        }),
  };
}

/**
 * `rootca audit prove --event N [--size S]`: the inclusion proof of event N, by default in
 * the tree of the latest checkpoint that covers it (so it is checked against a signed root),
 * else in today's whole tree. The proof is verified before it is returned.
 */
export async function proveEvent(
  inst: Installation,
  p: { event: number; size?: number; examiner: string; passphrases: PassphraseSource },
): Promise<InclusionProofJson> {
  const refuse = refuser(inst, 'audit.prove', 'audit-log');
  const leaves = inst.audit.leafHashes();
  if (!Number.isSafeInteger(p.event) || p.event < 1 || p.event > leaves.length)
    refuse('AUDIT_EVENT_UNKNOWN', `there is no event ${p.event}; the log has events 1..${leaves.length}`);
  const checkpoints = loadCheckpoints(inst.db);
  let size = p.size;
  if (size === undefined)
    size = [...checkpoints].reverse().find((c) => c.body.treeSize >= p.event)?.body.treeSize ?? leaves.length;
  if (!Number.isSafeInteger(size) || size < p.event || size > leaves.length)
    refuse(
      'AUDIT_SIZE_INVALID',
      `--size must be between ${p.event} (the event) and ${leaves.length} (today's log), got ${size}`,
    );
  const who = await examinerRead(inst, p.examiner, p.passphrases, { kind: 'audit.prove', event: p.event, size });
  const cp = [...checkpoints].reverse().find((c) => c.body.treeSize === size);
  const proof = inclusionProofFor(new MerkleTreeLevels(leaves.slice(0, size)), leaves, p.event, cp?.body.rootHash);
  inst.audit.append({
    actor: p.examiner,
    roles: who.operator.roles,
    action: 'audit.prove',
    target: 'audit-log',
    outcome: proof.verified ? 'success' : 'failed',
    details: { event: p.event, treeSize: size, checkpoint: cp?.number ?? null, verified: proof.verified },
  });
  return { format: 'rootca-audit-inclusion/1', ...proof, checkpoint: cp?.number ?? null };
}

/** What `rootca audit consistency` prints. */
export interface ConsistencyProofJson {
  format: 'rootca-audit-consistency/1';
  ok: boolean;
  from: { checkpoint: number; installation: string; treeSize: number; rootHash: string; keyId: string; at: string };
  to: { treeSize: number; rootHash: string; checkpoint: number | null };
  /** RFC 9162 2.1.4.1 PROOF(m, D[n]), hex. */
  proof: string[];
  problem?: string;
}

/**
 * `rootca audit consistency --from CHECKPOINT_FILE [--size S]`: proves that the checkpoint an
 * auditor kept is a prefix of today's log (of its first S events; default all), or says what
 * is wrong: an altered file, a key this installation never had, a shorter log, or different
 * events. A failed check is a result (ok false, audited as failed), not an exception.
 */
export async function checkConsistency(
  inst: Installation,
  p: {
    checkpointText: string;
    checkpointName?: string;
    size?: number;
    examiner: string;
    passphrases: PassphraseSource;
  },
): Promise<ConsistencyProofJson> {
  const refuse = refuser(inst, 'audit.consistency', 'audit-log');
  let parsed: ReturnType<typeof parseCheckpointFile>;
  try {
    parsed = parseCheckpointFile(p.checkpointText, p.checkpointName);
  } catch (e) {
    if (e instanceof CaError) refuse(e.code, e.message);
    throw e;
  }
  const { checkpoint: old, key } = parsed!;
  const who = await examinerRead(inst, p.examiner, p.passphrases, {
    kind: 'audit.consistency',
    from: old.body,
    size: p.size ?? null,
  });
  const leaves = inst.audit.leafHashes();
  const newSize = p.size ?? leaves.length;
  return recordConsistency(inst, p, who, old, consistencyOutcome(inst, old, key, leaves, newSize));
}

type Outcome = Omit<ConsistencyProofJson, 'format' | 'from'>;
type Checkpoint = ReturnType<typeof parseCheckpointFile>['checkpoint'];
type CheckpointKey = ReturnType<typeof parseCheckpointFile>['key'];

/** Whether today's log (its first newSize events) extends the checkpoint: the proof, or what is wrong. */
function consistencyOutcome(
  inst: Installation,
  old: Checkpoint,
  key: CheckpointKey,
  leaves: Buffer[],
  newSize: number,
): Outcome {
  const newRootOf = (n: number) => (n <= leaves.length ? rootFromLeafHashes(leaves.slice(0, n)).toString('hex') : '');
  const storedAt = (n: number) => [...loadCheckpoints(inst.db)].reverse().find((c) => c.body.treeSize === n);
  const fail = (
    problem: string,
    to = { treeSize: newSize, rootHash: newRootOf(newSize), checkpoint: storedAt(newSize)?.number ?? null },
  ): Outcome => ({ ok: false, to, proof: [], problem });

  if (!Number.isSafeInteger(newSize) || newSize < 0 || newSize > leaves.length)
    return fail(`--size must be at most ${leaves.length} (today's log), got ${newSize}`, {
      treeSize: leaves.length,
      rootHash: newRootOf(leaves.length),
      checkpoint: null,
    });
  const known = loadAuditPublicKeys(inst.db).find((k) => k.keyId === key.keyId);
  if (!known?.publicKeySpki.equals(key.publicKeySpki)) {
    return fail(
      `the checkpoint is signed by key ${key.keyId} (SHA-256 ${spkiFingerprint(key.publicKeySpki).slice(0, 16)}…), which is not an audit key of this installation`,
    );
  }
  if (old.body.installation !== inst.config.installation.name)
    return fail(
      `the checkpoint is of installation "${old.body.installation}", this is "${inst.config.installation.name}"`,
    );
  if (old.body.treeSize > leaves.length) {
    return fail(
      `the checkpoint covers ${old.body.treeSize} events but today's log has only ${leaves.length}: events ${leaves.length + 1}..${old.body.treeSize} were cut off`,
    );
  }
  if (old.body.treeSize > newSize)
    return fail(`--size ${newSize} is smaller than the checkpoint's ${old.body.treeSize} events`);
  const oldRootNow = newRootOf(old.body.treeSize);
  if (oldRootNow !== old.body.rootHash) {
    const v = inst.audit.verify();
    const where =
      v.firstBad && v.firstBad.position <= old.body.treeSize
        ? ` (audit verify: event ${v.firstBad.position}: ${v.firstBad.problem})`
        : '';
    return fail(
      `today's log does not start with the ${old.body.treeSize} events the checkpoint signed: their root is now ${oldRootNow.slice(0, 16)}…, the checkpoint says ${old.body.rootHash.slice(0, 16)}…; an event among 1..${old.body.treeSize} was changed, removed, inserted or reordered${where}`,
    );
  }
  const proof = consistencyProof(leaves, old.body.treeSize, newSize);
  const newRoot = newRootOf(newSize);
  const ok = verifyConsistency(
    old.body.treeSize,
    newSize,
    Buffer.from(old.body.rootHash, 'hex'),
    Buffer.from(newRoot, 'hex'),
    proof,
  );
  const stored = storedAt(newSize);
  const signedMismatch = stored && stored.body.rootHash !== newRoot;
  return {
    ok: ok && !signedMismatch,
    to: { treeSize: newSize, rootHash: newRoot, checkpoint: stored?.number ?? null },
    proof: proof.map((h) => h.toString('hex')),
    ...(!ok
      ? { problem: 'the consistency proof does not verify' }
      : signedMismatch
        ? {
            problem: `stored checkpoint ${stored.number} of size ${newSize} signed a different root: the log was changed after it`,
          }
        : {}),
  };
}

/** The result as printed, audited as success or failed (a failed check is a result, not an exception). */
function recordConsistency(
  inst: Installation,
  p: { examiner: string },
  who: Participant,
  old: Checkpoint,
  r: Outcome,
): ConsistencyProofJson {
  const out: ConsistencyProofJson = {
    format: 'rootca-audit-consistency/1',
    from: {
      checkpoint: old.number,
      installation: old.body.installation,
      treeSize: old.body.treeSize,
      rootHash: old.body.rootHash,
      keyId: old.keyId,
      at: old.body.at,
    },
    ...r,
  };
  inst.audit.append({
    actor: p.examiner,
    roles: who.operator.roles,
    action: 'audit.consistency',
    target: 'audit-log',
    outcome: out.ok ? 'success' : 'failed',
    details: {
      fromCheckpoint: old.number,
      fromSize: old.body.treeSize,
      fromRoot: old.body.rootHash,
      toSize: out.to.treeSize,
      toRoot: out.to.rootHash,
      ok: out.ok,
      ...(out.problem ? { problem: out.problem } : {}),
    },
  });
  return out;
}
