/**
 * CPS 6.2.9 on SoftHSMv2: a batch activation of the pkcs11 store signs exactly the planned
 * messages, each once, then logs out and closes its token session; data outside the plan, or any
 * error, ends it at once.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadCaKey } from '../src/custody/key-records.ts';
import { CaError } from '../src/errors.ts';
import { getCa } from '../src/installation/cas.ts';
import type { Installation } from '../src/installation/installation.ts';
import { unlockCredential, type UnlockedCredential } from '../src/keys/credential.ts';
import { finalizePkcs11Modules } from '../src/keys/pkcs11-module.ts';
import { pkcs11KeyStore } from '../src/keys/pkcs11-store.ts';
import type { CaKeyRecord } from '../src/keys/ports.ts';
import { getOperator } from '../src/people/operators.ts';
import { installationWithPeople, PEOPLE, tempDir } from './helpers.ts';
import { runPkcs11Ceremony, setUpToken, useSoftHsm } from './hsm-fixtures.ts';

const PLAN = ['tbsResponseData A', 'tbsResponseData B', 'tbsResponseData C'].map((s) => Buffer.from(s));
const plan = { purpose: '3 OCSP responses of ecc-rootca1', messages: PLAN };
const code = (c: string) => (e: unknown) => {
  assert.ok(e instanceof CaError, `expected CaError ${c}, got ${String(e)}`);
  assert.equal(e.code, c, e.message);
  return true;
};

describe('pkcs11 store: batch activation (CPS 6.2.9, one approved batch)', () => {
  const dir = tempDir('rootca-hsm-batch-');
  useSoftHsm(dir);
  let inst: Installation;
  let key: CaKeyRecord;
  let present: UnlockedCredential[];
  const verifies = (data: Buffer, sig: Uint8Array) =>
    verify('sha384', data, createPublicKey({ key: key.publicKeySpki, format: 'der', type: 'spki' }), sig);

  before(async () => {
    inst = installationWithPeople({ dir });
    await setUpToken(inst, 'primary');
    await runPkcs11Ceremony(inst, dir, 'ecc-rootca1', 'primary');
    key = loadCaKey(inst, getCa(inst, 'ecc-rootca1').keyId);
    present = (['alice', 'bob'] as const).map((n) =>
      unlockCredential(n, getOperator(inst, n).credential, Buffer.from(PEOPLE[n].passphrase)),
    );
  });
  after(() => {
    for (const c of present) c.lock();
    inst.close();
    finalizePkcs11Modules();
  });

  it('signs the N planned messages in one token session, then has logged out: the (N+1)th is refused', async () => {
    const k = await pkcs11KeyStore.activateBatch(key, present, plan);
    assert.deepEqual([k.planned, k.signed, k.where], [3, 0, { store: 'pkcs11', token: 'primary' }]);
    for (const m of [PLAN[1]!, PLAN[2]!, PLAN[0]!]) {
      assert.ok(k.active);
      assert.ok(verifies(m, await k.sign(m, 'ecdsa-with-SHA384')));
    }
    assert.deepEqual([k.signed, k.active], [3, false]);
    assert.deepEqual(k.deactivate(), { loggedOut: true, sessionClosed: true }, 'ended after the last signature');
    await assert.rejects(k.sign(PLAN[0]!, 'ecdsa-with-SHA384'), code('KEY_NOT_ACTIVE'));
  });

  it('refuses a message outside the plan or a second time, and logs out at once', async () => {
    const k = await pkcs11KeyStore.activateBatch(key, present, plan);
    await k.sign(PLAN[0]!, 'ecdsa-with-SHA384');
    await assert.rejects(
      k.sign(Buffer.from('a CRL nobody approved'), 'ecdsa-with-SHA384'),
      code('KEY_BATCH_NOT_IN_PLAN'),
    );
    assert.equal(k.active, false);
    assert.deepEqual(k.deactivate(), { loggedOut: true, sessionClosed: true });
    await assert.rejects(k.sign(PLAN[1]!, 'ecdsa-with-SHA384'), code('KEY_NOT_ACTIVE'));

    const again = await pkcs11KeyStore.activateBatch(key, present, plan);
    await again.sign(PLAN[2]!, 'ecdsa-with-SHA384');
    await assert.rejects(again.sign(PLAN[2]!, 'ecdsa-with-SHA384'), code('KEY_BATCH_NOT_IN_PLAN'));
    assert.deepEqual([again.signed, again.active], [1, false]);
  });

  it('a token error ends the batch too; deactivate() ends an unfinished one; a single activation still signs once', async () => {
    const k = await pkcs11KeyStore.activateBatch(key, present, plan);
    await assert.rejects(k.sign(PLAN[0]!, 'sha256WithRSAEncryption'), (e: unknown) => e instanceof CaError);
    assert.equal(k.active, false);
    const unfinished = await pkcs11KeyStore.activateBatch(key, present, plan);
    await unfinished.sign(PLAN[0]!, 'ecdsa-with-SHA384');
    assert.deepEqual(unfinished.deactivate(), { loggedOut: true, sessionClosed: true });
    await assert.rejects(unfinished.sign(PLAN[1]!, 'ecdsa-with-SHA384'), code('KEY_NOT_ACTIVE'));
    const once = await pkcs11KeyStore.activate(key, present);
    assert.ok(verifies(PLAN[0]!, await once.sign(PLAN[0]!, 'ecdsa-with-SHA384')));
    await assert.rejects(once.sign(PLAN[1]!, 'ecdsa-with-SHA384'), code('KEY_NOT_ACTIVE'));
    await assert.rejects(
      pkcs11KeyStore.activateBatch(key, present, { purpose: 'nothing', messages: [] }),
      code('INVALID_ARGUMENT'),
    );
  });
});
