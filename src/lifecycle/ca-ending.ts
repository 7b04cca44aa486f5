/**
 * The steps a CA-key compromise (CPS 5.7.1) and a termination (CPS 5.8) share: an intent
 * record written before anything changes, every certificate the CA issued revoked, and a
 * last CRL and last OCSP responses signed while the key can still sign. Each step is
 * audited; each is safe to run again when an interrupted end is resumed.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CaError, type ErrorCode } from '../errors.ts';
import type { RevocationReason } from '../pki/crl.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import { listIssued, type IssuedCertificate } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import type { KeySession } from '../operation/key-session.ts';
import { publish, type PublishParams, type PublishResult } from '../status/publication.ts';
import { recordRevocation } from '../status/revocation.ts';
import { issueCrlInSession, type IssuedCrl } from '../status/crl-and-ocsp.ts';
import { presignInSession, responderBesideRoot } from '../status/ocsp-presign.ts';
import { delegatedSigner } from '../custody/delegated-signers.ts';
import { completeOpenEnding, findOpenEnding, insertStartedEnding, type EndingKind } from '../store/ca-endings.ts';
import { closeCeremonyFinishedLater } from '../store/ceremonies.ts';
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import { faultPoint } from '../util/fault-points.ts';

/**
 * Life of the last CRL and OCSP responses, in days. After the end nothing is signed again, so
 * they are made as long-lived as the rules allow: BR 4.9.7 (CRL) and 4.9.10 (OCSP for CA
 * certificates) allow twelve months; 365 days never exceeds twelve calendar months, and it is
 * also the maximum `crl.validityDays` / `ocsp.validityDays` accept (config/installation.ts).
 */
export const LAST_STATUS_VALIDITY_DAYS = 365;

export type { EndingKind };

/** The audit action (and permission-table operation) of each kind of end. */
const ACTION: Record<EndingKind, string> = { compromise: 'ca.compromise', termination: 'ca.terminate' };

export interface Ending {
  id: number;
  kind: EndingKind;
  startedAt: string;
  details: Record<string, unknown>;
}

/** The CA's end that was begun and not completed, if any. */
export function openEnding(inst: Installation, caId: number): Ending | undefined {
  const r = findOpenEnding(inst.db, caId);
  return (
    r && { id: r.id, kind: r.kind, startedAt: r.started_at, details: JSON.parse(r.details) as Record<string, unknown> }
  );
}

/** Intent: records that the end began, or finds the interrupted one to resume. */
export function beginEnding(
  inst: Installation,
  s: KeySession,
  kind: EndingKind,
  details: Record<string, unknown>,
): { ending: Ending; resumed: boolean } {
  return inst.db
    .transaction(() => {
      const open = openEnding(inst, s.ca.id);
      if (open) {
        if (open.kind !== kind)
          throw new CaError(
            'CA_ENDING_OTHER',
            `${s.ca.name} has an unfinished ${open.kind} (started ${open.startedAt}); complete that first`,
          );
        inst.audit.append({
          actor: actorOf(s),
          roles: rolesOf(s),
          action: ACTION[kind],
          target: s.ca.name,
          outcome: 'success',
          details: { step: 'resumed', endingId: open.id, startedAt: open.startedAt, ceremonyId: s.ceremonyId },
        });
        return { ending: open, resumed: true };
      }
      const startedAt = inst.clock.now().toISOString();
      const id = insertStartedEnding(inst.db, s.ca.id, kind, startedAt, details);
      inst.audit.append({
        actor: actorOf(s),
        roles: rolesOf(s),
        action: ACTION[kind],
        target: s.ca.name,
        outcome: 'success',
        details: { step: 'started', endingId: id, ceremonyId: s.ceremonyId, ...details, ...s.evidence() },
      });
      return { ending: { id, kind, startedAt, details }, resumed: false };
    })
    .immediate();
}

/** Closes the intent record; call inside the transaction that records the CA's new status. */
export function completeEnding(inst: Installation, endingId: number, details: Record<string, unknown>): void {
  if (!completeOpenEnding(inst.db, endingId, inst.clock.now().toISOString(), details))
    throw new CaError('CA_ENDING_STATE', `the end record #${endingId} is no longer open`);
}

/**
 * Revokes, in one transaction, every certificate the CA issued that is not revoked yet, with
 * one audit event each. Already revoked certificates keep their reason (RFC 5280 5.3.1 lets a
 * relying party rely on the first). Returns those revoked now.
 */
export function revokeAllIssued(
  inst: Installation,
  s: KeySession,
  r: { reason: RevocationReason; source: string; approvedBy: string; invalidityDate?: Date },
): IssuedCertificate[] {
  const revokedAt = inst.clock.now();
  revokedAt.setUTCMilliseconds(0);
  return inst.db
    .transaction(() => {
      const pending = listIssued(inst, s.ca.name).filter((c) => !c.revocation);
      for (const cert of pending) {
        recordRevocation(inst, {
          cert,
          revokedAt,
          reason: r.reason,
          invalidityDate: r.invalidityDate,
          source: r.source,
          operator: s.operator.operator.name,
          approvedBy: r.approvedBy,
        });
        inst.audit.append({
          actor: actorOf(s),
          roles: rolesOf(s),
          action: 'certificate.revoke',
          target: s.ca.name,
          outcome: 'success',
          details: {
            serial: cert.serialHex,
            subject: cert.subject,
            reason: r.reason,
            source: r.source,
            revokedAt: revokedAt.toISOString(),
            invalidityDate: r.invalidityDate?.toISOString() ?? null,
            approvedBy: r.approvedBy,
            ceremonyId: s.ceremonyId,
          },
        });
      }
      return pending;
    })
    .immediate();
}

