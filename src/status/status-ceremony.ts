/**
 * One status ceremony per root (issue 16 item 2): one gathering — operator, witness and the
 * key's custodians, one key session — re-signs what `rootca status` says is due for the CA (a
 * successor certificate for each responder or publication key whose certificate runs out, its
 * CRL, the pre-signed OCSP responses that are missing, wrong or within their margin) and writes
 * one publication file with them. BR 4.9.7 / 4.9.10 (CPS 4.9.7, 4.9.9): a root's CRL and its
 * OCSP answers for subordinate CA certificates "at least every twelve months" and within 24
 * hours of a revocation. The root key signs only the certificates and the CRL (BR 6.1.7); each
 * key's activations are counted per key in the transcript and the `status.ceremony` event.
 *
 * Planned first: the dry run shows exactly what the run signs and signs nothing; the people sign
 * that plan when they authenticate. On the runner (operation/runner.ts): the intent row (with
 * the successors' serials) before any key is used, then each successor certificate, the CRL
 * and the responses commit with their audit events (as `ocsp responder issue`, `crl issue` and
 * `ocsp presign` do), and the publication commits with the one transcript that lists
 * everything. A crash before the first commit leaves nothing (the next run closes the row as
 * abandoned); after the last, `rootca ceremony resume` writes the file; between them, running
 * the ceremony again signs what is still due — a successor already committed is in date, so
 * none is issued twice — and closes the interrupted row as finished by it.
 */
import { CaError } from '../errors.ts';
import { delegatedSigner, type DelegatedPurpose } from '../custody/delegated-signers.ts';
import type { Installation } from '../installation/installation.ts';
import { getCa } from '../installation/cas.ts';
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import type { KeyActivations } from '../operation/key-session.ts';
import { runOperation, type BackupOutcome, type OperationContext, type TranscriptParts } from '../operation/runner.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { closeCeremonyFinishedLater } from '../store/ceremonies.ts';
import { nextPublicationVersion } from '../store/publications.ts';
import { faultPoint } from '../util/fault-points.ts';
import { caDue, type StatusWork } from './due.ts';
import { issueCrlInSession } from './crl-and-ocsp.ts';
import { delegatedBesideRoot, holdersPresent } from './delegated-in-session.ts';
import {
  issueSuccessors,
  planSuccessors,
  prepareSuccessors,
  reserveSuccessorSerials,
  type IssuedSuccessor,
  type PreparedSuccessor,
  type SuccessorPlan,
} from './delegated-successors.ts';
import { sha256Hex } from '../util/digest.ts';
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
  /**
   * Responder and publication certificates running out whose keys get a successor certificate
   * here (status/delegated-successors.ts), each answered by two responses of its own.
   */
  certificates: SuccessorPlan[];
  /** The publication file's version and why it is written. */
  publication: { version: number; why: string } | null;
  /**
   * Signatures made, by any key: one per CRL, response and manifest; per successor four (the
   * key's own request, the root's certificate, its two responses).
   */
  signatures: number;
  /** Due, but not signed here (with what to run instead). */
  notHere: string[];
}

