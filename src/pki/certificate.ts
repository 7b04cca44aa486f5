/**
 * Certificate assembly (RFC 5280 4.1). Building the TBSCertificate and attaching a signature
 * are separate steps, so the caller can lint the TBS, have the CA key sign exactly those bytes,
 * and embed them unchanged.
 *
 * Certificate  ::=  SEQUENCE  {
 *      tbsCertificate       TBSCertificate,
 *      signatureAlgorithm   AlgorithmIdentifier,
 *      signatureValue       BIT STRING  }
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Certificate,
  type Extension,
  Extensions,
  type Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from './algorithms.ts';
import { DER_NULL, derBitString, derChildren, derSequence } from './der.ts';

/** The AlgorithmIdentifier of a signature algorithm, with NULL parameters for RSA (RFC 4055 5) and none for ECDSA (RFC 5758 3.2). */
export function signatureAlgorithmIdentifier(name: SignatureAlgorithmName): AlgorithmIdentifier {
  const info = SIGNATURE_ALGORITHMS[name];
  return new AlgorithmIdentifier({
    algorithm: info.oid,
    parameters: info.nullParameters ? toArrayBuffer(DER_NULL) : undefined,
  });
}

export interface TbsCertificateParams {
  /** Positive INTEGER content octets, minimal (see serial.ts). */
  serialNumber: Uint8Array;
  signatureAlgorithm: SignatureAlgorithmName;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeyInfo: Uint8Array;
  /** In the order they will appear. */
  extensions: Extension[];
}

/** Builds the TBSCertificate (v3) and its DER. UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function createTbsCertificate(p: TbsCertificateParams): { tbs: TBSCertificate; der: Buffer } {
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(p.serialNumber),
    signature: signatureAlgorithmIdentifier(p.signatureAlgorithm),
    issuer: p.issuer,
    validity: new Validity({ notBefore: p.notBefore, notAfter: p.notAfter }),
    subject: p.subject,
    subjectPublicKeyInfo: AsnConvert.parse(p.subjectPublicKeyInfo, SubjectPublicKeyInfo),
    extensions: p.extensions.length > 0 ? new Extensions(p.extensions) : undefined,
  });
  return { tbs, der: Buffer.from(AsnConvert.serialize(tbs)) };
}

/** Wraps signed TBS bytes into a Certificate without re-encoding them. */
export function assembleSignedCertificate(
  tbsDer: Uint8Array,
  algorithm: SignatureAlgorithmName,
  signature: Uint8Array,
): Buffer {
  const algDer = Buffer.from(AsnConvert.serialize(signatureAlgorithmIdentifier(algorithm)));
  return derSequence(tbsDer, algDer, derBitString(signature));
}

export function parseCertificate(der: Uint8Array): Certificate {
  return AsnConvert.parse(der, Certificate);
}

/** The exact tbsCertificate bytes inside a certificate (what its signature covers). */
export function tbsBytesOf(certDer: Uint8Array): Buffer {
  return derChildren(certDer)[0];
}

export function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}
