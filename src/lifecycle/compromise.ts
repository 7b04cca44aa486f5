/**
 * Compromise handling (CPS 5.7.1, 5.7.3; ).
 *
 * A subscriber's key compromise: the report — a request signed with the compromised key that
 * says `compromise SERIAL TIME` for this certificate within the last day, never a CSR on file
 * nor one used before (compromise-proof.ts), or one approved by a Person in Charge of RA — revokes at once with reason keyCompromise, and in
 * the same run the CRL is issued, the certificate's OCSP responses are re-signed (both by
 * `revokeCertificate`) and a publication file is written for the online side.
 *
 * A CA-key compromise runbook: decided by the Person Responsible, performed by a CA
 * Administrator with M custodians under a Service Operation Manager's observation. Every
 * certificate the CA issued is revoked with cACompromise, a last CRL and last OCSP responses
 * are signed, and the CA is marked compromised, after which its key signs nothing.
 *
 * Why the compromised key signs a last CRL: a root has no parent whose CRL could list it, so
 * its own CRL is the only signed statement a relying party's software can act on (RFC 5280
 * 6.3); the signature gives an attacker who holds the key nothing new. The CA is marked
 * compromised in the same run, seconds later; an intent record written first lets an
 * interrupted run be resumed (the CA stays active until then, so a key session can open).
 * The publication must be signed by another root: a manifest signed by a compromised key
 * proves nothing.
 */
import { sha256Hex } from '../util/digest.ts';
import type { BackupOutcome } from '../records/backups.ts';
import {
  actorOf,
  beginEnding,
  checkPublicationTarget,
  closeInterruptedSteps,
  endingStep,
  completeEnding,
  publishAfter,
  revokeAllIssued,
  rolesOf,
  signLastStatus,
} from './ca-ending.ts';
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import { runOperation, type OperationContext } from '../operation/runner.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator } from '../people/operators.ts';
import type { PassphraseSource } from '../people/participants.ts';
import type { PublishResult } from '../status/publication.ts';
import { revokeCertificate, type RevokeResult } from '../status/revocation.ts';
import { endActiveCa } from '../store/cas.ts';
import { compromiseStatementOf } from '../pki/csr-compromise.ts';
import { inspectCsr } from '../pki/csr.ts';
import { refuseUsedProof } from './compromise-proof.ts';
import { guardedBy, refuser } from '../operation/refusals.ts';

export interface KeyCompromiseReport {
  caName: string;
  serial: string;
  /** A PKCS#10 request signed by the compromised key (the subscriber's own report). */
  proof?: Uint8Array;
  /** Or the Person in Charge of RA who accepted the report. */
  approvedBy?: string;
  invalidityDate?: Date;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** The publication file to write (never overwritten). */
  publishOut: string;
  /** The root that signs the publication; default the issuing CA. */
  publishSigner?: string;
}

const REPORT_ACTION = 'compromise.report';

