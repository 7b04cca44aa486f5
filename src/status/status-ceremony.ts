/**
 * One status ceremony per root (issue 16 item 2): one gathering — operator, witness and the
 * key's custodians, one key session — re-signs what `rootca status` says is due for the CA (its
 * CRL, the pre-signed OCSP responses that are missing, wrong or within their margin) and writes
 * one publication file with them. BR 4.9.7 / 4.9.10 (CPS 4.9.7, 4.9.9): a root's CRL and its
 * OCSP answers for subordinate CA certificates "at least every twelve months" and within 24
 * hours of a revocation.
 *
 * Planned first: the dry run shows exactly what the run signs and signs nothing; the people sign
 * that plan when they authenticate. On the runner (operation/runner.ts): the intent row before
 * any key is used, then the CRL and the responses each commit with their audit event (as `crl
 * issue` and `ocsp presign` do), and the publication commits with the one transcript that lists
 * everything. A crash before the first commit leaves nothing (the next run closes the row as
 * abandoned); after the last, `rootca ceremony resume` writes the file; between them, running
 * the ceremony again signs what is still due and closes the interrupted row as finished by it.
 */
import { CaError } from '../errors.ts';
import { delegatedSigner } from '../custody/delegated-signers.ts';
import type { Installation } from '../installation/installation.ts';
import { getCa } from '../installation/cas.ts';
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import { runOperation, type BackupOutcome, type OperationContext, type TranscriptParts } from '../operation/runner.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { closeCeremonyFinishedLater } from '../store/ceremonies.ts';
import { nextPublicationVersion } from '../store/publications.ts';
import { faultPoint } from '../util/fault-points.ts';
import { caDue, type StatusWork } from './due.ts';
import { issueCrlInSession } from './crl-and-ocsp.ts';
import { delegatedBesideRoot } from './delegated-in-session.ts';
import { presignInSession, presignWindow, responderBesideRoot } from './ocsp-presign.ts';
import { writeAndRecordPublication } from './publication.ts';

const ACTION = 'status.ceremony';

/** What a status ceremony signs, in order: exactly what its dry run shows. */
export interface StatusPlan {
  ca: string;
  /** Why the CRL is re-signed, or null when it is not. */
  crl: string | null;
  /** Certificates whose two responses (SHA-1 and SHA-256 CertID) are re-signed, and why. */
  ocsp: { serialHex: string; why: string }[];
  /** The publication file's version and why it is written. */
  publication: { version: number; why: string } | null;
  /** Signatures the key makes: one per CRL, response and manifest. */
  signatures: number;
  /** Due, but not signed here (with what to run instead). */
  notHere: string[];
}

/** The plan from what is due now (status/due.ts); nothing is signed. */
export function planStatusCeremony(inst: Installation, caName: string): StatusPlan {
  const ca = getCa(inst, caName);
  const work: StatusWork = caDue(inst, ca).work;
  const ocsp = work.ocsp.map((o) => ({ serialHex: o.certificate.serialHex, why: o.why }));
  const publication = work.publication ? { version: nextPublicationVersion(inst.db), why: work.publication } : null;
  const notHere = [
    ...work.retiredKey.map((s) => `OCSP for ${s} (a retired key): rootca ocsp presign --ca ${ca.name} --retired-key`),
    ...work.certificates.map(
      (c) =>
        `${c.profile} certificate ${c.serialHex} expires ${c.notAfter}: issue its successor from the responder's request (rootca issue --profile ${c.profile})`,
    ),
  ];
  if (ca.status !== 'active') notHere.push(`${ca.name} is ${ca.status}: it signs nothing`);
  return {
    ca: ca.name,
    crl: work.crl,
    ocsp,
    publication,
    signatures: (work.crl ? 1 : 0) + ocsp.length * 2 + (publication ? 1 : 0),
    notHere,
  };
}

export interface StatusCeremonyParams {
  caName: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** The publication file to write (never overwritten). */
  out: string;
}

export interface StatusCeremonyResult {
  plan: StatusPlan;
  crl: { crlNumber: number; nextUpdate: string; sha256: string } | null;
  ocspResponses: number;
  publication: { version: number; path: string; sha256: string; items: number; warnings: string[] } | null;
  /** The publication file, when written; a note names it when it could not be (it is recorded either way). */
  outputs: string[];
  transcriptFile: string;
  backup: BackupOutcome;
  notes: string[];
  interrupted: InterruptedWork[];
}

