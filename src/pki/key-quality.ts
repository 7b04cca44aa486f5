/**
 * Public key quality checks for keys the roots certify.
 *
 * CPS 6.1.3: "Subscriber Public Keys are verified according to the procedure set forth in
 *   '3.2.1 Method to Prove Possession of Private Key'" (the signature check is in csr.ts).
 * CPS 6.1.6: "Public Key parameters are generated using the encryption function qualified by
 *   the quality checking." The CA cannot see how a subscriber generated its key, so it checks
 *   the public half against the Baseline Requirements:
 * BR 6.1.5: "Ensure that the modulus size, when encoded, is at least 2048 bits, and; Ensure that
 *   the modulus size, in bits, is evenly divisible by 8." / ECDSA: "a valid point on the NIST
 *   P-256, NIST P-384 or NIST P-521 elliptic curve" (R-3.1 narrows this to P-256 and P-384).
 * BR 6.1.6: "The CA SHALL confirm that the value of the public exponent is an odd number equal to
 *   3 or more ... The modulus SHOULD also have the following characteristics: an odd number, not
 *   the power of a prime, and have no factors smaller than 752" (R-3.1 narrows e to 65537).
 *   ECDSA: "The CA SHOULD confirm the validity of all keys using either the ECC Full Public Key
 *   Validation Routine or the ECC Partial Public Key Validation Routine".
 * BR 6.1.1.3 (4), weak keys the CA SHALL reject: "In the case of ROCA vulnerability, ... keys
 *   identified by the tools available at https://github.com/crocs-muni/roca or equivalent" and
 *   "In the case of Close Primes vulnerability ... weak keys which can be factored within 100
 *   rounds using Fermat's factorization method."
 *
 * Debian weak keys (CVE-2008-0166, BR 6.1.1.3 (4)) are NOT checked here: the check needs the
 * blocklist of fingerprints of the keys the broken OpenSSL generated (Debian's
 * openssl-blacklist package, or the CA/B Forum's Debian-weak-keys repository). Debian removed
 * openssl-blacklist (it is not in Debian 12), no such list is on this machine, and pki/ may not
 * read files; computing the lists means regenerating ~32768 keys per size and architecture.
 * A reported "not checked" is honest; a fake check is not. A blocklist can be passed in later.
 *
 * Pure: BigInt arithmetic and node:crypto createPublicKey only.
 */
import { createPublicKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { ECParameters } from '@peculiar/asn1-ecc';
import { CaError } from '../errors.ts';
import { id_ecPublicKey, id_rsaEncryption, secp256r1, secp384r1, secp521r1, type KeyAlgorithm } from './algorithms.ts';
import { DerError } from './der.ts';
import { readDerChildren, readDerElement } from './pem.ts';

/** One reason a key is refused, with the rule it breaks. */
export interface KeyProblem {
  /** Where the rule comes from, e.g. 'BR 6.1.5 RSA modulus >= 2048' or 'ROCA (CVE-2017-15361)'. */
  rule: string;
  message: string;
}

/** What a SubjectPublicKeyInfo holds, as far as the CA's key types go. */
export interface PublicKeyInfo {
  algorithm: KeyAlgorithm | { kind: 'unsupported'; description: string };
  /** The exact SubjectPublicKeyInfo DER. */
  spki: Buffer;
}

export const RULE_RSA_MIN_SIZE = 'BR 6.1.5 RSA modulus >= 2048';
export const RULE_RSA_SIZE_MULTIPLE_OF_8 = 'BR 6.1.5 RSA modulus size divisible by 8';
export const RULE_RSA_SUPPORTED_SIZE = 'R-3.1 RSA modulus of 2048, 3072 or 4096 bits';
export const RULE_RSA_EXPONENT = 'R-3.1 / BR 6.1.6 RSA public exponent 65537';
export const RULE_RSA_SMALL_FACTORS = 'BR 6.1.6 RSA modulus without small factors';
export const RULE_ROCA = 'ROCA (CVE-2017-15361)';
export const RULE_FERMAT = 'BR 6.1.1.3 close primes (Fermat, 100 rounds)';
export const RULE_EC_CURVE = 'R-3.1 ECDSA curve P-256 or P-384';
export const RULE_EC_POINT = 'BR 6.1.6 ECC public key validation';
export const RULE_EC_POINT_FORM = 'RFC 5480 2.2 uncompressed EC point';
export const RULE_KEY_ALGORITHM = 'R-3.1 key algorithm RSA or ECDSA';
export const RULE_SPKI_ALGORITHM_ENCODING = 'BR 7.1.3.1 SubjectPublicKeyInfo AlgorithmIdentifier encoding';
export const RULE_SPKI_MALFORMED = 'RFC 5280 4.1.2.7 well-formed subjectPublicKeyInfo';

/** BR 7.1.3.1.1 and 7.1.3.1.2: the only AlgorithmIdentifier encodings allowed in an SPKI. */
const SPKI_ALGORITHM_DER: Record<string, string> = {
  rsa: '300d06092a864886f70d0101010500',
  'P-256': '301306072a8648ce3d020106082a8648ce3d030107',
  'P-384': '301006072a8648ce3d020106052b81040022',
};

/** Names for algorithm and curve OIDs we refuse, so the message says what was sent. */
const KNOWN_KEY_ALGORITHMS: Record<string, string> = {
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS key (id-RSASSA-PSS)',
  '1.2.840.10046.2.1': 'Diffie-Hellman',
  '1.2.643.7.1.1.1.1': 'GOST R 34.10-2012 256',
  '1.2.156.10197.1.301': 'SM2',
};
const KNOWN_CURVES: Record<string, string> = {
  [secp256r1]: 'P-256',
  [secp384r1]: 'P-384',
  [secp521r1]: 'P-521',
  '1.3.132.0.10': 'secp256k1',
  '1.2.840.10045.3.1.1': 'P-192',
  '1.3.132.0.33': 'P-224',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
};

/** What the SPKI parse found, before any rule is applied. */
type Analysis =
  | { kind: 'rsa'; spki: Buffer; algorithmDer: Buffer; n: bigint; e: bigint; bits: number }
  | { kind: 'ec'; spki: Buffer; algorithmDer: Buffer; curveOid: string | undefined; curveName: string; point: Buffer }
  | { kind: 'other'; spki: Buffer; oid: string; name: string };

function malformed(message: string, cause?: unknown): CaError {
  return new CaError('PUBLIC_KEY_MALFORMED', `malformed subjectPublicKeyInfo: ${message}`, { cause });
}

/** An ASN.1 INTEGER's two's-complement content octets as a BigInt (X.690 8.3). */
function integerFromBytes(bytes: ArrayBuffer, what: string): bigint {
  const b = Buffer.from(bytes);
  if (b.length === 0) throw malformed(`${what} is an empty INTEGER`);
  if (b[0]! & 0x80) throw malformed(`${what} is negative`);
  return BigInt(`0x${b.toString('hex')}`);
}

export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function analyse(spkiDer: Uint8Array): Analysis {
  const spki = Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength);
  let algorithmDer: Buffer;
  try {
    const outer = readDerElement(spki, 0);
    if (outer.end !== spki.length) throw new DerError(`${spki.length - outer.end} trailing bytes after the SEQUENCE`);
    if (outer.tag !== 0x30) throw new DerError('not a SEQUENCE');
    const children = readDerChildren(spki, outer);
    if (children.length !== 2) throw new DerError(`SEQUENCE has ${children.length} elements, expected 2`);
    algorithmDer = Buffer.from(spki.subarray(children[0]!.start, children[0]!.end));
  } catch (e) {
    if (e instanceof CaError && !(e instanceof DerError)) throw e;
    throw malformed((e as Error).message, e);
  }
  let info: SubjectPublicKeyInfo;
  try {
    info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  } catch (e) {
    throw malformed((e as Error).message, e);
  }
  const oid = info.algorithm.algorithm;
  if (oid === id_rsaEncryption) {
    let key: RSAPublicKey;
    try {
      key = AsnConvert.parse(info.subjectPublicKey, RSAPublicKey);
    } catch (e) {
      throw malformed(`RSAPublicKey: ${(e as Error).message}`, e);
    }
    const n = integerFromBytes(key.modulus, 'RSA modulus');
    const e = integerFromBytes(key.publicExponent, 'RSA public exponent');
    return { kind: 'rsa', spki, algorithmDer, n, e, bits: bitLength(n) };
  }
  if (oid === id_ecPublicKey) {
    let curveOid: string | undefined;
    if (info.algorithm.parameters) {
      try {
        curveOid = AsnConvert.parse(info.algorithm.parameters, ECParameters).namedCurve;
      } catch (e) {
        throw malformed(`ECParameters: ${(e as Error).message}`, e);
      }
    }
    const curveName = curveOid
      ? (KNOWN_CURVES[curveOid] ?? `curve ${curveOid}`)
      : 'explicit or implicit curve parameters';
    return { kind: 'ec', spki, algorithmDer, curveOid, curveName, point: Buffer.from(info.subjectPublicKey) };
  }
  return { kind: 'other', spki, oid, name: KNOWN_KEY_ALGORITHMS[oid] ?? `algorithm ${oid}` };
}

