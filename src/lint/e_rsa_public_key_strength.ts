import { AsnConvert } from '@peculiar/asn1-schema';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { id_rsaEncryption } from '../pki/algorithms.ts';
import { ALL_PROFILES, bigintOf, bitLength, defineLint } from './support.ts';

export const RSA_MIN_MODULUS_BITS = 2048;
export const RSA_REQUIRED_EXPONENT = 65537n;

/** Odd primes below 752 (BR 6.1.6: "have no factors smaller than 752"). */
const SMALL_PRIMES: bigint[] = (() => {
  const out: bigint[] = [];
  for (let n = 3; n < 752; n += 2) {
    let prime = true;
    for (let d = 3; d * d <= n; d += 2)
      if (n % d === 0) {
        prime = false;
        break;
      }
    if (prime) out.push(BigInt(n));
  }
  return out;
})();

/**
 * "the key must meet minimum strength (RSA >= 2048 with e = 65537, P-256/P-384)".
 * BR 6.1.5: the modulus size "is at least 2048 bits" and "in bits, is evenly divisible by 8".
 * BR 6.1.6: the modulus "SHOULD also have the following characteristics: an odd number, not the
 * power of a prime, and have no factors smaller than 752".
 */
export const e_rsa_public_key_strength = defineLint(
  {
    name: 'e_rsa_public_key_strength',
    description:
      'An RSA key has a modulus of at least 2048 bits (a multiple of 8, odd, no factor below 752) and exponent 65537.',
    citation: 'R-3.1: "the key must meet minimum strength (RSA >= 2048 with e = 65537, P-256/P-384)"',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const spki = cert.tbsCertificate.subjectPublicKeyInfo;
    if (spki.algorithm.algorithm !== id_rsaEncryption) return;
    let key: RSAPublicKey;
    try {
      key = AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey);
    } catch (e) {
      report.error(`RSA public key cannot be decoded: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const n = bigintOf(key.modulus);
    const e = bigintOf(key.publicExponent);
    const bits = bitLength(n);
    if (bits < RSA_MIN_MODULUS_BITS)
      report.error(`RSA modulus is ${bits} bits; at least ${RSA_MIN_MODULUS_BITS} are required`);
    if (bits % 8 !== 0) report.error(`RSA modulus is ${bits} bits, not a multiple of 8 (BR 6.1.5)`);
    if (e !== RSA_REQUIRED_EXPONENT) report.error(`RSA public exponent is ${e}; it must be 65537`);
    if (n % 2n === 0n) {
      report.error('RSA modulus is even (BR 6.1.6)');
    } else {
      const factor = SMALL_PRIMES.find((p) => n % p === 0n);
      if (factor !== undefined)
        report.error(`RSA modulus has the small factor ${factor} (BR 6.1.6: no factors smaller than 752)`);
    }
  },
);
