/**
 * Revocation (R-4.1, CPS 4.9, 5.7.3): a CA Administrator revokes on a request approved by a
 * Person in Charge of RA — or, for keyCompromise, on the subscriber's own request proven by a
 * signature of the compromised key — with a Service Operation Manager present. A CRL and fresh
 * OCSP responses for the certificate follow in the same session unless explicitly deferred.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { parseCertificate } from '../pki/certificate.ts';
import { REVOCATION_REASON_CODES, type RevocationReason } from '../pki/crl.ts';
import { inspectCsr } from '../pki/csr.ts';
import { checkCompromiseProof } from '../lifecycle/compromise-proof.ts';
import { sha256Hex } from '../util/digest.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import { findIssued, type IssuedCertificate } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import { insertRevocation } from '../store/revocations.ts';
import { runOperation, type BackupOutcome, type OperationContext } from '../operation/runner.ts';
import type { PassphraseSource } from '../people/participants.ts';
import type { Checks } from '../operation/refusals.ts';
import { issueCrlInSession, type IssuedCrl } from './crl-and-ocsp.ts';
import { presignInSession, responderBesideRoot } from './ocsp-presign.ts';

export const REVOCATION_REASONS = Object.keys(REVOCATION_REASON_CODES) as RevocationReason[];

export interface RevokeParams {
  caName: string;
  serial: string;
  reason: string;
  invalidityDate?: Date;
  operator: string;
  witness: string;
  /** The RA officer who approved the request. */
  approvedBy?: string;
  /** A PKCS#10 request signed by the compromised key itself (the subscriber's own keyCompromise request, CPS 5.7.3). */
  keyCompromiseProof?: Uint8Array;
  /** Do not issue a CRL and OCSP responses now (they must follow, BR 4.9.10 within 24 hours). */
  deferCrl?: boolean;
  passphrases: PassphraseSource;
}

export interface RevokeResult {
  serialHex: string;
  revokedAt: Date;
  reason: RevocationReason;
  crl?: IssuedCrl;
  ocspResponses: number;
  transcriptFile: string;
  /** The backup set written after the revocation (CPS 5.5.4). */
  backup: BackupOutcome;
}

const ACTION = 'certificate.revoke';

/**
 * Writes one revocation row (call inside the caller's transaction, with its audit event).
 * `source` says on what ground: 'ra', 'subscriber-key-compromise', 'ca-compromise', 'ca-termination'.
 */
export function recordRevocation(
  inst: Installation,
  r: {
    cert: IssuedCertificate;
    revokedAt: Date;
    reason: RevocationReason;
    invalidityDate?: Date;
    source: string;
    operator: string;
    approvedBy: string | null;
  },
): void {
  insertRevocation(inst.db, {
    certificateId: r.cert.id,
    caId: r.cert.caId,
    serialHex: r.cert.serialHex,
    revokedAt: r.revokedAt.toISOString(),
    reason: r.reason,
    invalidityDate: r.invalidityDate?.toISOString() ?? null,
    source: r.source,
    operator: r.operator,
    approvedBy: r.approvedBy,
    recordedAt: inst.clock.now().toISOString(),
  });
}

interface Checked {
  ca: CaSummary;
  cert: IssuedCertificate;
  reason: RevocationReason;
  now: Date;
  source: 'ra' | 'subscriber-key-compromise';
}

/** Revokes one certificate on the runner (operation/runner.ts): checks, people, the revocation, then CRL and OCSP. */
export async function revokeCertificate(inst: Installation, p: RevokeParams): Promise<RevokeResult> {
  return runOperation(inst, {
    action: ACTION,
    target: `${p.caName}/${p.serial}`,
    check: (c) => checkRevocation(inst, p, c),
    people: ({ ca, cert, reason, source }) => ({
      caName: ca.name,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      needsKey: !p.deferCrl,
      others: source === 'ra' ? { approver: p.approvedBy! } : {},
      describe: {
        serial: cert.serialHex,
        reason,
        source,
        invalidityDate: p.invalidityDate?.toISOString() ?? null,
        proofSha256: p.keyCompromiseProof ? sha256Hex(p.keyCompromiseProof) : null,
      },
    }),
    work: (x, ctx) => revokeAndReissueStatus(inst, p, x, ctx),
    transcript: (
      { ca, cert, reason, now, source },
      { crl, responses }: { crl?: IssuedCrl; responses: number },
      session,
    ) => ({
      inputs: [
        { name: `certificate ${cert.serialHex}.der`, sha256: cert.sha256 },
        ...(p.keyCompromiseProof ? [{ name: 'key-compromise request', sha256: sha256Hex(p.keyCompromiseProof) }] : []),
      ],
      outputs: crl ? [{ name: `${ca.name} CRL #${crl.crlNumber}`, sha256: crl.sha256 }] : [],
      details: {
        serial: cert.serialHex,
        reason,
        source,
        revokedAt: now.toISOString(),
        crlNumber: crl?.crlNumber ?? null,
        ocspResponses: responses,
        keyActivations: { ...session.activationsByKey }, // the root key (the CRL) and its responder key beside it (the responses)
      },
    }),
    finish: ({ cert, reason, now }, { crl, responses }, after) => ({
      serialHex: cert.serialHex,
      revokedAt: now,
      reason,
      crl,
      ocspResponses: responses,
      transcriptFile: after.transcriptFile,
      backup: after.backup!,
    }),
  });
}

