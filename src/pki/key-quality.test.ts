import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { checkPrimeSync, createPublicKey, generatePrimeSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { CaError } from '../errors.ts';
import { id_rsaEncryption } from './algorithms.ts';
import {
  RULE_EC_CURVE,
  RULE_EC_POINT,
  RULE_EC_POINT_FORM,
  RULE_FERMAT,
  RULE_KEY_ALGORITHM,
  RULE_ROCA,
  RULE_RSA_EXPONENT,
  RULE_RSA_MIN_SIZE,
  RULE_RSA_SIZE_MULTIPLE_OF_8,
  RULE_RSA_SMALL_FACTORS,
  RULE_RSA_SUPPORTED_SIZE,
  RULE_SPKI_ALGORITHM_ENCODING,
  RULE_SPKI_MALFORMED,
  bitLength,
  checkPublicKeyQuality,
  describePublicKey,
  fermatFactor,
  hasRocaFingerprint,
  isqrt,
} from './key-quality.ts';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'testdata');

let dir: string;
const spkiCache = new Map<string, Buffer>();

function openssl(...args: string[]): Buffer {
  return execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** SPKI DER of a fresh key made by `openssl genpkey` with the given options (cached per name). */
function genSpki(name: string, ...genpkeyArgs: string[]): Buffer {
  const cached = spkiCache.get(name);
  if (cached) return cached;
  openssl('genpkey', ...genpkeyArgs, '-out', `${name}.key`);
  const spki = openssl('pkey', '-in', `${name}.key`, '-pubout', '-outform', 'DER');
  spkiCache.set(name, spki);
  return spki;
}

function unsignedBytes(n: bigint): ArrayBuffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex')).buffer;
}

const NULL_DER = new Uint8Array([0x05, 0x00]).buffer;

/** An rsaEncryption SubjectPublicKeyInfo for (n, e), as BR 7.1.3.1.1 encodes it (NULL parameters). */
function rsaSpki(n: bigint, e = 65537n, parameters: ArrayBuffer | 'absent' = NULL_DER): Buffer {
  const key = new RSAPublicKey({ modulus: unsignedBytes(n), publicExponent: unsignedBytes(e) });
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({
      algorithm: id_rsaEncryption,
      ...(parameters === 'absent' ? {} : { parameters }),
    }),
    subjectPublicKey: AsnConvert.serialize(key),
  });
  return Buffer.from(AsnConvert.serialize(spki));
}

function modulusOf(spki: Buffer): bigint {
  const jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  return BigInt(`0x${Buffer.from(jwk.n!, 'base64url').toString('hex')}`);
}

function rules(spki: Uint8Array): string[] {
  return checkPublicKeyQuality(spki).map((p) => p.rule);
}

function nextPrime(from: bigint): bigint {
  let c = from % 2n === 0n ? from + 1n : from;
  while (!checkPrimeSync(c)) c += 2n;
  return c;
}

/** Two 1024-bit primes q - p ≈ gap, so that n = p*q is exactly 2048 bits. */
function primePair(gap: bigint): { p: bigint; q: bigint; n: bigint } {
  for (;;) {
    const p = generatePrimeSync(1024, { bigint: true });
    const q = nextPrime(p + gap);
    const n = p * q;
    if (bitLength(n) === 2048) return { p, q, n };
  }
}

