/**
 * The operation runner (issue 13 item 3): the protocol every CA key operation follows, owned
 * in one place so a use case says only what is particular to it.
 *
 *   checks     sync; a CaError there is a refusal, audited, before anyone is asked for anything
 *              (CPS 5.2.2, 5.4.1 "refused operations are recorded");
 *   outputs    planned and checked before anyone authenticates (durable-outputs.ts, issue 14);
 *   people     operator, witness, custodians and other slots (key-session.ts, CPS 5.2, 6.2.8);
 *   intent     the ceremony row names this process and the planned outputs;
 *   work       the use case signs and writes its state with its audit event in a transaction;
 *   complete   the transcript signed by everyone, stored and staged as files, the ceremony
 *              completed and the staged outputs recorded — in the work's last transaction, or
 *              one of its own;
 *   after      outputs and transcript files named (so `ceremony resume` finishes what a crash
 *              leaves: issue 14), then the backup (CPS 5.5.4).
 *
 * A failure after the intent row discards the partials and marks the ceremony failed with an
 * audit event (`failSession`); nothing after the commit reports the operation as failed.
 */
import { CaError, type ErrorCode } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import type { Operation } from '../people/permissions.ts';
import { backupAfterChange, type BackupOutcome } from '../records/backups.ts';
import type { Transcript } from '../records/transcript.ts';
import { planOutputs, type OutputRequest, type PlannedOutput } from '../util/outputs.ts';
import {
  ceremonyOwner,
  durableOutputs,
  finishInterruptedWork,
  planTranscriptFiles,
  stageTranscript,
  type DurableOutputs,
  type InterruptedWork,
} from './durable-outputs.ts';
import {
  failSession,
  openKeySession,
  type FailureReport,
  type KeySession,
  type KeySessionRequest,
} from './key-session.ts';
import { checked, type Checks, guardedBy, isRefusal, refuser } from './refusals.ts';

export type { BackupOutcome };

/** What a transcript records besides its people: the files in and out, and the operation's details. */
export interface TranscriptParts {
  inputs: Transcript['inputs'];
  outputs: Transcript['outputs'];
  details: Record<string, unknown>;
}

/** What the work step gets from the runner. */
export interface OperationContext {
  session: KeySession;
  files: DurableOutputs;
  /** Inside a transaction: the success audit event, by everyone who took part, with their evidence. */
  audit(details: Record<string, unknown>, target?: string): void;
  /**
   * Inside the work's last transaction: the transcript signed and stored, the ceremony completed,
   * the staged outputs recorded. When the work does not call it, the runner does, in its own.
   */
  complete(parts: TranscriptParts): Transcript;
}

/** What is known once the operation is committed and its files written. */
export interface AfterCommit {
  ceremonyId: number;
  transcript: Transcript;
  /** The transcript's JSON file ('' when it could not be written: a note says so). */
  transcriptFile: string;
  /** Outputs written, and those that could not be (the work is committed either way). */
  published: { written: string[]; pending: { path: string; reason: string }[] };
  /** Things the operator should know; the transcript file not written is one. */
  notes: string[];
  /**
   * The backup set written after the change (CPS 5.5.4); undefined for an operation that makes
   * none (`backup: false`).
   */
  backup?: BackupOutcome;
  /** Interrupted ceremonies found and finished first (every operation does, issue 14). */
  interrupted: InterruptedWork[];
}

/** What an operation's checks get: the refusal tools, and the interrupted work the runner has just found and finished. */
export type OperationChecks = Checks & { interrupted: InterruptedWork[] };

export interface OperationSpec<C, W, R> {
  /** The permission table key, the audit action and the ceremony kind. */
  action: Operation;
  /** What a refusal names (e.g. `CA/serial`). */
  target: string;
  /** Added to every refusal's audit details (e.g. an issuance's requester). */
  refusalDetails?: Record<string, unknown>;
  /** How an unexpected error is reported, when not as OPERATION_FAILED of the action. */
  failure?(c: C): FailureReport;
  /** False for an operation after which no backup set is written (CPS 5.5.4 names issuance, revocation and CRLs). */
  backup?: boolean;
  /** Sync checks: a CaError here is a refusal, audited, before anyone is asked for anything. */
  check(c: OperationChecks): C;
  /** The files the operation will write, checked now (before people). */
  outputs?(c: C): OutputRequest[] | { requests: OutputRequest[]; baseDir?: string; confineTo?: string };
  /** Who is needed, and what they sign when they authenticate. */
  people(c: C): Omit<KeySessionRequest, 'operation'>;
  /** Signing and the state writes with their audit event. */
  work(c: C, x: OperationContext): Promise<W>;
  /** The transcript, when the work did not complete in its own transaction. */
  transcript?(c: C, w: W, s: KeySession): TranscriptParts;
  /** The use case's result, after the commit. */
  finish(c: C, w: W, after: AfterCommit): R;
}

