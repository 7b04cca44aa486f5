/**
 * Building PKCS#10 requests (RFC 2986 4), for keys this system makes itself: the demo's
 * subordinate CAs and the online side's responder keys. Signing is the caller's (pki/ stays pure).
 *
 * CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name,
 *   subjectPKInfo SubjectPublicKeyInfo, attributes [0] Attributes }
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { SubjectPublicKeyInfo, type Name } from '@peculiar/asn1-x509';
import type { SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier } from './certificate.ts';
import { derBitString, derSequence } from './der.ts';

/** The DER of the CertificationRequestInfo the subject key must sign. */
export function createCertificationRequestInfo(p: { subject: Name; subjectPublicKeyInfo: Uint8Array }): Buffer {
  const info = new CertificationRequestInfo({
    version: 0,
    subject: p.subject,
    subjectPKInfo: AsnConvert.parse(p.subjectPublicKeyInfo, SubjectPublicKeyInfo),
    attributes: new Attributes(),
  });
  return Buffer.from(AsnConvert.serialize(info));
}

/** The signed request, with the info bytes embedded unchanged. */
export function assembleCertificationRequest(
  infoDer: Uint8Array,
  algorithm: SignatureAlgorithmName,
  signature: Uint8Array,
): Buffer {
  return derSequence(
    infoDer,
    Buffer.from(AsnConvert.serialize(signatureAlgorithmIdentifier(algorithm))),
    derBitString(signature),
  );
}
