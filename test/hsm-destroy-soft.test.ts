/**
 * CPS 6.2.10 key destruction in the software store: `rootca key destroy` with the quorum and a
 * witness removes the wrapped key and every sealed share in one transaction, records it, and
 * the key can never sign again (KEY_DESTROYED). Refusals change nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { destroyKeyCeremony } from '../src/custody/key-destruction.ts';
import { openInstallation } from '../src/installation/installation.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  rejectsWith,
  rootca,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

const keyState = (inst: ReturnType<typeof installationWithPeople>, keyId: string) => ({
  key: inst.db
    .prepare('SELECT status, wrapped_private_key IS NOT NULL AS wrapped, destroy_reason FROM ca_keys WHERE key_id = ?')
    .get(keyId) as { status: string; wrapped: number; destroy_reason: string | null },
  shares: (inst.db.prepare('SELECT count(*) AS n FROM key_shares WHERE key_id = ?').get(keyId) as { n: number }).n,
});

describe('CPS 6.2.10 destroying a soft-store CA key', () => {
  it('refuses without a quorum or witness and changes nothing; with them, destroys the key and signing then fails', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    t.after(() => inst.close()); // closed whether the test passes or not
    const made = await runShippedCeremony(inst, 'ecc-rootca1', dir);
    const all = allPassphrases();
    const base = { caName: 'ecc-rootca1', operator: 'alice', witness: 'olivia', reason: 'end of life' };

    await rejectsWith('QUORUM_NOT_MET', () =>
      destroyKeyCeremony(inst, { ...base, passphrases: passphraseMap({ alice: all.alice, olivia: all.olivia }) }),
    );
    await rejectsWith('WITNESS_ABSENT', () =>
      destroyKeyCeremony(inst, { ...base, passphrases: passphraseMap({ alice: all.alice, bob: all.bob }) }),
    );
    await rejectsWith('REASON_REQUIRED', () =>
      destroyKeyCeremony(inst, { ...base, reason: ' ', passphrases: passphraseMap(all) }),
    );
    assert.deepEqual(keyState(inst, made.keyId), {
      key: { status: 'active', wrapped: 1, destroy_reason: null },
      shares: 3,
    });
    assert.ok(inst.audit.list().filter((e) => e.action === 'key.destroy' && e.outcome === 'refused').length >= 2);

    const wrapped = inst.db
      .prepare('SELECT wrapped_private_key FROM ca_keys WHERE key_id = ?')
      .pluck()
      .get(made.keyId) as Buffer;
    const sealed = inst.db
      .prepare('SELECT sealed FROM key_shares WHERE key_id = ?')
      .pluck()
      .all(made.keyId) as Buffer[];
    const r = await destroyKeyCeremony(inst, { ...base, passphrases: passphraseMap(all) });
    // Not just unlinked: the bytes are gone from the database file and its WAL (secure_delete + checkpoint).
    for (const f of ['rootca.db', 'rootca.db-wal'].map((n) => join(inst.home, n)).filter((f) => existsSync(f))) {
      const bytes = readFileSync(f);
      for (const secret of [wrapped, ...sealed])
        assert.ok(!bytes.includes(secret.subarray(0, 48)), `${f} still holds destroyed key material`);
    }
    assert.deepEqual(r.destroyedIn, ['soft']);
    assert.deepEqual(keyState(inst, made.keyId), {
      key: { status: 'destroyed', wrapped: 0, destroy_reason: 'end of life' },
      shares: 0,
    });
    const ev = inst.audit.list().filter((e) => e.action === 'key.destroy' && e.outcome === 'success');
    assert.equal(ev.length, 1);
    assert.equal((ev[0]!.details as { keyId: string }).keyId, made.keyId);

    await rejectsWith('KEY_DESTROYED', () =>
      issueCrl(inst, { caName: 'ecc-rootca1', operator: 'alice', witness: 'olivia', passphrases: passphraseMap(all) }),
    );
    const refused = inst.audit.list().at(-1)!;
    assert.equal(refused.action, 'crl.issue');
    assert.equal(refused.outcome, 'refused');
    await rejectsWith('KEY_DESTROYED', () => destroyKeyCeremony(inst, { ...base, passphrases: passphraseMap(all) }));
  });

  it('rootca key destroy from the command line', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    const made = await runShippedCeremony(inst, 'ecc-rootca1', dir);
    const home = inst.home;
    inst.close();
    const env = Object.fromEntries(
      Object.entries(allPassphrases()).map(([k, v]) => [`ROOTCA_PASSPHRASE_${k.toUpperCase()}`, v]),
    );
    const cli = rootca(
      [
        'key',
        'destroy',
        '--home',
        home,
        '--ca',
        'ecc-rootca1',
        '--reason',
        'test of destruction',
        '--operator',
        'alice',
        '--witness',
        'olivia',
        '--json',
      ],
      { env },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout).destroyedIn, ['soft']);
    const again = rootca(
      ['crl', 'issue', '--home', home, '--ca', 'ecc-rootca1', '--operator', 'alice', '--witness', 'olivia'],
      { env },
    );
    assert.equal(again.status, 1);
    assert.match(again.stderr, /KEY_DESTROYED/);
    const reopened = openInstallation(home);
    t.after(() => reopened.close()); // closed whether the test passes or not
    assert.equal(keyState(reopened, made.keyId).key.status, 'destroyed');
  });
});
