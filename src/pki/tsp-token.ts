/**
 * Time-stamp tokens and responses as a TSA writes them (RFC 3161 2.4.2, RFC 5816, RFC 5652).
 * As for certificates and OCSP responses, signing is a separate step: createTimeStampToBeSigned
 * builds the TSTInfo and the DER SET OF signed attributes a one-shot signer must sign;
 * assembleTimeStampToken embeds those exact bytes (no re-encoding between "sign" and "emit").
 */
import { createHash } from 'node:crypto';
import { OctetString } from '@peculiar/asn1-schema';
import { Attribute, ContentInfo, EncapsulatedContent, EncapsulatedContentInfo } from '@peculiar/asn1-cms';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier, toArrayBuffer } from './certificate.ts';
import { derSequence, derTlv } from './der.ts';
import { bigintToInteger } from './integer.ts';
import {
  Accuracy,
  id_aa_signingCertificateV2,
  id_contentType,
  id_ct_TSTInfo,
  id_messageDigest,
  id_signedData,
  id_signingTime,
  MessageImprint,
  PKI_FAILURE_INFO_BITS,
  PKI_STATUS,
  TSTInfo,
  type PkiFailureInfo,
  type TspHashAlgorithm,
} from './tsp-asn1.ts';
import {
  attributesOf,
  checkImprint,
  derInteger,
  derSetOf,
  hashAlgorithmIdentifier,
  issuerAndSerialOf,
  oidContent,
  OID_PATTERN,
  paramsError,
  serialize,
} from './tsp-der.ts';
import { decodeTimeStampToken } from './tsp-read.ts';

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
  if (serial.length === 0 || serial.length > 20)
    throw paramsError(`serialNumber is ${serial.length} octets; 1 to 20 are allowed`);
  if (serial[0]! & 0x80) throw paramsError('serialNumber is negative');
  if (serial.length > 1 && serial[0] === 0 && !(serial[1]! & 0x80))
    throw paramsError('serialNumber is not minimal (redundant leading 00)');
  if (serial.every((b) => b === 0)) throw paramsError('serialNumber is zero');
}

/** Builds the TSTInfo DER (RFC 3161 2.4.2). */
export function createTstInfo(p: TstInfoParams): Buffer {
  if (!OID_PATTERN.test(p.policy)) throw paramsError(`policy "${p.policy}" is not an OBJECT IDENTIFIER`);
  checkImprint(p.hashAlgorithm, p.messageImprint);
  checkSerial(p.serialNumber);
  if (!(p.genTime instanceof Date) || Number.isNaN(p.genTime.getTime()))
    throw paramsError('genTime is not a valid date');
  const year = p.genTime.getUTCFullYear();
  if (year < 1000 || year > 9999) throw paramsError(`genTime year ${year} does not fit GeneralizedTime`);
  if (p.accuracySeconds !== undefined && (!Number.isSafeInteger(p.accuracySeconds) || p.accuracySeconds < 1)) {
    throw paramsError(`accuracySeconds ${p.accuracySeconds} is not a whole number of seconds >= 1`);
  }
  const tst = new TSTInfo({
    policy: p.policy,
    messageImprint: new MessageImprint({
      hashAlgorithm: hashAlgorithmIdentifier(p.hashAlgorithm, p.hashAlgorithmNullParameters),
      hashedMessage: new OctetString(p.messageImprint),
    }),
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
  return year >= 1950 && year < 2050
    ? derTlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : derTlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
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
export function createTimeStampToBeSigned(
  p: TstInfoParams & { tsaCertificateDer: Uint8Array; digestAlgorithm: 'sha256' | 'sha384' },
): { tstInfoDer: Buffer; signedAttrsDer: Buffer } {
  if (p.digestAlgorithm !== 'sha256' && p.digestAlgorithm !== 'sha384')
    throw paramsError(`digestAlgorithm "${String(p.digestAlgorithm)}" is not sha256 or sha384`);
  const tstInfoDer = createTstInfo(p);
  const signedAttrsDer = derSetOf([
    attribute(id_contentType, derTlv(0x06, oidContent(id_ct_TSTInfo))),
    attribute(id_signingTime, derSigningTime(new Date(Math.floor(p.genTime.getTime() / 1000) * 1000))),
    attribute(id_messageDigest, derTlv(0x04, createHash(p.digestAlgorithm).update(tstInfoDer).digest())),
    attribute(id_aa_signingCertificateV2, signingCertificateV2Der(p.tsaCertificateDer)),
  ]);
  return { tstInfoDer, signedAttrsDer };
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
  if (!info || info.legacy)
    throw paramsError(`signature algorithm "${String(p.signatureAlgorithm)}" is not allowed for time-stamp tokens`);
  if (info.hash !== p.digestAlgorithm)
    throw paramsError(`signature algorithm ${p.signatureAlgorithm} does not use digestAlgorithm ${p.digestAlgorithm}`);
  if (p.signature.length === 0) throw paramsError('signature is empty');
  let attrs: Map<string, Buffer[]>;
  try {
    attrs = attributesOf(p.signedAttrsDer);
  } catch (e) {
    throw paramsError(`signedAttrsDer is not a DER SET OF Attribute: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (p.signedAttrsDer[0] !== 0x31)
    throw paramsError('signedAttrsDer must be the SET OF encoding (tag 0x31) that was signed');
  const digest = derTlv(0x04, createHash(p.digestAlgorithm).update(p.tstInfoDer).digest());
  if (!attrs.get(id_messageDigest)?.[0]?.equals(digest))
    throw paramsError('signedAttrs messageDigest does not match the TSTInfo');
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
    new EncapsulatedContentInfo({
      eContentType: id_ct_TSTInfo,
      eContent: new EncapsulatedContent({ single: new OctetString(p.tstInfoDer) }),
    }),
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
  bytes[bytes.length - 1] = 0x80 >> (bit % 8);
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