/**
 * The key type of a SubjectPublicKeyInfo. Sizes and curves outside the CA's key types
 * (RSA 2048/3072/4096, ECDSA P-256/P-384) come back as `unsupported` with a description.
 * Throws CaError('PUBLIC_KEY_MALFORMED') when the DER is not a SubjectPublicKeyInfo.
 */
export function describePublicKey(spkiDer: Uint8Array): PublicKeyInfo {
  const a = analyse(spkiDer);
  const spki = Buffer.from(a.spki);
  if (a.kind === 'rsa') {
    if (a.bits === 2048 || a.bits === 3072 || a.bits === 4096) {
      return { algorithm: { kind: 'rsa', modulusBits: a.bits }, spki };
    }
    return { algorithm: { kind: 'unsupported', description: `RSA ${a.bits}-bit` }, spki };
  }
  if (a.kind === 'ec') {
    if (a.curveOid === secp256r1) return { algorithm: { kind: 'ecdsa', curve: 'P-256' }, spki };
    if (a.curveOid === secp384r1) return { algorithm: { kind: 'ecdsa', curve: 'P-384' }, spki };
    return { algorithm: { kind: 'unsupported', description: `ECDSA ${a.curveName}` }, spki };
  }
  return { algorithm: { kind: 'unsupported', description: a.name }, spki };
}

/** Every problem found in the key (empty = acceptable). A malformed SPKI is one problem, not a throw. */
export function checkPublicKeyQuality(spkiDer: Uint8Array): KeyProblem[] {
  let a: Analysis;
  try {
    a = analyse(spkiDer);
  } catch (e) {
    return [{ rule: RULE_SPKI_MALFORMED, message: (e as Error).message }];
  }
  if (a.kind === 'rsa') return checkRsa(a);
  if (a.kind === 'ec') return checkEc(a);
  return [
    {
      rule: RULE_KEY_ALGORITHM,
      message: `${a.name} keys are not accepted; only RSA (2048, 3072, 4096) and ECDSA P-256/P-384`,
    },
  ];
}

