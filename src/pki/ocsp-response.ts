/**
 * OCSP responses (RFC 6960 4.2, RFC 5019 profile): ResponseData DER is built first, signed
 * elsewhere by a one-shot Signer, then assembled around those exact bytes
 * (assembleOcspResponse), as certificate.ts does for certificates; responses are also read back
 * and their signatures checked. ocsp-fast.ts writes the same bytes on the online hot path.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CRLReason, Extension } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier } from './certificate.ts';
import { revocationReasonOfCode, REVOCATION_REASON_CODES, type RevocationReason } from './crl.ts';
import { derBitString, derSequence, derTlv } from './der.ts';
import {
  BasicOCSPResponse,
  CertStatusChoice,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSP_RESPONSE_STATUS,
  OCSPResponse,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  type OcspResponseStatusName,
} from './ocsp-asn1.ts';
import { certIdOf, keyOfCertId, type CertIdKey } from './ocsp-cert-id.ts';
import { NONCE_MAX_OCTETS, NONCE_MIN_OCTETS, nonceOf } from './ocsp-request.ts';
import { readDerChildren, readDerElement, type DerElement } from './pem.ts';
import { verifyTbsSignature } from './signature-verify.ts';

/** A certificate's status as a responder states it (RFC 6960 2.2). */
export type CertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revocationTime: Date; reason?: RevocationReason }
  | { status: 'unknown' };

export interface SingleResponseParams {
  certId: CertIdKey;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface TbsResponseDataParams {
  /** responderID byKey: SHA-1 of the responder's subjectPublicKey BIT STRING value (RFC 6960 4.2.2.3); extensions.ts keyIdentifierFromSpki computes it. */
  responderKeyHash: Buffer;
  producedAt: Date;
  responses: SingleResponseParams[];
  /** Echoed in responseExtensions (RFC 8954). */
  nonce?: Buffer;
}

/** GeneralizedTime values "MUST NOT include fractional seconds" (RFC 5280 4.1.2.5.2, applied by RFC 6960 4.2.2.1). */
function wholeSeconds(d: Date, field: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new CaError('OCSP_PARAMS_INVALID', `${field} is not a valid date`);
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function certStatusOf(s: CertStatus): CertStatusChoice {
  switch (s.status) {
    case 'good':
      return new CertStatusChoice({ good: null });
    case 'unknown':
      return new CertStatusChoice({ unknown: null });
    case 'revoked': {
      let revocationReason: number | undefined;
      if (s.reason !== undefined) {
        revocationReason = REVOCATION_REASON_CODES[s.reason];
        if (revocationReason === undefined)
          throw new CaError('OCSP_PARAMS_INVALID', `revocation reason "${String(s.reason)}" is not supported`);
      }
      const revocationTime = wholeSeconds(s.revocationTime, 'revocationTime');
      const reason = revocationReason === undefined ? undefined : new CRLReason(revocationReason);
      return new CertStatusChoice({ revoked: new RevokedInfo({ revocationTime, revocationReason: reason }) });
    }
    default:
      throw new CaError('OCSP_PARAMS_INVALID', `unknown certificate status ${JSON.stringify(s)}`);
  }
}

/** The nonce extension: extnValue is the DER OCTET STRING holding the nonce (RFC 8954 2.1), non-critical. */
export function nonceExtension(nonce: Uint8Array): Extension {
  if (nonce.length < NONCE_MIN_OCTETS || nonce.length > NONCE_MAX_OCTETS) {
    throw new CaError(
      'OCSP_BAD_NONCE',
      `nonce is ${nonce.length} octets; RFC 8954 allows ${NONCE_MIN_OCTETS} to ${NONCE_MAX_OCTETS}`,
    );
  }
  return new Extension({
    extnID: id_pkix_ocsp_nonce,
    critical: false,
    extnValue: new OctetString(derTlv(0x04, nonce)),
  });
}

/**
 * Builds ResponseData (RFC 6960 4.2.1) and its DER: v1 (version omitted as DEFAULT), responderID
 * byKey (the compact KeyHash form, RFC 6960 4.2.2.3), producedAt and thisUpdate/nextUpdate as
 * GeneralizedTime without fractional seconds, nextUpdate always set (pre-produced RFC 5019
 * responses need it for caching, R-2.3), the nonce echoed in responseExtensions when given.
 */
export function createTbsResponseData(p: TbsResponseDataParams): { tbs: ResponseData; der: Buffer } {
  if (p.responderKeyHash.length !== 20)
    throw new CaError(
      'OCSP_PARAMS_INVALID',
      `responderKeyHash is ${p.responderKeyHash.length} octets; a SHA-1 KeyHash is 20`,
    );
  if (p.responses.length === 0)
    throw new CaError('OCSP_PARAMS_INVALID', 'a response needs at least one SingleResponse');
  const tbs = new ResponseData({
    responderID: new ResponderID({ byKey: new OctetString(p.responderKeyHash) }),
    producedAt: wholeSeconds(p.producedAt, 'producedAt'),
    responses: p.responses.map(
      (r) =>
        new SingleResponse({
          certID: certIdOf(r.certId),
          certStatus: certStatusOf(r.status),
          thisUpdate: wholeSeconds(r.thisUpdate, 'thisUpdate'),
          nextUpdate: wholeSeconds(r.nextUpdate, 'nextUpdate'),
        }),
    ),
    responseExtensions: p.nonce !== undefined ? [nonceExtension(p.nonce)] : undefined,
  });
  return { tbs, der: Buffer.from(AsnConvert.serialize(tbs)) };
}

/**
 * OCSPResponse{successful, BasicOCSPResponse{tbsResponseData, signatureAlgorithm, signature,
 * certs?}} around the signed ResponseData bytes, without re-encoding them. `certs`: the
 * delegated responder certificate(s), so clients can check the delegation (RFC 6960 4.2.1:
 * "The responder MAY include certificates in the certs field of BasicOCSPResponse that help the
 * OCSP client verify the responder's signature"); none when the CA signs itself.
 */
export function assembleOcspResponse(
  tbsResponseDataDer: Uint8Array,
  alg: SignatureAlgorithmName,
  signature: Uint8Array,
  certs?: Uint8Array[],
): Buffer {
  const algDer = Buffer.from(AsnConvert.serialize(signatureAlgorithmIdentifier(alg)));
  const parts: Uint8Array[] = [tbsResponseDataDer, algDer, derBitString(signature)];
  if (certs && certs.length > 0) parts.push(derTlv(0xa0, derSequence(...certs)));
  const basic = derSequence(...parts);
  const resp = new OCSPResponse({
    responseStatus: OCSP_RESPONSE_STATUS.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basic) }),
  });
  return Buffer.from(AsnConvert.serialize(resp));
}

