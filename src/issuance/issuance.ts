/**
 * Issuance from a CSR: subordinate CA, TSA/TA and delegated OCSP
 * responder certificates. Lint, then sign, then lint again (CONVENTIONS 5):
 *   1. accept the CSR (proof of possession, key quality) and the subject through the profile;
 *   2. build the TBS; sign it with a throwaway key of the CA key's type; lint — any error stops
 *      here, before any custodian is asked for anything;
 *   3. gather witness and M custodians; reserve the serial (intent) in the store;
 *   4. activate the CA key once, sign the same TBS bytes, check them byte for byte, verify the
 *      signature, lint the issued certificate again;
 *   5. stage the output files as *.partial; store certificate, CSR, requester, audit event and
 *      the staged outputs in one transaction; then name the files (durable-outputs.ts). Once
 *      committed, the issuance is reported as done even if a file cannot be named.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { assertNoLintErrors, lintCertificate, type LintFinding } from '../lint/index.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import { assembleSignedCertificate, tbsBytesOf } from '../pki/certificate.ts';
import { nameToText } from '../pki/name.ts';
import { NAME_CONSTRAINT_OPTIONS } from '../pki/name-constraints.ts';
import { derToPem } from '../pki/pem.ts';
import { sha256Hex } from '../util/digest.ts';
import { faultPoint } from '../util/fault-points.ts';
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import { auditSuccess, runOperation, type BackupOutcome, type OperationContext } from '../operation/runner.ts';
import type { CaSummary } from '../installation/cas.ts';
import { changeoverStateOf } from '../lifecycle/changeover.ts';
import type { Installation } from '../installation/installation.ts';
import { auditRefusal } from '../installation/refusal.ts';
import { assertTransition, getApplication, type Application } from './applications.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { markApplicationIssued } from '../store/applications.ts';
import { insertIssuedCertificate } from '../store/certificates.ts';
import { reserveSerial } from '../store/serial-reservations.ts';
import { checkIssuance, prepareTbs, type IssueParams, type Prepared } from './issuance-checks.ts';

export interface IssueFromApplicationParams {
  applicationId: number;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  outPem?: string;
  outDer?: string;
  allowLegacySha1?: boolean;
  signatureAlgorithm?: SignatureAlgorithmName;
}

/** Issues what an approved application asks for: the request, as approved, is the input. */
export async function issueFromApplication(inst: Installation, p: IssueFromApplicationParams): Promise<IssueResult> {
  let app: Application;
  try {
    app = getApplication(inst, p.applicationId);
    assertTransition(app, 'issue');
  } catch (e) {
    if (e instanceof CaError)
      auditRefusal(
        inst,
        { action: ACTION, target: `application:${p.applicationId}`, actor: p.operator },
        { code: e.code, message: e.message },
      );
    throw e;
  }
  const r = app.requested;
  return issueCertificate(inst, {
    operator: p.operator,
    witness: p.witness,
    passphrases: p.passphrases,
    outPem: p.outPem,
    outDer: p.outDer,
    allowLegacySha1: p.allowLegacySha1,
    signatureAlgorithm: p.signatureAlgorithm,
    caName: app.caName,
    profile: app.profile,
    csr: app.csrDer,
    requester: `${app.applicantOrganisation} <${app.applicantContact}>`,
    ...approvedRequest(r),
    application: app,
  });
}

/** The request as approved, field by field (the stored JSON names nothing else): validity, policies, profile options. */
function approvedRequest(r: Application['requested']) {
  const picked = [...REQUESTED_FIELDS].map((k) => [k, r[k]]).filter(([, v]) => v !== undefined);
  return Object.fromEntries(picked) as Application['requested'];
}

const REQUESTED_FIELDS = [
  'validityDays',
  'extraPolicyOids',
  'pathLenConstraint',
  'digitalSignature',
  'nonRepudiation',
  'purpose',
  'extKeyUsage',
  ...NAME_CONSTRAINT_OPTIONS,
] as const;

