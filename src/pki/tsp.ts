/**
 * Time-stamping (R-8.3, CPS 5.5.5): RFC 3161 time-stamp requests, tokens and responses, with
 * the RFC 5816 ESSCertIDv2 signing-certificate attribute, inside RFC 5652 CMS SignedData.
 *
 * As for certificates and OCSP responses, signing is a separate step: createTimeStampToBeSigned
 * builds the TSTInfo and the DER SET OF signed attributes a one-shot signer must sign;
 * assembleTimeStampToken embeds those exact bytes (no re-encoding between "sign" and "emit").
 *
 * The ASN.1 module of RFC 3161 (Appendix C) uses IMPLICIT TAGS, so a `context` below is an
 * implicit tag unless it tags a CHOICE (GeneralName), which is always explicit. The classes are
 * defined here rather than taken from @peculiar/asn1-tsp, so the project carries no extra
 * dependency for a handful of small types.
 *
 * Pure: no clock, randomness, files or network; genTime and serial numbers are passed in.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { AsnConvert, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, BitString, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension, GeneralName, GeneralNames } from '@peculiar/asn1-x509';
import { Attribute, ContentInfo, EncapsulatedContent, EncapsulatedContentInfo } from '@peculiar/asn1-cms';
import { CaError, type ErrorCode } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, signatureAlgorithmByOid, id_rsaEncryption, type SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier, toArrayBuffer } from './certificate.ts';
import { bigintToInteger, integerToBigint, normalizeSerialHex } from './crl.ts';
import { derSequence, derTlv } from './der.ts';
import { readDerChildren, readDerElement, type DerElement } from './pem.ts';

// ---------------------------------------------------------------------------------------------
// Object identifiers

/** id-signedData (RFC 5652 5.1). */
export const id_signedData = '1.2.840.113549.1.7.2';
/** id-ct-TSTInfo (RFC 3161 2.4.2): the eContentType of a TimeStampToken. */
export const id_ct_TSTInfo = '1.2.840.113549.1.9.16.1.4';
/** id-contentType, id-messageDigest, id-signingTime (RFC 5652 11.1, 11.2, 11.3). */
export const id_contentType = '1.2.840.113549.1.9.3';
export const id_messageDigest = '1.2.840.113549.1.9.4';
export const id_signingTime = '1.2.840.113549.1.9.5';
/** id-aa-signingCertificate (RFC 2634 5.4) and id-aa-signingCertificateV2 (RFC 5035 3). */
export const id_aa_signingCertificate = '1.2.840.113549.1.9.16.2.12';
export const id_aa_signingCertificateV2 = '1.2.840.113549.1.9.16.2.47';
/** id-sha1 (RFC 3279 2.2.1), id-md5 (RFC 1321): refused in requests (SHA-1 is legacy only, R-1.3). */
export const id_sha1 = '1.3.14.3.2.26';
export const id_md5 = '1.2.840.113549.2.5';
/** id-sha256, id-sha384, id-sha512 (RFC 5754 2). */
export const id_sha256 = '2.16.840.1.101.3.4.2.1';
export const id_sha384 = '2.16.840.1.101.3.4.2.2';
export const id_sha512 = '2.16.840.1.101.3.4.2.3';

/** The hashes a message imprint may use. */
export type TspHashAlgorithm = 'sha256' | 'sha384' | 'sha512';

const HASH_OIDS: Record<TspHashAlgorithm, string> = { sha256: id_sha256, sha384: id_sha384, sha512: id_sha512 };
const HASH_LENGTHS: Record<TspHashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };
const WEAK_HASHES: Record<string, string> = { [id_sha1]: 'SHA-1', [id_md5]: 'MD5', '1.2.840.113549.2.2': 'MD2' };

function hashOfOid(oid: string): TspHashAlgorithm | undefined {
  return (Object.keys(HASH_OIDS) as TspHashAlgorithm[]).find((h) => HASH_OIDS[h] === oid);
}

// ---------------------------------------------------------------------------------------------
// ASN.1 structures (RFC 3161 2.4, Appendix C; RFC 5035 3, 5)

/**
 * MessageImprint ::= SEQUENCE  {
 *      hashAlgorithm                AlgorithmIdentifier,
 *      hashedMessage                OCTET STRING  }
 */
export class MessageImprint {
  @AsnProp({ type: AlgorithmIdentifier })
  public hashAlgorithm = new AlgorithmIdentifier();
  @AsnProp({ type: OctetString })
  public hashedMessage = new OctetString();
  constructor(params: Partial<MessageImprint> = {}) {
    Object.assign(this, params);
  }
}

/**
 * TimeStampReq ::= SEQUENCE  {
 *    version                      INTEGER  { v1(1) },
 *    messageImprint               MessageImprint,
 *    reqPolicy             TSAPolicyId              OPTIONAL,
 *    nonce                 INTEGER                  OPTIONAL,
 *    certReq               BOOLEAN                  DEFAULT FALSE,
 *    extensions            [0] IMPLICIT Extensions  OPTIONAL  }
 */
export class TimeStampReq {
  @AsnProp({ type: AsnPropTypes.Integer })
  public version = 1;
  @AsnProp({ type: MessageImprint })
  public messageImprint = new MessageImprint();
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, optional: true })
  public reqPolicy?: string;
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter, optional: true })
  public nonce?: ArrayBuffer;
  @AsnProp({ type: AsnPropTypes.Boolean, defaultValue: false })
  public certReq = false;
  @AsnProp({ type: Extension, context: 0, implicit: true, repeated: 'sequence', optional: true })
  public extensions?: Extension[];
  constructor(params: Partial<TimeStampReq> = {}) {
    Object.assign(this, params);
  }
}

/**
 * Accuracy ::= SEQUENCE {
 *          seconds        INTEGER              OPTIONAL,
 *          millis     [0] INTEGER  (1..999)    OPTIONAL,
 *          micros     [1] INTEGER  (1..999)    OPTIONAL  }
 */
export class Accuracy {
  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  public seconds?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 0, implicit: true, optional: true })
  public millis?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 1, implicit: true, optional: true })
  public micros?: number;
  constructor(params: Partial<Accuracy> = {}) {
    Object.assign(this, params);
  }
}

/**
 * TSTInfo ::= SEQUENCE  {
 *    version                      INTEGER  { v1(1) },
 *    policy                       TSAPolicyId,
 *    messageImprint               MessageImprint,
 *    serialNumber                 INTEGER,
 *    genTime                      GeneralizedTime,
 *    accuracy                     Accuracy                 OPTIONAL,
 *    ordering                     BOOLEAN             DEFAULT FALSE,
 *    nonce                        INTEGER                  OPTIONAL,
 *    tsa                          [0] GeneralName          OPTIONAL,
 *    extensions                   [1] IMPLICIT Extensions  OPTIONAL   }
 */