function checkRsa(a: Extract<Analysis, { kind: 'rsa' }>): KeyProblem[] {
  const problems: KeyProblem[] = [];
  if (a.algorithmDer.toString('hex') !== SPKI_ALGORITHM_DER.rsa) {
    problems.push({
      rule: RULE_SPKI_ALGORITHM_ENCODING,
      message: `rsaEncryption AlgorithmIdentifier must be encoded as ${SPKI_ALGORITHM_DER.rsa} (NULL parameters, RFC 3279 2.3.1); got ${a.algorithmDer.toString('hex')}`,
    });
  }
  if (a.bits < 2048) {
    problems.push({ rule: RULE_RSA_MIN_SIZE, message: `RSA modulus is ${a.bits} bits; at least 2048 required` });
  }
  if (a.bits % 8 !== 0) {
    problems.push({ rule: RULE_RSA_SIZE_MULTIPLE_OF_8, message: `RSA modulus is ${a.bits} bits, not a multiple of 8` });
  }
  if (a.bits >= 2048 && a.bits % 8 === 0 && a.bits !== 2048 && a.bits !== 3072 && a.bits !== 4096) {
    problems.push({
      rule: RULE_RSA_SUPPORTED_SIZE,
      message: `RSA modulus is ${a.bits} bits; the CA certifies 2048, 3072 or 4096`,
    });
  }
  if (a.e !== 65537n) {
    problems.push({ rule: RULE_RSA_EXPONENT, message: `RSA public exponent is ${a.e}; it must be 65537` });
  }
  if (a.n < 2n) {
    problems.push({ rule: RULE_SPKI_MALFORMED, message: 'RSA modulus is smaller than 2' });
    return problems;
  }
  const factor = smallFactor(a.n);
  if (factor !== undefined) {
    problems.push({
      rule: RULE_RSA_SMALL_FACTORS,
      message: `RSA modulus is divisible by ${factor} (BR 6.1.6: no factors below 752; checked: every prime below 1000)`,
    });
    // A modulus with a small factor is broken whatever else is true; the slower checks add nothing.
    return problems;
  }
  if (hasRocaFingerprint(a.n)) {
    problems.push({
      rule: RULE_ROCA,
      message:
        'RSA modulus has the ROCA fingerprint (Infineon RSALib, Nemec et al. 2017): the private key can be recovered; BR 6.1.1.3 requires rejection',
    });
  }
  const fermat = fermatFactor(a.n, FERMAT_ROUNDS);
  if (fermat) {
    problems.push({
      rule: RULE_FERMAT,
      message: `RSA modulus factors by Fermat's method in ${fermat.round + 1} round(s): its primes are too close together`,
    });
  }
  return problems;
}

function checkEc(a: Extract<Analysis, { kind: 'ec' }>): KeyProblem[] {
  const curve = a.curveOid === secp256r1 ? 'P-256' : a.curveOid === secp384r1 ? 'P-384' : undefined;
  if (!curve) {
    return [{ rule: RULE_EC_CURVE, message: `ECDSA key on ${a.curveName}; only P-256 and P-384 are accepted` }];
  }
  const problems: KeyProblem[] = [];
  if (a.algorithmDer.toString('hex') !== SPKI_ALGORITHM_DER[curve]) {
    problems.push({
      rule: RULE_SPKI_ALGORITHM_ENCODING,
      message: `id-ecPublicKey ${curve} AlgorithmIdentifier must be encoded as ${SPKI_ALGORITHM_DER[curve]}; got ${a.algorithmDer.toString('hex')}`,
    });
  }
  const coordinateBytes = curve === 'P-256' ? 32 : 48;
  if (a.point.length === 1 && a.point[0] === 0x00) {
    problems.push({ rule: RULE_EC_POINT, message: 'EC public key is the point at infinity (identity)' });
    return problems;
  }
  if (a.point[0] !== 0x04 || a.point.length !== 1 + 2 * coordinateBytes) {
    const form =
      a.point[0] === 0x02 || a.point[0] === 0x03 ? 'compressed' : `first octet 0x${(a.point[0] ?? 0).toString(16)}`;
    problems.push({
      rule: RULE_EC_POINT_FORM,
      message: `EC point is not in uncompressed form of ${1 + 2 * coordinateBytes} octets (${form}, ${a.point.length} octets)`,
    });
  }
  // OpenSSL (behind createPublicKey) decodes the point and checks it satisfies the curve
  // equation; P-256 and P-384 have cofactor 1, so on-curve and not infinity is full validation
  // (NIST SP 800-56A 5.6.2.3.3).
  try {
    createPublicKey({ key: a.spki, format: 'der', type: 'spki' });
  } catch (e) {
    problems.push({
      rule: RULE_EC_POINT,
      message: `EC public key is not a valid ${curve} point: ${(e as Error).message}`,
    });
  }
  return problems;
}

