import { id_ecPublicKey, secp256r1, secp384r1 } from '../pki/algorithms.ts';
import { ALL_PROFILES, bigintOf, defineLint, toBytes } from './support.ts';
import { namedCurveOf } from './e_spki_algorithm_encoding.ts';

interface CurveParams {
  name: string;
  bytes: number;
  p: bigint;
  b: bigint;
}

/** NIST P-256 and P-384 (FIPS 186-4 D.1.2.3, D.1.2.4); a = -3 for both. Both have cofactor 1. */
export const ALLOWED_CURVES: Record<string, CurveParams> = {
  [secp256r1]: {
    name: 'P-256',
    bytes: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  [secp384r1]: {
    name: 'P-384',
    bytes: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
};

/**
 * "the key must meet minimum strength (RSA >= 2048 with e = 65537, P-256/P-384)" (CPS 6.1.5).
 * BR 6.1.6: "ECDSA: The CA SHOULD confirm the validity of all keys using either the ECC Full
 * Public Key Validation Routine or the ECC Partial Public Key Validation Routine." With cofactor 1
 * the partial routine (coordinates in range, point on the curve) is the full one.
 */
export const e_ec_public_key_curve = defineLint(
  {
    name: 'e_ec_public_key_curve',
    description: 'An EC key is on P-256 or P-384 and its point is a valid point of that curve.',
    citation: 'R-3.1: "the key must meet minimum strength (RSA >= 2048 with e = 65537, P-256/P-384)"',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const spki = cert.tbsCertificate.subjectPublicKeyInfo;
    if (spki.algorithm.algorithm !== id_ecPublicKey) return;
    const curveOid = namedCurveOf(spki.algorithm);
    const curve = curveOid ? ALLOWED_CURVES[curveOid] : undefined;
    if (!curve) {
      report.error(`EC curve ${curveOid ?? '(not a named curve)'} is not allowed; only P-256 and P-384 are`);
      return;
    }
    const point = toBytes(spki.subjectPublicKey);
    if (point[0] === 0x02 || point[0] === 0x03) {
      report.warning(`${curve.name} public key uses the compressed point form; it is not validated here`);
      return;
    }
    if (point[0] !== 0x04 || point.length !== 1 + 2 * curve.bytes) {
      report.error(`${curve.name} public key is not an uncompressed point of ${1 + 2 * curve.bytes} octets`);
      return;
    }
    const x = bigintOf(point.subarray(1, 1 + curve.bytes));
    const y = bigintOf(point.subarray(1 + curve.bytes));
    const { p, b } = curve;
    if (x >= p || y >= p) {
      report.error(`${curve.name} public key coordinates are not reduced modulo p`);
      return;
    }
    const lhs = (y * y) % p;
    const rhs = (((x * x * x - 3n * x + b) % p) + p) % p;
    if (lhs !== rhs) report.error(`${curve.name} public key point is not on the curve`);
  },
);
