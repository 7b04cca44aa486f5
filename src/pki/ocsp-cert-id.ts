/**
 * OCSP CertIDs (RFC 6960 4.1.1): computing them for a certificate under its issuer, writing
 * them, reading them from requests and responses, and a lookup key for pre-signed answers.
 */
import { createHash } from 'node:crypto';
import { OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { toArrayBuffer } from './certificate.ts';
import { DER_NULL } from './der.ts';
import { normalizeSerialHex, serialHexToInteger } from './integer.ts';
import { CertID, id_sha1, id_sha256 } from './ocsp-asn1.ts';
import { readDerChildren, readDerElement } from './pem.ts';

const HASH_OIDS: Record<'sha1' | 'sha256', string> = { sha1: id_sha1, sha256: id_sha256 };

/** A CertID as a lookup key. `serialHex` is normalized (crl.ts normalizeSerialHex). */
export interface CertIdKey {
  hashAlgorithm: 'sha1' | 'sha256';
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serialHex: string;
}

function notCertificate(reason: string): CaError {
  return new CaError('CERTIFICATE_MALFORMED', reason);
}

/** The exact subject Name and subjectPublicKey BIT STRING value of a certificate (no re-encoding). */
function issuerParts(certDer: Uint8Array): { subjectDer: Buffer; publicKey: Buffer } {
  const buf = Buffer.from(certDer.buffer, certDer.byteOffset, certDer.byteLength);
  const cert = readDerElement(buf, 0);
  if (cert.tag !== 0x30 || cert.end !== buf.length) throw notCertificate('not one DER certificate');
  const tbs = readDerChildren(buf, cert)[0];
  if (!tbs || tbs.tag !== 0x30) throw notCertificate('certificate has no tbsCertificate');
  const f = readDerChildren(buf, tbs);
  const i = f[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const subject = f[i + 4];
  const spki = f[i + 5];
  if (!subject || !spki || subject.tag !== 0x30 || spki.tag !== 0x30)
    throw notCertificate('tbsCertificate is incomplete');
  const bits = readDerChildren(buf, spki)[1];
  if (!bits || bits.tag !== 0x03 || bits.end - bits.contentStart < 1)
    throw notCertificate('subjectPublicKey is not a BIT STRING');
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
    throw new CaError(
      'CERTIFICATE_MALFORMED',
      `issuer certificate is not a well-formed DER certificate: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
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
    hashAlgorithm: new AlgorithmIdentifier({
      algorithm: HASH_OIDS[id.hashAlgorithm],
      parameters: toArrayBuffer(DER_NULL),
    }),
    issuerNameHash: new OctetString(id.issuerNameHash),
    issuerKeyHash: new OctetString(id.issuerKeyHash),
    serialNumber: toArrayBuffer(serialHexToInteger(id.serialHex)),
  });
}

/** The key of a parsed CertID; throws OCSP_UNSUPPORTED_HASH for a hash other than SHA-1/SHA-256. */
export function keyOfCertId(c: CertID): CertIdKey {
  const oid = c.hashAlgorithm.algorithm;
  const hashAlgorithm = oid === id_sha1 ? 'sha1' : oid === id_sha256 ? 'sha256' : undefined;
  if (!hashAlgorithm) {
    throw new CaError(
      'OCSP_UNSUPPORTED_HASH',
      `CertID hash algorithm ${oid} is not supported (SHA-1 and SHA-256 are)`,
      { details: { oid } },
    );
  }
  const issuerNameHash = Buffer.from(c.issuerNameHash.buffer);
  const issuerKeyHash = Buffer.from(c.issuerKeyHash.buffer);
  const len = hashAlgorithm === 'sha1' ? 20 : 32;
  if (issuerNameHash.length !== len || issuerKeyHash.length !== len) {
    throw new CaError(
      'OCSP_MALFORMED_REQUEST',
      `CertID hashes are not ${len} octets long as ${hashAlgorithm} requires`,
    );
  }
  const serial = Buffer.from(c.serialNumber);
  if (serial.length === 0) throw new CaError('OCSP_MALFORMED_REQUEST', 'CertID serialNumber is empty');
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serialHex: serial.toString('hex') };
}
