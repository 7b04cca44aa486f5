/**
 * CPS 6.2.4 backup and 6.2.10 destruction with the pkcs11 store on SoftHSMv2. A ceremony that
 * names a backup token copies the new key there under a transport key split 2-of-3 and
 * destroyed after; both copies are sensitive and non-extractable. Destruction removes the key
 * from every token. With the primary token deleted, the backup token alone signs a CRL that
 * OpenSSL verifies against the original root certificate.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { openInstallation, type Installation } from '../src/installation/installation.ts';
import { destroyKeyCeremony } from '../src/custody/key-destruction.ts';
import { loadCaKey } from '../src/custody/key-records.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import { destroyKeyPair, generateKeyPairInToken } from '../src/keys/pkcs11-keys.ts';
import { finalizePkcs11Modules, withLoggedInSession } from '../src/keys/pkcs11-module.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rootca,
  run,
  runShippedCeremony,
  storyTests,
  tempDir,
} from './helpers.ts';
import { pkcs11Tool, quorumPin, rejectsWith, runPkcs11Ceremony, SOFTHSM, useSoftHsm } from './hsm-fixtures.ts';

describe('pkcs11 backup onto a second token, and destruction across tokens', () => {
  const dir = tempDir('rootca-hsm-bak-');
  useSoftHsm(dir);
  let inst: Installation;
  const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
  const env = Object.fromEntries(
    Object.entries(allPassphrases()).map(([k, v]) => [`ROOTCA_PASSPHRASE_${k.toUpperCase()}`, v]),
  );
  const objects = async (token: string, type: string) => {
    const r = pkcs11Tool([
      '--token-label',
      token,
      '--login',
      '--pin',
      await quorumPin(inst, token),
      '--list-objects',
      '--type',
      type,
    ]);
    assert.equal(r.status, 0, r.out);
    return r.out;
  };

  /** Keys backed up onto a second token, then destroyed: each test builds on the ones before it (storyTests). */
  const story = storyTests();

  before(async () => {
    // The tokens are set up from the command line, before this process loads the module (a
    // PKCS#11 module sees the tokens that exist when it is initialised).
    const first = installationWithPeople({ dir });
    const home = first.home;
    first.close();
    for (const label of ['rootca-primary', 'rootca-backup']) {
      const cli = rootca(
        [
          'token',
          'init',
          '--home',
          home,
          '--module',
          SOFTHSM,
          '--label',
          label,
          '--holders',
          'alice,bob,carol',
          '--threshold',
          '2',
          '--operator',
          'alice',
          '--witness',
          'olivia',
        ],
        { env },
      );
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(
        cli.stdout,
        new RegExp(`Token ${label} \\(serial [0-9a-f]+\\) initialised; its PINs are held 2-of-3 by alice, bob, carol`),
      );
    }
    const list = rootca(['token', 'list', '--home', home, '--json']);
    assert.deepEqual(
      JSON.parse(list.stdout).map((t: { label: string }) => t.label),
      ['rootca-primary', 'rootca-backup'],
    );
    inst = openInstallation(home);
  });
  after(() => {
    inst?.close();
    finalizePkcs11Modules();
  });

  story(
    'the ceremony backs the key up: same public key in both tokens, both sensitive and non-extractable, no transport key left',
    async () => {
      const made = await runShippedCeremony(inst, 'ecc-rootca1-hsm', dir);
      const record = loadCaKey(inst, made.keyId);
      assert.deepEqual(
        record.locations.map((l) => [l.token, l.role]),
        [
          ['rootca-primary', 'primary'],
          ['rootca-backup', 'backup'],
        ],
      );
      const ev = inst.audit
        .list()
        .filter((e) => e.action === 'ceremony.root-ca' && e.outcome === 'success')
        .at(-1)!;
      const backups = (ev.details as { backups: { token: string; transportKey: string }[] }).backups;
      assert.equal(backups.length, 1);
      assert.equal(backups[0]!.token, 'rootca-backup');
      assert.match(
        backups[0]!.transportKey,
        /AES-256 [0-9a-f]{16}, 2-of-3 \(alice, bob, carol\), rebuilt by alice, bob, destroyed/,
      );
      for (const token of ['rootca-primary', 'rootca-backup']) {
        const priv = await objects(token, 'privkey');
        assert.match(priv, /label:\s+ecc-rootca1-2026/);
        assert.match(priv, /Access:\s+sensitive/);
        assert.doesNotMatch(
          priv.replace(/never extractable/g, ''),
          /extractable/,
          `${token}: the key must not be extractable`,
        );
        assert.doesNotMatch(
          await objects(token, 'secrkey'),
          /Secret Key Object/,
          `${token}: the transport key is gone`,
        );
        // The public point the token holds is the one in the certificate.
        const point = /EC_POINT:\s+([0-9a-f]+)/.exec(await objects(token, 'pubkey'))?.[1];
        assert.ok(point, `${token} has the public key object`);
        assert.ok(
          point.endsWith(record.publicKeySpki.subarray(-97).toString('hex')),
          `${token}: public key differs from the certificate's`,
        );
      }
    },
  );

  story(
    'a backup that fails after the key was made (label taken in the backup token) leaves no key anywhere',
    async () => {
      // A stray object under the label the ceremony will use, in the backup token only.
      const stray = { label: 'rootca1-key', id: Buffer.from('stray') };
      await withLoggedInSession(
        { module: SOFTHSM, label: 'rootca-backup' },
        Buffer.from(await quorumPin(inst, 'rootca-backup')),
        'user',
        (mod, s) => generateKeyPairInToken(mod, s, { kind: 'ecdsa', curve: 'P-256' }, stray),
      );
      const keys = inst.db.prepare('SELECT count(*) FROM ca_keys').pluck().get();
      await rejectsWith(
        'KEY_LABEL_IN_USE',
        () => runPkcs11Ceremony(inst, dir, 'rootca1', 'rootca-primary', ['rootca-backup']),
        /rootca-backup already holds an object labelled "rootca1-key"/,
      );
      const failed = inst.audit
        .list()
        .filter((e) => e.action === 'ceremony.root-ca')
        .at(-1)!;
      assert.equal(failed.outcome, 'failed');
      assert.deepEqual((failed.details as { keyRemovedFrom: string[] }).keyRemovedFrom, [
        'rootca-primary',
        'rootca-backup',
      ]);
      assert.doesNotMatch(
        (await objects('rootca-primary', 'privkey')) + (await objects('rootca-primary', 'pubkey')),
        /rootca1-key/,
        'the key made in the primary was removed',
      );
      assert.equal(inst.db.prepare('SELECT count(*) FROM ca_keys').pluck().get(), keys);
      assert.equal(inst.db.prepare("SELECT count(*) FROM cas WHERE name = 'rootca1'").pluck().get(), 0);
      await withLoggedInSession(
        { module: SOFTHSM, label: 'rootca-backup' },
        Buffer.from(await quorumPin(inst, 'rootca-backup')),
        'user',
        (mod, s) => destroyKeyPair(mod, s, stray, 'rootca-backup'),
      );
    },
  );

  story(
    'destruction removes the key from the primary and the backup token; signing then fails with KEY_DESTROYED',
    async () => {
      await runPkcs11Ceremony(inst, dir, 'rootca2', 'rootca-primary', ['rootca-backup']);
      const r = await destroyKeyCeremony(inst, {
        caName: 'rootca2',
        operator: 'alice',
        witness: 'olivia',
        reason: 'test of destruction across tokens',
        passphrases: people.passphrases,
      });
      assert.deepEqual(r.destroyedIn, ['pkcs11:rootca-primary', 'pkcs11:rootca-backup']);
      for (const token of ['rootca-primary', 'rootca-backup']) {
        const all = (await objects(token, 'privkey')) + (await objects(token, 'pubkey'));
        assert.doesNotMatch(all, /rootca2-key/, `${token} still holds rootca2's key`);
        assert.match(all, /ecc-rootca1-2026/, `${token} keeps the other CA's key`);
      }
      const perToken = inst.audit.list().filter((e) => e.action === 'key.destroy.token' && e.outcome === 'success');
      assert.deepEqual(
        perToken.map((e) => e.target),
        ['rootca-primary', 'rootca-backup'],
      );
      assert.ok(
        perToken.every(
          (e) =>
            (e.details as { loggedOut: boolean; sessionClosed: boolean }).loggedOut &&
            (e.details as { sessionClosed: boolean }).sessionClosed,
        ),
      );
      assert.equal(inst.db.prepare("SELECT count(*) FROM ca_key_objects WHERE status = 'destroyed'").pluck().get(), 2);
      await rejectsWith('KEY_DESTROYED', () => issueCrl(inst, { caName: 'rootca2', ...people }));
    },
  );

  story(
    'with the primary token deleted, the backup token alone signs a CRL that openssl verifies against the original root',
    async () => {
      const home = inst.home;
      inst.close();
      inst = undefined as unknown as Installation;
      const del = run('softhsm2-util', ['--delete-token', '--token', 'rootca-primary']);
      assert.equal(del.status, 0, del.stderr);

      // Destruction needs every token: refused while the primary is gone, and nothing is deleted.
      const refused = rootca(
        [
          'key',
          'destroy',
          '--home',
          home,
          '--ca',
          'ecc-rootca1',
          '--reason',
          'should be refused',
          '--operator',
          'alice',
          '--witness',
          'olivia',
        ],
        { env },
      );
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /TOKEN_NOT_FOUND/);

      const crl = join(dir, 'from-backup.crl');
      const cli = rootca(
        [
          'crl',
          'issue',
          '--home',
          home,
          '--ca',
          'ecc-rootca1',
          '--out',
          crl,
          '--operator',
          'alice',
          '--witness',
          'olivia',
        ],
        { env },
      );
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(
        openssl(['crl', '-inform', 'DER', '-in', crl, '-CAfile', join(dir, 'ecc-rootca1.pem'), '-noout', '-verify']),
        /verify OK/,
      );
      inst = openInstallation(home);
      const act = inst.audit
        .list()
        .filter((e) => e.action === 'key.activate' && e.outcome === 'success')
        .at(-1)!;
      assert.equal((act.details as { token: string }).token, 'rootca-backup');
      assert.equal(
        inst.db
          .prepare("SELECT status FROM ca_keys WHERE key_id = (SELECT key_id FROM cas WHERE name = 'ecc-rootca1')")
          .pluck()
          .get(),
        'active',
      );
    },
  );
});
