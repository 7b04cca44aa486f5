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
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';
import { CaError, type ErrorCode } from '../errors.ts';
import { assertNoLintErrors, formatFindings, lintCertificate, type LintFinding } from '../lint/index.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { assembleSignedCertificate, createTbsCertificate, parseCertificate, tbsBytesOf } from '../pki/certificate.ts';
import { acceptCsr, type CsrInspection } from '../pki/csr.ts';
import { keyIdentifierFromSpki } from '../pki/extensions.ts';
import { nameToText } from '../pki/name.ts';
import { derToPem } from '../pki/pem.ts';
import { acceptSubject, checkProfileOptions, PROFILES, validityFor, type IssuedProfileName, type ProfileOptions } from '../pki/profiles.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom, serialToHex } from '../pki/serial.ts';
import { sha256Hex } from '../util/digest.ts';
import { faultPoint } from '../util/fault-points.ts';
import { planOutputs } from '../util/outputs.ts';
import { ceremonyOwner, durableOutputs, exportTranscriptAfterCommit, finishInterruptedWork, type InterruptedWork } from '../operation/durable-outputs.ts';
import { signOnceWithCaKey } from '../custody/activation.ts';
import { backupAfterChange, type BackupOutcome } from '../records/backups.ts';
import { openEnding } from '../lifecycle/ca-ending.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import { changeoverStateOf } from '../lifecycle/changeover.ts';
import type { Installation } from '../installation/installation.ts';
import { guardedBy } from '../operation/key-session.ts';
import { keyCustodians, loadSoftKey } from '../custody/key-records.ts';
import { assertTransition, getApplication, type Application } from './applications.ts';
import { bringParticipant, operationDigest, participantEvidence, type PassphraseSource } from '../people/participants.ts';
import { checkDistinct } from '../people/permissions.ts';
import { caPolicies, isReservedBrPolicy } from './policies.ts';
import { gatherQuorum, type Quorum } from '../people/quorum.ts';
import { throwawayLike } from '../status/crl-and-ocsp.ts';
import type { Transcript } from '../records/transcript.ts';
import { makeTranscript, storeTranscript } from '../records/transcript-store.ts';

export interface IssueParams extends ProfileOptions {
  /** The CA Administrator who performs the issuance (CPS 5.2.1). */
  operator: string;
  caName: string;
  profile: IssuedProfileName;
  csr: Uint8Array;
  /** Who asked for it (organisation / contact), recorded with the certificate. */
  requester?: string;
  validityDays?: number;
  /** Extra CP OIDs: must be registered for this CA or CA/B Forum reserved (2.23.140.1.*). */
  extraPolicyOids?: string[];
  /** Defaults to the CA's own signature algorithm. */
  signatureAlgorithm?: SignatureAlgorithmName;
  /** explicit, audited override to issue with SHA-1. */
  allowLegacySha1?: boolean;
  witness: string;
  passphrases: PassphraseSource;
  /** Output files (never overwritten); relative to the working folder. */
  outPem?: string;
  outDer?: string;
  /** Set by issueFromApplication: the approved application this issuance fulfils. */
  application?: Application;
}

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
    if (e instanceof CaError) inst.audit.append({ actor: p.operator, roles: [], action: ACTION, target: `application:${p.applicationId}`, outcome: 'refused', details: { code: e.code, message: e.message } });
    throw e;
  }
  const r = app.requested;
  return issueCertificate(inst, {
    operator: p.operator, witness: p.witness, passphrases: p.passphrases, outPem: p.outPem, outDer: p.outDer, allowLegacySha1: p.allowLegacySha1, signatureAlgorithm: p.signatureAlgorithm,
    caName: app.caName, profile: app.profile, csr: app.csrDer, requester: `${app.applicantOrganisation} <${app.applicantContact}>`,
    validityDays: r.validityDays, extraPolicyOids: r.extraPolicyOids, pathLenConstraint: r.pathLenConstraint, digitalSignature: r.digitalSignature, nonRepudiation: r.nonRepudiation,
    extKeyUsage: r.extKeyUsage, permittedDnsNames: r.permittedDnsNames, excludedDnsNames: r.excludedDnsNames,
    application: app,
  });
}

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

