import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import {
  checkPassphrasePolicy,
  createCredential,
  unlockCredential,
  verifyCredentialSignature,
  type CredentialKind,
} from './credential.ts';
import { openWithPassphrase, openWithPrivateKey, sealToPublicKey, sealWithPassphrase } from './sealed-box.ts';
import { wipe } from './wipe.ts';

const FAST = { scryptLog2N: 14 };
const enc = (s: string) => Buffer.from(s, 'utf8');
const KINDS: CredentialKind[] = ['ed25519', 'p256'];

function code(c: string) {
  return (e: unknown) => {
    assert.ok(e instanceof CaError, `expected CaError, got ${String(e)}`);
    assert.equal(e.code, c, e.message);
    return true;
  };
}

function flipByte(b: Uint8Array, at: number): Buffer {
  const copy = Buffer.from(b);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

/** Recipients the sealed box accepts, with a matching private key. */
const RECIPIENTS: { name: string; make: () => { publicKey: KeyObject; privateKey: KeyObject } }[] = [
  { name: 'X25519', make: () => generateKeyPairSync('x25519') },
  { name: 'P-256', make: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
];

describe('wipe', () => {
  it('zeroes every buffer and skips missing ones', () => {
    const a = Buffer.from('secret');
    const b = new Uint8Array([1, 2, 3]);
    wipe(a, undefined, b, null);
    assert.deepEqual([...a], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...b], [0, 0, 0]);
  });
});

describe('R-6.3 sealed box to a custodian public key', () => {
  for (const r of RECIPIENTS) {
    describe(r.name, () => {
      const { publicKey, privateKey } = r.make();
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      const aad = enc('rootca-share|alice');
      const secret = enc('a share of a KEK');

      it('round-trips and is randomized', () => {
        const a = sealToPublicKey(spki, secret, aad);
        const b = sealToPublicKey(spki, secret, aad);
        assert.notDeepEqual(a, b);
        assert.deepEqual(openWithPrivateKey(privateKey, a, aad), secret);
        assert.deepEqual(openWithPrivateKey(privateKey, b, aad), secret);
        assert.equal(a.includes(secret), false);
      });

      it('rejects any flipped byte (header, ephemeral key, iv, tag, ciphertext)', () => {
        const sealed = sealToPublicKey(spki, secret, aad);
        for (let at = 0; at < sealed.length; at++) {
          assert.throws(
            () => openWithPrivateKey(privateKey, flipByte(sealed, at), aad),
            code('SEALED_BOX_INVALID'),
            `byte ${at}`,
          );
        }
      });

      it('rejects other associated data, a truncated box and another recipient', () => {
        const sealed = sealToPublicKey(spki, secret, aad);
        assert.throws(
          () => openWithPrivateKey(privateKey, sealed, enc('rootca-share|bob')),
          code('SEALED_BOX_INVALID'),
        );
        assert.throws(
          () => openWithPrivateKey(privateKey, sealed.subarray(0, sealed.length - 1), aad),
          code('SEALED_BOX_INVALID'),
        );
        assert.throws(() => openWithPrivateKey(privateKey, sealed.subarray(0, 10), aad), code('SEALED_BOX_INVALID'));
        assert.throws(() => openWithPrivateKey(r.make().privateKey, sealed, aad), code('SEALED_BOX_INVALID'));
      });
    });
  }

  it('does not open with a key of the other kind', () => {
    const x = generateKeyPairSync('x25519');
    const p = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sealed = sealToPublicKey(x.publicKey.export({ type: 'spki', format: 'der' }), enc('s'), enc(''));
    assert.throws(() => openWithPrivateKey(p.privateKey, sealed, enc('')), code('SEALED_BOX_INVALID'));
  });

  const unsupported: [string, () => KeyObject][] = [
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey],
    ['Ed25519', () => generateKeyPairSync('ed25519').publicKey],
  ];
  for (const [name, make] of unsupported) {
    it(`refuses a ${name} recipient`, () => {
      assert.throws(
        () => sealToPublicKey(make().export({ type: 'spki', format: 'der' }), enc('s'), enc('')),
        code('SEALED_BOX_UNSUPPORTED_KEY'),
      );
    });
  }
});

