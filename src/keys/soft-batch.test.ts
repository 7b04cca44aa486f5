/**
 * CPS 6.2.9 as docs/hsm.md ("One access") reads it: a batch activation of the soft store signs
 * exactly the planned messages, each once, and nothing else; it ends after the last one, on any
 * error, and at deactivate() (the KEK and PKCS#8 wiped at activation, the key object dropped).
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { createCredential, unlockCredential, type UnlockedCredential } from './credential.ts';
import type { SoftKeyRecord } from './ports.ts';
import { activateSoftKeyBatch, generateSoftKey, softKeyStore } from './soft-store.ts';

const enc = (s: string) => Buffer.from(s, 'utf8');
const sealed = ['alice', 'bob', 'carol'].map((name) => {
  const passphrase = enc(`${name} batch passphrase`);
  const c = createCredential(name, name === 'bob' ? 'p256' : 'ed25519', passphrase, { scryptLog2N: 12 });
  return { name, c, unlocked: unlockCredential(name, c, passphrase) };
});
const present: UnlockedCredential[] = sealed.slice(0, 2).map((s) => s.unlocked);
const PLAN = ['tbsResponseData 1', 'tbsResponseData 2', 'tbsResponseData 3'].map(enc);

const code = (c: string) => (e: unknown) => {
  assert.ok(e instanceof CaError, `expected CaError ${c}, got ${String(e)}`);
  assert.equal(e.code, c, e.message);
  return true;
};

/** PKCS#1 v1.5 and DER ECDSA-Sig-Value are node's defaults for a public KeyObject. */
const verifies = (spki: Uint8Array, name: SignatureAlgorithmName, data: Uint8Array, signature: Uint8Array) =>
  cryptoVerify(
    SIGNATURE_ALGORITHMS[name].hash,
    data,
    createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
    signature,
  );

const CASES: { algorithm: KeyAlgorithm; sig: SignatureAlgorithmName; wrong: SignatureAlgorithmName }[] = [
  { algorithm: { kind: 'ecdsa', curve: 'P-256' }, sig: 'ecdsa-with-SHA256', wrong: 'sha256WithRSAEncryption' },
  { algorithm: { kind: 'rsa', modulusBits: 2048 }, sig: 'sha256WithRSAEncryption', wrong: 'ecdsa-with-SHA256' },
];

for (const { algorithm, sig, wrong } of CASES) {
  describe(`R-6.4 batch activation of the soft store, ${algorithm.kind}`, () => {
    let record: SoftKeyRecord;
    before(async () => {
      const custodians = sealed.map((s) => ({ name: s.name, encryptionPublicKey: s.c.encryptionPublicKey }));
      record = await generateSoftKey({ keyId: `batch-${algorithm.kind}`, algorithm, threshold: 2, custodians });
    });
    const plan = { purpose: '3 OCSP responses of test', messages: PLAN };

    it('signs each planned message once, in any order, then is deactivated: an (N+1)th signature is refused', async () => {
      const k = await activateSoftKeyBatch(record, present, plan);
      assert.equal(k.planned, 3);
      for (const m of [PLAN[2]!, PLAN[0]!, PLAN[1]!]) {
        assert.ok(k.active, 'active until the last planned signature');
        assert.ok(verifies(record.publicKeySpki, sig, m, await k.sign(m, sig)));
      }
      assert.equal(k.signed, 3);
      assert.equal(k.active, false, 'deactivated after the N planned signatures');
      await assert.rejects(k.sign(PLAN[0]!, sig), code('KEY_NOT_ACTIVE'));
      await assert.rejects(k.sign(enc('anything'), sig), code('KEY_NOT_ACTIVE'));
    });

    it('refuses data not in the plan, and that ends the activation', async () => {
      const k = await activateSoftKeyBatch(record, present, plan);
      await k.sign(PLAN[0]!, sig);
      await assert.rejects(k.sign(enc('a tbsCertificate nobody approved'), sig), code('KEY_BATCH_NOT_IN_PLAN'));
      assert.equal(k.active, false);
      await assert.rejects(k.sign(PLAN[1]!, sig), code('KEY_NOT_ACTIVE'));
      assert.equal(k.signed, 1);
    });

    it('refuses a planned message the second time (each is approved once)', async () => {
      const k = await activateSoftKeyBatch(record, present, plan);
      await k.sign(PLAN[1]!, sig);
      await assert.rejects(k.sign(PLAN[1]!, sig), code('KEY_BATCH_NOT_IN_PLAN'));
      assert.equal(k.active, false);
    });

    it('any error ends it: a signature algorithm of another key kind', async () => {
      const k = await activateSoftKeyBatch(record, present, plan);
      await assert.rejects(k.sign(PLAN[0]!, wrong), code('ALGORITHM_MISMATCH'));
      assert.equal(k.active, false);
      await assert.rejects(k.sign(PLAN[0]!, sig), code('KEY_NOT_ACTIVE'));
    });

    it('deactivate() ends an unfinished batch; an empty plan and too few custodians are refused', async () => {
      const k = await activateSoftKeyBatch(record, present, plan);
      k.deactivate();
      assert.equal(k.active, false);
      await assert.rejects(k.sign(PLAN[0]!, sig), code('KEY_NOT_ACTIVE'));
      await assert.rejects(
        activateSoftKeyBatch(record, present, { purpose: 'nothing', messages: [] }),
        code('INVALID_ARGUMENT'),
      );
      await assert.rejects(activateSoftKeyBatch(record, present.slice(0, 1), plan), code('QUORUM_NOT_MET'));
    });

    it('through the KeyStore port: counts its signatures and ends after the plan', async () => {
      const k = await softKeyStore.activateBatch({ ...record, store: 'soft', locations: [] }, present, plan);
      assert.deepEqual([k.planned, k.signed, k.active], [3, 0, true]);
      for (const m of PLAN) await k.sign(m, sig);
      assert.deepEqual([k.signed, k.active], [3, false]);
      await assert.rejects(k.sign(PLAN[0]!, sig), code('KEY_NOT_ACTIVE'));
      assert.deepEqual(k.deactivate(), {});
    });
  });
}
