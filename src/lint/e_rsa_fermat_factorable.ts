import { AsnConvert } from '@peculiar/asn1-schema';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { id_rsaEncryption } from '../pki/algorithms.ts';
import { ALL_PROFILES, bigintOf, defineLint } from './support.ts';

/** Fermat rounds, as Boulder's goodkey uses: catches primes that share their top ~half bits. */
export const FERMAT_ROUNDS = 100;

/** Floor of the square root of a non-negative BigInt (Newton's method). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Returns a factor pair found by Fermat's method within `rounds`, or undefined. */
export function fermatFactor(n: bigint, rounds: number = FERMAT_ROUNDS): [bigint, bigint] | undefined {
  let a = isqrt(n);
  if (a * a === n) return [a, a];
  a += 1n;
  let b2 = a * a - n;
  for (let i = 0; i < rounds; i++) {
    const b = isqrt(b2);
    if (b * b === b2) return [a - b, a + b];
    b2 += 2n * a + 1n;
    a += 1n;
  }
  return undefined;
}

/**
 * "the key must meet minimum strength (RSA >= 2048 with e = 65537, P-256/P-384) and must
 * not be a known-weak key." An RSA modulus whose primes are too close
 * together falls to Fermat's factorization in a few rounds (CVE-2022-26320; Boulder goodkey
 * checkPrimeFactorsTooClose).
 */
export const e_rsa_fermat_factorable = defineLint(
  {
    name: 'e_rsa_fermat_factorable',
    description: `An RSA modulus does not factor by Fermat's method within ${FERMAT_ROUNDS} rounds (primes too close together).`,
    citation:
      'R-3.1: "the key must meet minimum strength (RSA >= 2048 with e = 65537, P-256/P-384) and must not be a known-weak key."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const spki = cert.tbsCertificate.subjectPublicKeyInfo;
    if (spki.algorithm.algorithm !== id_rsaEncryption) return;
    let n: bigint;
    try {
      n = bigintOf(AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey).modulus);
    } catch {
      return; // e_rsa_public_key_strength reports an undecodable key
    }
    if (n < 4n) return;
    if (fermatFactor(n))
      report.error("RSA modulus factors by Fermat's method: its primes are too close together (known-weak key)");
  },
);