export interface IssueResult {
  certificateId: number;
  serialHex: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  clamped: boolean;
  certificateDer: Buffer;
  certificatePem: string;
  lintWarnings: LintFinding[];
  outputs: string[];
  custodians: string[];
  witness: string;
  notes: string[];
  /** CPS 5.6: the validity was clamped to the CA, or the CA's remaining life is below what it issues (changeover.ts). */
  changeoverDue: boolean;
  transcriptFile: string;
  /** The backup set written after the issuance (CPS 5.5.4); a failed backup does not undo it. */
  backup: BackupOutcome;
  /** Interrupted ceremonies this run found and finished or closed first (durable-outputs.ts). */
  interrupted: InterruptedWork[];
}

const ACTION = 'certificate.issue';

/** Issues one certificate on the runner (operation/runner.ts): checks and the linted TBS, people, one signature, one commit. */
export async function issueCertificate(inst: Installation, p: IssueParams): Promise<IssueResult> {
  return runOperation(inst, {
    action: ACTION,
    target: `${p.caName}/${p.profile}`,
    refusalDetails: { requester: p.requester },
    check: (c) => ({ ...prepareTbs(inst, p, checkIssuance(inst, p, c), c), refuse: c.refuse }),
    outputs: () => [
      ...(p.outPem ? [{ path: p.outPem, what: '--out' }] : []),
      ...(p.outDer ? [{ path: p.outDer, what: '--der-out' }] : []),
    ],
    people: (x) => ({
      caName: x.ca.name,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      refuse: x.refuse,
      describe: {
        profile: p.profile,
        serial: x.serialHex,
        tbsSha256: sha256Hex(x.tbs.der),
        csrSha256: sha256Hex(x.csr.der),
        application: p.application?.id ?? null,
      },
      prompts: {
        operator: `operator issuing from ${x.ca.name}`,
        quorum: `issuing a ${p.profile} certificate from ${x.ca.name}`,
      },
      // Intent: the serial is reserved with the ceremony row, before the key signs.
      onIntent: (ceremonyId, startedAt) => reserveSerial(inst.db, x.ca.id, x.serialHex, ceremonyId, startedAt),
    }),
    failure: (x) => ({ code: 'ISSUANCE_FAILED', what: 'issuance', details: { serial: x.serialHex } }),
    work: (x, ctx) => signAndRecord(inst, p, x, ctx),
    // Committed: files, transcript file and backup follow; none of them turns this into a failure.
    finish: (x, w, after) => {
      const pending = after.published.pending.map(
        (q) =>
          `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; the certificate is issued — write it with rootca ceremony resume ${after.ceremonyId}`,
      );
      return {
        certificateId: w.certificateId,
        serialHex: x.serialHex,
        subject: nameToText(x.subject),
        notBefore: x.validity.notBefore,
        notAfter: x.validity.notAfter,
        clamped: x.validity.clamped,
        certificateDer: w.certificateDer,
        certificatePem: derToPem(w.certificateDer, 'CERTIFICATE'),
        lintWarnings: w.warnings,
        outputs: after.published.written,
        custodians: w.custodians,
        witness: w.witness,
        notes: [...w.notes, ...pending, ...after.notes],
        changeoverDue: w.changeoverDue,
        transcriptFile: after.transcriptFile,
        backup: after.backup!,
        interrupted: after.interrupted,
      };
    },
  });
}