/** Records the revocation and its audit event in one transaction; then, unless deferred, a new CRL and the certificate's OCSP responses. */
async function revokeAndReissueStatus(
  inst: Installation,
  p: RevokeParams,
  { ca, cert, reason, now, source }: Checked,
  { session, audit }: OperationContext,
) {
  inst.db
    .transaction(() => {
      recordRevocation(inst, {
        cert,
        revokedAt: now,
        reason,
        invalidityDate: p.invalidityDate,
        source,
        operator: p.operator,
        approvedBy: source === 'ra' ? p.approvedBy! : null,
      });
      audit({
        serial: cert.serialHex,
        subject: cert.subject,
        reason,
        source,
        revokedAt: now.toISOString(),
        invalidityDate: p.invalidityDate?.toISOString() ?? null,
        deferCrl: !!p.deferCrl,
      });
    })
    .immediate();
  if (p.deferCrl) return { responses: 0 };
  const crl = await issueCrlInSession(inst, session);
  // The root key signs no OCSP response (BR 6.1.7): its responder key does, when its holders are here.
  const responder = responderBesideRoot(inst, session);
  const revoked = [findIssued(inst, ca.name, cert.serialHex)];
  return { crl, responses: responder ? (await presignInSession(inst, session, responder, revoked)).length : 0 };
}

/** and CPS 4.9: what a revocation needs before anyone is asked for anything. */
function checkRevocation(inst: Installation, p: RevokeParams, { refuse, guard }: Checks): Checked {
  // the reasons a root uses. No 'unspecified' code is written; roots do not suspend.
  if (p.reason === 'certificateHold' || p.reason === 'removeFromCRL') {
    refuse('REASON_NOT_ALLOWED', `${p.reason} is not used: these roots do not suspend certificates (CPS 4.9; R-4.1)`);
  }
  if (!REVOCATION_REASONS.includes(p.reason as RevocationReason)) {
    refuse(
      'REASON_NOT_ALLOWED',
      `reason must be one of ${REVOCATION_REASONS.join(', ')} (no "unspecified" code is written, BR 7.2.2)`,
    );
  }
  const reason = p.reason as RevocationReason;
  const ca = guard(() => getCa(inst, p.caName));
  const cert = guard(() => findIssued(inst, ca.name, p.serial));
  if (cert.revocation)
    refuse(
      'ALREADY_REVOKED',
      `certificate ${cert.serialHex} of ${ca.name} was already revoked on ${cert.revocation.revokedAt} (${cert.revocation.reason})`,
    );
  const now = inst.clock.now();
  now.setUTCMilliseconds(0);
  if (p.invalidityDate && p.invalidityDate.getTime() > now.getTime())
    refuse('INVALIDITY_DATE_INVALID', 'the invalidity date cannot be in the future');
  if (p.keyCompromiseProof) {
    if (reason !== 'keyCompromise')
      refuse('PROOF_NOT_APPLICABLE', 'a proof signed by the certificate key is accepted only for reason keyCompromise');
    const proof = guard(() => inspectCsr(p.keyCompromiseProof!));
    const certSpki = Buffer.from(AsnConvert.serialize(parseCertificate(cert.der).tbsCertificate.subjectPublicKeyInfo));
    if (!proof.signatureValid) refuse('PROOF_INVALID', 'the key-compromise request is not signed by its own key');
    if (!proof.requested.publicKeySpki.equals(certSpki))
      refuse(
        'PROOF_INVALID',
        `the key-compromise request is signed by another key than certificate ${cert.serialHex}'s`,
      );
    checkCompromiseProof(inst, proof, cert.serialHex, now, refuse); // issue 15.7: bound to this request, never replayed
    return { ca, cert, reason, now, source: 'subscriber-key-compromise' };
  }
  if (!p.approvedBy)
    refuse(
      'APPROVAL_REQUIRED',
      'a revocation needs the approving RA officer (--approved-by), or for keyCompromise a request signed by the certificate key (--key-compromise-proof)',
    );
  return { ca, cert, reason, now, source: 'ra' };
}