/**
 * Unsigned error responses (RFC 6960 2.3: "these messages are not signed"): only the status.
 */
export function ocspErrorResponse(
  status: 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized',
): Buffer {
  const code: number | undefined = OCSP_RESPONSE_STATUS[status];
  if (code === undefined || code === OCSP_RESPONSE_STATUS.successful)
    throw new CaError('OCSP_PARAMS_INVALID', `"${String(status)}" is not an OCSP error status`);
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: code })));
}

export interface ParsedSingleResponse {
  certId: CertIdKey;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

export interface ParsedOcspResponse {
  /** successful, malformedRequest, … (or `status(N)` for an unassigned value). */
  status: string;
  producedAt?: Date;
  responses: ParsedSingleResponse[];
  nonce?: Buffer;
  responderKeyHash?: Buffer;
  /** responderID byName, as DER. */
  responderNameDer?: Buffer;
  certs: Buffer[];
  /** The exact ResponseData bytes (what the signature covers). */
  tbsDer?: Buffer;
  signature?: Buffer;
  signatureAlgorithmOid?: string;
}

function malformedResponse(reason: string, cause?: unknown): CaError {
  return new CaError('OCSP_MALFORMED_RESPONSE', `malformed OCSP response: ${reason}`, { cause });
}

/** The exact DER of each certificate in BasicOCSPResponse certs [0] EXPLICIT SEQUENCE OF Certificate. */
function certificatesIn(der: Uint8Array, wrapper: DerElement): Buffer[] {
  const [list] = readDerChildren(der, wrapper);
  if (!list) return [];
  return readDerChildren(der, list).map((c) => Buffer.from(der.subarray(c.start, c.end)));
}

function statusOf(s: CertStatusChoice): CertStatus {
  if (s.revoked) {
    const code = s.revoked.revocationReason?.reason;
    const reason = code === undefined ? undefined : revocationReasonOfCode(code);
    return reason
      ? { status: 'revoked', revocationTime: s.revoked.revocationTime, reason }
      : { status: 'revoked', revocationTime: s.revoked.revocationTime };
  }
  if (s.good !== undefined) return { status: 'good' };
  if (s.unknown !== undefined) return { status: 'unknown' };
  throw malformedResponse('CertStatus is none of good, revoked, unknown');
}

/**
 * Parses an OCSPResponse. Throws CaError('OCSP_MALFORMED_RESPONSE') on garbage or a response
 * type other than id-pkix-ocsp-basic. A revocation reason outside RevocationReason (e.g.
 * unspecified) is reported as a revoked status without reason.
 */
export function parseOcspResponse(der: Uint8Array): ParsedOcspResponse {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw malformedResponse('not one DER SEQUENCE');
    const resp = AsnConvert.parse(buf, OCSPResponse);
    const statusName =
      (Object.keys(OCSP_RESPONSE_STATUS) as OcspResponseStatusName[]).find(
        (k) => OCSP_RESPONSE_STATUS[k] === resp.responseStatus,
      ) ?? `status(${resp.responseStatus})`;
    if (!resp.responseBytes) return { status: statusName, responses: [], certs: [] };
    if (resp.responseBytes.responseType !== id_pkix_ocsp_basic)
      throw malformedResponse(`response type ${resp.responseBytes.responseType} is not id-pkix-ocsp-basic`);
    const basicDer = new Uint8Array(resp.responseBytes.response.buffer);
    const basicEl = readDerElement(basicDer, 0);
    if (basicEl.tag !== 0x30 || basicEl.end !== basicDer.length)
      throw malformedResponse('BasicOCSPResponse is not one DER SEQUENCE');
    const [tbsEl, , , certsEl] = readDerChildren(basicDer, basicEl);
    const basic = AsnConvert.parse(basicDer, BasicOCSPResponse);
    const data = basic.tbsResponseData;
    let nonce: Buffer | undefined;
    for (const ext of data.responseExtensions ?? []) if (ext.extnID === id_pkix_ocsp_nonce) nonce = nonceOf(ext);
    return {
      status: statusName,
      producedAt: data.producedAt,
      responses: data.responses.map((r) => ({
        certId: keyOfCertId(r.certID),
        status: statusOf(r.certStatus),
        thisUpdate: r.thisUpdate,
        nextUpdate: r.nextUpdate,
      })),
      nonce,
      responderKeyHash: data.responderID.byKey ? Buffer.from(data.responderID.byKey.buffer) : undefined,
      responderNameDer: data.responderID.byName
        ? Buffer.from(AsnConvert.serialize(data.responderID.byName))
        : undefined,
      certs: certsEl?.tag === 0xa0 ? certificatesIn(basicDer, certsEl) : [],
      tbsDer: Buffer.from(basicDer.subarray(tbsEl!.start, tbsEl!.end)),
      signature: Buffer.from(basic.signature),
      signatureAlgorithmOid: basic.signatureAlgorithm.algorithm,
    };
  } catch (e) {
    if (e instanceof CaError && e.code === 'OCSP_MALFORMED_RESPONSE') throw e;
    throw malformedResponse(e instanceof Error ? e.message : String(e), e);
  }
}

/** True when a successful response's signature verifies with the signer's public key (SPKI DER). */
export function verifyOcspResponseSignature(respDer: Uint8Array, signerSpkiDer: Uint8Array): boolean {
  const p = parseOcspResponse(respDer);
  if (!p.tbsDer || !p.signature || !p.signatureAlgorithmOid) return false;
  return verifyTbsSignature(p.tbsDer, p.signatureAlgorithmOid, p.signature, signerSpkiDer);
}
