/**
 * at the level operators see: refusals of a root ceremony and of a key
 * activation are clear, distinct, audited, and leave no partial state and no signature.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { signOnceWithCaKey } from '../custody/activation.ts';
import type { Installation } from '../installation/installation.ts';
import { loadSoftKey } from '../custody/key-records.ts';
import { bringParticipant, operationDigest, type Participant } from '../people/participants.ts';
import { runRootCeremony } from './root-ceremony.ts';
import { addOperator } from '../people/operators.ts';
import { parseRootCeremony } from '../config/ceremony.ts';
import { CaError } from '../errors.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  PEOPLE,
  REPO,
  runShippedCeremony,
  tempDir,
} from '../../test/helpers.ts';

/** Installations opened by the running test, closed after it whether it passed or not. */
const openInstallations: Installation[] = [];
afterEach(() => {
  for (const inst of openInstallations.splice(0)) inst.close();
});
function closedAfterTest(inst: Installation): Installation {
  openInstallations.push(inst);
  return inst;
}

function counts(inst: Installation) {
  const n = (t: string) => (inst.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  return { cas: n('cas'), keys: n('ca_keys'), shares: n('key_shares'), certificates: n('certificates') };
}

function lastEvent(inst: Installation) {
  return inst.audit.list().at(-1)!;
}

async function expectRefused(inst: Installation, code: string, fn: () => Promise<unknown>, message?: RegExp) {
  const before = counts(inst);
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof CaError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
  assert.deepEqual(counts(inst), before, 'no partial state');
  const refusals = inst.audit.list().filter((e) => e.outcome !== 'success');
  assert.ok(
    refusals.some((e) => (e.details as { code?: string }).code === code),
    `an audit event records ${code}`,
  );
  assert.equal(inst.audit.verify().ok, true);
}

function ceremonyFile(dir: string, edit: (yaml: string) => string, name = 'rootca2') {
  const file = join(dir, `${name}-edited.yaml`);
  writeFileSync(file, edit(readFileSync(join(REPO, 'ceremonies', `${name}.yaml`), 'utf8')));
  return parseRootCeremony(readFileSync(file), file);
}

describe('R-6.1 root ceremony refusals', () => {
  it('refuses a ceremony whose output already exists, before anyone authenticates', async () => {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    writeFileSync(join(dir, 'rootca2.pem'), 'keep me');
    await expectRefused(
      inst,
      'CEREMONY_OUTPUT_EXISTS',
      () => runShippedCeremony(inst, 'rootca2', dir),
      /rootca2\.pem already exists/,
    );
    assert.equal(readFileSync(join(dir, 'rootca2.pem'), 'utf8'), 'keep me');
    assert.ok(
      !inst.audit.list().some((e) => e.action === 'operator.authenticate'),
      'nobody was asked for a passphrase',
    );
  });

  it('refuses a custodian who is not an operator', async () => {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    const c = ceremonyFile(dir, (y) => y.replace('holders: [alice, bob, carol]', 'holders: [alice, bob, zed]'));
    await expectRefused(
      inst,
      'OPERATOR_UNKNOWN',
      () => runRootCeremony(inst, { ceremony: c, baseDir: dir, passphrases: passphraseMap(allPassphrases()) }),
      /zed/,
    );
  });

  it('refuses a witness without the operation-manager role', async () => {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    addOperator(inst, {
      name: 'wendy',
      roles: ['ca-administrator'],
      kind: 'ed25519',
      passphrase: Buffer.from('wendy passphrase 1'),
    });
    const c = ceremonyFile(dir, (y) => y.replace('witness: olivia', 'witness: wendy'));
    await expectRefused(
      inst,
      'WITNESS_ROLE_MISSING',
      () =>
        runRootCeremony(inst, {
          ceremony: c,
          baseDir: dir,
          passphrases: passphraseMap({ ...allPassphrases(), wendy: 'wendy passphrase 1' }),
        }),
      /operation-manager/,
    );
  });

  it('refuses when the witness is absent', async () => {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    await expectRefused(inst, 'WITNESS_ABSENT', () =>
      runShippedCeremony(inst, 'rootca2', dir, { ...allPassphrases(), olivia: undefined }),
    );
  });

  it('refuses a wrong passphrase, names the person, and signs nothing', async () => {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    await expectRefused(
      inst,
      'WRONG_PASSPHRASE',
      () => runShippedCeremony(inst, 'rootca2', dir, { ...allPassphrases(), bob: 'not bobs passphrase' }),
      /bob/,
    );
    assert.ok(!existsSync(join(dir, 'rootca2.pem')));
    assert.equal(lastEvent(inst).action, 'operator.authenticate');
  });

  it('refuses when fewer than M custodians are present (R-6.3)', async () => {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    await expectRefused(
      inst,
      'QUORUM_NOT_MET',
      () =>
        runShippedCeremony(inst, 'rootca2', dir, { alice: PEOPLE.alice.passphrase, olivia: PEOPLE.olivia.passphrase }),
      /needs 2 of 3 custodians, 1 present \(alice\)/,
    );
  });

  it('refuses a second CA with the same name', async () => {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    mkdirSync(join(dir, 'again'));
    await expectRefused(inst, 'CA_EXISTS', () => runShippedCeremony(inst, 'ecc-rootca1', join(dir, 'again')));
  });
});

describe('R-6.3/R-6.4 activation of a stored CA key', () => {
  async function setup() {
    const dir = tempDir();
    const inst = closedAfterTest(installationWithPeople({ dir }));
    const made = await runShippedCeremony(inst, 'ecc-rootca1', dir);
    mkdirSync(join(dir, 'b'));
    const other = await runShippedCeremony(inst, 'rootca2', join(dir, 'b'));
    const digest = operationDigest({ kind: 'test' });
    const bring = async (name: keyof typeof PEOPLE) =>
      (await bringParticipant(inst, name, passphraseMap(allPassphrases()), 'test', digest)) as Participant;
    return { inst, record: loadSoftKey(inst, made.keyId), otherRecord: loadSoftKey(inst, other.keyId), bring };
  }
  const data = Buffer.from('tbs bytes');

  it('signs once with two custodians, and audits activation and deactivation', async () => {
    const { inst, record, bring } = await setup();
    const sig = await signOnceWithCaKey(
      inst,
      { record, custodians: [await bring('alice'), await bring('carol')], purpose: 'test', target: 'ecc-rootca1' },
      data,
      'ecdsa-with-SHA384',
    );
    assert.ok(sig.length > 64);
    const [a, d] = inst.audit.list().slice(-2);
    assert.equal(a.action, 'key.activate');
    assert.equal(d.action, 'key.deactivate');
    assert.equal((d.details as { signatures: number }).signatures, 1);
  });

  const refusals: { name: string; code: string; people: (keyof typeof PEOPLE)[]; swap?: boolean }[] = [
    { name: 'the same custodian twice', code: 'DUPLICATE_CUSTODIAN', people: ['alice', 'alice'] },
    { name: 'too few custodians', code: 'QUORUM_NOT_MET', people: ['bob'] },
    { name: 'a person who holds no share', code: 'NOT_A_CUSTODIAN', people: ['alice', 'olivia'] },
    { name: 'a share from another key', code: 'SHARE_WRONG_KEY', people: ['alice', 'bob'], swap: true },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with ${r.code}, audited, no signature`, async () => {
      const { inst, record, otherRecord, bring } = await setup();
      if (r.swap) record.shares[0].sealed = otherRecord.shares[0].sealed;
      const people: Participant[] = [];
      for (const p of r.people) people.push(await bring(p));
      await assert.rejects(
        () =>
          signOnceWithCaKey(
            inst,
            { record, custodians: people, purpose: 'test', target: 'ecc-rootca1' },
            data,
            'ecdsa-with-SHA384',
          ),
        (e: unknown) => e instanceof CaError && e.code === r.code,
      );
      const ev = lastEvent(inst);
      assert.equal(ev.action, 'key.activate');
      assert.equal(ev.outcome, 'refused');
      assert.equal((ev.details as { code: string }).code, r.code);
      assert.ok(!inst.audit.list().some((e) => e.action === 'key.deactivate' && e.seq > ev.seq));
    });
  }
});
