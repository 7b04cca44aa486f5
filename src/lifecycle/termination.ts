/**
 * CA termination (CPS 5.8; ). The Person Responsible records a notice with the date of
 * the termination, at least three months ahead ("notify Subscribers and other affected
 * participants three (3) months prior"). On or after that date, and no sooner than three
 * months after the notice was recorded, the termination runs as one ceremony: every
 * certificate the CA issued is revoked (cessationOfOperation), a final CRL and final OCSP
 * responses are signed with the longest validity allowed, the key is destroyed under quorum
 * and witness (CPS 6.2.10), and the CA is marked terminated. A publication file, signed by
 * another root, shows it as terminated in the Repository.
 *
 * Crash safety: an intent record is written before the first revocation; every step can run
 * again; a run that finds the record resumes where the last one stopped — including after
 * the key was destroyed, when only the status remains to be recorded.
 */
import { CaError, type ErrorCode } from '../errors.ts';
import { addUtcMonths } from '../lint/crl/support.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { sha256Hex } from '../util/digest.ts';
import {
  operationDigest,
  bringParticipant,
  lockAll,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import type { BackupOutcome } from '../records/backups.ts';
import {
  actorOf,
  beginEnding,
  checkPublicationTarget,
  closeInterruptedSteps,
  endingStep,
  completeEnding,
  openEnding,
  publishAfter,
  revokeAllIssued,
  rolesOf,
  signLastStatus,
} from './ca-ending.ts';
import { finishInterruptedWork, type InterruptedWork } from '../operation/durable-outputs.ts';
import { runOperation, type OperationContext } from '../operation/runner.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { destroyCaKey } from '../custody/key-destruction.ts';
import { checkDistinct } from '../people/permissions.ts';
import type { PublishResult } from '../status/publication.ts';
import { endActiveCa } from '../store/cas.ts';
import { findCaKeyFacts } from '../store/ca-keys.ts';
import { NOTICE_MONTHS, terminationNotice, type TerminationNotice } from './termination-notice.ts';
import { guardedBy, refuser } from '../operation/refusals.ts';

const TERMINATE = 'ca.terminate';

export interface TerminateParams {
  caName: string;
  /** The Person Responsible who decides the termination. */
  authoriser: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** Optional publication written afterwards, signed by another active root. */
  publishOut?: string;
  publishSigner?: string;
  /** Test hook: called after each durable step ('started', 'revoked', 'final-status', 'key-destroyed'); each is also a fault point. */
  step?: (name: string) => void;
}

export interface TerminateResult {
  caName: string;
  resumed: boolean;
  revoked: string[];
  crlNumber: number | null;
  crlNextUpdate: Date | null;
  ocspResponses: number;
  keyDestroyed: boolean;
  transcriptFile: string | null;
  backup: BackupOutcome | null;
  publication?: PublishResult;
  /** What the operator should know after the commit (a transcript file not written). */
  notes: string[];
  /** Interrupted ceremonies this run found first (an interrupted termination among them is the one it resumes). */
  interrupted: InterruptedWork[];
}

/** CPS 5.8 / R-9.2: revoke all, final CRL and OCSP, destroy the key, mark terminated. */
export async function terminateCa(inst: Installation, p: TerminateParams): Promise<TerminateResult> {
  const interrupted = finishInterruptedWork(inst);
  const refuse = refuser(inst, TERMINATE, p.caName);
  const ca = guardedBy(refuse)(() => getCa(inst, p.caName));
  if (ca.status === 'terminated') refuse('CA_ALREADY_TERMINATED', `${ca.name} was already terminated`);
  if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `${ca.name} is ${ca.status}; only an active CA is terminated`);
  const open = openEnding(inst, ca.id);
  if (open && open.kind !== 'termination')
    refuse(
      'CA_ENDING_OTHER',
      `${ca.name} has an unfinished ${open.kind} (started ${open.startedAt}); complete that first`,
    );
  checkNoticeGiven(inst, ca, refuse);
  checkPublicationTarget(inst, { out: p.publishOut, signer: p.publishSigner, notBy: ca.name }, refuse);

  const keyStatus = findCaKeyFacts(inst.db, ca.keyId)!.status;
  const result =
    keyStatus === 'active'
      ? await runTermination(inst, ca, p, interrupted)
      : await completeAfterDestruction(inst, ca, p, refuse, interrupted);
  if (!p.publishOut) return result;
  const publication = await publishAfter(
    inst,
    { action: TERMINATE, target: ca.name, what: `${ca.name} is terminated` },
    {
      signerCa: p.publishSigner!,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      out: p.publishOut,
    },
  );
  return { ...result, publication };
}