/** Primes below 1000 (BR 6.1.6 asks for none below 752; Boulder's goodkey also stops below 1000). */
const SMALL_PRIMES: readonly bigint[] = (() => {
  const out: bigint[] = [];
  for (let i = 2; i < 1000; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++)
      if (i % d === 0) {
        prime = false;
        break;
      }
    if (prime) out.push(BigInt(i));
  }
  return out;
})();

function smallFactor(n: bigint): bigint | undefined {
  for (const p of SMALL_PRIMES) if (n % p === 0n && n !== p) return p;
  return undefined;
}

/**
 * The ROCA fingerprint (Nemec, Sys, Svenda, Klinec, Matyas, CCS 2017, "Return of Coppersmith's
 * Attack"): Infineon RSALib primes have the form k*M + (65537^a mod M) with M a primorial, so for
 * each small prime p of M the modulus N mod p lies in the multiplicative subgroup generated by
 * 65537 mod p. The published detector tests the primes 3..167; a modulus that passes all 38 is
 * marked. An honest random modulus passes by chance with probability about 2^-27.8 (the product
 * of |<65537 mod p>| / (p - 1)); for a CA a false positive only refuses one key, which is the
 * safe side, so the detector's slower discrete-log confirmation is not needed.
 */
const ROCA_PRIMES: readonly number[] = SMALL_PRIMES.map(Number).filter((p) => p >= 3 && p <= 167);

/** For each ROCA prime p, the residues 65537^k mod p. Pure arithmetic, computed once. */
const ROCA_SUBGROUPS: ReadonlyArray<{ p: bigint; members: ReadonlySet<number> }> = ROCA_PRIMES.map((p) => {
  const g = 65537 % p;
  const members = new Set<number>();
  let x = 1;
  do {
    members.add(x);
    x = (x * g) % p;
  } while (x !== 1);
  return { p: BigInt(p), members };
});

/** True when the modulus has the ROCA fingerprint (CVE-2017-15361). */
export function hasRocaFingerprint(n: bigint): boolean {
  for (const { p, members } of ROCA_SUBGROUPS) {
    if (!members.has(Number(n % p))) return false;
  }
  return true;
}

/** BR 6.1.1.3: "factored within 100 rounds using Fermat's factorization method". */
export const FERMAT_ROUNDS = 100;

/** floor(sqrt(n)) by Newton's method from an upper bound. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * Fermat's factorisation for `rounds` steps: a = ceil(sqrt(n)), a+1, …; if a^2 - n is a square
 * b^2 then n = (a - b)(a + b). Finds the factors at once when the primes share their top half.
 * (Same bound and method as Boulder goodkey's checkPrimeFactorsTooClose.)
 */
export function fermatFactor(n: bigint, rounds: number): { p: bigint; q: bigint; round: number } | undefined {
  if (n <= 0n || n % 2n === 0n) return undefined;
  let a = isqrt(n);
  if (a * a < n) a += 1n;
  let b2 = a * a - n;
  for (let round = 0; round < rounds; round++) {
    const b = isqrt(b2);
    if (b * b === b2) {
      const p = a - b;
      const q = a + b;
      if (p > 1n) return { p, q, round };
    }
    // (a+1)^2 - n = a^2 - n + 2a + 1
    b2 += 2n * a + 1n;
    a += 1n;
  }
  return undefined;
}
