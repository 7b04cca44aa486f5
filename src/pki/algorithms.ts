/**
 * Key and signature algorithms the CAs use (CPS 6.1.5, Table 6.1-1) and their OIDs.
 * Pure data: no crypto here, so `keys/` and `pki/` agree on one spelling.
 */

/** A CA or subscriber key type. */
export type KeyAlgorithm =
  | { kind: 'rsa'; modulusBits: 2048 | 3072 | 4096 }
  | { kind: 'ecdsa'; curve: 'P-256' | 'P-384' };

/** Signature algorithms by their RFC 3279/4055/5758 names. */
export type SignatureAlgorithmName =
  | 'sha1WithRSAEncryption'
  | 'sha256WithRSAEncryption'
  | 'sha384WithRSAEncryption'
  | 'sha512WithRSAEncryption'
  | 'ecdsa-with-SHA256'
  | 'ecdsa-with-SHA384';

export interface SignatureAlgorithmInfo {
  name: SignatureAlgorithmName;
  oid: string;
  /** Hash name as node:crypto spells it. */
  hash: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  keyKind: 'rsa' | 'ecdsa';
  /** RFC 4055 2.1 / RFC 3279 2.2.1: RSA AlgorithmIdentifiers carry NULL parameters; RFC 5758 3.2: ECDSA ones omit them. */
  nullParameters: boolean;
  /** SHA-1 is legacy only. */
  legacy: boolean;
}

export const SIGNATURE_ALGORITHMS: Record<SignatureAlgorithmName, SignatureAlgorithmInfo> = {
  sha1WithRSAEncryption: {
    name: 'sha1WithRSAEncryption',
    oid: '1.2.840.113549.1.1.5',
    hash: 'sha1',
    keyKind: 'rsa',
    nullParameters: true,
    legacy: true,
  },
  sha256WithRSAEncryption: {
    name: 'sha256WithRSAEncryption',
    oid: '1.2.840.113549.1.1.11',
    hash: 'sha256',
    keyKind: 'rsa',
    nullParameters: true,
    legacy: false,
  },
  sha384WithRSAEncryption: {
    name: 'sha384WithRSAEncryption',
    oid: '1.2.840.113549.1.1.12',
    hash: 'sha384',
    keyKind: 'rsa',
    nullParameters: true,
    legacy: false,
  },
  sha512WithRSAEncryption: {
    name: 'sha512WithRSAEncryption',
    oid: '1.2.840.113549.1.1.13',
    hash: 'sha512',
    keyKind: 'rsa',
    nullParameters: true,
    legacy: false,
  },
  'ecdsa-with-SHA256': {
    name: 'ecdsa-with-SHA256',
    oid: '1.2.840.10045.4.3.2',
    hash: 'sha256',
    keyKind: 'ecdsa',
    nullParameters: false,
    legacy: false,
  },
  'ecdsa-with-SHA384': {
    name: 'ecdsa-with-SHA384',
    oid: '1.2.840.10045.4.3.3',
    hash: 'sha384',
    keyKind: 'ecdsa',
    nullParameters: false,
    legacy: false,
  },
};

export function signatureAlgorithmByOid(oid: string): SignatureAlgorithmInfo | undefined {
  return Object.values(SIGNATURE_ALGORITHMS).find((a) => a.oid === oid);
}

export const id_rsaEncryption = '1.2.840.113549.1.1.1';
export const id_ecPublicKey = '1.2.840.10045.2.1';
export const secp256r1 = '1.2.840.10045.3.1.7';
export const secp384r1 = '1.3.132.0.34';
export const secp521r1 = '1.3.132.0.35';

/** Which key a signature algorithm needs, as text for error messages. */
export function describeKeyAlgorithm(k: KeyAlgorithm): string {
  return k.kind === 'rsa' ? `RSA ${k.modulusBits}` : `ECDSA ${k.curve}`;
}