/** Refuses unless a notice was recorded three months ago or more and its date has come. */
function checkNoticeGiven(
  inst: Installation,
  ca: CaSummary,
  refuse: (code: ErrorCode, message: string) => never,
): void {
  const notice = terminationNotice(inst, ca.name);
  if (!notice)
    refuse(
      'TERMINATION_NOT_ANNOUNCED',
      `no termination of ${ca.name} was announced: run rootca ca announce-termination --ca ${ca.name} --date YYYY-MM-DD, at least ${NOTICE_MONTHS} months ahead (CPS 5.8)`,
    );
  const now = inst.clock.now();
  const noticeEnds = addUtcMonths(new Date(notice!.announcedAt), NOTICE_MONTHS);
  if (now.getTime() < noticeEnds.getTime()) {
    refuse(
      'TERMINATION_NOTICE_TOO_RECENT',
      `the termination of ${ca.name} was announced on ${notice!.announcedAt}; CPS 5.8 requires ${NOTICE_MONTHS} months' notice, so it can run from ${noticeEnds.toISOString()}`,
    );
  }
  if (now.toISOString().slice(0, 10) < notice!.terminationDate)
    refuse(
      'TERMINATION_DATE_NOT_REACHED',
      `the announced termination date of ${ca.name} is ${notice!.terminationDate}`,
    );
}

/** What the steps of a termination did, for the result. */
type TerminationWork = Omit<TerminateResult, 'transcriptFile' | 'backup' | 'notes' | 'interrupted' | 'publication'>;

/** A termination with the key still there, on the runner: the people, the steps, the completing transaction. */
async function runTermination(
  inst: Installation,
  ca: CaSummary,
  p: TerminateParams,
  interrupted: InterruptedWork[],
): Promise<TerminateResult> {
  const notice = terminationNotice(inst, ca.name)!;
  return runOperation(inst, {
    action: TERMINATE,
    target: ca.name,
    check: () => notice,
    people: () => ({
      caName: ca.name,
      operator: p.operator,
      witness: p.witness,
      others: { authoriser: p.authoriser },
      passphrases: p.passphrases,
      describe: { noticeId: notice.id, terminationDate: notice.terminationDate, at: inst.clock.now().toISOString() },
    }),
    work: (_n, x) => terminationSteps(inst, p, { ca, notice, interrupted }, x),
    finish: (_n, w, after): TerminateResult => ({
      ...w,
      transcriptFile: after.transcriptFile,
      backup: after.backup!,
      notes: after.notes,
      interrupted,
    }),
  });
}

/** CPS 5.8 in order, each step durable and audited: revoke all, final CRL and OCSP, destroy the key, mark terminated. */
async function terminationSteps(
  inst: Installation,
  p: TerminateParams,
  c: { ca: CaSummary; notice: TerminationNotice; interrupted: InterruptedWork[] },
  x: OperationContext,
): Promise<TerminationWork> {
  const { ca, notice } = c;
  const s = x.session;
  const step = endingStep('termination', p.step);
  const { ending, resumed } = beginEnding(inst, s, 'termination', { authoriser: p.authoriser, noticeId: notice.id });
  step('started');
  const revoked = revokeAllIssued(inst, s, {
    reason: 'cessationOfOperation',
    source: 'ca-termination',
    approvedBy: p.authoriser,
  });
  step('revoked');
  const last = await signLastStatus(inst, s);
  step('final-status');
  const destroyed = await destroyCaKey(
    inst,
    s,
    `termination of ${ca.name} (CPS 5.8), notice #${notice.id} for ${notice.terminationDate}`,
  );
  step('key-destroyed');
  inst.db
    .transaction(() => {
      closeInterruptedSteps(inst, c.interrupted, 'termination', ca.name, {
        ceremonyId: s.ceremonyId,
        endingId: ending.id,
      });
      markTerminated(
        inst,
        ca,
        ending.id,
        { completedBy: s.ceremonyId, crlNumber: last.crl.crlNumber },
        {
          actor: actorOf(s),
          roles: rolesOf(s),
          details: {
            resumed,
            revokedNow: revoked.map((r) => r.serialHex),
            crlNumber: last.crl.crlNumber,
            crlNextUpdate: last.crl.nextUpdate.toISOString(),
            ocspResponses: last.ocspResponses,
            keyDestroyedIn: destroyed.destroyedIn,
            retiredKeysDestroyed: destroyed.retiredKeys,
            ceremonyId: s.ceremonyId,
            ...s.evidence(),
          },
        },
      );
      x.complete(terminationRecord(p, c, { revoked, last, destroyed }, s.signatures));
    })
    .immediate();
  return {
    caName: ca.name,
    resumed,
    revoked: revoked.map((r) => r.serialHex),
    crlNumber: last.crl.crlNumber,
    crlNextUpdate: last.crl.nextUpdate,
    ocspResponses: last.ocspResponses,
    keyDestroyed: true,
  };
}

