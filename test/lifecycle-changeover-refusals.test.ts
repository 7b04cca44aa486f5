/**
 * Refusals of renewal and re-key (CPS 5.6, 6.1.1, 6.2.8): an unknown CA, a missing quorum of
 * either key, a wrong passphrase, bad parameters. Each is a precise CaError, audited, and
 * leaves nothing behind: no key, no certificate, no reserved serial, the CA unchanged.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { getCa } from '../src/installation/cas.ts';
import type { Installation } from '../src/installation/installation.ts';
import { rekeyCa } from '../src/lifecycle/rekey.ts';
import { renewCa } from '../src/lifecycle/renewal.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  rejectsWith,
  rootca,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

const CA = 'ecc-rootca1';

/** Rejects with a CaError of this code (and message). */
describe('renew and rekey refusals: audited, no partial state', () => {
  const dir = tempDir('rootca-changeover-refusals-');
  let inst: Installation;
  const snapshot = () => ({
    ca: (({ keyId, serialHex, certificateSha256 }) => ({ keyId, serialHex, certificateSha256 }))(getCa(inst, CA)),
    ...Object.fromEntries(
      ['ca_keys', 'certificates', 'serial_reservations', 'ca_changeover_certificates', 'key_shares'].map((t) => [
        t,
        (inst.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
      ]),
    ),
    activeKeys: (inst.db.prepare("SELECT count(*) AS n FROM ca_keys WHERE status = 'active'").get() as { n: number }).n,
  });
  const lastEvent = (action: string) =>
    inst.audit
      .list()
      .filter((e) => e.action === action)
      .at(-1)!;
  const without = (...names: string[]) =>
    passphraseMap(Object.fromEntries(Object.entries(allPassphrases()).filter(([k]) => !names.includes(k))));

  before(async () => {
    inst = installationWithPeople({ dir });
    await runShippedCeremony(inst, CA, dir);
  });

  it('unknown CA: CA_UNKNOWN for renew and rekey, audited against the name asked for', async () => {
    const s = snapshot();
    await rejectsWith(
      'CA_UNKNOWN',
      () =>
        renewCa(inst, {
          caName: 'nope',
          operator: 'alice',
          witness: 'olivia',
          passphrases: passphraseMap(allPassphrases()),
        }),
      /no CA named nope/,
    );
    assert.deepEqual(
      { outcome: lastEvent('ca.renew').outcome, target: lastEvent('ca.renew').target },
      { outcome: 'refused', target: 'nope' },
    );
    await rejectsWith('CA_UNKNOWN', () =>
      rekeyCa(inst, {
        caName: 'nope',
        operator: 'alice',
        witness: 'olivia',
        passphrases: passphraseMap(allPassphrases()),
      }),
    );
    assert.equal(lastEvent('ca.rekey').outcome, 'refused');
    assert.deepEqual(snapshot(), s);
  });

  it('renew without a quorum of the key: QUORUM_NOT_MET before anything is signed', async () => {
    const s = snapshot();
    const ceremonies = (
      inst.db.prepare("SELECT count(*) AS n FROM ceremonies WHERE kind = 'ca.renew'").get() as { n: number }
    ).n;
    // alice is operator and one custodian; bob and carol are absent: 1 of the 2 needed.
    await rejectsWith(
      'QUORUM_NOT_MET',
      () => renewCa(inst, { caName: CA, operator: 'alice', witness: 'olivia', passphrases: without('bob', 'carol') }),
      /needs 2 of 3 custodians, 1 present/,
    );
    const ev = lastEvent('ca.renew');
    assert.equal(ev.outcome, 'refused');
    assert.equal((ev.details as { code: string }).code, 'QUORUM_NOT_MET');
    assert.equal(
      (inst.db.prepare("SELECT count(*) AS n FROM ceremonies WHERE kind = 'ca.renew'").get() as { n: number }).n,
      ceremonies,
    );
    assert.deepEqual(snapshot(), s);
  });

  it('renew with a wrong passphrase: WRONG_PASSPHRASE, the failed authentication audited', async () => {
    const s = snapshot();
    const wrong = passphraseMap({ ...allPassphrases(), bob: 'not bob at all' });
    await rejectsWith('WRONG_PASSPHRASE', () =>
      renewCa(inst, { caName: CA, operator: 'alice', witness: 'olivia', passphrases: wrong }),
    );
    const ev = lastEvent('operator.authenticate');
    assert.deepEqual(
      { outcome: ev.outcome, actor: ev.actor, code: (ev.details as { code: string }).code },
      { outcome: 'refused', actor: 'bob', code: 'WRONG_PASSPHRASE' },
    );
    assert.deepEqual(snapshot(), s);
  });

  it("rekey with the old key's quorum but not the new key's: the ceremony fails, no key and no certificate is kept", async () => {
    const s = snapshot();
    // The session has alice (operator, custodian) and bob; the new key needs all three, and carol is absent.
    await rejectsWith(
      'QUORUM_NOT_MET',
      () =>
        rekeyCa(inst, {
          caName: CA,
          operator: 'alice',
          witness: 'olivia',
          holders: ['alice', 'bob', 'carol'],
          threshold: 3,
          passphrases: without('carol'),
        }),
      /new key needs 3 of 3 custodians, 2 present/,
    );
    const failed = inst.db
      .prepare("SELECT status FROM ceremonies WHERE kind = 'ca.rekey' ORDER BY id DESC LIMIT 1")
      .get() as { status: string };
    assert.equal(failed.status, 'failed');
    assert.equal(lastEvent('ca.rekey').outcome, 'failed');
    assert.deepEqual(snapshot(), s);
  });

  it('rekey with a wrong passphrase of a new-key custodian: WRONG_PASSPHRASE, nothing kept', async () => {
    const s = snapshot();
    const wrong = passphraseMap({ ...allPassphrases(), carol: 'not carol' });
    await rejectsWith('WRONG_PASSPHRASE', () =>
      rekeyCa(inst, {
        caName: CA,
        operator: 'alice',
        witness: 'olivia',
        holders: ['carol', 'bob'],
        threshold: 2,
        passphrases: wrong,
      }),
    );
    assert.equal(lastEvent('ca.rekey').outcome, 'failed');
    assert.deepEqual(snapshot(), s);
  });

  it('rekey parameters are checked before anyone is asked: threshold, witness as custodian, unknown holder, existing output', async () => {
    const s = snapshot();
    const ask = { caName: CA, operator: 'alice', witness: 'olivia', passphrases: passphraseMap({}) };
    await rejectsWith('THRESHOLD_INVALID', () => rekeyCa(inst, { ...ask, threshold: 1 }), /CPS 6\.4\.1/);
    await rejectsWith('THRESHOLD_INVALID', () => rekeyCa(inst, { ...ask, holders: ['alice', 'bob'], threshold: 3 }));
    await rejectsWith('SAME_PERSON_TWICE', () => rekeyCa(inst, { ...ask, holders: ['alice', 'olivia'], threshold: 2 }));
    await rejectsWith('OPERATOR_UNKNOWN', () => rekeyCa(inst, { ...ask, holders: ['alice', 'mallory'], threshold: 2 }));
    writeFileSync(join(dir, `${CA}-newwithold.pem`), 'x');
    await rejectsWith('OUTPUT_EXISTS', () => rekeyCa(inst, { ...ask, outDir: dir }));
    await rejectsWith('VALIDITY_INVALID', () => renewCa(inst, { ...ask, years: 30 }));
    assert.ok(
      inst.audit
        .list()
        .slice(-6)
        .every((e) => e.outcome === 'refused' && (e.action === 'ca.rekey' || e.action === 'ca.renew')),
    );
    assert.deepEqual(snapshot(), s);
  });

  it('CLI: an unknown CA exits 1 with [CA_UNKNOWN]; a missing option is a usage error (exit 2)', () => {
    const r = rootca([
      '--home',
      inst.home,
      'ca',
      'rekey',
      '--ca',
      'nope',
      '--operator',
      'alice',
      '--witness',
      'olivia',
    ]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /\[CA_UNKNOWN\]/);
    const u = rootca(['--home', inst.home, 'ca', 'renew', '--ca', CA, '--operator', 'alice']);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /--witness/);
  });
});