/** The installation as seen by the last CRL/OCSP signing: the same store, longest allowed validity. */
function lastStatusView(inst: Installation): Installation {
  return {
    ...inst,
    config: {
      ...inst.config,
      crl: { ...inst.config.crl, validityDays: LAST_STATUS_VALIDITY_DAYS },
      ocsp: { ...inst.config.ocsp, validityDays: LAST_STATUS_VALIDITY_DAYS },
    },
  };
}

/** The last responses' life: LAST_STATUS_VALIDITY_DAYS, or less, so they end before their responder certificate. */
function lastOcspView(view: Installation, s: KeySession): Installation | undefined {
  try {
    const responder = delegatedSigner(view, s.ca, 'ocsp', view.clock.now());
    const days = Math.floor((responder.info.notAfter.getTime() - view.clock.now().getTime()) / 86_400_000);
    if (days < 1) return undefined;
    const validityDays = Math.min(days, LAST_STATUS_VALIDITY_DAYS);
    return { ...view, config: { ...view.config, ocsp: { ...view.config.ocsp, validityDays } } };
  } catch {
    return undefined;
  }
}

/** The last CRL and a last OCSP response (SHA-1 and SHA-256 CertIDs) for every certificate the CA issued. */
export async function signLastStatus(
  inst: Installation,
  s: KeySession,
): Promise<{ crl: IssuedCrl; ocspResponses: number }> {
  const view = lastStatusView(inst);
  const crl = await issueCrlInSession(view, s);
  // By the CA's responder key when its holders are here (BR 6.1.7), as long as its certificate lives (RFC 6960 4.2.2.2).
  const fitted = lastOcspView(view, s);
  const responder = fitted && responderBesideRoot(fitted, s);
  const ocspResponses = responder ? (await presignInSession(fitted, s, responder)).length : 0;
  return { crl, ocspResponses };
}

/**
 * Checks, before anything changes, that the publication can be written afterwards: the file
 * does not exist and the signer is an active root. `notBy` is a CA whose end is being
 * recorded: its key is about to be destroyed or is no longer trusted, so its signature on a
 * manifest would prove nothing.
 */
export function checkPublicationTarget(
  inst: Installation,
  p: { out?: string; signer?: string; notBy?: string },
  refuse: (code: ErrorCode, message: string) => never,
): void {
  if (!p.out) return;
  if (existsSync(resolve(p.out))) refuse('OUTPUT_EXISTS', `${resolve(p.out)} already exists; nothing is overwritten`);
  if (!p.signer)
    refuse(
      'PUBLICATION_SIGNER_REQUIRED',
      `name the root that signs the publication (--publish-signer): another active root than ${p.notBy}`,
    );
  if (p.signer === p.notBy)
    refuse(
      'PUBLICATION_SIGNER_ENDING',
      `${p.notBy} cannot sign the publication that records its own end; name another active root`,
    );
  let signer: CaSummary;
  try {
    signer = getCa(inst, p.signer!);
  } catch (e) {
    return refuse((e as CaError).code, (e as Error).message);
  }
  if (signer.status !== 'active') refuse('CA_NOT_ACTIVE', `the publication signer ${signer.name} is ${signer.status}`);
}

/**
 * The publication that follows a completed change. The change stands if it fails; the error
 * says so and what to run, and the failure is audited.
 */
export async function publishAfter(
  inst: Installation,
  done: { action: string; target: string; what: string },
  params: PublishParams,
): Promise<PublishResult> {
  try {
    return await publish(inst, params);
  } catch (e) {
    inst.audit.append({
      actor: inst.systemActor,
      roles: [],
      action: done.action,
      target: done.target,
      outcome: 'failed',
      details: { step: 'publication', code: (e as CaError).code ?? null, message: (e as Error).message },
    });
    throw new CaError(
      'PUBLICATION_FAILED',
      `${done.what}, but no publication was written: ${(e as Error).message}; run rootca publish --signer ${params.signerCa}`,
      { cause: e },
    );
  }
}

/**
 * Issue 14: each step of an end is a write point a crash test can kill at
 * (`ca.compromise:revoked`, …), and the test hook `hook` sees it too. The runner's intent row
 * names the process, so the next command reports a crash between steps as partly committed.
 */
export function endingStep(kind: EndingKind, hook?: (name: string) => void): (name: string) => void {
  return (name) => {
    faultPoint(`${ACTION[kind]}:${name}`);
    hook?.(name);
  };
}

/**
 * Inside the completing transaction: the ceremonies of this end a crash stopped after they
 * committed a step (finishInterruptedWork reported them as partly committed) are closed as
 * finished by this one, so no row stays 'started' (issue 14).
 */
export function closeInterruptedSteps(
  inst: Installation,
  interrupted: InterruptedWork[],
  kind: EndingKind,
  caName: string,
  by: Record<string, unknown>,
): void {
  for (const w of interrupted) {
    if (w.state === 'partly-committed' && w.kind === ACTION[kind] && w.ca === caName)
      closeCeremonyFinishedLater(inst.db, w.ceremonyId, inst.clock.now().toISOString(), by);
  }
}

export function actorOf(s: KeySession): string {
  return s
    .people()
    .map((x) => x.p.operator.name)
    .join(',');
}

export function rolesOf(s: KeySession): string[] {
  return [...new Set(s.people().flatMap((x) => x.p.operator.roles))];
}