/** What the transcript records of a termination: the notice it carried out and the final CRL it left. */
function terminationRecord(
  p: TerminateParams,
  c: { ca: CaSummary; notice: TerminationNotice },
  done: {
    revoked: ReturnType<typeof revokeAllIssued>;
    last: Awaited<ReturnType<typeof signLastStatus>>;
    destroyed: Awaited<ReturnType<typeof destroyCaKey>>;
  },
  keyActivations: number,
): Parameters<OperationContext['complete']>[0] {
  const { ca, notice } = c;
  const { revoked, last, destroyed } = done;
  return {
    inputs: [
      {
        name: `termination notice #${notice.id} (${notice.terminationDate}, given ${notice.announcedAt})`,
        sha256: sha256Hex(canonicalJson(notice)),
      },
    ],
    outputs: [{ name: `${ca.name} final CRL #${last.crl.crlNumber}`, sha256: last.crl.sha256 }],
    details: {
      decision: 'termination (CPS 5.8)',
      authoriser: p.authoriser,
      noticeId: notice.id,
      terminationDate: notice.terminationDate,
      revoked: revoked.map((r) => r.serialHex),
      reason: 'cessationOfOperation',
      crlNumber: last.crl.crlNumber,
      ocspResponses: last.ocspResponses,
      keyDestroyed: destroyed.keyId,
      retiredKeysDestroyed: destroyed.retiredKeys,
      status: 'terminated',
      keyActivations,
    },
  };
}

/**
 * Resuming after the key was destroyed and before the status was recorded: no key session can
 * open any more, so the Person Responsible and the witness confirm the completion themselves.
 */
async function completeAfterDestruction(
  inst: Installation,
  ca: CaSummary,
  p: TerminateParams,
  refuse: (code: ErrorCode, message: string) => never,
  interrupted: InterruptedWork[],
): Promise<TerminateResult> {
  const ending = openEnding(inst, ca.id);
  if (!ending) refuse('KEY_DESTROYED', `the key of ${ca.name} was destroyed outside a termination; nothing to resume`);
  guardedBy(refuse)(() => checkDistinct(TERMINATE, { authoriser: [p.authoriser], witness: [p.witness] }));
  const digest = operationDigest({
    kind: TERMINATE,
    ca: ca.name,
    step: 'complete-after-key-destruction',
    endingId: ending!.id,
  });
  const present: Participant[] = [];
  try {
    for (const [slot, name] of [
      ['authoriser', p.authoriser],
      ['witness', p.witness],
    ] as const) {
      const person = await bringParticipant(
        inst,
        name,
        p.passphrases,
        `${slot} completing the termination of ${ca.name}`,
        digest,
        { operation: TERMINATE, slot },
      );
      if (!person) refuse('AUTHENTICATION_REQUIRED', `${name} (${slot}) did not authenticate`);
      present.push(person!);
    }
    inst.db
      .transaction(() => {
        closeInterruptedSteps(inst, interrupted, 'termination', ca.name, {
          endingId: ending!.id,
          completedAfterKeyDestruction: true,
        });
        markTerminated(
          inst,
          ca,
          ending!.id,
          { completedAfterKeyDestruction: true },
          {
            actor: present.map((x) => x.operator.name).join(','),
            roles: [...new Set(present.flatMap((x) => x.operator.roles))],
            details: {
              resumed: true,
              keyDestroyedEarlier: true,
              ...participantEvidence(digest, [
                { role: 'authoriser', p: present[0]! },
                { role: 'witness', p: present[1]! },
              ]),
            },
          },
        );
      })
      .immediate();
    return {
      caName: ca.name,
      resumed: true,
      revoked: [],
      crlNumber: null,
      crlNextUpdate: null,
      ocspResponses: 0,
      keyDestroyed: true,
      transcriptFile: null,
      backup: null,
      notes: [],
      interrupted,
    };
  } finally {
    lockAll(present);
  }
}

function markTerminated(
  inst: Installation,
  ca: CaSummary,
  endingId: number,
  endingDetails: Record<string, unknown>,
  audit: { actor: string; roles: string[]; details: Record<string, unknown> },
): void {
  if (!endActiveCa(inst.db, ca.id, 'terminated'))
    throw new CaError('CA_STATE', `${ca.name} changed state during its termination`);
  completeEnding(inst, endingId, endingDetails);
  inst.audit.append({
    actor: audit.actor,
    roles: audit.roles,
    action: TERMINATE,
    target: ca.name,
    outcome: 'success',
    details: { step: 'completed', endingId, status: 'terminated', ...audit.details },
  });
}
