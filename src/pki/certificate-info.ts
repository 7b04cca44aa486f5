/**
 * What relying parties read from a certificate, field by field with the exact bytes they
 * compare (RFC 5280 4.1): used to check publications, issuer chains and responder certificates.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ExtendedKeyUsage, id_ce_extKeyUsage } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { parseCertificate } from './certificate.ts';
import { DerError } from './der.ts';
import { normalizeSerialHex } from './integer.ts';
import { nameToText } from './name.ts';
import { readDerChildren, readDerElement } from './pem.ts';
import { verifyTbsSignature } from './signature-verify.ts';

/** What the online side needs to know about a certificate; the Name and key bytes are exactly as encoded. */
export interface CertificateInfo {
  der: Buffer;
  /** The exact tbsCertificate bytes (what the signature covers). */
  tbsDer: Buffer;
  serialHex: string;
  issuerDer: Buffer;
  subjectDer: Buffer;
  subject: string;
  /** SubjectPublicKeyInfo DER. */
  spkiDer: Buffer;
  /** subjectPublicKey BIT STRING value without the unused-bits octet (RFC 6960 KeyHash input). */
  publicKey: Buffer;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithmOid: string;
  signature: Buffer;
  /** extendedKeyUsage purposes, when the extension is present. */
  extKeyUsage?: string[];
  /** SHA-256 of the DER, hex. */
  fingerprint: string;
}

/** Reads a DER certificate; throws CaError('CERTIFICATE_MALFORMED') with the reason. */
export function certificateInfo(der: Uint8Array): CertificateInfo {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new DerError('not one DER SEQUENCE');
    const [tbsEl] = readDerChildren(buf, outer);
    if (!tbsEl || tbsEl.tag !== 0x30) throw new DerError('no tbsCertificate');
    const f = readDerChildren(buf, tbsEl);
    const i = f[0]?.tag === 0xa0 ? 1 : 0;
    const [serialEl, , issuerEl, , subjectEl, spkiEl] = f.slice(i);
    if (
      !serialEl ||
      !issuerEl ||
      !subjectEl ||
      !spkiEl ||
      serialEl.tag !== 0x02 ||
      issuerEl.tag !== 0x30 ||
      subjectEl.tag !== 0x30 ||
      spkiEl.tag !== 0x30
    ) {
      throw new DerError('tbsCertificate is incomplete');
    }
    const bits = readDerChildren(buf, spkiEl)[1];
    if (!bits || bits.tag !== 0x03 || bits.end - bits.contentStart < 1)
      throw new DerError('subjectPublicKey is not a BIT STRING');
    const cert = parseCertificate(buf);
    const tbs = cert.tbsCertificate;
    let extKeyUsage: string[] | undefined;
    for (const ext of tbs.extensions ?? []) {
      if (ext.extnID === id_ce_extKeyUsage) extKeyUsage = [...AsnConvert.parse(ext.extnValue, ExtendedKeyUsage)];
    }
    return {
      der: Buffer.from(buf),
      tbsDer: Buffer.from(buf.subarray(tbsEl.start, tbsEl.end)),
      serialHex: normalizeSerialHex(buf.subarray(serialEl.contentStart, serialEl.end).toString('hex')),
      issuerDer: Buffer.from(buf.subarray(issuerEl.start, issuerEl.end)),
      subjectDer: Buffer.from(buf.subarray(subjectEl.start, subjectEl.end)),
      subject: nameToText(tbs.subject),
      spkiDer: Buffer.from(buf.subarray(spkiEl.start, spkiEl.end)),
      publicKey: Buffer.from(buf.subarray(bits.contentStart + 1, bits.end)),
      notBefore: tbs.validity.notBefore.getTime(),
      notAfter: tbs.validity.notAfter.getTime(),
      signatureAlgorithmOid: cert.signatureAlgorithm.algorithm,
      signature: Buffer.from(cert.signatureValue),
      extKeyUsage,
      fingerprint: createHash('sha256').update(buf).digest('hex'),
    };
  } catch (e) {
    if (e instanceof CaError && !(e instanceof DerError)) throw e;
    throw new CaError(
      'CERTIFICATE_MALFORMED',
      `not a well-formed DER certificate: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** True when `cert` names `issuer` as its issuer (exact Name bytes) and its signature verifies with the issuer's key. */
export function isIssuedBy(cert: CertificateInfo, issuer: CertificateInfo): boolean {
  if (!cert.issuerDer.equals(issuer.subjectDer)) return false;
  try {
    return verifyTbsSignature(cert.tbsDer, cert.signatureAlgorithmOid, cert.signature, issuer.spkiDer);
  } catch {
    return false;
  }
}
