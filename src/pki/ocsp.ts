/**
 * OCSP (RFC 6960) with the RFC 5019 lightweight profile and RFC 8954 nonces.
 * Requests are parsed strictly (one whole DER element, re-encoding gives the same bytes);
 * responses are built as ResponseData DER first, signed elsewhere by a one-shot Signer, then
 * assembled around those exact bytes (assembleOcspResponse), as certificate.ts does for
 * certificates.
 *
 * The ASN.1 module of RFC 6960 (Appendix B.1) uses EXPLICIT TAGS: a `context` without
 * `implicit` below is an explicit tag. The classes are defined here rather than taken from
 * @peculiar/asn1-ocsp, so the project carries no extra dependency for a dozen small types.
 *
 * Pure: no clock, randomness, files or network.
 */
import { createHash } from 'node:crypto';
import { AsnConvert, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension, GeneralName, Name } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier, toArrayBuffer } from './certificate.ts';
import { normalizeSerialHex, revocationReasonOfCode, REVOCATION_REASON_CODES, serialHexToInteger, verifyTbsSignature, type RevocationReason } from './crl.ts';
import { DER_NULL, derBitString, derSequence, derTlv } from './der.ts';
import { readDerChildren, readDerElement } from './pem.ts';

// ---------------------------------------------------------------------------------------------
// Object identifiers (RFC 6960 4.4, Appendix B; RFC 8954)

/** id-pkix-ocsp (RFC 6960 4.4). */
export const id_pkix_ocsp = '1.3.6.1.5.5.7.48.1';
/** id-pkix-ocsp-basic: the only response type this responder produces (RFC 6960 4.2.1). */
export const id_pkix_ocsp_basic = `${id_pkix_ocsp}.1`;
/** id-pkix-ocsp-nonce (RFC 6960 4.4.1, RFC 8954). */
export const id_pkix_ocsp_nonce = `${id_pkix_ocsp}.2`;
/** id-pkix-ocsp-response, AcceptableResponses (RFC 6960 4.4.3). */
export const id_pkix_ocsp_response = `${id_pkix_ocsp}.4`;
/** id-sha1 (RFC 3279 2.2.1) and id-sha256 (RFC 5754 2.2): the CertID hashes answered. */
export const id_sha1 = '1.3.14.3.2.26';
export const id_sha256 = '2.16.840.1.101.3.4.2.1';

const HASH_OIDS: Record<'sha1' | 'sha256', string> = { sha1: id_sha1, sha256: id_sha256 };

// ---------------------------------------------------------------------------------------------
// ASN.1 structures (RFC 6960 4.1.1, 4.2.1)

/**
 * CertID ::= SEQUENCE {
 *     hashAlgorithm       AlgorithmIdentifier,
 *     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
 *     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
 *     serialNumber        CertificateSerialNumber }
 */
export class CertID {
  @AsnProp({ type: AlgorithmIdentifier })
  public hashAlgorithm = new AlgorithmIdentifier();
  @AsnProp({ type: OctetString })
  public issuerNameHash = new OctetString();
  @AsnProp({ type: OctetString })
  public issuerKeyHash = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  public serialNumber = new ArrayBuffer(0);
  constructor(params: Partial<CertID> = {}) {
    Object.assign(this, params);
  }
}

/**
 * Request ::= SEQUENCE {
 *     reqCert                     CertID,
 *     singleRequestExtensions     [0] EXPLICIT Extensions OPTIONAL }
 */
export class Request {
  @AsnProp({ type: CertID })
  public reqCert = new CertID();
  @AsnProp({ type: Extension, context: 0, repeated: 'sequence', optional: true })
  public singleRequestExtensions?: Extension[];
  constructor(params: Partial<Request> = {}) {
    Object.assign(this, params);
  }
}

/**
 * TBSRequest ::= SEQUENCE {
 *     version             [0]     EXPLICIT Version DEFAULT v1,
 *     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
 *     requestList                 SEQUENCE OF Request,
 *     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
 */
export class TBSRequest {
  @AsnProp({ type: AsnPropTypes.Integer, context: 0, defaultValue: 0 })
  public version = 0;
  @AsnProp({ type: GeneralName, context: 1, optional: true })
  public requestorName?: GeneralName;
  @AsnProp({ type: Request, repeated: 'sequence' })
  public requestList: Request[] = [];
  @AsnProp({ type: Extension, context: 2, repeated: 'sequence', optional: true })
  public requestExtensions?: Extension[];
  constructor(params: Partial<TBSRequest> = {}) {
    Object.assign(this, params);
  }
}