describe('passphrase sealing (scrypt + AES-256-GCM)', () => {
  const pass = enc('correct horse battery staple');
  const aad = enc('rootca-credential|alice');
  const secret = enc('two PKCS#8 keys');

  it('round-trips, is randomized, and records its scrypt cost', () => {
    const a = sealWithPassphrase(pass, secret, aad, FAST);
    const b = sealWithPassphrase(pass, secret, aad, FAST);
    assert.notDeepEqual(a, b);
    assert.equal(a[2], 14, 'log2 N stored in the header');
    assert.deepEqual(openWithPassphrase(pass, a, aad), secret);
  });

  it('uses N = 2^17 by default (within the scrypt memory limit)', () => {
    const sealed = sealWithPassphrase(pass, secret, aad);
    assert.equal(sealed[2], 17);
    assert.deepEqual(openWithPassphrase(pass, sealed, aad), secret);
  });

  it('reports a wrong passphrase, other AAD or a flipped byte as WRONG_PASSPHRASE', () => {
    const sealed = sealWithPassphrase(pass, secret, aad, FAST);
    assert.throws(() => openWithPassphrase(enc('correct horse battery stapl3'), sealed, aad), code('WRONG_PASSPHRASE'));
    assert.throws(() => openWithPassphrase(pass, sealed, enc('rootca-credential|bob')), code('WRONG_PASSPHRASE'));
    // salt (5..20), iv, tag and ciphertext; bytes 0..4 are parameters, checked below
    for (const at of [5, 20, 21, 33, 34, 49, sealed.length - 1]) {
      assert.throws(() => openWithPassphrase(pass, flipByte(sealed, at), aad), code('WRONG_PASSPHRASE'), `byte ${at}`);
    }
  });

  it('rejects unknown versions and unreasonable parameters as SEALED_BOX_INVALID', () => {
    const sealed = sealWithPassphrase(pass, secret, aad, FAST);
    const cases: [string, number, number][] = [
      ['version', 0, 9],
      ['kdf', 1, 9],
      ['log2N too high', 2, 30],
      ['log2N too low', 2, 1],
      ['r = 0', 3, 0],
      ['p = 0', 4, 0],
    ];
    for (const [name, at, value] of cases) {
      const bad = Buffer.from(sealed);
      bad[at] = value;
      assert.throws(() => openWithPassphrase(pass, bad, aad), code('SEALED_BOX_INVALID'), name);
    }
    assert.throws(() => openWithPassphrase(pass, sealed.subarray(0, 40), aad), code('SEALED_BOX_INVALID'));
  });

  it('refuses a scrypt cost outside 2^10..2^20', () => {
    assert.throws(() => sealWithPassphrase(pass, secret, aad, { scryptLog2N: 8 }), code('INVALID_ARGUMENT'));
    assert.throws(() => sealWithPassphrase(pass, secret, aad, { scryptLog2N: 24 }), code('INVALID_ARGUMENT'));
  });

  it('does not contain the PKCS#8 it seals', () => {
    const pkcs8 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' });
    const sealed = sealWithPassphrase(pass, pkcs8, aad, FAST);
    assert.equal(sealed.includes(pkcs8), false);
    assert.equal(sealed.includes(pkcs8.subarray(-32)), false, 'the raw Ed25519 seed');
  });
});

