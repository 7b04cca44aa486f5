import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import { createCredential, unlockCredential } from './credential.ts';
import { createServiceKey, signWithServiceKey } from './service-key.ts';

describe('service keys (1-of-N sealed, not CA keys)', () => {
  const pass = Buffer.from('a long enough passphrase');
  const alice = createCredential('alice', 'ed25519', pass, { scryptLog2N: 12 });
  const leo = createCredential('leo', 'p256', pass, { scryptLog2N: 12 });
  const mallory = createCredential('mallory', 'ed25519', pass, { scryptLog2N: 12 });
  for (const kind of ['ed25519', 'p256', 'p384'] as const) {
    it(`${kind}: any one holder signs; others cannot; the PKCS#8 is not in the record`, () => {
      const key = createServiceKey(`audit-${kind}`, kind, [
        { name: 'alice', encryptionPublicKey: alice.encryptionPublicKey },
        { name: 'leo', encryptionPublicKey: leo.encryptionPublicKey },
      ]);
      for (const [name, sealed] of [
        ['alice', alice],
        ['leo', leo],
      ] as const) {
        const data = Buffer.from(`checkpoint by ${name}`);
        const sig = signWithServiceKey(key, unlockCredential(name, sealed, pass), data);
        assert.ok(
          verify(
            kind === 'ed25519' ? null : 'sha256',
            data,
            { key: key.publicKeySpki, format: 'der', type: 'spki' },
            sig,
          ),
        );
      }
      assert.throws(
        () => signWithServiceKey(key, unlockCredential('mallory', mallory, pass), Buffer.from('x')),
        (e: unknown) => e instanceof CaError && e.code === 'SERVICE_KEY_NOT_HOLDER',
      );
      const swapped = {
        ...key,
        envelopes: key.envelopes.map((e) => ({ ...e, holder: e.holder === 'alice' ? 'leo' : 'alice' })),
      };
      assert.throws(
        () => signWithServiceKey(swapped, unlockCredential('alice', alice, pass), Buffer.from('x')),
        (e: unknown) => e instanceof CaError && e.code === 'SEALED_BOX_INVALID',
      );
    });
  }
});