export async function issueCertificate(inst: Installation, p: IssueParams): Promise<IssueResult> {
  const target = `${p.caName}/${p.profile}`;
  const refuse = (code: ErrorCode, message: string, details: Record<string, unknown> = {}): never => {
    inst.audit.append({ actor: inst.systemActor, roles: [], action: ACTION, target, outcome: 'refused', details: { code, message, requester: p.requester, ...details } });
    throw new CaError(code, message, { details });
  };
  const guard = guardedBy(refuse);

  // 1. Inputs.
  const profile = PROFILES[p.profile] ?? refuse('PROFILE_UNKNOWN', `unknown profile ${p.profile}; profiles: ${Object.keys(PROFILES).join(', ')}`);
  const ca: CaSummary = guard(() => getCa(inst, p.caName));
  if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `CA ${ca.name} is ${ca.status} and cannot issue`);
  // A compromise or termination that began but did not finish keeps the CA 'active' so the
  // run can resume; it must not issue in between (its resumed run would revoke the result).
  const ending = openEnding(inst, ca.id);
  if (ending) refuse('CA_ENDING', `CA ${ca.name} has an unfinished ${ending.kind} (started ${ending.startedAt}); finish it with rootca ca ${ending.kind === 'termination' ? 'terminate' : 'compromise'} before anything is issued`);
  if (!p.application && inst.config.issuance.requireApplicationFor.includes(p.profile)) {
    refuse('APPLICATION_REQUIRED', `${p.profile} certificates are issued only from an approved application (R-3.5): use --application ID (config issuance.requireApplicationFor)`);
  }
  if (p.application) guard(() => checkDistinct('certificate.issue', { operator: [p.operator], approver: [p.application!.decidedBy ?? ''] }));
  const interrupted = finishInterruptedWork(inst);
  const files = durableOutputs(inst, guard(() => planOutputs([
    ...(p.outPem ? [{ path: p.outPem, what: '--out' }] : []),
    ...(p.outDer ? [{ path: p.outDer, what: '--der-out' }] : []),
  ])));
  const csr: CsrInspection = guard(() => acceptCsr(p.csr));
  const options: ProfileOptions = { pathLenConstraint: p.pathLenConstraint, digitalSignature: p.digitalSignature, nonRepudiation: p.nonRepudiation, extKeyUsage: p.extKeyUsage, permittedDnsNames: p.permittedDnsNames, excludedDnsNames: p.excludedDnsNames };
  guard(() => checkProfileOptions(profile, options));
  const subject: Name = guard(() => acceptSubject(profile, csr.requested.subject));
  const signatureAlgorithm = p.signatureAlgorithm ?? ca.signatureAlgorithm;
  const alg = SIGNATURE_ALGORITHMS[signatureAlgorithm];
  const issuerCert = parseCertificate(ca.certificateDer);
  const issuerKey = createPublicKey({ key: Buffer.from(AsnConvert.serialize(issuerCert.tbsCertificate.subjectPublicKeyInfo)), format: 'der', type: 'spki' });
  if (alg.keyKind !== (issuerKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ecdsa')) refuse('ALGORITHM_MISMATCH', `${signatureAlgorithm} does not fit the ${ca.name} key`);
  if (alg.legacy && !p.allowLegacySha1) {
    refuse('LEGACY_SHA1_REFUSED', `${ca.name} signs with ${signatureAlgorithm}: new certificates with SHA-1 are refused unless --allow-legacy-sha1 is given (R-1.3), or choose --signature-algorithm sha256WithRSAEncryption`);
  }
  const registered = caPolicies(inst, ca.id, profile.policyPurpose);
  const extra = p.extraPolicyOids ?? [];
  const unknownExtra = extra.filter((o) => !registered.includes(o) && !isReservedBrPolicy(o));
  if (unknownExtra.length) refuse('POLICY_NOT_REGISTERED', `policy ${unknownExtra.join(', ')} is not registered for ${ca.name} (register it first; CPS 1.2)`);
  if (profile.policyPurpose && registered.length === 0) refuse('POLICY_MISSING', `${ca.name} has no ${profile.policyPurpose} Certificate Policy registered (R-1.2)`);
  const policyOids = profile.policyPurpose ? [...new Set([...registered, ...extra])] : extra;
  const validity = guard(() => validityFor(profile, { notBefore: inst.clock.now(), requestedDays: p.validityDays, issuerNotAfter: new Date(ca.notAfter) }));

  // 2. The TBS, linted under a throwaway key before anyone is asked for a passphrase.
  const base = inst.config.repository.baseUrl.replace(/\/+$/, '');
  const serial = serialFromRandom(inst.random(SERIAL_RANDOM_BYTES));
  const serialHex = serialToHex(serial);
  const tbs = createTbsCertificate({
    serialNumber: serial,
    signatureAlgorithm,
    issuer: issuerCert.tbsCertificate.subject,
    subject,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    subjectPublicKeyInfo: csr.requested.publicKeySpki,
    extensions: profile.extensions({
      ...options,
      issuerKeyIdentifier: keyIdentifierFromSpki(new Uint8Array(AsnConvert.serialize(issuerCert.tbsCertificate.subjectPublicKeyInfo))),
      subjectPublicKeySpki: csr.requested.publicKeySpki,
      policyOids,
      urls: { crl: `${base}/crl/${ca.name}.crl`, ocsp: `${base}/ocsp`, caIssuers: `${base}/certs/${ca.name}.crt` },
    }),
  });
  const lintContext = { profile: p.profile, issuer: issuerCert, allowedPolicyOids: policyOids, allowLegacySha1: !!p.allowLegacySha1, now: inst.clock.now() };
  const throwaway = throwawayLike(Buffer.from(AsnConvert.serialize(issuerCert.tbsCertificate.subjectPublicKeyInfo)));
  const preCert = assembleSignedCertificate(tbs.der, signatureAlgorithm, cryptoSign(alg.hash, tbs.der, throwaway));
  const preFindings = lintCertificate(preCert, lintContext);
  guard(() => assertNoLintErrors(preFindings, `the ${p.profile} certificate for ${csr.requested.subjectText}`));

  // 3. People, then intent.
  const holders = keyCustodians(inst, ca.keyId);
  const record = guard(() => loadSoftKey(inst, ca.keyId));
  const digest = operationDigest({ kind: ACTION, ca: ca.name, profile: p.profile, serial: serialHex, tbsSha256: sha256Hex(tbs.der), csrSha256: sha256Hex(csr.der), application: p.application?.id ?? null });
  const operatorP = await bringParticipant(inst, p.operator, p.passphrases, `operator issuing from ${ca.name}`, digest, { operation: ACTION, slot: 'operator' });
  if (!operatorP) refuse('OPERATOR_ABSENT', `the CA Administrator ${p.operator} did not authenticate`);
  guard(() => checkDistinct(ACTION, { operator: [p.operator], witness: [p.witness] }));
  let quorum: Quorum;
  try {
    quorum = await gatherQuorum(inst, {
    operationName: ACTION,
    alreadyPresent: [operatorP!],
    witness: p.witness, holders, threshold: record.threshold, digest, passphrases: p.passphrases,
    operation: `issuing a ${p.profile} certificate from ${ca.name}`, refuse,
  });
  } catch (e) {
    operatorP!.credential.lock();
    throw e;
  }
  const now = inst.clock.now().toISOString();
  const ceremonyId = inst.db.transaction(() => {
    const id = Number(inst.db.prepare("INSERT INTO ceremonies (kind, file_sha256, status, started_at, details) VALUES (?, NULL, 'started', ?, ?)")
      .run(ACTION, now, JSON.stringify({ ca: ca.name, profile: p.profile, serial: serialHex, owner: ceremonyOwner() })).lastInsertRowid);
    inst.db.prepare('INSERT INTO serial_reservations (issuer_ca_id, serial_hex, ceremony_id, reserved_at) VALUES (?,?,?,?)').run(ca.id, serialHex, id, now);
    return id;
  }).immediate();
  files.claim(ceremonyId, ACTION);

  let certificateDer: Buffer;
  let certificateId: number;
  let transcript!: Transcript;
  let notes: string[];
  let changeoverDue: boolean;
  let warnings: LintFinding[];
  try {
    // 4. One activation, one signature, then the checks.
    const signature = await signOnceWithCaKey(inst, { record, custodians: quorum.custodians, purpose: `${p.profile} certificate ${serialHex}`, target: ca.name }, tbs.der, signatureAlgorithm);
    certificateDer = assembleSignedCertificate(tbs.der, signatureAlgorithm, signature);
    if (!tbsBytesOf(certificateDer).equals(tbsBytesOf(preCert))) throw new CaError('TBS_CHANGED', 'the signed TBS differs from the linted one');
    if (!cryptoVerify(alg.hash, tbs.der, issuerKey, signature)) throw new CaError('SIGNATURE_INVALID', `the signature does not verify with the ${ca.name} certificate's key`);
    const postFindings = lintCertificate(certificateDer, lintContext);
    assertNoLintErrors(postFindings, 'the issued certificate');
    const canonical = Buffer.from(AsnConvert.serialize(AsnConvert.parse(certificateDer, Certificate)));
    if (!canonical.equals(certificateDer)) throw new CaError('DER_NOT_CANONICAL', 'the issued certificate does not re-encode to the same DER');

    // 5. Stage the files, then record it.
    const sha256 = sha256Hex(certificateDer);
    faultPoint(`${ACTION}:signed`);
    const pemOut = files.planned.find((f) => f.what === '--out');
    const derOut = files.planned.find((f) => f.what === '--der-out');
    if (pemOut) files.stage(pemOut.path, derToPem(certificateDer, 'CERTIFICATE'), { table: 'certificates', sha256, encoding: 'pem' });
    if (derOut) files.stage(derOut.path, certificateDer, { table: 'certificates', sha256, encoding: 'der' });
    notes = [];
    if (validity.clamped) notes.push(`validity clamped to the issuer's notAfter ${validity.notAfter.toISOString()} (R-3.4, CPS 5.6): key changeover for ${ca.name} is due (rootca ca renew / rootca ca rekey)`);
    const changeover = changeoverStateOf(inst, ca);
    if (!validity.clamped && changeover.changeoverDue) notes.push(changeover.advice);
    changeoverDue = validity.clamped || changeover.changeoverDue;
    if (alg.legacy) notes.push(`LEGACY: signed with ${signatureAlgorithm} under the --allow-legacy-sha1 override (R-1.3)`);
    warnings = postFindings.filter((f) => f.severity === 'warning');
    const people = [{ as: 'operator', p: operatorP! }, { as: 'witness', p: quorum.witness }, ...quorum.custodians.filter((c) => c !== operatorP).map((c) => ({ as: 'custodian', p: c }))];
    if (quorum.custodians.includes(operatorP!)) people[0] = { as: 'operator+custodian', p: operatorP! };
    const evidence = participantEvidence(digest, people.map(({ as, p }) => ({ role: as, p })));
    certificateId = inst.db.transaction(() => {
      const id = Number(inst.db
        .prepare('INSERT INTO certificates (issuer_ca_id, serial_hex, profile, subject_text, not_before, not_after, sha256, der, created_at, requester, csr_der, details) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)')
        .run(ca.id, serialHex, p.profile, nameToText(subject), validity.notBefore.toISOString(), validity.notAfter.toISOString(), sha256, certificateDer, now, p.requester ?? null, csr.der,
          JSON.stringify({ clamped: validity.clamped, signatureAlgorithm, policyOids, legacySha1Override: alg.legacy, ceremonyId })).lastInsertRowid);
      inst.db.prepare("UPDATE ceremonies SET status = 'completed', finished_at = ? WHERE id = ?").run(inst.clock.now().toISOString(), ceremonyId);
      if (p.application) {
        const r = inst.db.prepare("UPDATE applications SET state = 'issued', issued_by = ?, certificate_id = ? WHERE id = ? AND state = 'approved'").run(p.operator, id, p.application.id);
        if (r.changes !== 1) throw new CaError('APPLICATION_STATE', `application #${p.application.id} changed state during issuance`);
      }
      inst.audit.append({
        actor: quorum.all.map((q) => q.operator.name).join(','),
        roles: [...new Set(quorum.all.flatMap((q) => q.operator.roles))],
        action: ACTION,
        target: ca.name,
        outcome: 'success',
        details: {
          ceremonyId, certificateId: id, profile: p.profile, serial: serialHex, subject: nameToText(subject), requester: p.requester, certificateSha256: sha256,
          csrSha256: sha256Hex(csr.der), notBefore: validity.notBefore.toISOString(), notAfter: validity.notAfter.toISOString(), clamped: validity.clamped,
          signatureAlgorithm, legacySha1Override: alg.legacy, policyOids, lintWarnings: warnings.map((w) => w.lint), application: p.application?.id ?? null,
          approvedBy: p.application?.decidedBy ?? null, operator: p.operator, ...evidence,
        },
      });
      transcript = makeTranscript(inst, {
        operation: ACTION, ceremonyId, target: ca.name, startedAt: now, digest, people,
        inputs: [{ name: 'CSR', sha256: sha256Hex(csr.der) }, ...(p.application ? [{ name: `application #${p.application.id}`, sha256: sha256Hex(JSON.stringify(p.application.requested)) }] : [])],
        outputs: [{ name: `certificate ${serialHex}.der`, sha256 }],
        details: { certificateId: id, profile: p.profile, serial: serialHex, subject: nameToText(subject), requester: p.requester ?? null, application: p.application?.id ?? null, approvedBy: p.application?.decidedBy ?? null, clamped: validity.clamped, signatureAlgorithm, keyActivations: 1 },
      });
      storeTranscript(inst, transcript);
      files.recordInCommit();
      return id;
    }).immediate();
  } catch (e) {
    files.discard();
    const err = e instanceof CaError ? e : new CaError('ISSUANCE_FAILED', `issuance failed: ${(e as Error).message}`, { cause: e });
    inst.db.prepare("UPDATE ceremonies SET status = 'failed', finished_at = ?, details = json_set(details, '$.error', ?) WHERE id = ? AND status = 'started'")
      .run(inst.clock.now().toISOString(), err.code, ceremonyId);
    inst.audit.append({ actor: inst.systemActor, roles: [], action: ACTION, target: ca.name, outcome: 'failed', details: { ceremonyId, serial: serialHex, code: err.code, message: err.message } });
    quorum.lock();
    throw err;
  }

  // 6. Committed: files, transcript file and backup follow; none of them turns this into a failure.
  try {
    const published = files.publish();
    for (const q of published.pending) notes.push(`OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; the certificate is issued — write it with rootca ceremony resume ${ceremonyId}`);
    const transcriptFile = exportTranscriptAfterCommit(inst, transcript, notes);
    // The files are named before the backup, so a slow or failed backup never holds back what the operator needs.
    const backup = await backupAfterChange(inst, { reason: ACTION, ceremonyId, operator: operatorP! });
    return {
      certificateId, serialHex, subject: nameToText(subject), notBefore: validity.notBefore, notAfter: validity.notAfter, clamped: validity.clamped,
      certificateDer, certificatePem: derToPem(certificateDer, 'CERTIFICATE'), lintWarnings: warnings, outputs: published.written, custodians: quorum.custodians.map((c) => c.operator.name), witness: quorum.witness.operator.name, notes, changeoverDue, transcriptFile, backup, interrupted,
    };
  } finally {
    quorum.lock();
  }
}