describe('R-5.1 operator credentials', () => {
  const pass = enc('alice passphrase 1');
  for (const kind of KINDS) {
    describe(kind, () => {
      const sealed = createCredential('alice', kind, pass, FAST);

      it('stores the public keys of the right types', () => {
        const signing = createPublicKey({ key: sealed.signingPublicKey, format: 'der', type: 'spki' });
        const encryption = createPublicKey({ key: sealed.encryptionPublicKey, format: 'der', type: 'spki' });
        assert.equal(sealed.kind, kind);
        if (kind === 'ed25519') {
          assert.equal(signing.asymmetricKeyType, 'ed25519');
          assert.equal(encryption.asymmetricKeyType, 'x25519');
        } else {
          assert.equal(signing.asymmetricKeyDetails?.namedCurve, 'prime256v1');
          assert.equal(encryption.asymmetricKeyDetails?.namedCurve, 'prime256v1');
          assert.notDeepEqual(sealed.signingPublicKey, sealed.encryptionPublicKey);
        }
      });

      it('unlocks, signs, and the signature verifies against the stored public key', () => {
        const cred = unlockCredential('alice', sealed, pass);
        assert.equal(cred.operator, 'alice');
        const data = enc('approve issuance #42');
        const sig = cred.sign(data);
        assert.equal(verifyCredentialSignature(sealed.signingPublicKey, kind, data, sig), true);
        assert.equal(verifyCredentialSignature(sealed.signingPublicKey, kind, enc('approve issuance #43'), sig), false);
        assert.equal(
          verifyCredentialSignature(sealed.signingPublicKey, kind, data, flipByte(sig, sig.length - 1)),
          false,
        );
        const otherKind = kind === 'ed25519' ? 'p256' : 'ed25519';
        assert.equal(verifyCredentialSignature(sealed.signingPublicKey, otherKind, data, sig), false);
        assert.equal(verifyCredentialSignature(sealed.encryptionPublicKey, kind, data, sig), false);
      });

      it('opens what was sealed to its encryption key, and only with the same AAD', () => {
        const cred = unlockCredential('alice', sealed, pass);
        const box = sealToPublicKey(sealed.encryptionPublicKey, enc('share'), enc('rootca-share|alice'));
        assert.deepEqual(cred.open(box, enc('rootca-share|alice')), enc('share'));
        assert.throws(() => cred.open(box, enc('rootca-share|bob')), code('SEALED_BOX_INVALID'));
        assert.throws(
          () => cred.open(flipByte(box, box.length - 1), enc('rootca-share|alice')),
          code('SEALED_BOX_INVALID'),
        );
      });

      it('refuses a wrong passphrase, naming the operator', () => {
        assert.throws(
          () => unlockCredential('alice', sealed, enc('alice passphrase 2')),
          (e: unknown) =>
            code('WRONG_PASSPHRASE')(e) && (e as CaError).message === 'wrong passphrase for operator alice',
        );
      });

      it('does not unlock as another operator (the name is bound as AAD)', () => {
        assert.throws(() => unlockCredential('mallory', sealed, pass), code('WRONG_PASSPHRASE'));
      });

      it('refuses a credential whose stored public key was swapped', () => {
        const other = createCredential('alice', kind, pass, FAST);
        assert.throws(
          () => unlockCredential('alice', { ...sealed, signingPublicKey: other.signingPublicKey }, pass),
          code('CREDENTIAL_CORRUPT'),
        );
        assert.throws(
          () => unlockCredential('alice', { ...sealed, encryptionPublicKey: other.encryptionPublicKey }, pass),
          code('CREDENTIAL_CORRUPT'),
        );
        const otherKind = kind === 'ed25519' ? 'p256' : 'ed25519';
        assert.throws(
          () => unlockCredential('alice', { ...sealed, kind: otherKind }, pass),
          code('CREDENTIAL_CORRUPT'),
        );
      });

      it('after lock(), sign and open throw CREDENTIAL_LOCKED', () => {
        const cred = unlockCredential('alice', sealed, pass);
        cred.lock();
        assert.throws(() => cred.sign(enc('x')), code('CREDENTIAL_LOCKED'));
        assert.throws(() => cred.open(Buffer.alloc(200), enc('')), code('CREDENTIAL_LOCKED'));
        cred.lock();
      });

      it('R-6.1 keeps its private keys sealed: the blob holds no PKCS#8 bytes', () => {
        const payload = openWithPassphrase(pass, sealed.sealedPrivateKeys, enc('rootca-credential|alice'));
        const signingLen = payload.readUInt16BE(2);
        const signingPkcs8 = payload.subarray(4, 4 + signingLen);
        const encryptionPkcs8 = payload.subarray(6 + signingLen);
        // These really are the credential's private keys.
        const signingPub = createPublicKey(
          createPrivateKey({ key: signingPkcs8, format: 'der', type: 'pkcs8' }),
        ).export({ type: 'spki', format: 'der' });
        assert.deepEqual(signingPub, sealed.signingPublicKey);
        const all = Buffer.concat([sealed.signingPublicKey, sealed.encryptionPublicKey, sealed.sealedPrivateKeys]);
        for (const der of [signingPkcs8, encryptionPkcs8]) {
          assert.equal(all.includes(der), false);
          // The raw private key (Ed25519/X25519 seed or P-256 scalar), wherever it would sit.
          const d = Buffer.from(
            createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!,
            'base64url',
          );
          assert.equal(d.length, 32);
          assert.equal(all.includes(d), false, 'raw private key bytes');
        }
      });
    });
  }
});

describe('passphrase policy', () => {
  const cases: [string, string, string | null][] = [
    ['12 ASCII characters', 'abcdefghijkl', null],
    ['11 characters', 'abcdefghijk', 'WEAK_PASSPHRASE'],
    ['empty', '', 'WEAK_PASSPHRASE'],
    ['12 multi-byte characters', 'パスフレーズはとても長いです', null],
    ['11 characters of 3 bytes each (33 bytes)', 'あいうえおかきくけこさ', 'WEAK_PASSPHRASE'],
    ['only whitespace', ' '.repeat(16), 'WEAK_PASSPHRASE'],
  ];
  for (const [name, text, expected] of cases) {
    it(`${expected ? 'refuses' : 'accepts'} ${name}`, () => {
      if (expected) assert.throws(() => checkPassphrasePolicy(enc(text)), code(expected));
      else checkPassphrasePolicy(enc(text));
    });
  }
  it('refuses bytes that are not UTF-8', () => {
    assert.throws(
      () => checkPassphrasePolicy(Buffer.from([0xff, 0xfe, ...enc('abcdefghijklmnop')])),
      code('WEAK_PASSPHRASE'),
    );
  });
});