/** 4-5. One activation, the checks, the files staged, then one commit. */
async function signAndRecord(inst: Installation, p: IssueParams, x: Prepared, ctx: OperationContext) {
  const { session, files } = ctx;
  // 4. One activation, one signature, then the checks.
  const { certificateDer, postFindings } = await signAndVerify(session, p, x);

  // 5. Stage the files, then record it.
  const sha256 = sha256Hex(certificateDer);
  faultPoint(`${ACTION}:signed`);
  stageCertificateFiles(files, certificateDer, sha256);
  const { notes, changeoverDue } = issuanceNotes(inst, x.ca, x);
  const warnings = postFindings.filter((f) => f.severity === 'warning');
  const certificateId = inst.db
    .transaction(() => {
      const id = recordIssuance(inst, p, x, ctx, { certificateDer, sha256, warnings });
      ctx.complete(completionRecord(p, x, id, sha256));
      return id;
    })
    .immediate();
  return {
    certificateId,
    certificateDer,
    notes,
    changeoverDue,
    warnings,
    custodians: session.custodians.map((c) => c.operator.name),
    witness: session.witness.operator.name,
  };
}

/**
 * Steps 4-5 inside another operation's key session, whose intent row reserved `x.serialHex`
 * (the status ceremony re-certifying a root's delegated key, issue 16): the same signature,
 * checks, certificate row and `certificate.issue` audit event, committed in their own
 * transaction with the caller's `inCommit`; that operation completes its ceremony later.
 */
export async function issueInSession(
  inst: Installation,
  p: IssueParams,
  x: Prepared,
  session: OperationContext['session'],
  inCommit: (certificateId: number, certificateDer: Buffer) => void,
): Promise<{ certificateId: number; certificateDer: Buffer; sha256: string }> {
  const { certificateDer, postFindings } = await signAndVerify(session, p, x);
  const sha256 = sha256Hex(certificateDer);
  const warnings = postFindings.filter((f) => f.severity === 'warning');
  const audit = (details: Record<string, unknown>) => auditSuccess(inst, session, ACTION, details);
  const certificateId = inst.db
    .transaction(() => {
      const id = recordIssuance(inst, p, x, { session, audit }, { certificateDer, sha256, warnings });
      inCommit(id, certificateDer);
      return id;
    })
    .immediate();
  return { certificateId, certificateDer, sha256 };
}

/** 4. The CA key signs the linted TBS once; the result must match it byte for byte, verify, lint clean and be canonical DER. */
async function signAndVerify(session: OperationContext['session'], p: IssueParams, x: Prepared) {
  const { ca, serialHex, tbs, signatureAlgorithm, alg } = x;
  const signature = await session.sign(tbs.der, signatureAlgorithm, `${p.profile} certificate ${serialHex}`);
  const certificateDer = assembleSignedCertificate(tbs.der, signatureAlgorithm, signature);
  if (!tbsBytesOf(certificateDer).equals(tbsBytesOf(x.preCert)))
    throw new CaError('TBS_CHANGED', 'the signed TBS differs from the linted one');
  if (!cryptoVerify(alg.hash, tbs.der, x.issuerKey, signature))
    throw new CaError('SIGNATURE_INVALID', `the signature does not verify with the ${ca.name} certificate's key`);
  const postFindings = lintCertificate(certificateDer, x.lintContext);
  assertNoLintErrors(postFindings, 'the issued certificate');
  const canonical = Buffer.from(AsnConvert.serialize(AsnConvert.parse(certificateDer, Certificate)));
  if (!canonical.equals(certificateDer))
    throw new CaError('DER_NOT_CANONICAL', 'the issued certificate does not re-encode to the same DER');
  return { certificateDer, postFindings };
}

/** 5. The requested --out / --der-out files, staged as *.partial so the commit records them (durable-outputs.ts). */
function stageCertificateFiles(files: OperationContext['files'], certificateDer: Buffer, sha256: string) {
  const pemOut = files.planned.find((f) => f.what === '--out');
  const derOut = files.planned.find((f) => f.what === '--der-out');
  if (pemOut)
    files.stage(pemOut.path, derToPem(certificateDer, 'CERTIFICATE'), {
      table: 'certificates',
      sha256,
      encoding: 'pem',
    });
  if (derOut) files.stage(derOut.path, certificateDer, { table: 'certificates', sha256, encoding: 'der' });
}

interface Signed {
  certificateDer: Buffer;
  sha256: string;
  warnings: LintFinding[];
}