/** Runs the status ceremony for one CA: its plan, signed in one key session (see the file comment). */
export async function runStatusCeremony(inst: Installation, p: StatusCeremonyParams): Promise<StatusCeremonyResult> {
  return runOperation(inst, {
    action: ACTION,
    target: p.caName,
    check: ({ refuse, guard, interrupted }) => {
      const plan = guard(() => planStatusCeremony(inst, p.caName));
      if (!plan.publication)
        refuse('STATUS_NOTHING_DUE', `nothing is due for ${plan.ca}: rootca status --ca ${plan.ca} shows the dates`, {
          notHere: plan.notHere,
        });
      // The root key signs only the CRL; its responder and publication keys must be in date (BR 6.1.7).
      guard(() => delegatedKeysFor(inst, p.caName, plan));
      return { plan, earlier: partlyCommitted(interrupted, plan.ca) };
    },
    outputs: () => [{ path: p.out, what: '--out' }],
    people: ({ plan }) => ({
      caName: p.caName,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      describe: { at: inst.clock.now().toISOString(), plan },
    }),
    work: ({ plan, earlier }, ctx) => signPlan(inst, plan, earlier, ctx),
    finish: ({ plan }, w, after) => ({
      plan,
      ...w,
      outputs: after.published.written,
      transcriptFile: after.transcriptFile,
      backup: after.backup!,
      notes: [
        ...after.published.pending.map(
          (q) =>
            `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; everything is signed and recorded — write it with rootca ceremony resume ${after.ceremonyId}`,
        ),
        ...after.notes,
      ],
      interrupted: after.interrupted,
    }),
  });
}

type Signed = Pick<StatusCeremonyResult, 'crl' | 'ocspResponses' | 'publication'>;

/** The CRL, the responses, then the publication with the one transcript (in its transaction). */
async function signPlan(
  inst: Installation,
  plan: StatusPlan,
  earlier: number[],
  ctx: OperationContext,
): Promise<Signed> {
  const { session } = ctx;
  // Both delegated keys are found among the custodians present before anything is signed.
  const responder = plan.ocsp.length ? responderBesideRoot(inst, session) : undefined;
  const publisher = delegatedBesideRoot(inst, session, 'publication');
  if ((plan.ocsp.length && !responder) || !publisher)
    throw new CaError(
      'DELEGATED_KEY_MISSING',
      `the custodians present do not hold enough shares of ${plan.ca}'s ${publisher ? 'OCSP responder' : 'publication'} key; bring its holders to the ceremony`,
    );
  const outputs: TranscriptParts['outputs'] = [];
  let crl: Signed['crl'] = null;
  if (plan.crl) {
    const c = await issueCrlInSession(inst, session);
    crl = { crlNumber: c.crlNumber, nextUpdate: c.nextUpdate.toISOString(), sha256: c.sha256 };
    outputs.push({ name: `${plan.ca} CRL #${c.crlNumber}`, sha256: c.sha256 });
    faultPoint(`${ACTION}:crl-committed`);
  }
  let ocspResponses = 0;
  if (plan.ocsp.length) {
    const wanted = new Set(plan.ocsp.map((o) => o.serialHex));
    const certificates = caDue(inst, session.ca).work.ocsp.map((o) => o.certificate);
    const rs = await presignInSession(
      inst,
      session,
      responder!,
      certificates.filter((c) => wanted.has(c.serialHex)),
    );
    ocspResponses = rs.length;
    outputs.push(...rs.map((r) => ({ name: `OCSP ${r.serialHex} ${r.hash} (${r.status})`, sha256: r.sha256 })));
    faultPoint(`${ACTION}:ocsp-committed`);
  }
  const version = plan.publication!.version;
  const complete = (parts: TranscriptParts) => {
    const at = inst.clock.now().toISOString();
    for (const id of earlier)
      closeCeremonyFinishedLater(inst.db, id, at, { ceremonyId: session.ceremonyId, kind: ACTION });
    return ctx.complete({
      inputs: parts.inputs,
      outputs: [...outputs, ...parts.outputs],
      details: { ...parts.details, plan, crl, ocspResponses },
    });
  };
  const w = await writeAndRecordPublication(inst, version, publisher, { ...ctx, complete });
  return { crl, ocspResponses, publication: { version, ...w } };
}

/**
 * Earlier status ceremonies of this CA that a crash stopped after they committed a CRL or
 * responses (the runner has just found them): this run signs what is still due and, in its
 * completing transaction, closes them as finished by it, so no row stays 'started'.
 */
function partlyCommitted(interrupted: InterruptedWork[], caName: string): number[] {
  return interrupted
    .filter((w) => w.state === 'partly-committed' && w.kind === ACTION && w.ca === caName)
    .map((w) => w.ceremonyId);
}

/** Refuses (before anyone is asked) when the CA lacks a publication key, or a responder key the plan needs, in date now. */
function delegatedKeysFor(inst: Installation, caName: string, plan: StatusPlan): void {
  const ca = getCa(inst, caName);
  const now = inst.clock.now();
  delegatedSigner(inst, ca, 'publication', now);
  if (plan.ocsp.length) presignWindow(inst, delegatedSigner(inst, ca, 'ocsp', now));
}