/** Replaces the subjectPublicKey BIT STRING content of an SPKI (for broken EC points). */
function withPoint(spki: Buffer, point: Buffer): Buffer {
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  info.subjectPublicKey = new Uint8Array(point).buffer;
  return Buffer.from(AsnConvert.serialize(info));
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rootca-key-quality-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('describePublicKey', () => {
  const cases: { name: string; spki: () => Buffer; expect: unknown }[] = [
    {
      name: 'RSA 2048',
      spki: () => genSpki('rsa2048', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'),
      expect: { kind: 'rsa', modulusBits: 2048 },
    },
    {
      name: 'RSA 3072',
      spki: () => genSpki('rsa3072', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'),
      expect: { kind: 'rsa', modulusBits: 3072 },
    },
    {
      name: 'P-256',
      spki: () => genSpki('p256', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'),
      expect: { kind: 'ecdsa', curve: 'P-256' },
    },
    {
      name: 'P-384',
      spki: () => genSpki('p384', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'),
      expect: { kind: 'ecdsa', curve: 'P-384' },
    },
    {
      name: 'RSA 1024',
      spki: () => genSpki('rsa1024', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'),
      expect: { kind: 'unsupported', description: 'RSA 1024-bit' },
    },
    {
      name: 'P-521',
      spki: () => genSpki('p521', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'),
      expect: { kind: 'unsupported', description: 'ECDSA P-521' },
    },
    {
      name: 'Ed25519',
      spki: () => genSpki('ed25519', '-algorithm', 'ED25519'),
      expect: { kind: 'unsupported', description: 'Ed25519' },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const spki = c.spki();
      const info = describePublicKey(spki);
      assert.deepEqual(info.algorithm, c.expect);
      assert.deepEqual(info.spki, spki);
    });
  }
  test('garbage is PUBLIC_KEY_MALFORMED', () => {
    assert.throws(
      () => describePublicKey(Buffer.from('not a key')),
      (e: unknown) => e instanceof CaError && e.code === 'PUBLIC_KEY_MALFORMED',
    );
    const good = genSpki('rsa2048', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048');
    assert.throws(() => describePublicKey(Buffer.concat([good, Buffer.from([0])])), /trailing/);
    assert.throws(() => describePublicKey(good.subarray(0, good.length - 1)), /truncated/);
  });
});

describe('checkPublicKeyQuality: acceptable keys have no problem', () => {
  const cases: [string, () => Buffer][] = [
    ['RSA 2048 (openssl)', () => genSpki('rsa2048', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048')],
    ['RSA 3072 (openssl)', () => genSpki('rsa3072', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072')],
    ['RSA 4096 (openssl)', () => genSpki('rsa4096', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096')],
    ['P-256 (openssl)', () => genSpki('p256', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256')],
    ['P-384 (openssl)', () => genSpki('p384', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384')],
    [
      'RSA 2048 rebuilt by rsaSpki() (BR 7.1.3.1.1 encoding)',
      () => rsaSpki(modulusOf(genSpki('rsa2048', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'))),
    ],
  ];
  for (const [name, spki] of cases) {
    test(name, () => {
      assert.deepEqual(checkPublicKeyQuality(spki()), []);
    });
  }
});

describe('checkPublicKeyQuality: refused keys name the rule', () => {
  const smallFactorModulus = (): bigint => {
    // 751 * m with m odd and free of primes below 751, so 751 is the factor found; 2048 bits.
    let m = (1n << 2047n) / 751n + 1n;
    if (m % 2n === 0n) m += 1n;
    const hasSmall = (x: bigint) => {
      for (let d = 3n; d < 751n; d += 2n) if (x % d === 0n) return true;
      return false;
    };
    while (hasSmall(m)) m += 2n;
    return 751n * m;
  };
  const cases: { name: string; spki: () => Buffer; rule: string; message?: RegExp }[] = [
    {
      name: 'RSA 1024',
      spki: () => genSpki('rsa1024', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'),
      rule: RULE_RSA_MIN_SIZE,
      message: /1024 bits/,
    },
    {
      name: 'RSA 2050 (not a multiple of 8)',
      spki: () => genSpki('rsa2050', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2050'),
      rule: RULE_RSA_SIZE_MULTIPLE_OF_8,
    },
    {
      name: 'RSA 2056 (BR-valid size the CA does not certify)',
      spki: () => genSpki('rsa2056', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2056'),
      rule: RULE_RSA_SUPPORTED_SIZE,
    },
    {
      name: 'RSA e=3',
      spki: () =>
        genSpki('rsa-e3', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3'),
      rule: RULE_RSA_EXPONENT,
      message: /exponent is 3\b/,
    },
    {
      name: 'RSA e=65539',
      spki: () =>
        rsaSpki(modulusOf(genSpki('rsa2048', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048')), 65539n),
      rule: RULE_RSA_EXPONENT,
    },
    {
      name: 'RSA modulus with factor 751',
      spki: () => rsaSpki(smallFactorModulus()),
      rule: RULE_RSA_SMALL_FACTORS,
      message: /divisible by 751\b/,
    },
    {
      name: 'RSA even modulus',
      spki: () => rsaSpki((1n << 2047n) + 2n),
      rule: RULE_RSA_SMALL_FACTORS,
      message: /divisible by 2\b/,
    },
    { name: 'RSA close primes (|p-q| ~ 2^500)', spki: () => rsaSpki(primePair(1n << 500n).n), rule: RULE_FERMAT },
    { name: 'RSA ROCA 2048 (crocs-muni/roca mod03)', spki: () => rsaSpki(rocaModulus('roca-2048')), rule: RULE_ROCA },
    { name: 'RSA ROCA 4096 (crocs-muni/roca mod09)', spki: () => rsaSpki(rocaModulus('roca-4096')), rule: RULE_ROCA },
    {
      name: 'RSA without NULL parameters',
      spki: () =>
        rsaSpki(
          modulusOf(genSpki('rsa2048', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048')),
          65537n,
          'absent',
        ),
      rule: RULE_SPKI_ALGORITHM_ENCODING,
    },
    {
      name: 'P-521',
      spki: () => genSpki('p521', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'),
      rule: RULE_EC_CURVE,
      message: /P-521/,
    },
    {
      name: 'secp256k1',
      spki: () => genSpki('k256', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'),
      rule: RULE_EC_CURVE,
      message: /secp256k1/,
    },
    {
      name: 'P-256 point off the curve',
      spki: () => offCurve(genSpki('p256', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256')),
      rule: RULE_EC_POINT,
      message: /not a valid P-256 point/,
    },
    {
      name: 'P-384 point off the curve',
      spki: () => offCurve(genSpki('p384', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384')),
      rule: RULE_EC_POINT,
    },
    {
      name: 'P-256 point at infinity',
      spki: () =>
        withPoint(genSpki('p256', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'), Buffer.from([0])),
      rule: RULE_EC_POINT,
      message: /infinity/,
    },
    { name: 'P-256 compressed point', spki: () => compressed('p256'), rule: RULE_EC_POINT_FORM, message: /compressed/ },
    {
      name: 'Ed25519',
      spki: () => genSpki('ed25519', '-algorithm', 'ED25519'),
      rule: RULE_KEY_ALGORITHM,
      message: /Ed25519/,
    },
    { name: 'Ed448', spki: () => genSpki('ed448', '-algorithm', 'ED448'), rule: RULE_KEY_ALGORITHM, message: /Ed448/ },
    {
      name: 'RSASSA-PSS key',
      spki: () => genSpki('rsapss', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'),
      rule: RULE_KEY_ALGORITHM,
      message: /RSASSA-PSS/,
    },
    { name: 'garbage', spki: () => Buffer.from('30030201ff', 'hex'), rule: RULE_SPKI_MALFORMED },
    { name: 'negative RSA modulus', spki: () => negativeModulus(), rule: RULE_SPKI_MALFORMED, message: /negative/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const problems = checkPublicKeyQuality(c.spki());
      const hit = problems.find((p) => p.rule === c.rule);
      assert.ok(hit, `expected rule "${c.rule}", got ${JSON.stringify(problems)}`);
      if (c.message) assert.match(hit.message, c.message);
    });
  }

  function offCurve(spki: Buffer): Buffer {
    const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
    const point = Buffer.from(info.subjectPublicKey);
    point[point.length - 1] ^= 0x01; // y + 1 (or - 1) is not on the curve for the same x
    return withPoint(spki, point);
  }
  function compressed(name: string): Buffer {
    genSpki(name, '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256');
    return openssl('ec', '-in', `${name}.key`, '-pubout', '-outform', 'DER', '-conv_form', 'compressed');
  }
  function negativeModulus(): Buffer {
    const key = new RSAPublicKey({
      modulus: new Uint8Array([0x80, 1, 2, 3]).buffer,
      publicExponent: unsignedBytes(65537n),
    });
    const spki = new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: id_rsaEncryption, parameters: NULL_DER }),
      subjectPublicKey: AsnConvert.serialize(key),
    });
    return Buffer.from(AsnConvert.serialize(spki));
  }
});

function rocaModulus(name: string): bigint {
  return BigInt(`0x${readFileSync(join(TESTDATA, 'roca', `${name}.modulus.hex`), 'utf8').trim()}`);
}

describe('ROCA fingerprint', () => {
  test('published positive samples are marked; honest openssl keys are not', () => {
    assert.equal(hasRocaFingerprint(rocaModulus('roca-2048')), true);
    assert.equal(hasRocaFingerprint(rocaModulus('roca-4096')), true);
    for (const name of ['rsa2048', 'rsa3072', 'rsa4096']) {
      const spki =
        spkiCache.get(name) ?? genSpki(name, '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${name.slice(3)}`);
      assert.equal(hasRocaFingerprint(modulusOf(spki)), false, name);
    }
  });
  test('a modulus built the RSALib way, (k*M + 65537^a mod M)(l*M + 65537^b mod M), is marked', () => {
    // M: the primorial of the primes up to 167, as in the paper's 512-bit-key construction.
    let M = 1n;
    for (let p = 2n; p <= 167n; p++) if (checkPrimeSync(p)) M *= p;
    const pow = (g: bigint, e: bigint, m: bigint) => {
      let r = 1n;
      let b = g % m;
      for (let x = e; x > 0n; x >>= 1n) {
        if (x & 1n) r = (r * b) % m;
        b = (b * b) % m;
      }
      return r;
    };
    const n = (12345n * M + pow(65537n, 1000003n, M)) * (67891n * M + pow(65537n, 7777777n, M));
    assert.equal(hasRocaFingerprint(n), true);
    // One step off the structure is not marked.
    assert.equal(hasRocaFingerprint(n + 2n), false);
  });
});

describe('Fermat factorisation', () => {
  test('isqrt', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, (1n << 200n) - 1n, 1n << 200n, 12345678901234567890n ** 3n]) {
      const r = isqrt(n);
      assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n, `isqrt(${n})`);
    }
  });
  test('close primes are factored, far primes are not (100 rounds)', () => {
    const close = primePair(1n << 500n);
    const found = fermatFactor(close.n, 100);
    assert.ok(found);
    assert.equal(found.p * found.q, close.n);
    assert.deepEqual([found.p, found.q].sort(), [close.p, close.q].sort());
    const far = primePair(1n << 600n);
    assert.equal(fermatFactor(far.n, 100), undefined);
    assert.equal(rules(rsaSpki(far.n)).includes(RULE_FERMAT), false);
  });
  test('a square (p = q) is found in round 0', () => {
    const p = generatePrimeSync(1024, { bigint: true });
    assert.equal(fermatFactor(p * p, 100)?.round, 0);
  });
});