/**
 * Signature ::= SEQUENCE {
 *     signatureAlgorithm      AlgorithmIdentifier,
 *     signature               BIT STRING,
 *     certs               [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * Certificates are kept as opaque DER elements (AsnPropTypes.Any).
 */
export class Signature {
  @AsnProp({ type: AlgorithmIdentifier })
  public signatureAlgorithm = new AlgorithmIdentifier();
  @AsnProp({ type: AsnPropTypes.BitString })
  public signature = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.Any, context: 0, repeated: 'sequence', optional: true })
  public certs?: ArrayBuffer[];
  constructor(params: Partial<Signature> = {}) {
    Object.assign(this, params);
  }
}

/**
 * OCSPRequest ::= SEQUENCE {
 *     tbsRequest                  TBSRequest,
 *     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
 */
export class OCSPRequest {
  @AsnProp({ type: TBSRequest })
  public tbsRequest = new TBSRequest();
  @AsnProp({ type: Signature, context: 0, optional: true })
  public optionalSignature?: Signature;
  constructor(params: Partial<OCSPRequest> = {}) {
    Object.assign(this, params);
  }
}

/**
 * OCSPResponseStatus ::= ENUMERATED {
 *     successful (0), malformedRequest (1), internalError (2), tryLater (3),
 *     -- (4) is not used
 *     sigRequired (5), unauthorized (6) }
 */
export const OCSP_RESPONSE_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;
export type OcspResponseStatusName = keyof typeof OCSP_RESPONSE_STATUS;

/**
 * ResponseBytes ::= SEQUENCE {
 *     responseType   OBJECT IDENTIFIER,
 *     response       OCTET STRING }
 */
export class ResponseBytes {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  public responseType = '';
  @AsnProp({ type: OctetString })
  public response = new OctetString();
  constructor(params: Partial<ResponseBytes> = {}) {
    Object.assign(this, params);
  }
}

/**
 * OCSPResponse ::= SEQUENCE {
 *     responseStatus         OCSPResponseStatus,
 *     responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
 */
