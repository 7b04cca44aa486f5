/**
 * Proof of possession for certification requests (CPS 3.2.1, RFC 2986 3): the signature
 * algorithms the intake verifies, the check itself, and their names for reports.
 */
import { createPublicKey, verify as cryptoVerify, constants as cryptoConstants, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { SIGNATURE_ALGORITHMS } from './algorithms.ts';

/** A signature algorithm the intake can verify. */
interface CsrSignatureAlgorithm {
  name: string;
  scheme: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
  /** Fixed hash; PSS takes it from the parameters. */
  hash?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
}

const id_RSASSA_PSS = '1.2.840.113549.1.1.10';
const id_mgf1 = '1.2.840.113549.1.1.8';
const ecdsa_with_SHA512 = '1.2.840.10045.4.3.4';

/** RFC 4055 2.1 / RFC 5754 2: hash OIDs allowed inside RSASSA-PSS parameters. */
const HASH_BY_OID: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const CSR_SIGNATURE_ALGORITHMS: Record<string, CsrSignatureAlgorithm> = {
  ...Object.fromEntries(
    Object.values(SIGNATURE_ALGORITHMS).map((a) => [
      a.oid,
      {
        name: a.name,
        scheme: a.keyKind === 'rsa' ? 'rsa-pkcs1' : 'ecdsa',
        hash: a.hash,
      } satisfies CsrSignatureAlgorithm,
    ]),
  ),
  [ecdsa_with_SHA512]: { name: 'ecdsa-with-SHA512', scheme: 'ecdsa', hash: 'sha512' },
  [id_RSASSA_PSS]: { name: 'RSASSA-PSS', scheme: 'rsa-pss' },
};

/** The outcome of the proof-of-possession check, with the reason when it fails. */
export type PopResult = { valid: true } | { valid: false; reason: string };

/**
 * Verifies the CSR signature with the CSR's own public key (RFC 2986 3 step 3; CPS 3.2.1 via 6.1.3).
 * RSA PKCS#1 v1.5 with SHA-1/256/384/512, RSASSA-PSS (RFC 4055 3.1 parameters, MGF1 with the
 * same hash, trailerField 1), ECDSA with SHA-256/384/512.
 */
export function verifyProofOfPossession(
  criDer: Uint8Array,
  alg: AlgorithmIdentifier,
  signature: Buffer,
  spki: Buffer,
): PopResult {
  const known = CSR_SIGNATURE_ALGORITHMS[alg.algorithm];
  if (!known)
    return {
      valid: false,
      reason: `signature algorithm ${signatureAlgorithmName(alg.algorithm)} is not supported, so possession cannot be proved`,
    };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    return {
      valid: false,
      reason: `the request's public key cannot be loaded to verify its signature: ${(e as Error).message}`,
    };
  }
  const keyType = key.asymmetricKeyType;
  const wantKey = known.scheme === 'ecdsa' ? 'ec' : 'rsa';
  if (keyType !== wantKey) {
    return {
      valid: false,
      reason: `signature algorithm ${known.name} does not match the ${keyType ?? 'unknown'} public key`,
    };
  }
  let hash = known.hash;
  let saltLength: number | undefined;
  if (known.scheme === 'rsa-pss') {
    if (!alg.parameters)
      return { valid: false, reason: 'RSASSA-PSS signature without parameters (RFC 4055 3.1: they MUST be present)' };
    let params: RsaSaPssParams;
    try {
      params = AsnConvert.parse(alg.parameters, RsaSaPssParams);
    } catch (e) {
      return { valid: false, reason: `RSASSA-PSS parameters do not parse: ${(e as Error).message}` };
    }
    hash = HASH_BY_OID[params.hashAlgorithm.algorithm];
    if (!hash) return { valid: false, reason: `RSASSA-PSS hash ${params.hashAlgorithm.algorithm} is not supported` };
    if (params.maskGenAlgorithm.algorithm !== id_mgf1 || !params.maskGenAlgorithm.parameters) {
      return { valid: false, reason: `RSASSA-PSS mask generation ${params.maskGenAlgorithm.algorithm} is not MGF1` };
    }
    let mgfHash: string | undefined;
    try {
      mgfHash = HASH_BY_OID[AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm];
    } catch {
      mgfHash = undefined;
    }
    if (mgfHash !== hash)
      return { valid: false, reason: 'RSASSA-PSS MGF1 hash differs from the message hash (not supported)' };
    if (params.trailerField !== 1)
      return { valid: false, reason: `RSASSA-PSS trailerField ${params.trailerField} (RFC 4055: must be 1)` };
    saltLength = params.saltLength;
  }
  let ok: boolean;
  try {
    if (known.scheme === 'ecdsa') {
      ok = cryptoVerify(hash!, criDer, { key, dsaEncoding: 'der' }, signature);
    } else if (known.scheme === 'rsa-pss') {
      ok = cryptoVerify(hash!, criDer, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    } else {
      ok = cryptoVerify(hash!, criDer, { key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature);
    }
  } catch (e) {
    return { valid: false, reason: `signature could not be verified: ${(e as Error).message}` };
  }
  return ok
    ? { valid: true }
    : { valid: false, reason: `the ${known.name} signature does not verify with the request's public key` };
}

/** Signature algorithms seen in the wild that the intake refuses, named for the report. */
const UNSUPPORTED_SIGNATURE_NAMES: Record<string, string> = {
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-sha256',
};

function signatureAlgorithmName(oid: string): string {
  const n = CSR_SIGNATURE_ALGORITHMS[oid]?.name ?? UNSUPPORTED_SIGNATURE_NAMES[oid];
  return n ? `${n} (${oid})` : oid;
}

/** The signature algorithm for the report, and whether it is a legacy (SHA-1) one. */
export function signatureAlgorithmText(der: Buffer, oid: string): { text: string; legacy: boolean } {
  const known = CSR_SIGNATURE_ALGORITHMS[oid];
  if (!known) return { text: `${signatureAlgorithmName(oid)}, not supported`, legacy: false };
  if (known.scheme !== 'rsa-pss') return { text: `${known.name} (${oid})`, legacy: known.hash === 'sha1' };
  // RSASSA-PSS carries its hash in the parameters (RFC 4055 3.1).
  let hash: string | undefined;
  try {
    const params = AsnConvert.parse(
      AsnConvert.parse(der, CertificationRequest).signatureAlgorithm.parameters!,
      RsaSaPssParams,
    );
    hash = HASH_BY_OID[params.hashAlgorithm.algorithm];
    return {
      text: `${known.name} with ${hash ?? params.hashAlgorithm.algorithm}, salt ${params.saltLength} (${oid})`,
      legacy: hash === 'sha1',
    };
  } catch {
    return { text: `${known.name} (${oid}), parameters unreadable`, legacy: false };
  }
}
