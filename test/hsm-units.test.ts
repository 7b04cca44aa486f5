/**
 * Small pieces of the pkcs11 store checked without a token: the ECDSA r||s -> DER conversion
 * against node:crypto over many signatures (so leading zeros and high bits occur), PIN
 * generation, the share round trip, and the ceremony file's key-store section.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import { CaError } from '../src/errors.ts';
import { createCredential, unlockCredential } from '../src/keys/credential.ts';
import { ecdsaRawToDer } from '../src/keys/pkcs11-keys.ts';
import { generatePin, recoverFromCustodians, splitToCustodians } from '../src/keys/pkcs11-shares.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './helpers.ts';

describe('ECDSA raw r||s to DER (RFC 3279 2.2.3)', () => {
  for (const [curve, size, hash] of [
    ['P-256', 32, 'sha256'],
    ['P-384', 48, 'sha384'],
  ] as const) {
    it(`${curve}: 300 signatures convert to DER that node verifies, byte-equal to node's own DER`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      let shortR = 0;
      for (let i = 0; i < 300; i++) {
        const data = Buffer.from(`message ${i}`);
        const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = ecdsaRawToDer(raw, size);
        assert.ok(verify(hash, data, { key: publicKey, dsaEncoding: 'der' }, der), `signature ${i}`);
        assert.ok(verify(hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw));
        if (raw[0]! < 0x80) shortR++;
      }
      assert.ok(shortR > 0 && shortR < 300, 'both high-bit and low-bit r occurred');
    });
  }
  it('refuses a signature of the wrong length', () => {
    assert.throws(
      () => ecdsaRawToDer(Buffer.alloc(63), 32),
      (e: unknown) => e instanceof CaError && e.code === 'TOKEN_SIGNATURE_INVALID',
    );
  });
});

describe('PINs and their M-of-N shares', () => {
  const people = ['ann', 'ben', 'cat'].map((n) => ({
    n,
    c: createCredential(n, 'ed25519', Buffer.from(`${n} passphrase`), { scryptLog2N: 10 }),
  }));
  it('a generated PIN is 32 characters of a 32-letter alphabet, different each time', () => {
    const a = generatePin().toString('latin1');
    assert.match(a, /^[A-HJ-NP-Z2-9]{32}$/);
    assert.notEqual(a, generatePin().toString('latin1'));
  });
  it('any 2 of 3 rebuild it; 1 does not; a share is bound to its context', async () => {
    const pin = generatePin();
    const shares = await splitToCustodians(
      pin,
      'ctx A',
      2,
      people.map((p) => ({ name: p.n, encryptionPublicKey: p.c.encryptionPublicKey })),
    );
    const open = (names: string[]) =>
      people
        .filter((p) => names.includes(p.n))
        .map((p) => unlockCredential(p.n, p.c, Buffer.from(`${p.n} passphrase`)));
    assert.deepEqual(await recoverFromCustodians('ctx A', 2, shares, open(['ann', 'cat'])), pin);
    await assert.rejects(
      () => recoverFromCustodians('ctx A', 2, shares, open(['ben'])),
      (e: unknown) => e instanceof CaError && e.code === 'QUORUM_NOT_MET',
    );
    await assert.rejects(
      () => recoverFromCustodians('ctx B', 2, shares, open(['ann', 'ben'])),
      (e: unknown) => e instanceof CaError && e.code === 'SHARE_WRONG_KEY',
    );
    await assert.rejects(
      () =>
        splitToCustodians(
          pin,
          'ctx',
          1,
          people.map((p) => ({ name: p.n, encryptionPublicKey: p.c.encryptionPublicKey })),
        ),
      (e: unknown) => e instanceof CaError && e.code === 'THRESHOLD_TOO_LOW',
    );
  });
});

describe('the key-store section of a ceremony file', () => {
  const base = readFileSync(join(REPO, 'ceremonies', 'ecc-rootca1-hsm.yaml'), 'utf8');
  const parse = (text: string) => parseRootCeremony(Buffer.from(text), 'x.yaml');
  const refused = (text: string, message: RegExp) =>
    assert.throws(
      () => parse(text),
      (e: unknown) => e instanceof CaError && e.code === 'CEREMONY_FILE_INVALID' && message.test(e.message),
    );
  it('the shipped example parses', () => {
    const c = parse(base).config;
    assert.equal(c.key.store, 'pkcs11');
    assert.deepEqual(c.key.pkcs11, {
      module: '/usr/lib/softhsm/libsofthsm2.so',
      token: 'rootca-primary',
      keyLabel: 'ecc-rootca1-2026',
      backupTokens: ['rootca-backup'],
    });
  });
  it('refuses a PIN in the file, a missing pkcs11 section, a pkcs11 section on the soft store, and the primary as its own backup', () => {
    refused(base.replace('    keyLabel:', '    pin: "1234"\n    keyLabel:'), /pin/);
    refused(base.replace(/ {2}pkcs11:\n( {4}.*\n)+/, ''), /required for store pkcs11/);
    refused(base.replace('store: pkcs11', 'store: soft'), /only for store pkcs11/);
    refused(base.replace('backupTokens: [rootca-backup]', 'backupTokens: [rootca-primary]'), /names the primary token/);
    refused(base.replace('module: /usr/lib/softhsm/libsofthsm2.so', 'module: libsofthsm2.so'), /absolute path/);
  });
});