export class TSTInfo {
  @AsnProp({ type: AsnPropTypes.Integer })
  public version = 1;
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  public policy = '';
  @AsnProp({ type: MessageImprint })
  public messageImprint = new MessageImprint();
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  public serialNumber = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  public genTime = new Date(0);
  @AsnProp({ type: Accuracy, optional: true })
  public accuracy?: Accuracy;
  @AsnProp({ type: AsnPropTypes.Boolean, defaultValue: false })
  public ordering = false;
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter, optional: true })
  public nonce?: ArrayBuffer;
  @AsnProp({ type: GeneralName, context: 0, optional: true })
  public tsa?: GeneralName;
  @AsnProp({ type: Extension, context: 1, implicit: true, repeated: 'sequence', optional: true })
  public extensions?: Extension[];
  constructor(params: Partial<TSTInfo> = {}) {
    Object.assign(this, params);
  }
}

/**
 * IssuerSerial ::= SEQUENCE {
 *     issuer                   GeneralNames,
 *     serialNumber             CertificateSerialNumber }
 */
export class IssuerSerial {
  @AsnProp({ type: GeneralNames })
  public issuer = new GeneralNames();
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  public serialNumber = new ArrayBuffer(0);
  constructor(params: Partial<IssuerSerial> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ESSCertIDv2 ::=  SEQUENCE {
 *     hashAlgorithm           AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *     certHash                 Hash,
 *     issuerSerial             IssuerSerial OPTIONAL }
 * (An absent hashAlgorithm means SHA-256.)
 */
export class ESSCertIDv2 {
  @AsnProp({ type: AlgorithmIdentifier, optional: true })
  public hashAlgorithm?: AlgorithmIdentifier;
  @AsnProp({ type: OctetString })
  public certHash = new OctetString();
  @AsnProp({ type: IssuerSerial, optional: true })
  public issuerSerial?: IssuerSerial;
  constructor(params: Partial<ESSCertIDv2> = {}) {
    Object.assign(this, params);
  }
}

/**
 * SigningCertificateV2 ::=  SEQUENCE {
 *     certs        SEQUENCE OF ESSCertIDv2,
 *     policies     SEQUENCE OF PolicyInformation OPTIONAL }
 */
export class SigningCertificateV2 {
  @AsnProp({ type: ESSCertIDv2, repeated: 'sequence' })
  public certs: ESSCertIDv2[] = [];
  @AsnProp({ type: AsnPropTypes.Any, repeated: 'sequence', optional: true })
  public policies?: ArrayBuffer[];
  constructor(params: Partial<SigningCertificateV2> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ESSCertID ::=  SEQUENCE {
 *     certHash                 Hash,          -- SHA-1 of the certificate
 *     issuerSerial             IssuerSerial OPTIONAL }
 * Read only (tokens from other TSAs); this module writes ESSCertIDv2.
 */
export class ESSCertID {
  @AsnProp({ type: OctetString })
  public certHash = new OctetString();
  @AsnProp({ type: IssuerSerial, optional: true })
  public issuerSerial?: IssuerSerial;
  constructor(params: Partial<ESSCertID> = {}) {
    Object.assign(this, params);
  }
}

/**
 * SigningCertificate ::=  SEQUENCE {
 *     certs        SEQUENCE OF ESSCertID,
 *     policies     SEQUENCE OF PolicyInformation OPTIONAL }
 */
export class SigningCertificate {
  @AsnProp({ type: ESSCertID, repeated: 'sequence' })
  public certs: ESSCertID[] = [];
  @AsnProp({ type: AsnPropTypes.Any, repeated: 'sequence', optional: true })
  public policies?: ArrayBuffer[];
  constructor(params: Partial<SigningCertificate> = {}) {
    Object.assign(this, params);
  }
}

/**
 * PKIStatusInfo ::= SEQUENCE {
 *     status        PKIStatus,
 *     statusString  PKIFreeText     OPTIONAL,
 *     failInfo      PKIFailureInfo  OPTIONAL  }
 * PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
 */
export class PKIStatusInfo {
  @AsnProp({ type: AsnPropTypes.Integer })
  public status = 0;
  @AsnProp({ type: AsnPropTypes.Utf8String, repeated: 'sequence', optional: true })
  public statusString?: string[];
  @AsnProp({ type: BitString, optional: true })
  public failInfo?: BitString;
  constructor(params: Partial<PKIStatusInfo> = {}) {
    Object.assign(this, params);
  }
}

/**
 * PKIStatus ::= INTEGER {
 *     granted (0), grantedWithMods (1), rejection (2), waiting (3),
 *     revocationWarning (4), revocationNotification (5) }
 */
export const PKI_STATUS = { granted: 0, grantedWithMods: 1, rejection: 2, waiting: 3, revocationWarning: 4, revocationNotification: 5 } as const;

/**
 * PKIFailureInfo ::= BIT STRING {
 *     badAlg (0), badRequest (2), badDataFormat (5), timeNotAvailable (14),
 *     unacceptedPolicy (15), unacceptedExtension (16), addInfoNotAvailable (17),
 *     systemFailure (25) }
 */
export const PKI_FAILURE_INFO_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type PkiFailureInfo = keyof typeof PKI_FAILURE_INFO_BITS;

// ---------------------------------------------------------------------------------------------
// Small DER helpers

/** X.690 11.6: SET OF components in ascending order of their encodings, shorter ones padded with 0-octets. */
function derSetOfOrder(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A DER SET OF (tag 0x31, or `tag` for an IMPLICIT-tagged one) of already-encoded elements, sorted. */
function derSetOf(elements: Buffer[], tag = 0x31): Buffer {
  return derTlv(tag, Buffer.concat([...elements].sort(derSetOfOrder)));
}

function derInteger(content: Uint8Array): Buffer {
  return derTlv(0x02, content);
}

function serialize(value: object): Buffer {
  return Buffer.from(AsnConvert.serialize(value));
}

/** AlgorithmIdentifier of a SHA-2 hash: absent parameters ("MUST generate ... with absent parameters", RFC 5754 2), or NULL when echoing a request. */
function hashAlgorithmIdentifier(h: TspHashAlgorithm, nullParameters = false): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: HASH_OIDS[h], parameters: nullParameters ? toArrayBuffer(Buffer.from([0x05, 0x00])) : undefined });
}

/** The exact issuer Name and serialNumber INTEGER (full TLVs) of a certificate. */
function issuerAndSerialOf(certDer: Uint8Array): { issuerDer: Buffer; serialDer: Buffer; spkiDer: Buffer } {
  const buf = Buffer.from(certDer.buffer, certDer.byteOffset, certDer.byteLength);
  let parts;
  try {
    const cert = readDerElement(buf, 0);
    if (cert.tag !== 0x30 || cert.end !== buf.length) throw new Error('not one DER SEQUENCE');
    const tbs = readDerChildren(buf, cert)[0];
    if (!tbs || tbs.tag !== 0x30) throw new Error('no tbsCertificate');
    const f = readDerChildren(buf, tbs);
    const i = f[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
    // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    const [serial, , issuer, , , spki] = f.slice(i);
    if (!serial || serial.tag !== 0x02 || !issuer || issuer.tag !== 0x30 || !spki || spki.tag !== 0x30) throw new Error('tbsCertificate is incomplete');
    parts = { issuerDer: slice(buf, issuer), serialDer: slice(buf, serial), spkiDer: slice(buf, spki) };
  } catch (e) {
    throw new CaError('CERTIFICATE_MALFORMED', `TSA certificate is not a well-formed DER certificate: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return parts;
}

function slice(buf: Uint8Array, el: DerElement): Buffer {
  return Buffer.from(buf.subarray(el.start, el.end));
}

function content(buf: Uint8Array, el: DerElement): Buffer {
  return Buffer.from(buf.subarray(el.contentStart, el.end));
}

const OID_PATTERN = /^[0-2](\.(0|[1-9][0-9]*))+$/;

function paramsError(message: string): CaError {
  return new CaError('TSP_PARAMS_INVALID', message);
}

function checkImprint(hashAlgorithm: TspHashAlgorithm, messageImprint: Uint8Array): void {
  const want = HASH_LENGTHS[hashAlgorithm];
  if (want === undefined) throw paramsError(`hash algorithm "${String(hashAlgorithm)}" is not one of sha256, sha384, sha512`);
  if (messageImprint.length !== want) throw paramsError(`messageImprint is ${messageImprint.length} octets; ${hashAlgorithm} gives ${want}`);
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface ParsedTimeStampReq {
  version: 1;
  hashAlgorithm: TspHashAlgorithm;
  /** The hashedMessage, as the requester sent it. */
  messageImprint: Buffer;
  /**
   * Whether the requester wrote the hash AlgorithmIdentifier with NULL parameters (OpenSSL does).
   * Pass it on to TstInfoParams: RFC 3161 2.4.2 "messageImprint ... MUST have the same value as
   * the similar field in TimeStampReq".
   */
  hashAlgorithmNullParameters: boolean;
  reqPolicy?: string;
  nonce?: bigint;
  certReq: boolean;
}

/** A CaError whose details carry the PKIFailureInfo a TSA answers with (timeStampRejection). */
function requestError(code: ErrorCode, failInfo: PkiFailureInfo, reason: string, cause?: unknown, details: Record<string, unknown> = {}): CaError {
  const prefix = code === 'TSP_MALFORMED_REQUEST' ? 'malformed time-stamp request: ' : '';
  return new CaError(code, `${prefix}${reason}`, { cause, details: { reason, failInfo, ...details } });
}

/**
 * Parses a TimeStampReq (RFC 3161 2.4.1) from untrusted bytes.
 *
 * Throws CaError('TSP_MALFORMED_REQUEST', reason) on anything that is not one well-formed DER
 * TimeStampReq v1: truncated, trailing bytes, BER-only forms (checked by re-encoding; e.g. an
 * explicit certReq FALSE), or an imprint whose length does not fit its hash. Throws
 * CaError('TSP_UNSUPPORTED_HASH') for SHA-1, MD5 or any hash other than SHA-256/384/512, or
 * hash parameters other than absent/NULL. Throws CaError('TSP_UNACCEPTED_EXTENSION') for any
 * request extension: "If an extension, whether it is marked critical or not critical, is used
 * by a requester but is not recognized by a time-stamping server, the server SHALL not issue a
 * token and SHALL return a failure (unacceptedExtension)" (RFC 3161 2.4.1); this TSA
 * recognizes none. Every error's `details.failInfo` is the PKIFailureInfo to answer with.
 */
export function parseTimeStampReq(der: Uint8Array): ParsedTimeStampReq {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let req: TimeStampReq;
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30) throw new Error('does not start with a SEQUENCE');
    if (outer.end !== buf.length) throw new Error(`${buf.length - outer.end} trailing byte(s) after the TimeStampReq`);
    req = AsnConvert.parse(buf, TimeStampReq);
  } catch (e) {
    throw requestError('TSP_MALFORMED_REQUEST', 'badDataFormat', e instanceof Error ? e.message : String(e), e);
  }
  let reencoded: Buffer;
  try {
    reencoded = serialize(req);
  } catch (e) {
    throw requestError('TSP_MALFORMED_REQUEST', 'badDataFormat', `cannot be re-encoded: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!reencoded.equals(buf)) throw requestError('TSP_MALFORMED_REQUEST', 'badDataFormat', 'not DER: re-encoding the parsed request gives different bytes');
  if (req.version !== 1) throw requestError('TSP_MALFORMED_REQUEST', 'badRequest', `version ${req.version} is not v1 (1)`);

  const alg = req.messageImprint.hashAlgorithm;
  const hashAlgorithm = hashOfOid(alg.algorithm);
  if (!hashAlgorithm) {
    const weak = WEAK_HASHES[alg.algorithm];
    const why = weak ? `${weak} is not accepted` : `hash algorithm ${alg.algorithm} is not supported`;
    throw requestError('TSP_UNSUPPORTED_HASH', 'badAlg', `${why} (SHA-256, SHA-384 and SHA-512 are)`, undefined, { oid: alg.algorithm });
  }
  // The parser gives `null` for NULL parameters, undefined when absent, the raw DER otherwise.
  const params = alg.parameters;
  const hashAlgorithmNullParameters = params === null || (params instanceof ArrayBuffer && Buffer.from(params).equals(Buffer.from([0x05, 0x00])));
  // RFC 5754 2: implementations MUST accept absent and NULL parameters; nothing else is defined.
  if (params !== undefined && !hashAlgorithmNullParameters) {
    throw requestError('TSP_UNSUPPORTED_HASH', 'badAlg', `${hashAlgorithm} AlgorithmIdentifier has parameters other than NULL`, undefined, { oid: alg.algorithm });
  }
  const messageImprint = Buffer.from(req.messageImprint.hashedMessage.buffer);
  if (messageImprint.length !== HASH_LENGTHS[hashAlgorithm]) {
    throw requestError('TSP_MALFORMED_REQUEST', 'badDataFormat', `hashedMessage is ${messageImprint.length} octets; ${hashAlgorithm} gives ${HASH_LENGTHS[hashAlgorithm]}`);
  }
  if (req.extensions && req.extensions.length > 0) {
    const oids = req.extensions.map((e) => e.extnID);
    throw requestError('TSP_UNACCEPTED_EXTENSION', 'unacceptedExtension', `request extension(s) ${oids.join(', ')} not recognized (RFC 3161 2.4.1)`, undefined, { oids });
  }
  if (req.nonce !== undefined && req.nonce.byteLength === 0) throw requestError('TSP_MALFORMED_REQUEST', 'badDataFormat', 'nonce INTEGER is empty');
  return {
    version: 1,
    hashAlgorithm,
    messageImprint,
    hashAlgorithmNullParameters,
    reqPolicy: req.reqPolicy,
    nonce: req.nonce === undefined ? undefined : integerToBigint(new Uint8Array(req.nonce)),
    certReq: req.certReq,
  };
}

/**
 * Builds a TimeStampReq v1 (RFC 3161 2.4.1), e.g. to ask a third-party TSA to stamp a record.
 * The hash AlgorithmIdentifier has absent parameters (RFC 5754 2).
 */
export function createTimeStampReq(p: { hashAlgorithm: TspHashAlgorithm; messageImprint: Buffer; nonce?: bigint; certReq?: boolean; reqPolicy?: string }): Buffer {
  checkImprint(p.hashAlgorithm, p.messageImprint);
  if (p.reqPolicy !== undefined && !OID_PATTERN.test(p.reqPolicy)) throw paramsError(`reqPolicy "${p.reqPolicy}" is not an OBJECT IDENTIFIER`);
  const req = new TimeStampReq({
    messageImprint: new MessageImprint({ hashAlgorithm: hashAlgorithmIdentifier(p.hashAlgorithm), hashedMessage: new OctetString(p.messageImprint) }),
    reqPolicy: p.reqPolicy,
    nonce: p.nonce === undefined ? undefined : toArrayBuffer(bigintToInteger(p.nonce)),
    certReq: p.certReq ?? false,
  });
  return serialize(req);
}

// ---------------------------------------------------------------------------------------------
// Tokens

export interface TstInfoParams {
  /** TSAPolicyId (RFC 3161 2.4.2): the policy under which the token is issued. */
  policy: string;
  hashAlgorithm: TspHashAlgorithm;
  messageImprint: Buffer;
  /** Echo ParsedTimeStampReq.hashAlgorithmNullParameters; absent parameters otherwise (RFC 5754 2). */
  hashAlgorithmNullParameters?: boolean;
  /** Positive INTEGER content octets, minimal, at most 20 octets ("up to 160 bits", RFC 3161 2.4.2). */
  serialNumber: Uint8Array;
  /** Written as GeneralizedTime with milliseconds when non-zero, no trailing zeros (RFC 3161 2.4.2). */
  genTime: Date;
  /** Accuracy.seconds: a whole number of seconds >= 1. */
  accuracySeconds?: number;
  ordering?: boolean;
  /** "MUST be present if the nonce field was present in the TimeStampReq" (RFC 3161 2.4.2). */
  nonce?: bigint;
  /** Not written: the tsa field is optional and the TSA is named by its certificate. */
  tsaName?: never;
}

function checkSerial(serial: Uint8Array): void {
  if (serial.length === 0 || serial.length > 20) throw paramsError(`serialNumber is ${serial.length} octets; 1 to 20 are allowed`);
  if (serial[0]! & 0x80) throw paramsError('serialNumber is negative');
  if (serial.length > 1 && serial[0] === 0 && !(serial[1]! & 0x80)) throw paramsError('serialNumber is not minimal (redundant leading 00)');
  if (serial.every((b) => b === 0)) throw paramsError('serialNumber is zero');
}

/** Builds the TSTInfo DER (RFC 3161 2.4.2). */
export function createTstInfo(p: TstInfoParams): Buffer {
  if (!OID_PATTERN.test(p.policy)) throw paramsError(`policy "${p.policy}" is not an OBJECT IDENTIFIER`);
  checkImprint(p.hashAlgorithm, p.messageImprint);
  checkSerial(p.serialNumber);
  if (!(p.genTime instanceof Date) || Number.isNaN(p.genTime.getTime())) throw paramsError('genTime is not a valid date');
  const year = p.genTime.getUTCFullYear();
  if (year < 1000 || year > 9999) throw paramsError(`genTime year ${year} does not fit GeneralizedTime`);
  if (p.accuracySeconds !== undefined && (!Number.isSafeInteger(p.accuracySeconds) || p.accuracySeconds < 1)) {
    throw paramsError(`accuracySeconds ${p.accuracySeconds} is not a whole number of seconds >= 1`);
  }
  const tst = new TSTInfo({
    policy: p.policy,
    messageImprint: new MessageImprint({ hashAlgorithm: hashAlgorithmIdentifier(p.hashAlgorithm, p.hashAlgorithmNullParameters), hashedMessage: new OctetString(p.messageImprint) }),
    serialNumber: toArrayBuffer(p.serialNumber),
    genTime: p.genTime,
    accuracy: p.accuracySeconds === undefined ? undefined : new Accuracy({ seconds: p.accuracySeconds }),
    ordering: p.ordering ?? false,
    nonce: p.nonce === undefined ? undefined : toArrayBuffer(bigintToInteger(p.nonce)),
  });
  return serialize(tst);
}

/** RFC 5652 11.3: signingTime as UTCTime for 1950..2049, GeneralizedTime otherwise; whole seconds. */
function derSigningTime(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? derTlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : derTlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

function attribute(oid: string, valueDer: Buffer): Buffer {
  return serialize(new Attribute({ attrType: oid, attrValues: [toArrayBuffer(valueDer)] }));
}

/**
 * SigningCertificateV2 with one ESSCertIDv2: the SHA-256 of the TSA certificate (hashAlgorithm
 * left at its DEFAULT) and issuerSerial with the certificate's exact issuer Name and serial, so
 * "the first ESSCertIDv2 ... is the certificate of the signer" can be matched (RFC 5035 5.4.1.1).
 */
function signingCertificateV2Der(tsaCertificateDer: Uint8Array): Buffer {
  const { issuerDer, serialDer } = issuerAndSerialOf(tsaCertificateDer);
  const certHash = createHash('sha256').update(tsaCertificateDer).digest();
  // GeneralNames ::= SEQUENCE OF GeneralName; directoryName [4] Name (explicit: Name is a CHOICE).
  const issuerSerial = derSequence(derSequence(derTlv(0xa4, issuerDer)), serialDer);
  const essCertIdV2 = derSequence(derTlv(0x04, certHash), issuerSerial);
  return derSequence(derSequence(essCertIdV2));
}

/**
 * Builds the TSTInfo and the SignedData signedAttrs of a TimeStampToken: contentType
 * id-ct-TSTInfo, signingTime = genTime (whole seconds), messageDigest over the encoded TSTInfo
 * with `digestAlgorithm`, and signingCertificateV2 (RFC 5816 2.2.1: ESSCertIDv2 with SHA-256 of
 * the TSA certificate). Returns the DER of the SET OF attributes that the signer must sign:
 * "a separate encoding of the signedAttrs field is performed for message digest calculation.
 * The IMPLICIT [0] tag in the signedAttrs is not used for the DER encoding, rather an EXPLICIT
 * SET OF tag is used" (RFC 5652 5.4), i.e. tag 0x31.
 */
export function createTimeStampToBeSigned(p: TstInfoParams & { tsaCertificateDer: Uint8Array; digestAlgorithm: 'sha256' | 'sha384' }): { tstInfoDer: Buffer; signedAttrsDer: Buffer } {
  if (p.digestAlgorithm !== 'sha256' && p.digestAlgorithm !== 'sha384') throw paramsError(`digestAlgorithm "${String(p.digestAlgorithm)}" is not sha256 or sha384`);
  const tstInfoDer = createTstInfo(p);
  const signedAttrsDer = derSetOf([
    attribute(id_contentType, derTlv(0x06, oidContent(id_ct_TSTInfo))),
    attribute(id_signingTime, derSigningTime(new Date(Math.floor(p.genTime.getTime() / 1000) * 1000))),
    attribute(id_messageDigest, derTlv(0x04, createHash(p.digestAlgorithm).update(tstInfoDer).digest())),
    attribute(id_aa_signingCertificateV2, signingCertificateV2Der(p.tsaCertificateDer)),
  ]);
  return { tstInfoDer, signedAttrsDer };
}

/** OBJECT IDENTIFIER content octets (X.690 8.19). */
function oidContent(oid: string): Buffer {
  const arcs = oid.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  const push = (v: bigint) => {
    const bytes = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) bytes.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...bytes);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return Buffer.from(out);
}

/** Parses a DER SET OF Attribute (tag 0x31, or 0xa0 as it sits in a SignerInfo) into OID -> values. */
function attributesOf(der: Uint8Array): Map<string, Buffer[]> {
  const el = readDerElement(der, 0);
  if ((el.tag !== 0x31 && el.tag !== 0xa0) || el.end !== der.length) throw new Error('signedAttrs is not one SET OF Attribute');
  const out = new Map<string, Buffer[]>();
  for (const a of readDerChildren(der, el)) {
    const attr = AsnConvert.parse(slice(der, a), Attribute);
    if (out.has(attr.attrType)) throw new Error(`attribute ${attr.attrType} appears twice`);
    out.set(attr.attrType, attr.attrValues.map((v) => Buffer.from(v)));
  }
  return out;
}

/** The one value of a single-valued attribute (RFC 5652 11: contentType, messageDigest, signingTime each "MUST have a single attribute value"). */
function singleValue(attrs: Map<string, Buffer[]>, oid: string): Buffer | undefined {
  const v = attrs.get(oid);
  if (v === undefined) return undefined;
  if (v.length !== 1) throw new Error(`attribute ${oid} has ${v.length} values; exactly one is allowed`);
  return v[0];
}

/**
 * Assembles the TimeStampToken (RFC 3161 2.4.2): ContentInfo { id-signedData, SignedData } around
 * the exact TSTInfo and signedAttrs bytes that were signed.
 *
 *   SignedData ::= SEQUENCE {
 *     version CMSVersion,                      -- 3: eContentType is not id-data (RFC 5652 5.1)
 *     digestAlgorithms SET OF DigestAlgorithmIdentifier,
 *     encapContentInfo EncapsulatedContentInfo, -- id-ct-TSTInfo, eContent = TSTInfo DER
 *     certificates [0] IMPLICIT CertificateSet OPTIONAL,
 *     signerInfos SET OF SignerInfo }           -- exactly one: the TSA's
 *   SignerInfo ::= SEQUENCE {
 *     version CMSVersion,                      -- 1: sid is issuerAndSerialNumber
 *     sid SignerIdentifier, digestAlgorithm DigestAlgorithmIdentifier,
 *     signedAttrs [0] IMPLICIT SignedAttributes, signatureAlgorithm SignatureAlgorithmIdentifier,
 *     signature SignatureValue }
 *
 * The TSA certificate is always included (and `extraCertificates` after it, e.g. the root), so
 * third parties can verify without fetching it. `signatureAlgorithm` must use `digestAlgorithm`.
 * Checks that signedAttrs' messageDigest covers this TSTInfo and that its ESSCertIDv2 names
 * this certificate; the signature itself is not checked (a throwaway-key signature for linting
 * assembles too).
 */
export function assembleTimeStampToken(p: {
  tstInfoDer: Buffer;
  signedAttrsDer: Buffer;
  signature: Uint8Array;
  signatureAlgorithm: SignatureAlgorithmName;
  digestAlgorithm: 'sha256' | 'sha384';
  tsaCertificateDer: Uint8Array;
  extraCertificates?: Uint8Array[];
}): Buffer {
  const info = SIGNATURE_ALGORITHMS[p.signatureAlgorithm];
  if (!info || info.legacy) throw paramsError(`signature algorithm "${String(p.signatureAlgorithm)}" is not allowed for time-stamp tokens`);
  if (info.hash !== p.digestAlgorithm) throw paramsError(`signature algorithm ${p.signatureAlgorithm} does not use digestAlgorithm ${p.digestAlgorithm}`);
  if (p.signature.length === 0) throw paramsError('signature is empty');
  let attrs: Map<string, Buffer[]>;
  try {
    attrs = attributesOf(p.signedAttrsDer);
  } catch (e) {
    throw paramsError(`signedAttrsDer is not a DER SET OF Attribute: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (p.signedAttrsDer[0] !== 0x31) throw paramsError('signedAttrsDer must be the SET OF encoding (tag 0x31) that was signed');
  const digest = derTlv(0x04, createHash(p.digestAlgorithm).update(p.tstInfoDer).digest());
  if (!attrs.get(id_messageDigest)?.[0]?.equals(digest)) throw paramsError('signedAttrs messageDigest does not match the TSTInfo');
  if (!attrs.get(id_aa_signingCertificateV2)?.[0]?.equals(signingCertificateV2Der(p.tsaCertificateDer))) {
    throw paramsError('signedAttrs signingCertificateV2 does not name the TSA certificate');
  }

  const { issuerDer, serialDer } = issuerAndSerialOf(p.tsaCertificateDer);
  const digestAlgDer = serialize(hashAlgorithmIdentifier(p.digestAlgorithm));
  const signerInfo = derSequence(
    derInteger(Buffer.from([1])),
    derSequence(issuerDer, serialDer), // IssuerAndSerialNumber
    digestAlgDer,
    Buffer.concat([Buffer.from([0xa0]), p.signedAttrsDer.subarray(1)]), // [0] IMPLICIT: same length and content
    serialize(signatureAlgorithmIdentifier(p.signatureAlgorithm)),
    derTlv(0x04, p.signature),
  );
  const encapContentInfo = serialize(
    new EncapsulatedContentInfo({ eContentType: id_ct_TSTInfo, eContent: new EncapsulatedContent({ single: new OctetString(p.tstInfoDer) }) }),
  );
  const certs = [p.tsaCertificateDer, ...(p.extraCertificates ?? [])].map((c) => Buffer.from(c));
  const signedData = derSequence(
    derInteger(Buffer.from([3])),
    derSetOf([digestAlgDer]),
    encapContentInfo,
    derSetOf(certs, 0xa0),
    derSetOf([signerInfo]),
  );
  return contentInfoOf(signedData);
}

/** ContentInfo ::= SEQUENCE { contentType ContentType, content [0] EXPLICIT ANY DEFINED BY contentType } */
function contentInfoOf(signedDataDer: Buffer): Buffer {
  return serialize(new ContentInfo({ contentType: id_signedData, content: toArrayBuffer(signedDataDer) }));
}

// ---------------------------------------------------------------------------------------------
// Responses

/**
 * TimeStampResp ::= SEQUENCE  {
 *      status                  PKIStatusInfo,
 *      timeStampToken          TimeStampToken     OPTIONAL  }
 * with status granted(0) around a token from assembleTimeStampToken (its bytes unchanged).
 */
export function timeStampResponse(token: Buffer): Buffer {
  decodeTimeStampToken(token, 'bare'); // refuse to wrap anything that is not a TimeStampToken
  return derSequence(derSequence(derInteger(Buffer.from([PKI_STATUS.granted]))), token);
}

/** PKIFailureInfo as a DER BIT STRING with one named bit set (X.690 11.2.2: no trailing 0 bits). */
function failureInfoBits(failInfo: PkiFailureInfo): Buffer {
  const bit: number | undefined = PKI_FAILURE_INFO_BITS[failInfo];
  if (bit === undefined) throw paramsError(`"${String(failInfo)}" is not a PKIFailureInfo`);
  const bytes = Buffer.alloc(Math.floor(bit / 8) + 1);
  bytes[bytes.length - 1] = 0x80 >> bit % 8;
  return derTlv(0x03, Buffer.concat([Buffer.from([7 - (bit % 8)]), bytes]));
}

/**
 * A TimeStampResp refusing the request: status rejection(2), the failInfo bit, and `text` as
 * the statusString when given. RFC 3161 2.4.2: "When the status contains the value zero or
 * one, a TimeStampToken MUST be present. When status contains a value other than zero or one,
 * a TimeStampToken MUST NOT be present." `text` should be short and say nothing internal.
 */
export function timeStampRejection(failInfo: PkiFailureInfo, text?: string): Buffer {
  const parts = [derInteger(Buffer.from([PKI_STATUS.rejection]))];
  if (text !== undefined && text.length > 0) parts.push(derSequence(derTlv(0x0c, Buffer.from(text, 'utf8'))));
  parts.push(failureInfoBits(failInfo));
  return derSequence(derSequence(...parts));
}

export interface ParsedTimeStampResp {
  /** granted, grantedWithMods, rejection, … (or `status(N)` for an unassigned value). */
  status: string;
  statusString?: string[];
  /** The PKIFailureInfo bits set. */
  failInfo: PkiFailureInfo[];
  /** The TimeStampToken (ContentInfo) bytes, when present. */
  token?: Buffer;
}

function malformedToken(reason: string, cause?: unknown): CaError {
  return new CaError('TSP_MALFORMED_TOKEN', `malformed time-stamp token: ${reason}`, { cause, details: { reason } });
}

/** Parses a TimeStampResp (RFC 3161 2.4.2); throws CaError('TSP_MALFORMED_RESPONSE') on garbage. */
export function parseTimeStampResp(der: Uint8Array): ParsedTimeStampResp {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new Error('not one DER SEQUENCE');
    const kids = readDerChildren(buf, outer);
    if (kids.length < 1 || kids.length > 2 || kids[0]!.tag !== 0x30) throw new Error('not a TimeStampResp { status, timeStampToken? }');
    const si = AsnConvert.parse(slice(buf, kids[0]!), PKIStatusInfo);
    const status = (Object.keys(PKI_STATUS) as (keyof typeof PKI_STATUS)[]).find((k) => PKI_STATUS[k] === si.status) ?? `status(${si.status})`;
    const failInfo: PkiFailureInfo[] = [];
    if (si.failInfo) {
      const bits = new Uint8Array(si.failInfo.value);
      for (const [name, bit] of Object.entries(PKI_FAILURE_INFO_BITS) as [PkiFailureInfo, number][]) {
        if ((bits[Math.floor(bit / 8)] ?? 0) & (0x80 >> bit % 8)) failInfo.push(name);
      }
    }
    return { status, statusString: si.statusString, failInfo, token: kids[1] ? slice(buf, kids[1]) : undefined };
  } catch (e) {
    throw new CaError('TSP_MALFORMED_RESPONSE', `malformed time-stamp response: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and verifying tokens

/** A TimeStampToken taken apart, with the exact bytes its signature and messageDigest cover. */
interface DecodedToken {
  token: Buffer;
  tstInfoDer: Buffer;
  tstInfo: TSTInfo;
  genTime: Date;
  certificates: Buffer[];
  sid: { issuerDer: Buffer; serialDer: Buffer } | { subjectKeyIdentifier: Buffer };
  digestAlgorithmOid: string;
  /** The signedAttrs re-tagged as SET OF (0x31): what the signature covers (RFC 5652 5.4). */
  signedAttrsDer: Buffer;
  attrs: Map<string, Buffer[]>;
  signatureAlgorithmOid: string;
  signature: Buffer;
}

/** RFC 3161 2.4.2 genTime: YYYYMMDDhhmmss[.s...]Z, no trailing zeros in the fraction. */
const GEN_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/;

function parseGenTime(text: string): Date {
  const m = GEN_TIME.exec(text);
  if (!m) throw new Error(`genTime "${text}" is not YYYYMMDDhhmmss[.s...]Z`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const date = new Date(t);
  if (Number.isNaN(t) || date.getUTCDate() !== Number(d) || date.getUTCHours() !== Number(h) || date.getUTCMinutes() !== Number(mi) || Number(s) > 59) throw new Error(`genTime "${text}" is not a valid time`);
  return date;
}

function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!el || el.tag !== tag) throw new Error(`${what} is missing or has tag 0x${el?.tag.toString(16) ?? '??'} instead of 0x${tag.toString(16)}`);
  return el;
}

/**
 * Takes a TimeStampToken apart. `accept`: 'bare' for a ContentInfo only, 'either' also takes a
 * TimeStampResp (whose status must be granted or grantedWithMods).
 */
function decodeTimeStampToken(der: Uint8Array, accept: 'bare' | 'either'): DecodedToken {
  let buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let outer: DerElement;
  let kids: DerElement[];
  try {
    outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new Error('not one DER SEQUENCE');
    kids = readDerChildren(buf, outer);
  } catch (e) {
    throw malformedToken(e instanceof Error ? e.message : String(e), e);
  }
  if (accept === 'either' && kids[0]?.tag === 0x30) {
    const resp = parseTimeStampResp(buf);
    if (resp.status !== 'granted' && resp.status !== 'grantedWithMods') {
      const text = resp.statusString?.join('; ');
      throw new CaError('TSP_REJECTED', `time-stamp response status is ${resp.status}${resp.failInfo.length ? ` (${resp.failInfo.join(', ')})` : ''}${text ? `: ${text}` : ''}`, {
        details: { status: resp.status, failInfo: resp.failInfo, statusString: resp.statusString },
      });
    }
    if (!resp.token) throw malformedToken('a granted TimeStampResp carries no timeStampToken');
    buf = resp.token;
  }
  try {
    outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new Error('not one DER SEQUENCE');
    kids = readDerChildren(buf, outer);
    const ct = expectTag(kids[0], 0x06, 'ContentInfo contentType');
    if (!content(buf, ct).equals(oidContent(id_signedData))) throw new Error('ContentInfo contentType is not id-signedData');
    const wrapper = expectTag(kids[1], 0xa0, 'ContentInfo content');
    if (kids.length !== 2) throw new Error('ContentInfo has extra elements');
    const sdWrap = readDerChildren(buf, wrapper);
    if (sdWrap.length !== 1) throw new Error('ContentInfo content [0] holds more than one element');
    const sd = readDerChildren(buf, expectTag(sdWrap[0], 0x30, 'SignedData'));
    let i = 0;
    expectTag(sd[i++], 0x02, 'SignedData version');
    expectTag(sd[i++], 0x31, 'SignedData digestAlgorithms');
    const encap = readDerChildren(buf, expectTag(sd[i++], 0x30, 'encapContentInfo'));
    const eType = expectTag(encap[0], 0x06, 'eContentType');
    if (!content(buf, eType).equals(oidContent(id_ct_TSTInfo))) throw new Error('eContentType is not id-ct-TSTInfo');
    const eWrap = readDerChildren(buf, expectTag(encap[1], 0xa0, 'eContent'));
    if (eWrap.length !== 1 || encap.length !== 2) throw new Error('eContent is not one OCTET STRING');
    const tstInfoDer = content(buf, expectTag(eWrap[0], 0x04, 'eContent OCTET STRING (primitive, DER)'));
    const certificates: Buffer[] = [];
    if (sd[i]?.tag === 0xa0) {
      for (const c of readDerChildren(buf, sd[i]!)) if (c.tag === 0x30) certificates.push(slice(buf, c));
      i++;
    }
    if (sd[i]?.tag === 0xa1) i++; // crls: not used
    const signerInfos = readDerChildren(buf, expectTag(sd[i++], 0x31, 'SignedData signerInfos'));
    if (i !== sd.length) throw new Error('SignedData has extra elements');
    // RFC 3161 2.4.2: "The time-stamp token MUST NOT contain any signatures other than the signature of the TSA."
    if (signerInfos.length !== 1) throw new Error(`SignedData has ${signerInfos.length} signerInfos; a TimeStampToken has exactly one`);
    const s = readDerChildren(buf, signerInfos[0]!);
    expectTag(s[0], 0x02, 'SignerInfo version');
    let sid: DecodedToken['sid'];
    if (s[1]?.tag === 0x30) {
      const ias = readDerChildren(buf, s[1]);
      sid = { issuerDer: slice(buf, expectTag(ias[0], 0x30, 'sid issuer')), serialDer: slice(buf, expectTag(ias[1], 0x02, 'sid serialNumber')) };
    } else {
      sid = { subjectKeyIdentifier: content(buf, expectTag(s[1], 0x80, 'SignerInfo sid')) };
    }
    const digestAlgorithmOid = AsnConvert.parse(slice(buf, expectTag(s[2], 0x30, 'SignerInfo digestAlgorithm')), AlgorithmIdentifier).algorithm;
    const sa = slice(buf, expectTag(s[3], 0xa0, 'SignerInfo signedAttrs (RFC 3161 requires them)'));
    const signedAttrsDer = Buffer.concat([Buffer.from([0x31]), sa.subarray(1)]);
    const signatureAlgorithmOid = AsnConvert.parse(slice(buf, expectTag(s[4], 0x30, 'SignerInfo signatureAlgorithm')), AlgorithmIdentifier).algorithm;
    const signature = content(buf, expectTag(s[5], 0x04, 'SignerInfo signature'));
    if (s.length > 7 || (s.length === 7 && s[6]!.tag !== 0xa1)) throw new Error('SignerInfo has extra elements');

    const tstInfo = AsnConvert.parse(tstInfoDer, TSTInfo);
    const tstEl = readDerElement(tstInfoDer, 0);
    if (tstEl.end !== tstInfoDer.length) throw new Error('trailing bytes after TSTInfo');
    const genTimeEl = expectTag(readDerChildren(tstInfoDer, tstEl)[4], 0x18, 'TSTInfo genTime');
    const genTime = parseGenTime(content(tstInfoDer, genTimeEl).toString('latin1'));
    return {
      token: Buffer.from(buf),
      tstInfoDer,
      tstInfo,
      genTime,
      certificates,
      sid,
      digestAlgorithmOid,
      signedAttrsDer,
      attrs: attributesOf(signedAttrsDer),
      signatureAlgorithmOid,
      signature,
    };
  } catch (e) {
    if (e instanceof CaError) throw e;
    throw malformedToken(e instanceof Error ? e.message : String(e), e);
  }
}

/** The first ESSCertID(v2) of the signing-certificate attribute: the signer's (RFC 5035 5.4.1.1). */
function signerCertId(attrs: Map<string, Buffer[]>): { hash: string; certHash: Buffer } | undefined {
  const v2 = singleValue(attrs, id_aa_signingCertificateV2);
  if (v2) {
    const first = AsnConvert.parse(v2, SigningCertificateV2).certs[0];
    if (!first) throw new Error('signingCertificateV2 lists no certificate');
    const oid = first.hashAlgorithm?.algorithm ?? id_sha256;
    const hash = hashOfOid(oid) ?? (oid === id_sha1 ? 'sha1' : undefined);
    if (!hash) throw new Error(`ESSCertIDv2 hash algorithm ${oid} is not supported`);
    return { hash, certHash: Buffer.from(first.certHash.buffer) };
  }
  const v1 = singleValue(attrs, id_aa_signingCertificate);
  if (v1) {
    const first = AsnConvert.parse(v1, SigningCertificate).certs[0];
    if (!first) throw new Error('signingCertificate lists no certificate');
    return { hash: 'sha1', certHash: Buffer.from(first.certHash.buffer) };
  }
  return undefined;
}

/** The included certificate the signing-certificate attribute names, else the one sid names. */
function findSignerCertificate(t: DecodedToken): Buffer | undefined {
  const id = signerCertId(t.attrs);
  if (id) return t.certificates.find((c) => createHash(id.hash).update(c).digest().equals(id.certHash));
  if ('issuerDer' in t.sid) {
    const sid = t.sid;
    return t.certificates.find((c) => {
      const p = issuerAndSerialOf(c);
      return p.issuerDer.equals(sid.issuerDer) && p.serialDer.equals(sid.serialDer);
    });
  }
  return undefined;
}

export interface ParsedTimeStampToken {
  genTime: Date;
  policy: string;
  /** Normalized as crl.ts normalizeSerialHex spells serials. */
  serialHex: string;
  /** sha256, sha384, sha512 (or the OID of another hash). */
  hashAlgorithm: string;
  messageImprint: Buffer;
  nonce?: bigint;
  accuracy?: { seconds?: number; millis?: number; micros?: number };
  ordering: boolean;
  /** The included certificate that the ESSCertID(v2) attribute names, when present. */
  signerCertificate?: Buffer;
  /** Every certificate the token carries. */
  certificates: Buffer[];
  /** The bare TimeStampToken (ContentInfo), also when a TimeStampResp was given. */
  token: Buffer;
  /** The exact TSTInfo bytes. */
  tstInfoDer: Buffer;
}

/**
 * Reads a TimeStampToken, or a TimeStampResp holding one. Does not verify it
 * (verifyTimeStampToken does). Throws CaError('TSP_MALFORMED_TOKEN') on garbage and
 * CaError('TSP_REJECTED') for a response whose status is not granted/grantedWithMods.
 */
export function parseTimeStampToken(tokenOrResponseDer: Uint8Array): ParsedTimeStampToken {
  const t = decodeTimeStampToken(tokenOrResponseDer, 'either');
  try {
    const tst = t.tstInfo;
    const hashOid = tst.messageImprint.hashAlgorithm.algorithm;
    const acc = tst.accuracy;
    return {
      genTime: t.genTime,
      policy: tst.policy,
      serialHex: normalizeSerialHex(Buffer.from(tst.serialNumber).toString('hex')),
      hashAlgorithm: hashOfOid(hashOid) ?? hashOid,
      messageImprint: Buffer.from(tst.messageImprint.hashedMessage.buffer),
      nonce: tst.nonce === undefined ? undefined : integerToBigint(new Uint8Array(tst.nonce)),
      accuracy: acc ? { seconds: acc.seconds, millis: acc.millis, micros: acc.micros } : undefined,
      ordering: tst.ordering,
      signerCertificate: findSignerCertificate(t),
      certificates: t.certificates,
      token: t.token,
      tstInfoDer: t.tstInfoDer,
    };
  } catch (e) {
    if (e instanceof CaError) throw e;
    throw malformedToken(e instanceof Error ? e.message : String(e), e);
  }
}

/** The SubjectPublicKeyInfo DER of a certificate, or undefined when it cannot be read. */
function spkiOf(certDer: Buffer): Buffer | undefined {
  try {
    return issuerAndSerialOf(certDer).spkiDer;
  } catch {
    return undefined;
  }
}

/**
 * True when `token` (a TimeStampToken or a TimeStampResp holding one) is a valid time-stamp of
 * `data` by the key `tsaSpkiDer`: RFC 5652 5.4/5.6 — signedAttrs carry contentType
 * id-ct-TSTInfo and messageDigest = hash(TSTInfo) with the SignerInfo digestAlgorithm, and the
 * signature over the DER SET OF signedAttrs verifies; RFC 5816 / RFC 3161 2.4.1 — a
 * signingCertificate(V2) attribute is present, and when the certificate it names is included,
 * that certificate holds `tsaSpkiDer`; RFC 3161 2.4.2 — the messageImprint is hash(data).
 * SHA-1 digests and imprints are not accepted. Only the signature is checked here: the TSA
 * certificate's chain, validity and extendedKeyUsage are the caller's (or `openssl ts -verify`'s).
 * Throws CaError('TSP_MALFORMED_TOKEN') on garbage, 'TSP_REJECTED' for a rejection response.
 */
export function verifyTimeStampToken(token: Uint8Array, data: Uint8Array, tsaSpkiDer: Uint8Array): boolean {
  const t = decodeTimeStampToken(token, 'either');
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(tsaSpkiDer), format: 'der', type: 'spki' });
  } catch (e) {
    throw new CaError('PUBLIC_KEY_INVALID', `not a usable SubjectPublicKeyInfo: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  try {
    if (t.tstInfo.version !== 1) return false;
    const digestHash = hashOfOid(t.digestAlgorithmOid);
    if (!digestHash) return false;
    if (!singleValue(t.attrs, id_contentType)?.equals(derTlv(0x06, oidContent(id_ct_TSTInfo)))) return false;
    if (!singleValue(t.attrs, id_messageDigest)?.equals(derTlv(0x04, createHash(digestHash).update(t.tstInfoDer).digest()))) return false;

    const certId = signerCertId(t.attrs);
    if (!certId) return false;
    const named = t.certificates.find((c) => createHash(certId.hash).update(c).digest().equals(certId.certHash));
    if (named && !spkiOf(named)?.equals(Buffer.from(tsaSpkiDer))) return false;

    // RSA signers often write rsaEncryption here (RFC 3370 3.2), the hash then being digestAlgorithm's.
    let sigHash: string = digestHash;
    if (t.signatureAlgorithmOid !== id_rsaEncryption) {
      const info = signatureAlgorithmByOid(t.signatureAlgorithmOid);
      if (!info || info.legacy || info.hash !== digestHash) return false;
      sigHash = info.hash;
    }
    if (!verify(sigHash, t.signedAttrsDer, key, t.signature)) return false;

    const imprintHash = hashOfOid(t.tstInfo.messageImprint.hashAlgorithm.algorithm);
    if (!imprintHash) return false;
    return createHash(imprintHash).update(data).digest().equals(Buffer.from(t.tstInfo.messageImprint.hashedMessage.buffer));
  } catch {
    return false;
  }
}