/** Runs one operation through the whole protocol (see the file comment). */
export async function runOperation<C, W, R>(inst: Installation, spec: OperationSpec<C, W, R>): Promise<R> {
  // Whatever a crash left half done is finished before anything new starts (issue 14).
  const interrupted = finishInterruptedWork(inst);
  const refuse = refuser(inst, spec.action, spec.target, spec.refusalDetails);
  const guard = guardedBy(refuse);
  const c = checked(() => spec.check({ refuse, guard, interrupted }), refuse);
  const files = durableOutputs(
    inst,
    guard(() => planned(spec.outputs?.(c))),
  );
  // The intent row names this process from the start, so a crash at any point is recognised (issue 14).
  const request = { intentDetails: { owner: ceremonyOwner() }, ...spec.people(c), operation: spec.action };
  const session = await openKeySession(inst, request);
  try {
    let transcript: Transcript | undefined;
    let work: W;
    let transcriptFiles: PlannedOutput[] = [];
    try {
      transcriptFiles = planTranscriptFiles(inst, session.ceremonyId);
      files.add(transcriptFiles);
      files.claim(session.ceremonyId, spec.action);
      const complete = (parts: TranscriptParts): Transcript => {
        transcript = session.transcript(parts);
        stageTranscript(files, transcriptFiles, transcript);
        files.recordInCommit();
        return transcript;
      };
      const audit = (details: Record<string, unknown>, target?: string) =>
        auditSuccess(inst, session, spec.action, details, target);
      work = await spec.work(c, { session, files, complete, audit });
      if (!transcript) {
        if (!spec.transcript) throw new Error(`${spec.action}: the work did not complete and no transcript is given`);
        const parts = spec.transcript(c, work, session);
        inst.db.transaction(() => complete(parts)).immediate();
      }
    } catch (e) {
      files.discard();
      return failSession(inst, session, spec.action, e, spec.failure?.(c));
    }
    // Committed: outputs are named before the backup, and nothing after this reports failure.
    const ceremonyId = session.ceremonyId;
    const { published, transcriptFile, notes } = publishOutputs(files, transcriptFiles, ceremonyId);
    const backup =
      spec.backup === false
        ? undefined
        : await backupAfterChange(inst, { reason: spec.action, ceremonyId, operator: session.operator });
    return spec.finish(c, work, {
      ceremonyId,
      transcript: transcript!,
      transcriptFile,
      published,
      notes,
      backup,
      interrupted,
    });
  } finally {
    session.lock();
  }
}

/** Names the outputs and the transcript files; the transcript's own failure is a note (it is in the store). */
function publishOutputs(files: DurableOutputs, transcriptFiles: PlannedOutput[], ceremonyId: number) {
  const all = files.publish();
  const ofTranscript = (path: string) => transcriptFiles.some((f) => f.path === path);
  const notes: string[] = [];
  const lost = all.pending.find((q) => ofTranscript(q.path));
  if (lost) {
    notes.push(
      `the transcript is stored but its file could not be written (${lost.reason}); ` +
        `rootca ceremony resume ${ceremonyId} writes it, or rootca audit transcript show ${ceremonyId}`,
    );
  }
  const published = {
    written: all.written.filter((w) => !ofTranscript(w)),
    pending: all.pending.filter((q) => !ofTranscript(q.path)),
  };
  const json = transcriptFiles[0]!.path;
  return { published, notes, transcriptFile: all.written.includes(json) ? json : '' };
}

type OutputsOf = ReturnType<NonNullable<OperationSpec<unknown, unknown, unknown>['outputs']>>;

function planned(o: OutputsOf | undefined): PlannedOutput[] {
  if (!o) return [];
  return Array.isArray(o) ? planOutputs(o) : planOutputs(o.requests, { baseDir: o.baseDir, confineTo: o.confineTo });
}

/** The success audit event of a session: every participant as actor, their roles, and the evidence they signed. */
export function auditSuccess(
  inst: Installation,
  s: KeySession,
  action: string,
  details: Record<string, unknown>,
  target = s.ca.name,
): void {
  inst.audit.append({
    actor: s
      .people()
      .map((x) => x.p.operator.name)
      .join(','),
    roles: [...new Set(s.people().flatMap((x) => x.p.operator.roles))],
    action,
    target,
    outcome: 'success',
    details: { ...details, ceremonyId: s.ceremonyId, ...s.evidence() },
  });
}