/** CPS 5.7.3: revoke at once (keyCompromise), CRL + OCSP in the same session, then the publication file. */
export async function reportKeyCompromise(
  inst: Installation,
  p: KeyCompromiseReport,
): Promise<{ revocation: RevokeResult; publication: PublishResult }> {
  const refuse = refuser(inst, REPORT_ACTION, `${p.caName}/${p.serial}`);
  // Issue 15.7: a proof is used once; the rest of its binding is checked with the revocation.
  if (p.proof) refuseUsedProof(inst, p.proof, refuse);
  // Checked before the revocation so that a run that would fail to publish changes nothing.
  guardedBy(refuse)(() => getCa(inst, p.caName));
  const signerCa = p.publishSigner ?? p.caName;
  checkPublicationTarget(inst, { out: p.publishOut, signer: signerCa }, refuse);
  const revocation = await revokeCertificate(inst, {
    caName: p.caName,
    serial: p.serial,
    reason: 'keyCompromise',
    invalidityDate: p.invalidityDate,
    keyCompromiseProof: p.proof,
    approvedBy: p.proof ? undefined : p.approvedBy,
    operator: p.operator,
    witness: p.witness,
    passphrases: p.passphrases,
  });
  const publication = await publishAfter(
    inst,
    {
      action: REPORT_ACTION,
      target: p.caName,
      what: `${revocation.serialHex} is revoked and CRL #${revocation.crl?.crlNumber} is issued`,
    },
    { signerCa, operator: p.operator, witness: p.witness, passphrases: p.passphrases, out: p.publishOut },
  );
  inst.audit.append({
    actor: p.operator,
    roles: getOperator(inst, p.operator).roles,
    action: REPORT_ACTION,
    target: p.caName,
    outcome: 'success',
    details: {
      serial: revocation.serialHex,
      source: p.proof ? 'subscriber-key-compromise' : 'ra',
      approvedBy: p.proof ? null : (p.approvedBy ?? null),
      proofSha256: p.proof ? sha256Hex(p.proof) : null,
      // Issue 15.7: the proof itself (a CSR holds no secret) and what it says, kept with the event.
      proof: p.proof ? Buffer.from(p.proof).toString('base64') : null,
      statement: p.proof ? (compromiseStatementOf(inspectCsr(p.proof))?.text ?? null) : null,
      revokedAt: revocation.revokedAt.toISOString(),
      crlNumber: revocation.crl?.crlNumber ?? null,
      ocspResponses: revocation.ocspResponses,
      publicationVersion: publication.version,
      publicationSha256: publication.sha256,
    },
  });
  return { revocation, publication };
}

export interface CaCompromiseParams {
  caName: string;
  /** The Person Responsible who determined the compromise (CPS 5.7.1). */
  authoriser: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** When the key was (or may have been) compromised: the invalidity date of every entry. */
  compromisedAt?: Date;
  /** Optional publication written afterwards, signed by another active root. */
  publishOut?: string;
  publishSigner?: string;
  /** Test hook: called after each durable step ('started', 'revoked', 'last-status'); each is also a fault point. */
  step?: (name: string) => void;
}

export interface CaCompromiseResult {
  caName: string;
  resumed: boolean;
  revoked: string[];
  crlNumber: number;
  crlNextUpdate: Date;
  ocspResponses: number;
  transcriptFile: string;
  backup: BackupOutcome;
  publication?: PublishResult;
  /** What the operator should know after the commit (a transcript file not written). */
  notes: string[];
  /** Interrupted ceremonies this run found first (an interrupted compromise among them is the one it resumes). */
  interrupted: InterruptedWork[];
}

const CA_ACTION = 'ca.compromise';

/** What the compromise run settled before anyone is asked for anything. */
interface CompromiseChecked {
  ca: CaSummary;
  now: Date;
  /** Interrupted work the runner found first; an interrupted compromise of this CA is the one this run resumes. */
  interrupted: InterruptedWork[];
}

/** What the runbook did, for the result. */
type CompromiseWork = Pick<
  CaCompromiseResult,
  'caName' | 'resumed' | 'revoked' | 'crlNumber' | 'crlNextUpdate' | 'ocspResponses'
>;

/** The CA-key compromise runbook (CPS 5.7.1) on the runner: revoke all with cACompromise, last CRL/OCSP, mark compromised. */
export async function declareCaCompromise(inst: Installation, p: CaCompromiseParams): Promise<CaCompromiseResult> {
  // Issue 14: an interrupted compromise is found by the runner and its ceremony closed by the run that resumes it.
  const done = await runOperation(inst, {
    action: CA_ACTION,
    target: p.caName,
    check: ({ refuse, guard, interrupted }): CompromiseChecked => {
      const ca = guard(() => getCa(inst, p.caName));
      if (ca.status === 'compromised') refuse('CA_ALREADY_COMPROMISED', `${ca.name} was already declared compromised`);
      if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `${ca.name} is ${ca.status}`);
      const now = inst.clock.now();
      if (p.compromisedAt && p.compromisedAt.getTime() > now.getTime())
        refuse('INVALIDITY_DATE_INVALID', 'the compromise time cannot be in the future');
      checkPublicationTarget(inst, { out: p.publishOut, signer: p.publishSigner, notBy: ca.name }, refuse);
      return { ca, now, interrupted };
    },
    people: ({ ca, now }) => ({
      caName: ca.name,
      operator: p.operator,
      witness: p.witness,
      others: { authoriser: p.authoriser },
      passphrases: p.passphrases,
      describe: { compromisedAt: p.compromisedAt?.toISOString() ?? null, at: now.toISOString() },
    }),
    work: ({ ca, interrupted }, x) => runCompromise(inst, p, ca, x, interrupted),
    finish: (_c, w, after): CaCompromiseResult => ({
      ...w,
      transcriptFile: after.transcriptFile,
      backup: after.backup!,
      notes: after.notes,
      interrupted: after.interrupted,
    }),
  });
  return publishCompromise(inst, p, done);
}

