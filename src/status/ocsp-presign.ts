/**
 * Pre-signed OCSP responses of a root (R-2.3; RFC 6960, RFC 5019), signed by the root's
 * delegated OCSP responder key (BR 6.1.7, RFC 6960 4.2.2.2; custody/delegated-signers.ts) —
 * never by the root key — inside a key session, one activation for the approved batch (CPS 6.2.9).
 */
import { createHash, verify } from 'node:crypto';
import { CaError } from '../errors.ts';
import { certIdLookupKey, certIdsFor, type CertIdKey, type CertStatus } from '../pki/ocsp.ts';
import { assembleOcspResponseFast, encodeTbsResponseData } from '../pki/ocsp-fast.ts';
import { sha256Hex } from '../util/digest.ts';
import { assertNoOcspLintErrors, lintOcspResponse } from '../lint/ocsp/index.ts';
import { signatureAlgorithmByOid } from '../pki/algorithms.ts';
import { certificateInfo, type CertificateInfo } from '../pki/certificate-info.ts';
import { publicKeyOfSpki } from '../pki/signature-verify.ts';
import { faultPoint } from '../util/fault-points.ts';
import type { DelegatedSigner } from '../custody/delegated-signers.ts';
import { delegatedBesideRoot, type DelegatedInSession } from './delegated-in-session.ts';
import { listIssued, type IssuedCertificate } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import type { KeySession } from '../operation/key-session.ts';
import { progressTask } from '../util/progress.ts';
import { insertOcspResponse } from '../store/ocsp-responses.ts';
import { currentStatusSigner, type StatusCommitHooks, type StatusSigner } from './crl-and-ocsp.ts';

type StoredResponse = Omit<Parameters<typeof insertOcspResponse>[1], 'createdAt'>;

const DAY = 86_400_000;

/** The responder key as a session signs with it. */
export type ResponderInSession = DelegatedInSession;

/** The CA's responder key beside its root key (see delegatedBesideRoot). */
export function responderBesideRoot(inst: Installation, s: KeySession): ResponderInSession | undefined {
  return delegatedBesideRoot(inst, s, 'ocsp', (key) => presignWindow(inst, key));
}

export interface PresignedResponse {
  certificateId: number;
  serialHex: string;
  hash: 'sha1' | 'sha256';
  status: 'good' | 'revoked';
  der: Buffer;
  sha256: string;
}

/**
 * Pre-signs OCSP responses (RFC 6960/5019) for the given certificates of the session's CA, one
 * per CertID hash (SHA-1 and SHA-256) so both kinds of request find their answer. The session
 * holds the CA's delegated responder key (`responder`), which signs: responderID byKey of the
 * responder key, its certificate in `certs` (RFC 6960 4.2.1, 4.2.2.2); thisUpdate now,
 * nextUpdate after `ocsp.validityDays`, never after the responder certificate's notAfter
 * (OCSP_OUTLIVES_SIGNER). Only certificates the CA key `signer` issued are answered (the
 * CertID names the issuing key); those of a key retired at a re-key are skipped and listed in
 * the audit event, for `--retired-key`.
 *
 * Every tbsResponseData is built before the key is activated, and the responder key is
 * activated once for exactly that list (CPS 6.2.9: one access is the batch the people approved
 * when they authenticated for these certificates; signBatchWithCaKey): it signs nothing else
 * and is deactivated after the last one. Each response is then linted and all are stored, with
 * their one audit event, in one transaction.
 */
export async function presignInSession(
  inst: Installation,
  s: KeySession,
  responder: ResponderInSession,
  certificates: IssuedCertificate[] = listIssued(inst, s.ca.name),
  signer: StatusSigner = currentStatusSigner(s.ca),
  hooks: StatusCommitHooks<PresignedResponse[]> = {},
): Promise<PresignedResponse[]> {
  const ca = s.ca;
  const { planned, skipped } = planResponses(inst, s, responder, certificates, signer);
  const signatures = planned.length
    ? await responder.signBatch(
        planned.map((p) => p.tbs),
        `${planned.length} OCSP responses of ${ca.name}`,
      )
    : [];
  const issuer = certificateInfo(signer.certificateDer);
  const presigning = progressTask(`pre-signing OCSP responses for ${ca.name}`, planned.length);
  const out = planned.map((p, i) => {
    presigning.tick();
    const r = finishResponse(s, responder, p, signatures[i]!, issuer);
    faultPoint('ocsp.presign:signed-one');
    return r;
  });
  presigning.done();
  const responses: PresignedResponse[] = out.map(({ row: _r, ...r }) => r);
  hooks.signed?.(responses);
  // All responses with their one audit event, or none: a crash half-way stores nothing unlogged.
  inst.db
    .transaction(() => {
      for (const r of out) insertOcspResponse(inst.db, { ...r.row, createdAt: inst.clock.now().toISOString() });
      inst.audit.append({
        actor: s.operator.operator.name,
        roles: s.operator.operator.roles,
        action: 'ocsp.presigned',
        target: ca.name,
        outcome: 'success',
        details: {
          keyId: responder.keyId,
          issuerKeyId: signer.keyId,
          responderSerial: responder.info.serialHex,
          responses: out.length,
          certificates: certificates.length - skipped.length,
          ...(skipped.length ? { issuedByAnotherKey: skipped } : {}),
          validityDays: inst.config.ocsp.validityDays,
          ceremonyId: s.ceremonyId,
        },
      });
      hooks.inCommit?.(responses);
    })
    .immediate();
  return responses;
}

