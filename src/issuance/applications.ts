/**
 * The RA workflow (R-3.5; CPS 4.1-4.4, 5.2.1): an application is submitted (received by a
 * Person in Charge of RA), approved or rejected by another RA officer who records how the
 * applicant was identified, issued by a CA Administrator who is not the approver, and its
 * acceptance by the subscriber is recorded. Every change is audited; an illegal transition
 * is refused naming the state it came from.
 */
import { CaError } from '../errors.ts';
import { acceptCsr } from '../pki/csr.ts';
import { buildNameConstraints } from '../pki/name-constraints.ts';
import {
  checkProfileOptions,
  isIssuedProfileName,
  PROFILES,
  type IssuedProfileName,
  type ProfileOptions,
} from '../pki/profiles.ts';
import { resolveSubcaPurpose } from '../pki/subca-purposes.ts';
import { sha256Hex } from '../util/digest.ts';
import { getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { auditRefusal } from '../installation/refusal.ts';
import { bringParticipant, operationDigest, type PassphraseSource } from '../people/participants.ts';
import { checkDistinct, type Operation } from '../people/permissions.ts';
import {
  decideApplicationRow,
  findApplicationRow,
  insertApplication,
  listApplicationIds,
  markApplicationAccepted,
} from '../store/applications.ts';

export type ApplicationState = 'submitted' | 'approved' | 'rejected' | 'issued' | 'accepted';

/** What the applicant asks for (untrusted until approved; the profile still decides). */
export interface RequestedIssuance extends ProfileOptions {
  validityDays?: number;
  extraPolicyOids?: string[];
}

export interface Identification {
  /** e.g. "certificate of registered matters", "passport" */
  documentType: string;
  /** The document's reference number. */
  reference: string;
  /** The RA officer who checked it (the approver). */
  checkedBy: string;
  checkedAt: string;
  notes?: string;
}

export interface Application {
  id: number;
  state: ApplicationState;
  caName: string;
  profile: IssuedProfileName;
  csrDer: Buffer;
  applicantOrganisation: string;
  applicantContact: string;
  requested: RequestedIssuance;
  submittedBy: string;
  submittedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  identification: Identification | null;
  issuedBy: string | null;
  certificateId: number | null;
  acceptedAt: string | null;
}

export function getApplication(inst: Installation, id: number): Application {
  const r = findApplicationRow(inst.db, id);
  if (!r) throw new CaError('APPLICATION_UNKNOWN', `no application #${id}`);
  return {
    id: r.id,
    state: r.state,
    caName: r.ca_name,
    profile: r.profile as IssuedProfileName,
    csrDer: r.csr_der,
    applicantOrganisation: r.applicant_organisation,
    applicantContact: r.applicant_contact,
    requested: JSON.parse(r.requested),
    submittedBy: r.submitted_by,
    submittedAt: r.submitted_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionReason: r.decision_reason,
    identification: r.identification ? JSON.parse(r.identification) : null,
    issuedBy: r.issued_by,
    certificateId: r.certificate_id,
    acceptedAt: r.accepted_at,
  };
}

export function listApplications(inst: Installation): Application[] {
  return listApplicationIds(inst.db).map((id) => getApplication(inst, id));
}

/** Legal transitions; anything else is refused with the state it came from. */
const TRANSITIONS: Record<string, ApplicationState[]> = {
  approve: ['submitted'],
  reject: ['submitted'],
  issue: ['approved'],
  accept: ['issued'],
};

export function assertTransition(app: Application, action: keyof typeof TRANSITIONS): void {
  if (!TRANSITIONS[action].includes(app.state)) {
    const past = { approve: 'approved', reject: 'rejected', issue: 'issued', accept: 'accepted' }[action];
    throw new CaError(
      'APPLICATION_STATE',
      `application #${app.id} is ${app.state}; it cannot be ${past} (only from ${TRANSITIONS[action].join(' or ')})`,
      { details: { from: app.state, action } },
    );
  }
}

interface ActingPerson {
  /** The RA officer acting. */
  by: string;
  passphrases: PassphraseSource;
}

async function authenticateFor(
  inst: Installation,
  person: ActingPerson,
  operation: Operation,
  slot: 'submitter' | 'approver' | 'recorder',
  what: Record<string, unknown>,
) {
  const digest = operationDigest({ kind: operation, ...what });
  const p = await bringParticipant(inst, person.by, person.passphrases, `${operation}`, digest, { operation, slot });
  if (!p) throw new CaError('AUTHENTICATION_REQUIRED', `${person.by} did not authenticate`);
  return { p, digest };
}

function refuseAndAudit(inst: Installation, action: string, target: string, actor: string, e: unknown): never {
  if (e instanceof CaError) auditRefusal(inst, { action, target, actor }, e);
  throw e;
}

/** What the profile makes of the request, checked at submission so the RA never approves what issuance would refuse. */
function checkRequested(profile: IssuedProfileName, r: RequestedIssuance): void {
  const { validityDays: _v, extraPolicyOids, ...options } = r;
  checkProfileOptions(PROFILES[profile], options);
  if (profile !== 'subca') return;
  resolveSubcaPurpose(r.purpose, r.extKeyUsage, extraPolicyOids);
  buildNameConstraints(r, r.purpose === 'tls-server');
}

export interface SubmitParams extends ActingPerson {
  caName: string;
  profile: string;
  csr: Uint8Array;
  applicantOrganisation: string;
  applicantContact: string;
  requested?: RequestedIssuance;
}

/** An RA officer receives an application; the CSR must already be acceptable (proof of possession, key quality). */
export async function submitApplication(inst: Installation, p: SubmitParams): Promise<Application> {
  const target = `application:${p.caName}/${p.profile}`;
  try {
    if (!isIssuedProfileName(p.profile)) throw new CaError('PROFILE_UNKNOWN', `unknown profile ${p.profile}`);
    getCa(inst, p.caName);
    if (!p.applicantOrganisation.trim() || !p.applicantContact.trim())
      throw new CaError('APPLICATION_INCOMPLETE', 'an application names the applicant organisation and a contact');
    const csr = acceptCsr(p.csr);
    checkRequested(p.profile, p.requested ?? {});
    const { p: who } = await authenticateFor(inst, p, 'application.submit', 'submitter', {
      ca: p.caName,
      profile: p.profile,
      csrSha256: sha256Hex(csr.der),
    });
    who.credential.lock();
    const now = inst.clock.now().toISOString();
    const id = inst.db
      .transaction(() => {
        const id = insertApplication(inst.db, {
          caName: p.caName,
          profile: p.profile,
          csrDer: csr.der,
          applicantOrganisation: p.applicantOrganisation,
          applicantContact: p.applicantContact,
          requested: JSON.stringify(p.requested ?? {}),
          submittedBy: p.by,
          submittedAt: now,
        });
        inst.audit.append({
          actor: p.by,
          roles: who.operator.roles,
          action: 'application.submit',
          target: `application:${id}`,
          outcome: 'success',
          details: {
            ca: p.caName,
            profile: p.profile,
            applicant: p.applicantOrganisation,
            contact: p.applicantContact,
            csrSha256: sha256Hex(csr.der),
            subject: csr.requested.subjectText,
            requested: p.requested ?? {},
          },
        });
        return id;
      })
      .immediate();
    return getApplication(inst, id);
  } catch (e) {
    return refuseAndAudit(inst, 'application.submit', target, p.by, e);
  }
}

export interface DecideParams extends ActingPerson {
  id: number;
  /** Required to approve: how the applicant was identified and authenticated (CPS 3.2). */
  identification?: Omit<Identification, 'checkedBy' | 'checkedAt'>;
  reason?: string;
}

export async function approveApplication(inst: Installation, p: DecideParams): Promise<Application> {
  return decide(inst, p, 'approve');
}

export async function rejectApplication(inst: Installation, p: DecideParams): Promise<Application> {
  return decide(inst, p, 'reject');
}

async function decide(inst: Installation, p: DecideParams, action: 'approve' | 'reject'): Promise<Application> {
  const target = `application:${p.id}`;
  try {
    const app = getApplication(inst, p.id);
    assertTransition(app, action);
    checkDistinct('application.decide', { approver: [p.by], submitter: [app.submittedBy] });
    if (action === 'approve' && (!p.identification?.documentType?.trim() || !p.identification?.reference?.trim())) {
      throw new CaError(
        'IDENTIFICATION_REQUIRED',
        'approval records how the applicant was identified: --id-document TYPE and --id-reference REF (CPS 3.2, 4.2)',
      );
    }
    if (action === 'reject' && !p.reason?.trim()) throw new CaError('REASON_REQUIRED', 'a rejection states its reason');
    const { p: who } = await authenticateFor(inst, p, 'application.decide', 'approver', { application: p.id, action });
    who.credential.lock();
    const now = inst.clock.now().toISOString();
    const identification: Identification | null =
      action === 'approve' ? { ...p.identification!, checkedBy: p.by, checkedAt: now } : null;
    inst.db
      .transaction(() => {
        decideApplicationRow(inst.db, p.id, {
          state: action === 'approve' ? 'approved' : 'rejected',
          decidedBy: p.by,
          decidedAt: now,
          reason: p.reason ?? null,
          identification: identification ? JSON.stringify(identification) : null,
        });
        inst.audit.append({
          actor: p.by,
          roles: who.operator.roles,
          action: `application.${action}`,
          target,
          outcome: 'success',
          details: { from: 'submitted', identification, reason: p.reason },
        });
      })
      .immediate();
    return getApplication(inst, p.id);
  } catch (e) {
    return refuseAndAudit(inst, `application.${action}`, target, p.by, e);
  }
}

export interface AcceptParams extends ActingPerson {
  id: number;
  note?: string;
}

/** Records that the subscriber accepted the issued certificate (CPS 4.4). */
export async function recordAcceptance(inst: Installation, p: AcceptParams): Promise<Application> {
  const target = `application:${p.id}`;
  try {
    const app = getApplication(inst, p.id);
    assertTransition(app, 'accept');
    const { p: who } = await authenticateFor(inst, p, 'application.accept', 'recorder', { application: p.id });
    who.credential.lock();
    const now = inst.clock.now().toISOString();
    inst.db
      .transaction(() => {
        markApplicationAccepted(inst.db, p.id, { acceptedAt: now, recordedBy: p.by, note: p.note ?? null });
        inst.audit.append({
          actor: p.by,
          roles: who.operator.roles,
          action: 'application.accept',
          target,
          outcome: 'success',
          details: { from: 'issued', certificateId: app.certificateId, note: p.note },
        });
      })
      .immediate();
    return getApplication(inst, p.id);
  } catch (e) {
    return refuseAndAudit(inst, 'application.accept', target, p.by, e);
  }
}