export class OCSPResponse {
  @AsnProp({ type: AsnPropTypes.Enumerated })
  public responseStatus = 0;
  @AsnProp({ type: ResponseBytes, context: 0, optional: true })
  public responseBytes?: ResponseBytes;
  constructor(params: Partial<OCSPResponse> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ResponderID ::= CHOICE {
 *     byName   [1] Name,
 *     byKey    [2] KeyHash }
 * KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key (excluding the tag and length fields)
 */
@AsnType({ type: AsnTypeTypes.Choice })
export class ResponderID {
  @AsnProp({ type: Name, context: 1 })
  public byName?: Name;
  @AsnProp({ type: OctetString, context: 2 })
  public byKey?: OctetString;
  constructor(params: Partial<ResponderID> = {}) {
    Object.assign(this, params);
  }
}

/**
 * RevokedInfo ::= SEQUENCE {
 *     revocationTime              GeneralizedTime,
 *     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
 */
export class RevokedInfo {
  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  public revocationTime = new Date(0);
  @AsnProp({ type: AsnPropTypes.Enumerated, context: 0, optional: true })
  public revocationReason?: number;
  constructor(params: Partial<RevokedInfo> = {}) {
    Object.assign(this, params);
  }
}

/**
 * CertStatus ::= CHOICE {
 *     good        [0]     IMPLICIT NULL,
 *     revoked     [1]     IMPLICIT RevokedInfo,
 *     unknown     [2]     IMPLICIT UnknownInfo }
 * UnknownInfo ::= NULL
 * (Named CertStatusChoice because `CertStatus` is the plain status type below.)
 */
@AsnType({ type: AsnTypeTypes.Choice })
export class CertStatusChoice {
  @AsnProp({ type: AsnPropTypes.Null, context: 0, implicit: true })
  public good?: null;
  @AsnProp({ type: RevokedInfo, context: 1, implicit: true })
  public revoked?: RevokedInfo;
  @AsnProp({ type: AsnPropTypes.Null, context: 2, implicit: true })
  public unknown?: null;
  constructor(params: Partial<CertStatusChoice> = {}) {
    Object.assign(this, params);
  }
}

/**
 * SingleResponse ::= SEQUENCE {
 *     certID                       CertID,
 *     certStatus                   CertStatus,
 *     thisUpdate                   GeneralizedTime,
 *     nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
 *     singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
 */
export class SingleResponse {
  @AsnProp({ type: CertID })
  public certID = new CertID();
  @AsnProp({ type: CertStatusChoice })
  public certStatus = new CertStatusChoice();
  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  public thisUpdate = new Date(0);
  @AsnProp({ type: AsnPropTypes.GeneralizedTime, context: 0, optional: true })
  public nextUpdate?: Date;
  @AsnProp({ type: Extension, context: 1, repeated: 'sequence', optional: true })
  public singleExtensions?: Extension[];
  constructor(params: Partial<SingleResponse> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ResponseData ::= SEQUENCE {
 *     version              [0] EXPLICIT Version DEFAULT v1,
 *     responderID              ResponderID,
 *     producedAt               GeneralizedTime,
 *     responses                SEQUENCE OF SingleResponse,
 *     responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
 */
export class ResponseData {
  @AsnProp({ type: AsnPropTypes.Integer, context: 0, defaultValue: 0 })
  public version = 0;
  @AsnProp({ type: ResponderID })
  public responderID = new ResponderID();
  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  public producedAt = new Date(0);
  @AsnProp({ type: SingleResponse, repeated: 'sequence' })
  public responses: SingleResponse[] = [];
  @AsnProp({ type: Extension, context: 1, repeated: 'sequence', optional: true })
  public responseExtensions?: Extension[];
  constructor(params: Partial<ResponseData> = {}) {
    Object.assign(this, params);
  }
}

/**
 * BasicOCSPResponse ::= SEQUENCE {
 *     tbsResponseData      ResponseData,
 *     signatureAlgorithm   AlgorithmIdentifier,
 *     signature            BIT STRING,
 *     certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 */
export class BasicOCSPResponse {
  @AsnProp({ type: ResponseData })
  public tbsResponseData = new ResponseData();
  @AsnProp({ type: AlgorithmIdentifier })
  public signatureAlgorithm = new AlgorithmIdentifier();
  @AsnProp({ type: AsnPropTypes.BitString })
  public signature = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.Any, context: 0, repeated: 'sequence', optional: true })
  public certs?: ArrayBuffer[];
  constructor(params: Partial<BasicOCSPResponse> = {}) {
    Object.assign(this, params);
  }
}

// ---------------------------------------------------------------------------------------------
// CertIDs

/** A CertID as a lookup key. `serialHex` is normalized (crl.ts normalizeSerialHex). */
export interface CertIdKey {
  hashAlgorithm: 'sha1' | 'sha256';
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serialHex: string;
}

/** The exact subject Name and subjectPublicKey BIT STRING value of a certificate (no re-encoding). */
function issuerParts(certDer: Uint8Array): { subjectDer: Buffer; publicKey: Buffer } {
  const buf = Buffer.from(certDer.buffer, certDer.byteOffset, certDer.byteLength);
  const cert = readDerElement(buf, 0);
  if (cert.tag !== 0x30 || cert.end !== buf.length) throw new Error('not one DER certificate');
  const tbs = readDerChildren(buf, cert)[0];
  if (!tbs || tbs.tag !== 0x30) throw new Error('certificate has no tbsCertificate');
  const f = readDerChildren(buf, tbs);
  const i = f[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const subject = f[i + 4];
  const spki = f[i + 5];
  if (!subject || !spki || subject.tag !== 0x30 || spki.tag !== 0x30) throw new Error('tbsCertificate is incomplete');
  const bits = readDerChildren(buf, spki)[1];
  if (!bits || bits.tag !== 0x03 || bits.end - bits.contentStart < 1) throw new Error('subjectPublicKey is not a BIT STRING');
  return {
    subjectDer: Buffer.from(buf.subarray(subject.start, subject.end)),
    // RFC 6960 4.1.1: "the hash of the issuer's public key ... (excluding the tag and length fields)"; like
    // OpenSSL and RFC 5280 4.2.1.2 key identifiers, the unused-bits octet is excluded too.
    publicKey: Buffer.from(buf.subarray(bits.contentStart + 1, bits.end)),
  };
}

/**
 * certIDs for a certificate under its issuer, for both SHA-1 and SHA-256 (so both kinds of
 * request are answered). RFC 6960 4.1.1: issuerNameHash is "the hash of the issuer's
 * distinguished name (DN)", issuerKeyHash "the hash of the issuer's public key".
 */
export function certIdsFor(issuerCertDer: Uint8Array, serialHex: string): CertIdKey[] {
  let parts: { subjectDer: Buffer; publicKey: Buffer };
  try {
    parts = issuerParts(issuerCertDer);
  } catch (e) {
    throw new CaError('CERTIFICATE_MALFORMED', `issuer certificate is not a well-formed DER certificate: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const serial = normalizeSerialHex(serialHex);
  return (['sha1', 'sha256'] as const).map((hashAlgorithm) => ({
    hashAlgorithm,
    issuerNameHash: createHash(hashAlgorithm).update(parts.subjectDer).digest(),
    issuerKeyHash: createHash(hashAlgorithm).update(parts.publicKey).digest(),
    serialHex: serial,
  }));
}

/** A stable string for a CertID: `${alg}:${issuerNameHashHex}:${issuerKeyHashHex}:${serialHex}`. */
export function certIdLookupKey(id: CertIdKey): string {
  return `${id.hashAlgorithm}:${id.issuerNameHash.toString('hex')}:${id.issuerKeyHash.toString('hex')}:${normalizeSerialHex(id.serialHex)}`;
}

/**
 * The CertID structure of a key. The hash AlgorithmIdentifier carries NULL parameters, as
 * OpenSSL writes it; relying parties (OpenSSL OCSP_id_cmp among them) compare the OID only.
 */
export function certIdOf(id: CertIdKey): CertID {
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: HASH_OIDS[id.hashAlgorithm], parameters: toArrayBuffer(DER_NULL) }),
    issuerNameHash: new OctetString(id.issuerNameHash),
    issuerKeyHash: new OctetString(id.issuerKeyHash),
    serialNumber: toArrayBuffer(serialHexToInteger(id.serialHex)),
  });
}

/** The key of a parsed CertID; throws OCSP_UNSUPPORTED_HASH for a hash other than SHA-1/SHA-256. */
function keyOfCertId(c: CertID): CertIdKey {
  const oid = c.hashAlgorithm.algorithm;
  const hashAlgorithm = oid === id_sha1 ? 'sha1' : oid === id_sha256 ? 'sha256' : undefined;
  if (!hashAlgorithm) {
    throw new CaError('OCSP_UNSUPPORTED_HASH', `CertID hash algorithm ${oid} is not supported (SHA-1 and SHA-256 are)`, { details: { oid } });
  }
  const issuerNameHash = Buffer.from(c.issuerNameHash.buffer);
  const issuerKeyHash = Buffer.from(c.issuerKeyHash.buffer);
  const len = hashAlgorithm === 'sha1' ? 20 : 32;
  if (issuerNameHash.length !== len || issuerKeyHash.length !== len) {
    throw new CaError('OCSP_MALFORMED_REQUEST', `CertID hashes are not ${len} octets long as ${hashAlgorithm} requires`);
  }
  const serial = Buffer.from(c.serialNumber);
  if (serial.length === 0) throw new CaError('OCSP_MALFORMED_REQUEST', 'CertID serialNumber is empty');
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serialHex: serial.toString('hex') };
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface ParsedOcspRequest {
  certIds: CertIdKey[];
  /** The RFC 8954 nonce value (inside its OCTET STRING), when the request carries one. */
  nonce?: Buffer;
  /** A critical request or single-request extension this responder does not understand (RFC 6960 4.1.2 / 4.4). */
  hasUnsupportedCriticalExtension: boolean;
}

/** Extensions this responder understands: nonce (4.4.1) and AcceptableResponses (4.4.3). */
const UNDERSTOOD_REQUEST_EXTENSIONS = new Set([id_pkix_ocsp_nonce, id_pkix_ocsp_response]);

/** RFC 8954 2.1: Nonce ::= OCTET STRING(SIZE(1..32)). */
export const NONCE_MIN_OCTETS = 1;
export const NONCE_MAX_OCTETS = 32;

function malformedRequest(reason: string, cause?: unknown): CaError {
  return new CaError('OCSP_MALFORMED_REQUEST', `malformed OCSP request: ${reason}`, { cause, details: { reason } });
}

/** The nonce inside extnValue: "the value of the nonce extension is the DER encoding of an OCTET STRING" (RFC 8954 2.1). */
function nonceOf(ext: Extension): Buffer {
  const v = new Uint8Array(ext.extnValue.buffer);
  let el;
  try {
    el = readDerElement(v, 0);
  } catch (e) {
    throw new CaError('OCSP_BAD_NONCE', `nonce extension value is not a DER OCTET STRING: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (el.tag !== 0x04 || el.end !== v.length) throw new CaError('OCSP_BAD_NONCE', 'nonce extension value is not one DER OCTET STRING');
  const n = el.end - el.contentStart;
  if (n < NONCE_MIN_OCTETS || n > NONCE_MAX_OCTETS) {
    throw new CaError('OCSP_BAD_NONCE', `nonce is ${n} octets; RFC 8954 allows ${NONCE_MIN_OCTETS} to ${NONCE_MAX_OCTETS}`, { details: { length: n } });
  }
  return Buffer.from(v.subarray(el.contentStart, el.end));
}

/**
 * Parses an OCSPRequest (RFC 6960 4.1.1) from untrusted bytes.
 *
 * Throws CaError('OCSP_MALFORMED_REQUEST', reason) on anything that is not one well-formed DER
 * OCSPRequest: truncated, trailing bytes, BER-only forms (checked by re-encoding), a version
 * other than v1, an empty requestList, wrong hash lengths. A CertID whose hash is neither SHA-1
 * nor SHA-256 throws CaError('OCSP_UNSUPPORTED_HASH') (no key of ours could match it; RFC 6960
 * 2.3 lets the responder answer malformedRequest). A nonce outside 1..32 octets, or not wrapped
 * in its OCTET STRING, throws CaError('OCSP_BAD_NONCE') (RFC 8954 2.1). A request signature
 * (optionalSignature) is parsed but not checked: RFC 5019 2.1.2 lets responders ignore it.
 */
export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let req: OCSPRequest;
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30) throw new Error('does not start with a SEQUENCE');
    if (outer.end !== buf.length) throw new Error(`${buf.length - outer.end} trailing byte(s) after the OCSPRequest`);
    req = AsnConvert.parse(buf, OCSPRequest);
  } catch (e) {
    throw malformedRequest(e instanceof Error ? e.message : String(e), e);
  }
  let reencoded: Buffer;
  try {
    reencoded = Buffer.from(AsnConvert.serialize(req));
  } catch (e) {
    throw malformedRequest(`cannot be re-encoded: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!reencoded.equals(buf)) throw malformedRequest('not DER: re-encoding the parsed request gives different bytes');

  const tbs = req.tbsRequest;
  if (tbs.version !== 0) throw malformedRequest(`version ${tbs.version} is not v1 (0)`);
  if (tbs.requestList.length === 0) throw malformedRequest('requestList is empty');
  const certIds = tbs.requestList.map((r) => keyOfCertId(r.reqCert));

  let nonce: Buffer | undefined;
  let hasUnsupportedCriticalExtension = false;
  const seen = new Set<string>();
  for (const ext of tbs.requestExtensions ?? []) {
    if (seen.has(ext.extnID)) throw malformedRequest(`extension ${ext.extnID} appears twice`);
    seen.add(ext.extnID);
    if (ext.extnID === id_pkix_ocsp_nonce) nonce = nonceOf(ext);
    else if (ext.critical && !UNDERSTOOD_REQUEST_EXTENSIONS.has(ext.extnID)) hasUnsupportedCriticalExtension = true;
  }
  for (const r of tbs.requestList) {
    for (const ext of r.singleRequestExtensions ?? []) if (ext.critical) hasUnsupportedCriticalExtension = true;
  }
  return { certIds, nonce, hasUnsupportedCriticalExtension };
}

// ---------------------------------------------------------------------------------------------
// Responses

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
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new CaError('OCSP_PARAMS_INVALID', `${field} is not a valid date`);
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
        if (revocationReason === undefined) throw new CaError('OCSP_PARAMS_INVALID', `revocation reason "${String(s.reason)}" is not supported`);
      }
      return new CertStatusChoice({ revoked: new RevokedInfo({ revocationTime: wholeSeconds(s.revocationTime, 'revocationTime'), revocationReason }) });
    }
    default:
      throw new CaError('OCSP_PARAMS_INVALID', `unknown certificate status ${JSON.stringify(s)}`);
  }
}

/** The nonce extension: extnValue is the DER OCTET STRING holding the nonce (RFC 8954 2.1), non-critical. */
export function nonceExtension(nonce: Uint8Array): Extension {
  if (nonce.length < NONCE_MIN_OCTETS || nonce.length > NONCE_MAX_OCTETS) {
    throw new CaError('OCSP_BAD_NONCE', `nonce is ${nonce.length} octets; RFC 8954 allows ${NONCE_MIN_OCTETS} to ${NONCE_MAX_OCTETS}`);
  }
  return new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(derTlv(0x04, nonce)) });
}

/**
 * Builds ResponseData (RFC 6960 4.2.1) and its DER: v1 (version omitted as DEFAULT), responderID
 * byKey (the compact KeyHash form, RFC 6960 4.2.2.3), producedAt and thisUpdate/nextUpdate as
 * GeneralizedTime without fractional seconds, nextUpdate always set (pre-produced RFC 5019
 * responses need it for caching, R-2.3), the nonce echoed in responseExtensions when given.
 */
export function createTbsResponseData(p: TbsResponseDataParams): { tbs: ResponseData; der: Buffer } {
  if (p.responderKeyHash.length !== 20) throw new CaError('OCSP_PARAMS_INVALID', `responderKeyHash is ${p.responderKeyHash.length} octets; a SHA-1 KeyHash is 20`);
  if (p.responses.length === 0) throw new CaError('OCSP_PARAMS_INVALID', 'a response needs at least one SingleResponse');
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
export function assembleOcspResponse(tbsResponseDataDer: Uint8Array, alg: SignatureAlgorithmName, signature: Uint8Array, certs?: Uint8Array[]): Buffer {
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
export function ocspErrorResponse(status: 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized'): Buffer {
  const code: number | undefined = OCSP_RESPONSE_STATUS[status];
  if (code === undefined || code === OCSP_RESPONSE_STATUS.successful) throw new CaError('OCSP_PARAMS_INVALID', `"${String(status)}" is not an OCSP error status`);
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

function statusOf(s: CertStatusChoice): CertStatus {
  if (s.revoked) {
    const reason = s.revoked.revocationReason === undefined ? undefined : revocationReasonOfCode(s.revoked.revocationReason);
    return reason ? { status: 'revoked', revocationTime: s.revoked.revocationTime, reason } : { status: 'revoked', revocationTime: s.revoked.revocationTime };
  }
  if (s.good !== undefined) return { status: 'good' };
  if (s.unknown !== undefined) return { status: 'unknown' };
  throw new Error('CertStatus is none of good, revoked, unknown');
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
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new Error('not one DER SEQUENCE');
    const resp = AsnConvert.parse(buf, OCSPResponse);
    const statusName = (Object.keys(OCSP_RESPONSE_STATUS) as OcspResponseStatusName[]).find((k) => OCSP_RESPONSE_STATUS[k] === resp.responseStatus) ?? `status(${resp.responseStatus})`;
    if (!resp.responseBytes) return { status: statusName, responses: [], certs: [] };
    if (resp.responseBytes.responseType !== id_pkix_ocsp_basic) throw new Error(`response type ${resp.responseBytes.responseType} is not id-pkix-ocsp-basic`);
    const basicDer = new Uint8Array(resp.responseBytes.response.buffer);
    const basicEl = readDerElement(basicDer, 0);
    if (basicEl.tag !== 0x30 || basicEl.end !== basicDer.length) throw new Error('BasicOCSPResponse is not one DER SEQUENCE');
    const tbsEl = readDerChildren(basicDer, basicEl)[0]!;
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
      responderNameDer: data.responderID.byName ? Buffer.from(AsnConvert.serialize(data.responderID.byName)) : undefined,
      certs: (basic.certs ?? []).map((c) => Buffer.from(c)),
      tbsDer: Buffer.from(basicDer.subarray(tbsEl.start, tbsEl.end)),
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