/** The plan from what is due now (status/due.ts); nothing is signed. */
export function planStatusCeremony(inst: Installation, caName: string): StatusPlan {
  const ca = getCa(inst, caName);
  const work: StatusWork = caDue(inst, ca).work;
  const ocsp = work.ocsp.map((o) => ({ serialHex: o.certificate.serialHex, why: o.why }));
  const { successors, notHere: others } = planSuccessors(inst, ca, work.certificates, ocsp.length > 0);
  const why = work.publication ?? (successors.length ? 'the successor certificates and their responses' : null);
  const publication = why ? { version: nextPublicationVersion(inst.db), why } : null;
  const notHere = [
    ...work.retiredKey.map((s) => `OCSP for ${s} (a retired key): rootca ocsp presign --ca ${ca.name} --retired-key`),
    ...others,
  ];
  if (ca.status !== 'active') notHere.push(`${ca.name} is ${ca.status}: it signs nothing`);
  return {
    ca: ca.name,
    crl: work.crl,
    ocsp,
    certificates: successors,
    publication,
    signatures: (work.crl ? 1 : 0) + ocsp.length * 2 + successors.length * 4 + (publication ? 1 : 0),
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
  /** Successor certificates issued for the delegated keys (`of`: the serial each follows). */
  certificates: { serialHex: string; of: string; profile: string; notAfter: string }[];
  /** Activations per key id: the root key's and each delegated key's. */
  keyActivations: KeyActivations;
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
      // Each successor's TBS linted now, before anyone is asked for anything (CONVENTIONS 5).
      const successors = prepareSuccessors(inst, p, plan.certificates, { refuse, guard });
      // The root key signs only certificates and the CRL; its responder and publication keys must be in date (BR 6.1.7).
      guard(() => delegatedKeysFor(inst, p.caName, plan, successors));
      return { plan, successors, earlier: partlyCommitted(interrupted, plan.ca) };
    },
    outputs: () => [{ path: p.out, what: '--out' }],
    people: ({ plan, successors }) => ({
      caName: p.caName,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      describe: {
        at: inst.clock.now().toISOString(),
        plan,
        successors: successors.map((x) => ({ serial: x.prepared.serialHex, tbsSha256: sha256Hex(x.prepared.tbs.der) })),
      },
      // Intent: the successors' serials are reserved with the ceremony row, before the key signs (R-3.1).
      onIntent: (ceremonyId, startedAt) => reserveSuccessorSerials(inst, successors, ceremonyId, startedAt),
    }),
    work: ({ plan, successors, earlier }, ctx) => signPlan(inst, { plan, successors, earlier }, ctx),
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

type Signed = Pick<StatusCeremonyResult, 'crl' | 'ocspResponses' | 'certificates' | 'publication' | 'keyActivations'>;

interface Planned {
  plan: StatusPlan;
  successors: PreparedSuccessor[];
  earlier: number[];
}

/**
 * The successor certificates, the CRL, the responses, then the publication with the one
 * transcript (in its transaction). Every key's activations are counted, per key.
 */
async function signPlan(
  inst: Installation,
  { plan, successors, earlier }: Planned,
  ctx: OperationContext,
): Promise<Signed> {
  const { session } = ctx;
  holdersBeforeSigning(inst, session, plan, successors);
  const outputs: TranscriptParts['outputs'] = [];
  const issued = await issueSuccessors(inst, session, successors);
  outputs.push(...issued.map((x) => ({ name: successorName(x), sha256: x.certificate.sha256 })));
  let crl: Signed['crl'] = null;
  if (plan.crl) {
    const c = await issueCrlInSession(inst, session);
    crl = { crlNumber: c.crlNumber, nextUpdate: c.nextUpdate.toISOString(), sha256: c.sha256 };
    outputs.push({ name: `${plan.ca} CRL #${c.crlNumber}`, sha256: c.sha256 });
    faultPoint(`${ACTION}:crl-committed`);
  }
  const rs = await presignDue(inst, session, plan, issued);
  outputs.push(...rs.map((r) => ({ name: `OCSP ${r.serialHex} ${r.hash} (${r.status})`, sha256: r.sha256 })));
  const certificates = issued.map((x) => ({
    serialHex: x.certificate.serialHex,
    of: x.of,
    profile: x.certificate.profile,
    notAfter: x.certificate.notAfter,
  }));
  const activations = (): KeyActivations => ({ ...session.activationsByKey });
  const version = plan.publication!.version;
  const complete = (parts: TranscriptParts) => {
    const at = inst.clock.now().toISOString();
    for (const id of earlier)
      closeCeremonyFinishedLater(inst.db, id, at, { ceremonyId: session.ceremonyId, kind: ACTION });
    const summary = { crl, ocspResponses: rs.length, certificates, keyActivations: activations() };
    ctx.audit({ ...summary, publication: version });
    return ctx.complete({
      inputs: parts.inputs,
      outputs: [...outputs, ...parts.outputs],
      details: { ...parts.details, plan, ...summary },
    });
  };
  const publisher = delegatedBesideRoot(inst, session, 'publication');
  if (!publisher)
    throw new CaError('DELEGATED_KEY_MISSING', `${plan.ca} has no publication certificate in date for the manifest`);
  const w = await writeAndRecordPublication(inst, version, publisher, { ...ctx, complete });
  return { crl, ocspResponses: rs.length, certificates, publication: { version, ...w }, keyActivations: activations() };
}

const successorName = (x: IssuedSuccessor) =>
  `${x.certificate.profile} certificate ${x.certificate.serialHex} (successor of ${x.of})`;

/** The responses due and those of the successors just issued, signed by the responder (under its successor, if it got one). */
async function presignDue(
  inst: Installation,
  session: OperationContext['session'],
  plan: StatusPlan,
  issued: IssuedSuccessor[],
) {
  if (!plan.ocsp.length && !issued.length) return [];
  const responder = responderBesideRoot(inst, session);
  if (!responder)
    throw new CaError(
      'DELEGATED_KEY_MISSING',
      `${plan.ca} has no OCSP responder certificate in date for these responses`,
    );
  const wanted = new Set([...plan.ocsp.map((o) => o.serialHex), ...issued.map((x) => x.certificate.serialHex)]);
  const certificates = caDue(inst, session.ca).work.ocsp.map((o) => o.certificate);
  const rs = await presignInSession(
    inst,
    session,
    responder,
    certificates.filter((c) => wanted.has(c.serialHex)),
  );
  faultPoint(`${ACTION}:ocsp-committed`);
  return rs;
}

/**
 * Before anything is signed: enough custodians present hold each delegated key the plan uses
 * (its publication key always, its responder key for responses, each re-certified key).
 */
function holdersBeforeSigning(
  inst: Installation,
  session: OperationContext['session'],
  plan: StatusPlan,
  successors: PreparedSuccessor[],
): void {
  const now = inst.clock.now();
  const keyOf = (purpose: DelegatedPurpose) =>
    successors.find((x) => x.plan.profile === purpose)?.plan.keyId ??
    delegatedSigner(inst, session.ca, purpose, now).keyId;
  const purposes: DelegatedPurpose[] =
    plan.ocsp.length || successors.length ? ['ocsp', 'publication'] : ['publication'];
  const keys = new Set([...purposes.map(keyOf), ...successors.map((x) => x.plan.keyId)]);
  for (const keyId of keys)
    if (!holdersPresent(inst, session, keyId))
      throw new CaError(
        'DELEGATED_KEY_MISSING',
        `the custodians present do not hold enough shares of ${plan.ca}'s delegated key ${keyId}; bring its holders to the ceremony`,
      );
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

/**
 * Refuses (before anyone is asked) when the CA lacks a publication key, or a responder key the
 * plan needs, in date now — unless the plan gives that key a successor, whose validity is then
 * checked instead (a response made now must not outlive it: OCSP_OUTLIVES_SIGNER).
 */
function delegatedKeysFor(inst: Installation, caName: string, plan: StatusPlan, successors: PreparedSuccessor[]): void {
  const ca = getCa(inst, caName);
  const now = inst.clock.now();
  const successor = (purpose: DelegatedPurpose) => successors.find((x) => x.plan.profile === purpose)?.signer;
  if (!successor('publication')) delegatedSigner(inst, ca, 'publication', now);
  if (plan.ocsp.length || successors.length)
    presignWindow(inst, successor('ocsp') ?? delegatedSigner(inst, ca, 'ocsp', now));
}