/** 5. Inside the one transaction: the certificate row, the application marked issued and the audit event. */
function recordIssuance(
  inst: Installation,
  p: IssueParams,
  x: Prepared,
  { session, audit }: Pick<OperationContext, 'session' | 'audit'>,
  { certificateDer, sha256, warnings }: Signed,
): number {
  const { serialHex, signatureAlgorithm, alg, validity, subject, csr, policyOids } = x;
  const ceremonyId = session.ceremonyId;
  const id = insertIssuedCertificate(inst.db, {
    caId: x.ca.id,
    serialHex,
    profile: p.profile,
    subject: nameToText(subject),
    notBefore: validity.notBefore.toISOString(),
    notAfter: validity.notAfter.toISOString(),
    sha256,
    der: certificateDer,
    createdAt: session.startedAt,
    requester: p.requester ?? null,
    csrDer: csr.cross ? null : csr.der,
    details: {
      ...(csr.cross ? { crossCertified: csr.cross.subjectText } : {}),
      clamped: validity.clamped,
      signatureAlgorithm,
      policyOids,
      legacySha1Override: alg.legacy,
      ceremonyId,
    },
  });
  if (p.application && !markApplicationIssued(inst.db, p.application.id, p.operator, id)) {
    throw new CaError('APPLICATION_STATE', `application #${p.application.id} changed state during issuance`);
  }
  audit({
    ceremonyId,
    certificateId: id,
    profile: p.profile,
    serial: serialHex,
    subject: nameToText(subject),
    requester: p.requester,
    certificateSha256: sha256,
    csrSha256: sha256Hex(csr.der),
    notBefore: validity.notBefore.toISOString(),
    notAfter: validity.notAfter.toISOString(),
    clamped: validity.clamped,
    signatureAlgorithm,
    legacySha1Override: alg.legacy,
    policyOids,
    lintWarnings: warnings.map((w) => w.lint),
    application: p.application?.id ?? null,
    approvedBy: p.application?.decidedBy ?? null,
    operator: p.operator,
  });
  return id;
}

/** The ceremony record's inputs, outputs and details for one issuance (transcript and ceremony row). */
function completionRecord(p: IssueParams, x: Prepared, certificateId: number, sha256: string) {
  const { serialHex, signatureAlgorithm, validity, subject, csr } = x;
  return {
    inputs: [
      { name: 'CSR', sha256: sha256Hex(csr.der) },
      ...(p.application
        ? [{ name: `application #${p.application.id}`, sha256: sha256Hex(JSON.stringify(p.application.requested)) }]
        : []),
    ],
    outputs: [{ name: `certificate ${serialHex}.der`, sha256 }],
    details: {
      certificateId,
      profile: p.profile,
      serial: serialHex,
      subject: nameToText(subject),
      requester: p.requester ?? null,
      application: p.application?.id ?? null,
      approvedBy: p.application?.decidedBy ?? null,
      clamped: validity.clamped,
      signatureAlgorithm,
      keyActivations: 1,
    },
  };
}

/** What the operator is told with the certificate: a clamped validity or a due changeover (R-3.4, CPS 5.6), a SHA-1 override. */
function issuanceNotes(inst: Installation, ca: CaSummary, x: Prepared): { notes: string[]; changeoverDue: boolean } {
  const notes: string[] = [];
  if (x.validity.clamped)
    notes.push(
      `validity clamped to the issuer's notAfter ${x.validity.notAfter.toISOString()} (R-3.4, CPS 5.6): key changeover for ${ca.name} is due (rootca ca renew / rootca ca rekey)`,
    );
  const changeover = changeoverStateOf(inst, ca);
  if (!x.validity.clamped && changeover.changeoverDue) notes.push(changeover.advice);
  if (x.alg.legacy)
    notes.push(`LEGACY: signed with ${x.signatureAlgorithm} under the --allow-legacy-sha1 override (R-1.3)`);
  return { notes, changeoverDue: x.validity.clamped || changeover.changeoverDue };
}
