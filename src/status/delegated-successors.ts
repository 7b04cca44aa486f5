/**
 * Successor certificates for a root's delegated keys in the status ceremony (issue 16 item 2:
 * "re-signs ... a responder certificate about to expire"): a responder or publication
 * certificate within `status.certificateRenewBeforeDays` of its notAfter (status/due.ts) is
 * followed by a new one for the same key, the same profile and subject, a new serial, the
 * validity its first certificate had by default — issued as `rootca ocsp responder issue` /
 * `rootca publication-key issue` issue theirs (custody/delegated-keys.ts, issuance/issuance.ts),
 * inside the ceremony's one key session. The root key signs only the certificate (BR 6.1.7).
 *
 * Lint, then sign (CONVENTIONS 5): in the checks the TBS is built from the key's request on file
 * and linted under a throwaway key, before anyone is asked for anything, and its serial is
 * reserved with the intent row. In the session the key signs a fresh request (proof of
 * possession now, RFC 2986); its public key must be the linted one; then the root signs the
 * linted TBS and the certificate commits with the key's row moved to it and both events
 * (`certificate.issue`, `delegated-key.certified`), before any response that embeds it.
 */
import { CaError } from '../errors.ts';
import { delegatedIssueParams, recordDelegatedCertified, signDelegatedRequest } from '../custody/delegated-keys.ts';
import {
  algorithmForSpki,
  delegatedSigner,
  recertifiableKey,
  type DelegatedPurpose,
  type DelegatedSigner,
} from '../custody/delegated-signers.ts';
import type { CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { listIssued, type IssuedCertificate } from '../issuance/certificates.ts';
import { checkIssuance, prepareTbs, type IssueParams, type Prepared } from '../issuance/issuance-checks.ts';
import { issueInSession } from '../issuance/issuance.ts';
import type { KeySession } from '../operation/key-session.ts';
import type { Checks } from '../operation/refusals.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { certificateInfo } from '../pki/certificate-info.ts';
import { acceptCsr } from '../pki/csr.ts';
import { csrOfCertificate } from '../store/certificates.ts';
import { reserveSerial } from '../store/serial-reservations.ts';
import { faultPoint } from '../util/fault-points.ts';
import { holdersPresent } from './delegated-in-session.ts';
import { presignWindow } from './ocsp-presign.ts';

/** A successor the ceremony issues: for the key of the certificate running out. */
export interface SuccessorPlan {
  profile: DelegatedPurpose;
  keyId: string;
  /** The certificate running out. */
  serialHex: string;
  subject: string;
  notAfter: string;
  why: string;
}

/**
 * Which responder and publication certificates the ceremony re-certifies, and which it cannot
 * (with the command): those within their margin (`due`), and — when responses are to be signed
 * (`responses`) — the responder certificate they would outlive (RFC 6960 4.2.2.2, BR 4.9.10:
 * a response must not outlive the certificate that verifies it; OCSP_OUTLIVES_SIGNER).
 */
export function planSuccessors(
  inst: Installation,
  ca: CaSummary,
  due: IssuedCertificate[],
  responses: boolean,
): { successors: SuccessorPlan[]; notHere: string[] } {
  const successors: SuccessorPlan[] = [];
  const notHere: string[] = [];
  const now = inst.clock.now().getTime();
  const outlived = responses ? responderOutlived(inst, ca) : undefined;
  const whyOf = (c: IssuedCertificate) =>
    c.id === outlived?.certificate.id
      ? outlived.why
      : Date.parse(c.notAfter) <= now
        ? `expired at ${c.notAfter}`
        : `expires at ${c.notAfter}`;
  const extra = outlived && !due.some((d) => d.id === outlived.certificate.id) ? [outlived.certificate] : [];
  for (const c of [...due, ...extra]) {
    const key = recertifiableKey(inst, ca, c);
    if ('why' in key) {
      notHere.push(`${c.profile} certificate ${c.serialHex} ${whyOf(c)}; ${key.why}: ${key.command}`);
      continue;
    }
    const { serialHex, subject, notAfter } = c;
    successors.push({ profile: key.purpose, keyId: key.keyId, serialHex, subject, notAfter, why: whyOf(c) });
  }
  return { successors, notHere };
}

/** The responder certificate in service, when a response pre-signed now would outlive it. */
function responderOutlived(
  inst: Installation,
  ca: CaSummary,
): { certificate: IssuedCertificate; why: string } | undefined {
  let responder: DelegatedSigner;
  try {
    responder = delegatedSigner(inst, ca, 'ocsp', inst.clock.now());
  } catch {
    return undefined; // none in date: its certificate is past its margin, so among the due ones
  }
  try {
    presignWindow(inst, responder);
    return undefined;
  } catch (e) {
    if (!(e instanceof CaError) || e.code !== 'OCSP_OUTLIVES_SIGNER') throw e;
    const certificate = listIssued(inst, ca.name).find((c) => c.der.equals(responder.certificateDer))!;
    return {
      certificate,
      why: `responses pre-signed now (until ${String(e.details.nextUpdate)}) would outlive it (notAfter ${certificate.notAfter})`,
    };
  }
}

/** A successor with its linted TBS (the serial the intent row reserves). */
export interface PreparedSuccessor {
  plan: SuccessorPlan;
  params: IssueParams;
  prepared: Prepared;
  /** The linted certificate under a throwaway signature, as a signer would carry it (for the OCSP window check). */
  signer: DelegatedSigner;
}

/** The ceremony's people, as the issuance of each successor names them. */
type People = { caName: string; operator: string; witness: string; passphrases: PassphraseSource };

/**
 * In the checks, before anyone authenticates: each successor's TBS from the key's request on
 * file, through the profile and the lints (issuance-checks.ts); a CaError is the refusal.
 */
export function prepareSuccessors(
  inst: Installation,
  people: People,
  plans: SuccessorPlan[],
  checks: Checks,
): PreparedSuccessor[] {
  const issued = listIssued(inst, people.caName);
  return plans.map((plan) => {
    const old = issued.find((c) => c.serialHex === plan.serialHex)!;
    const onFile = csrOfCertificate(inst.db, old.id);
    if (!onFile)
      throw new CaError(
        'DELEGATED_KEY_MISSING',
        `${plan.profile} certificate ${plan.serialHex} has no request on file to build its successor from`,
      );
    const params = delegatedIssueParams(inst, { ...people, purpose: plan.profile }, plan.keyId, onFile);
    const prepared = prepareTbs(inst, params, checkIssuance(inst, params, checks), checks);
    const info = certificateInfo(prepared.preCert);
    const signer: DelegatedSigner = {
      keyId: plan.keyId,
      purpose: plan.profile,
      caName: people.caName,
      certificateDer: prepared.preCert,
      info,
      algorithm: algorithmForSpki(info.spkiDer),
    };
    return { plan, params, prepared, signer };
  });
}

/** Intent (with the ceremony row): the successors' serials, before the root key signs (R-3.1). */
export function reserveSuccessorSerials(inst: Installation, s: PreparedSuccessor[], ceremonyId: number, at: string) {
  for (const x of s) reserveSerial(inst.db, x.prepared.ca.id, x.prepared.serialHex, ceremonyId, at);
}

/** A successor issued and committed. */
export interface IssuedSuccessor {
  of: string;
  certificate: IssuedCertificate;
}

/**
 * In the session: each key signs a fresh request, the root signs the linted TBS, and the
 * certificate commits with the key moved to it (one transaction per successor); then the
 * `certificate-committed` fault point.
 */
export async function issueSuccessors(
  inst: Installation,
  session: KeySession,
  successors: PreparedSuccessor[],
): Promise<IssuedSuccessor[]> {
  const out: IssuedSuccessor[] = [];
  for (const s of successors) {
    const held = holdersPresent(inst, session, s.plan.keyId)!;
    const x = s.prepared;
    const fresh = await signDelegatedRequest(
      inst,
      { record: held.record, custodians: held.present },
      { caName: session.ca.name, keyId: s.plan.keyId, purpose: s.plan.profile, subject: x.subject },
    );
    session.countActivation(s.plan.keyId);
    const csr = { ...acceptCsr(fresh), cross: undefined };
    if (!Buffer.from(csr.requested.publicKeySpki).equals(Buffer.from(x.csr.requested.publicKeySpki)))
      throw new CaError(
        'TBS_CHANGED',
        `the request signed by ${s.plan.keyId} is not for the key the successor certifies`,
      );
    const r = await issueInSession(inst, s.params, { ...x, csr }, session, (certificateId, certificateDer) =>
      recordDelegatedCertified(
        inst,
        session.operator.operator.name,
        session.ca.name,
        { keyId: s.plan.keyId, purpose: s.plan.profile, certificateId, serialHex: x.serialHex, certificateDer },
        { successorOf: s.plan.serialHex, ceremonyId: session.ceremonyId },
      ),
    );
    out.push({
      of: s.plan.serialHex,
      certificate: listIssued(inst, session.ca.name).find((c) => c.id === r.certificateId)!,
    });
    faultPoint('status.ceremony:certificate-committed');
  }
  return out;
}