/**
 * The nextUpdate a response made now would carry; OCSP_OUTLIVES_SIGNER, with both dates, when
 * it would pass the responder certificate's notAfter (a response must not outlive the
 * certificate that verifies it: RFC 6960 4.2.2.2, BR 4.9.10).
 */
export function presignWindow(inst: Installation, responder: DelegatedSigner): { thisUpdate: Date; nextUpdate: Date } {
  const thisUpdate = inst.clock.now();
  const nextUpdate = new Date(thisUpdate.getTime() + inst.config.ocsp.validityDays * DAY);
  if (nextUpdate > responder.info.notAfter)
    throw new CaError(
      'OCSP_OUTLIVES_SIGNER',
      `a response pre-signed now would be good until ${nextUpdate.toISOString()}, after the responder certificate ${responder.info.serialHex} of ${responder.caName} expires (${responder.info.notAfter.toISOString()}): issue a new responder certificate (rootca ocsp responder issue --ca ${responder.caName}) and pre-sign again`,
      {
        details: {
          nextUpdate: nextUpdate.toISOString(),
          responderNotAfter: responder.info.notAfter.toISOString(),
          responderSerial: responder.info.serialHex,
        },
      },
    );
  return { thisUpdate, nextUpdate };
}

/**
 * The one place a pre-signed response is checked before it is stored: the OCSP response lints
 * (src/lint/ocsp/; issue 15.8), which include that its signature verifies with the responder
 * key (e_ocsp_signature_invalid) and that it carries the responder certificate.
 */
export function checkPresignedResponse(
  der: Buffer,
  responder: DelegatedSigner,
  serialHex: string,
  lint: { issuer: CertificateInfo; now: Date },
): void {
  assertNoOcspLintErrors(
    lintOcspResponse(der, { issuer: lint.issuer, signer: responder.info, now: lint.now }),
    `OCSP response for ${serialHex}`,
  );
}

/** One response to sign: its certificate, CertID, status and the exact tbsResponseData. */
interface PlannedResponse {
  cert: IssuedCertificate;
  id: CertIdKey;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date;
  tbs: Buffer;
}

/**
 * The tbsResponseData of every response, before the key is activated (hand-written DER,
 * byte-identical to createTbsResponseData: ocsp-fast.ts). One window for the whole batch.
 */
function planResponses(
  inst: Installation,
  s: KeySession,
  responder: ResponderInSession,
  certificates: IssuedCertificate[],
  signer: StatusSigner,
): { planned: PlannedResponse[]; skipped: string[] } {
  const responderKeyHash = createHash('sha1').update(responder.info.publicKey).digest();
  const { thisUpdate, nextUpdate } = presignWindow(inst, responder);
  const issuedBySigner = issuedByOne(certificateInfo(signer.certificateDer));
  const planned: PlannedResponse[] = [];
  const skipped: string[] = [];
  for (const cert of certificates) {
    if (cert.caId !== s.ca.id)
      throw new CaError('CERTIFICATE_OF_ANOTHER_CA', `certificate ${cert.serialHex} is not from ${s.ca.name}`);
    if (!issuedBySigner(cert.der)) {
      skipped.push(cert.serialHex);
      continue;
    }
    const status: CertStatus = cert.revocation
      ? { status: 'revoked', revocationTime: new Date(cert.revocation.revokedAt), reason: cert.revocation.reason }
      : { status: 'good' };
    for (const id of certIdsFor(signer.certificateDer, cert.serialHex)) {
      const single = { certId: id, status, thisUpdate, nextUpdate };
      const tbs = encodeTbsResponseData({ responderKeyHash, producedAt: thisUpdate, responses: [single] });
      planned.push({ cert, id, status, thisUpdate, nextUpdate, tbs });
    }
  }
  return { planned, skipped };
}

/**
 * isIssuedBy against one issuer for many certificates, its public key loaded once: which key of
 * the CA issued each (the CertID names the issuing key; a retired key's are skipped).
 */
function issuedByOne(issuer: CertificateInfo): (certificateDer: Buffer) => boolean {
  const key = publicKeyOfSpki(issuer.spkiDer);
  return (der) => {
    const cert = certificateInfo(der);
    const alg = signatureAlgorithmByOid(cert.signatureAlgorithmOid);
    if (!alg || !cert.issuerDer.equals(issuer.subjectDer)) return false;
    try {
      return verify(alg.hash, cert.tbsDer, key, cert.signature);
    } catch {
      return false;
    }
  };
}

/** A signed response around its planned tbsResponseData, linted, with the row to store. */
function finishResponse(
  s: KeySession,
  responder: ResponderInSession,
  p: PlannedResponse,
  signature: Buffer,
  issuer: CertificateInfo,
): PresignedResponse & { row: StoredResponse } {
  const der = assembleOcspResponseFast(p.tbs, responder.algorithm, signature, [responder.certificateDer]);
  checkPresignedResponse(der, responder, p.cert.serialHex, { issuer, now: p.thisUpdate });
  const sha256 = sha256Hex(der);
  const hash = p.id.hashAlgorithm as 'sha1' | 'sha256';
  const status = p.status.status as 'good' | 'revoked';
  const row = {
    caId: s.ca.id,
    certificateId: p.cert.id,
    hashAlgorithm: hash,
    certIdKey: certIdLookupKey(p.id),
    status,
    thisUpdate: p.thisUpdate.toISOString(),
    nextUpdate: p.nextUpdate.toISOString(),
    sha256,
    der,
    ceremonyId: s.ceremonyId,
  };
  return { certificateId: p.cert.id, serialHex: p.cert.serialHex, hash, status, der, sha256, row };
}