/** The runbook's steps, each durable and audited; the last transaction marks the CA compromised and completes. */
async function runCompromise(
  inst: Installation,
  p: CaCompromiseParams,
  ca: CaSummary,
  x: OperationContext,
  interrupted: InterruptedWork[],
): Promise<CompromiseWork> {
  const s = x.session;
  const step = endingStep('compromise', p.step);
  const { ending, resumed } = guardedBy(refuser(inst, CA_ACTION, ca.name))(() =>
    beginEnding(inst, s, 'compromise', {
      authoriser: p.authoriser,
      compromisedAt: p.compromisedAt?.toISOString() ?? null,
    }),
  );
  step('started');
  const invalidityDate =
    p.compromisedAt ?? (ending.details.compromisedAt ? new Date(ending.details.compromisedAt as string) : undefined);
  const revoked = revokeAllIssued(inst, s, {
    reason: 'cACompromise',
    source: 'ca-compromise',
    approvedBy: p.authoriser,
    invalidityDate,
  });
  step('revoked');
  const last = await signLastStatus(inst, s);
  step('last-status');
  inst.db
    .transaction(() => {
      endActiveCa(inst.db, ca.id, 'compromised');
      completeEnding(inst, ending.id, { completedBy: s.ceremonyId, crlNumber: last.crl.crlNumber });
      closeInterruptedSteps(inst, interrupted, 'compromise', ca.name, {
        ceremonyId: s.ceremonyId,
        endingId: ending.id,
      });
      inst.audit.append({
        actor: actorOf(s),
        roles: rolesOf(s),
        action: CA_ACTION,
        target: ca.name,
        outcome: 'success',
        details: {
          step: 'completed',
          endingId: ending.id,
          resumed,
          revokedNow: revoked.map((c) => c.serialHex),
          crlNumber: last.crl.crlNumber,
          crlNextUpdate: last.crl.nextUpdate.toISOString(),
          ocspResponses: last.ocspResponses,
          status: 'compromised',
          ceremonyId: s.ceremonyId,
          ...s.evidence(),
        },
      });
      x.complete({
        inputs: [],
        outputs: [{ name: `${ca.name} last CRL #${last.crl.crlNumber}`, sha256: last.crl.sha256 }],
        details: {
          decision: 'CA key compromised (CPS 5.7.1)',
          authoriser: p.authoriser,
          revoked: revoked.map((c) => c.serialHex),
          reason: 'cACompromise',
          crlNumber: last.crl.crlNumber,
          ocspResponses: last.ocspResponses,
          status: 'compromised',
          keyActivations: s.signatures,
        },
      });
    })
    .immediate();
  return {
    caName: ca.name,
    resumed,
    revoked: revoked.map((c) => c.serialHex),
    crlNumber: last.crl.crlNumber,
    crlNextUpdate: last.crl.nextUpdate,
    ocspResponses: last.ocspResponses,
  };
}

/** The publication that follows, signed by another root, when one was asked for. */
async function publishCompromise(
  inst: Installation,
  p: CaCompromiseParams,
  result: CaCompromiseResult,
): Promise<CaCompromiseResult> {
  if (!p.publishOut) return result;
  const publication = await publishAfter(
    inst,
    { action: CA_ACTION, target: p.caName, what: `${p.caName} is marked compromised and its certificates are revoked` },
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
