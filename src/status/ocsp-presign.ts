/**
 * Pre-signed OCSP responses of a root (R-2.3; RFC 6960, RFC 5019), signed by the root's
 * delegated OCSP responder key (BR 6.1.7, RFC 6960 4.2.2.2; custody/delegated-signers.ts) —
 * never by the root key — inside a key session, one activation per signature.
 */
import { createHash } from 'node:crypto';
import { CaError } from '../errors.ts';
import {
  assembleOcspResponse,
  certIdLookupKey,
  certIdsFor,
  createTbsResponseData,
  verifyOcspResponseSignature,
} from '../pki/ocsp.ts';
import { sha256Hex } from '../util/digest.ts';
import { assertNoOcspLintErrors, lintOcspResponse } from '../lint/ocsp/index.ts';
import { certificateInfo, type CertificateInfo } from '../pki/certificate-info.ts';
import { faultPoint } from '../util/fault-points.ts';
import type { DelegatedSigner } from '../custody/delegated-signers.ts';
import { delegatedBesideRoot, type DelegatedInSession } from './delegated-in-session.ts';
import { listIssued, type IssuedCertificate } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import type { KeySession } from '../operation/key-session.ts';
import { progressTask } from '../util/progress.ts';
import { insertOcspResponse } from '../store/ocsp-responses.ts';
import { currentStatusSigner, issuedByKey, type StatusCommitHooks, type StatusSigner } from './crl-and-ocsp.ts';

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
  const out: (PresignedResponse & { row: StoredResponse })[] = [];
  const skipped: string[] = [];
  const presigning = progressTask(`pre-signing OCSP responses for ${ca.name}`, certificates.length);
  for (const cert of certificates) {
    presigning.tick();
    if (cert.caId !== ca.id)
      throw new CaError('CERTIFICATE_OF_ANOTHER_CA', `certificate ${cert.serialHex} is not from ${ca.name}`);
    if (!issuedByKey(cert.der, signer)) {
      skipped.push(cert.serialHex);
      continue;
    }
    for (const id of certIdsFor(signer.certificateDer, cert.serialHex)) {
      out.push(await presignOne(inst, s, responder, cert, id, signer));
      faultPoint('ocsp.presign:signed-one');
    }
  }
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
 * The one place a pre-signed response is checked before it is stored: its signature verifies
 * with the responder key and it carries the responder certificate. (The OCSP response lints,
 * src/lint/ocsp/, join here.)
 */
export function checkPresignedResponse(
  der: Buffer,
  responder: DelegatedSigner,
  serialHex: string,
  lint: { issuer: CertificateInfo; now: Date },
): void {
  if (!verifyOcspResponseSignature(der, responder.info.spkiDer))
    throw new CaError('SIGNATURE_INVALID', `OCSP response for ${serialHex} does not verify with the responder key`);
  // Linted like certificates and CRLs before it is stored (issue 15.8; src/lint/ocsp/).
  assertNoOcspLintErrors(
    lintOcspResponse(der, { issuer: lint.issuer, signer: responder.info, now: lint.now }),
    `OCSP response for ${serialHex}`,
  );
}

/** One pre-signed response for one CertID of a certificate, verified, with the row to store. */
async function presignOne(
  inst: Installation,
  s: KeySession,
  responder: ResponderInSession,
  cert: IssuedCertificate,
  id: ReturnType<typeof certIdsFor>[number],
  signer: StatusSigner,
): Promise<PresignedResponse & { row: StoredResponse }> {
  const ca = s.ca;
  const algorithm = responder.algorithm;
  const responderKeyHash = createHash('sha1').update(responder.info.publicKey).digest();
  const { thisUpdate, nextUpdate } = presignWindow(inst, responder);
  const status = cert.revocation
    ? {
        status: 'revoked' as const,
        revocationTime: new Date(cert.revocation.revokedAt),
        reason: cert.revocation.reason,
      }
    : { status: 'good' as const };
  const tbs = createTbsResponseData({
    responderKeyHash,
    producedAt: thisUpdate,
    responses: [{ certId: id, status, thisUpdate, nextUpdate }],
  });
  const signature = await responder.sign(tbs.der, `OCSP response for ${cert.serialHex} (${id.hashAlgorithm})`);
  const der = assembleOcspResponse(tbs.der, algorithm, signature, [responder.certificateDer]);
  checkPresignedResponse(der, responder, cert.serialHex, {
    issuer: certificateInfo(signer.certificateDer),
    now: thisUpdate,
  });
  const sha256 = sha256Hex(der);
  const row = {
    caId: ca.id,
    certificateId: cert.id,
    hashAlgorithm: id.hashAlgorithm as 'sha1' | 'sha256',
    certIdKey: certIdLookupKey(id),
    status: status.status,
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    sha256,
    der,
    ceremonyId: s.ceremonyId,
  };
  return {
    certificateId: cert.id,
    serialHex: cert.serialHex,
    hash: id.hashAlgorithm as 'sha1' | 'sha256',
    status: status.status,
    der,
    sha256,
    row,
  };
}
