/**
 * R-8 records archive (CPS 5.5, 5.7): the internal TSA, backups after every issuance,
 * revocation and CRL in the primary and secondary locations, time-stamps that `openssl ts
 * -verify` accepts, inspection that finds every kind of loss, copies to fresh media, restore
 * from the secondary after losing the primary and the live database (crash safety under SIGKILL:
 * archive-crash.test.ts).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyArchive, inspectArchive } from '../src/records/archive-inspection.ts';
import { archiveLocations, backupNow } from '../src/records/backups.ts';
import { restoreInstallation } from '../src/records/restore.ts';
import { openInstallation, type Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { revokeCertificate } from '../src/status/revocation.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import { activeTsa, tsaTimestamper } from '../src/records/time-stamping.ts';
import { initTsa } from '../src/records/tsa-setup.ts';
import { CaError } from '../src/errors.ts';
import { parseTimeStampToken, timeStampResponse } from '../src/pki/tsp.ts';
import { unlockCredential } from '../src/keys/credential.ts';
import { getOperator } from '../src/people/operators.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rootca,
  runShippedCeremony,
  storyTests,
  tempDir,
} from './helpers.ts';
import { archiveInstallation, csr, env, ROOT, sets } from './archive-fixtures.ts';

describe('R-8 archive: TSA, backups after every change, inspection, copy and restore', () => {
  const dir = tempDir();
  const source = passphraseMap(allPassphrases());
  const people = { operator: 'alice', witness: 'olivia', passphrases: source };
  let inst: Installation;
  let primary: string;
  let secondary: string;

  /** One archive's history: each test builds on the ones before it (storyTests runs them first when alone). */
  const story = storyTests();

  before(async () => {
    ({ inst, secondary } = await archiveInstallation(dir));
    primary = archiveLocations(inst)[0]!.dir;
  });
  after(() => inst?.close());

  story(
    'tsa init: a P-384 TSA under ecc-rootca1 whose certificate openssl accepts for time-stamping, and tokens openssl ts -verify accepts',
    async () => {
      const tsa = activeTsa(inst)!;
      assert.equal(tsa.kind, 'p384');
      assert.deepEqual(tsa.holders, ['alice', 'bob']);
      assert.equal(tsa.policyOid, '1.2.392.200091.100.902.2', "the root's Time-Stamp CP");
      assert.match(
        openssl(['verify', '-purpose', 'timestampsign', '-CAfile', join(dir, `${ROOT}.pem`), join(dir, 'tsa.pem')]),
        /OK/,
      );
      const bob = unlockCredential('bob', getOperator(inst, 'bob').credential, Buffer.from(allPassphrases().bob));
      const data = Buffer.from('a critical record (CPS 5.5.5)\n');
      const token = await tsaTimestamper(inst, bob).stamp(data);
      bob.lock();
      const parsed = parseTimeStampToken(token);
      assert.equal(parsed.policy, tsa.policyOid);
      assert.equal(parsed.hashAlgorithm, 'sha384');
      writeFileSync(join(dir, 'record.txt'), data);
      writeFileSync(join(dir, 'record.tsr'), timeStampResponse(token));
      writeFileSync(join(dir, 'record.tst'), token);
      assert.match(
        openssl([
          'ts',
          '-verify',
          '-data',
          join(dir, 'record.txt'),
          '-in',
          join(dir, 'record.tsr'),
          '-CAfile',
          join(dir, `${ROOT}.pem`),
          '-untrusted',
          join(dir, 'tsa.pem'),
        ]),
        /Verification: OK/,
      );
      assert.match(
        openssl([
          'ts',
          '-verify',
          '-data',
          join(dir, 'record.txt'),
          '-in',
          join(dir, 'record.tst'),
          '-token_in',
          '-CAfile',
          join(dir, `${ROOT}.pem`),
        ]),
        /Verification: OK/,
      );
      const carol = unlockCredential(
        'carol',
        getOperator(inst, 'carol').credential,
        Buffer.from(allPassphrases().carol),
      );
      await assert.rejects(
        () => tsaTimestamper(inst, carol).stamp(data),
        (e: unknown) => e instanceof CaError && e.code === 'TSA_UNAVAILABLE',
      );
      carol.lock();
    },
  );

  story('tsa init refuses an operator who is not a holder and a holder who is not a CA Administrator', async () => {
    await assert.rejects(
      () => initTsa(inst, { caName: ROOT, holders: ['bob'], ...people }),
      (e: unknown) => e instanceof CaError && e.code === 'OPERATOR_NOT_HOLDER',
    );
    await assert.rejects(
      () => initTsa(inst, { caName: ROOT, holders: ['alice', 'rita'], ...people }),
      (e: unknown) => e instanceof CaError && e.code === 'ROLE_MISSING',
    );
    assert.equal(inst.audit.list().at(-1)!.action, 'tsa.init');
    assert.equal(inst.audit.list().at(-1)!.outcome, 'refused');
  });

  story(
    'an issuance, a revocation and a CRL each write a new set to the primary and the secondary, time-stamped so openssl ts -verify accepts it',
    async () => {
      const check = (before: { p: string[]; s: string[] }, reason: string, ceremonyId?: number) => {
        const p = sets(primary);
        const s = sets(secondary);
        assert.equal(p.length, before.p.length + 1, `one new set in the primary after ${reason}`);
        assert.deepEqual(s, p, 'the secondary holds the same sets');
        const name = p.at(-1)!;
        const setDir = join(primary, name);
        const manifest = JSON.parse(readFileSync(join(setDir, 'manifest.json'), 'utf8'));
        assert.equal(manifest.reason, reason);
        if (ceremonyId !== undefined) assert.equal(manifest.ceremonyId, ceremonyId);
        assert.equal(manifest.signer.operator, 'alice');
        assert.equal(manifest.timeStamp.requested, true);
        assert.ok(
          readFileSync(join(secondary, name, 'manifest.json')).equals(readFileSync(join(setDir, 'manifest.json'))),
        );
        assert.match(
          openssl([
            'ts',
            '-verify',
            '-data',
            join(setDir, 'manifest.json'),
            '-in',
            join(setDir, 'manifest.tsr'),
            '-CAfile',
            join(dir, `${ROOT}.pem`),
            '-untrusted',
            join(dir, 'tsa.pem'),
          ]),
          /Verification: OK/,
        );
        assert.match(
          openssl([
            'ts',
            '-verify',
            '-data',
            join(secondary, name, 'manifest.json'),
            '-in',
            join(secondary, name, 'manifest.tsr'),
            '-CAfile',
            join(dir, `${ROOT}.pem`),
            '-untrusted',
            join(secondary, name, 'tsa.pem'),
          ]),
          /Verification: OK/,
        );
        return manifest;
      };
      const snap = () => ({ p: sets(primary), s: sets(secondary) });

      let b = snap();
      const a = await issueCertificate(inst, { ...people, caName: ROOT, profile: 'ocsp', csr: csr('responder a') });
      assert.ok(a.backup.ok && a.backup.stamped, JSON.stringify(a.backup));
      const m1 = check(b, 'certificate.issue');
      assert.equal(m1.serials.last.serial, a.serialHex);
      await issueCertificate(inst, { ...people, caName: ROOT, profile: 'ocsp', csr: csr('responder b') });

      b = snap();
      const r = await revokeCertificate(inst, {
        ...people,
        caName: ROOT,
        serial: a.serialHex,
        reason: 'superseded',
        approvedBy: 'rita',
      });
      assert.ok(r.backup.ok);
      const m2 = check(b, 'certificate.revoke');
      assert.equal(m2.records.revocations, 1);
      assert.equal(m2.crlNumbers[ROOT], r.crl!.crlNumber);

      b = snap();
      const c = await issueCrl(inst, { caName: ROOT, ...people });
      assert.ok(c.backup.ok);
      const m3 = check(b, 'crl.issue');
      assert.equal(m3.crlNumbers[ROOT], c.crlNumber);
      assert.equal(m3.previous.set, sets(primary).at(-2));

      const events = inst.audit.list().filter((e) => e.action === 'archive.backup' && e.outcome === 'success');
      assert.ok(events.length >= 6);
    },
  );

  story('a backup that fails is audited and reported, and the change stands', async () => {
    const saved = inst.config.archive.secondary;
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    inst.config.archive.secondary = join(blocker, 'secondary');
    try {
      const before = (inst.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n;
      const r = await issueCertificate(inst, { ...people, caName: ROOT, profile: 'ocsp', csr: csr('responder c') });
      assert.equal(r.backup.ok, false);
      assert.ok(r.backup.error);
      assert.equal(
        (inst.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n,
        before + 1,
        'the certificate is issued',
      );
      const last = inst.audit.list().at(-1)!;
      assert.equal(last.action, 'archive.backup');
      assert.equal(last.outcome, 'failed');
      assert.ok(
        !readdirSync(primary).some((n) => n.endsWith('.partial')),
        'the failed attempt leaves nothing half-written',
      );
    } finally {
      inst.config.archive.secondary = saved;
    }
    const again = await backupNow(inst, { operator: 'bob', passphrases: source });
    assert.ok(again.ok && again.stamped);
  });

  story('archive inspect verifies every set and lists what each holds; the CLI exits 0', () => {
    const r = inspectArchive(inst);
    assert.deepEqual(r.problems, []);
    assert.ok(r.ok);
    assert.ok(r.sets.length >= 6);
    for (const s of r.sets) assert.deepEqual(s.where, { primary: 'ok', secondary: 'ok' });
    const last = r.sets.at(-1)!;
    assert.equal(last.records!.caCertificates, 1);
    assert.ok(last.records!.issuedCertificates >= 4, 'TSA and responder certificates');
    assert.equal(last.records!.revocations, 1);
    assert.ok(last.records!.crls >= 2);
    assert.ok(last.stamp, 'time-stamped');
    assert.match(
      r.sets[0]!.notStamped ?? '',
      /no internal TSA/,
      "the backup of the TSA's own issuance came before the TSA was in service",
    );
    const cli = rootca(['archive', 'inspect', '--home', inst.home]);
    assert.equal(cli.status, 0, cli.stderr + cli.stdout);
    assert.match(cli.stdout, /OK: \d+ sets verified, nothing lost/);
    assert.match(cli.stdout, /holds: 1 CA certificates, \d+ issued certificates, 1 revocations/);
  });

  describe('inspection reports each kind of loss with exit 1', () => {
    const pristine = join(dir, 'pristine');
    const history = story.soFar();
    before(async () => {
      await history(); // the sets the story so far wrote, also when one of these tests runs alone
      cpSync(primary, join(pristine, 'primary'), { recursive: true });
      cpSync(secondary, join(pristine, 'secondary'), { recursive: true });
    });
    const reset = () => {
      rmSync(primary, { recursive: true, force: true });
      rmSync(secondary, { recursive: true, force: true });
      cpSync(join(pristine, 'primary'), primary, { recursive: true });
      cpSync(join(pristine, 'secondary'), secondary, { recursive: true });
    };
    const expectLoss = (pattern: RegExp) => {
      const r = inspectArchive(inst);
      assert.equal(r.ok, false);
      assert.ok(
        r.problems.some((p) => pattern.test(p)),
        `expected ${pattern} in:\n${r.problems.join('\n')}`,
      );
      reset();
      return r;
    };

    it('a backup file altered by one byte', () => {
      const name = sets(primary)[2]!;
      const db = join(primary, name, 'rootca.db');
      const bytes = readFileSync(db);
      bytes[bytes.length - 100] ^= 0x01;
      writeFileSync(db, bytes);
      const cli = rootca(['archive', 'inspect', '--home', inst.home]);
      assert.equal(cli.status, 1);
      assert.match(cli.stdout, new RegExp(`LOSS primary ${name}: rootca.db was altered`));
      expectLoss(new RegExp(`^primary ${name}: rootca.db was altered`));
    });

    it('a set deleted in one location', () => {
      const name = sets(secondary)[1]!;
      rmSync(join(secondary, name), { recursive: true });
      const cli = rootca(['archive', 'inspect', '--home', inst.home]);
      assert.equal(cli.status, 1);
      expectLoss(new RegExp(`^secondary ${name}: missing \\(the set is present in primary only\\)`));
    });

    it('a tampered manifest (re-stamping is impossible, re-signing needs the operator)', () => {
      const name = sets(primary).at(-2)!;
      const f = join(primary, name, 'manifest.json');
      writeFileSync(f, readFileSync(f, 'utf8').replace(/"reason": "[^"]+"/, '"reason": "nothing happened"'));
      const r = expectLoss(new RegExp(`^primary ${name}: the signature of alice over manifest.json does not verify`));
      assert.ok(
        r.problems.some((p) => p.includes('does not verify over manifest.json')),
        'the time-stamp breaks too',
      );
      assert.ok(r.problems.some((p) => p.includes('the manifests differ')));
    });

    it("a set deleted from both locations: the next set's chain and the register both notice", () => {
      const middle = sets(primary)[2]!;
      rmSync(join(primary, middle), { recursive: true });
      rmSync(join(secondary, middle), { recursive: true });
      expectLoss(new RegExp(`^${middle}: missing from every location`));
      const newest = sets(primary).at(-1)!;
      rmSync(join(primary, newest), { recursive: true });
      rmSync(join(secondary, newest), { recursive: true });
      expectLoss(new RegExp(`^primary ${newest}: missing \\(the register says it was written there\\)`));
    });

    it('a swapped database (a valid snapshot from another set)', () => {
      const [a, b] = sets(primary).slice(1, 3);
      cpSync(join(primary, a!, 'rootca.db'), join(primary, b!, 'rootca.db'));
      expectLoss(new RegExp(`^primary ${b}: rootca.db was altered`));
    });

    it('an interrupted set (no manifest, .partial) is reported as incomplete, not as a loss', () => {
      mkdirSync(join(primary, 'backup-999999-20300101T000000000Z.partial'));
      writeFileSync(join(primary, 'backup-999999-20300101T000000000Z.partial', 'rootca.db'), 'half');
      const r = inspectArchive(inst);
      assert.ok(r.ok, r.problems.join('\n'));
      assert.ok(r.warnings.some((w) => /backup-999999.*incomplete set/.test(w)));
      reset();
    });
  });

  story('archive copy puts every set on fresh media and verifies the copy; it never writes into a used folder', () => {
    const to = join(dir, 'fresh-media');
    const r = copyArchive(inst, { to });
    assert.ok(r.verified, r.problems.join('\n'));
    assert.deepEqual(sets(to), sets(primary));
    assert.throws(
      () => copyArchive(inst, { to }),
      (e: unknown) => e instanceof CaError && e.code === 'OUTPUT_EXISTS',
    );
    const cli = rootca(['archive', 'inspect', '--location', to, '--home', join(dir, 'nowhere')]);
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
  });

  story('restore from the SECONDARY after losing the primary and the live database: issuance carries on', async () => {
    const before = {
      serials: (
        inst.db
          .prepare('SELECT serial_hex FROM certificates UNION SELECT serial_hex FROM serial_reservations')
          .all() as { serial_hex: string }[]
      ).map((r) => r.serial_hex),
      crl: (inst.db.prepare('SELECT max(crl_number) AS n FROM crls').get() as { n: number }).n,
      head: inst.audit.head(),
    };
    const beforeEvents = inst.audit.list().map((e) => e.hash);
    const oldHome = inst.home;
    inst.close();
    for (const f of readdirSync(oldHome).filter((n) => n.startsWith('rootca.db'))) rmSync(join(oldHome, f));
    rmSync(primary, { recursive: true });

    const newHome = join(dir, 'restored');
    mkdirSync(newHome);
    writeFileSync(join(newHome, 'something'), 'x');
    const refused = rootca(
      ['archive', 'restore', '--from', secondary, '--home', newHome, '--operator', 'alice', '--witness', 'olivia'],
      { env: env() },
    );
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /INSTALLATION_EXISTS/);
    rmSync(newHome, { recursive: true });

    await assert.rejects(
      () =>
        restoreInstallation({ from: secondary, home: newHome, operator: 'alice', witness: 'bob', passphrases: source }),
      (e: unknown) => e instanceof CaError && e.code === 'ROLE_MISSING',
    );
    assert.ok(!existsSync(newHome), 'a refused restore leaves nothing behind');

    const cli = rootca(
      [
        'archive',
        'restore',
        '--from',
        secondary,
        '--home',
        newHome,
        '--operator',
        'alice',
        '--witness',
        'olivia',
        '--json',
      ],
      { env: env() },
    );
    assert.equal(cli.status, 0, cli.stderr + cli.stdout);
    const out = JSON.parse(cli.stdout);
    assert.equal(
      out.set,
      sets(secondary)
        .filter((n) => n !== out.backup.set)
        .at(-1),
    );
    assert.ok(out.backup.ok, 'the restored system backs itself up');

    inst = openInstallation(newHome);
    const v = inst.audit.verify();
    assert.ok(v.ok, JSON.stringify(v.firstBad));
    const restoreEvent = inst.audit.list().find((e) => e.action === 'archive.restore')!;
    assert.equal(
      restoreEvent.seq,
      out.auditHead.seq + 1,
      'the log continues the same chain right after the restored head',
    );
    assert.equal(restoreEvent.prevHash, out.auditHead.hash);
    assert.ok(
      out.auditHead.seq <= before.head.seq && out.auditHead.seq > before.head.seq - 20,
      'only the events after the last backup (its own success event, inspections) are not in the set',
    );
    assert.deepEqual(
      inst.audit.list(1, out.auditHead.seq).map((e) => e.hash),
      beforeEvents.slice(0, out.auditHead.seq),
      'the same events, the same chain',
    );

    const next = await issueCertificate(inst, {
      ...people,
      caName: ROOT,
      profile: 'ocsp',
      csr: csr('after the restore'),
    });
    assert.ok(!before.serials.includes(next.serialHex), 'a new serial, never used before');
    const crl = await issueCrl(inst, { caName: ROOT, ...people });
    assert.ok(crl.crlNumber > before.crl, `CRL number ${crl.crlNumber} > ${before.crl}`);
    assert.ok(
      next.backup.ok && crl.backup.ok && next.backup.stamped,
      'backups go on, time-stamped by the restored TSA',
    );
    assert.ok(inst.audit.verify().ok);
    const audit = rootca(['audit', 'verify', '--home', newHome]);
    assert.equal(audit.status, 0, audit.stderr + audit.stdout);
    const r = inspectArchive(inst);
    assert.ok(r.ok, r.problems.join('\n'));
  });
});

describe('rootca tsa and rootca archive on the command line', () => {
  const dir = tempDir();
  let home: string;
  before(async () => {
    const inst = installationWithPeople({ dir, more: true });
    home = inst.home;
    try {
      await runShippedCeremony(inst, ROOT, dir);
    } finally {
      inst.close();
    }
  });

  it('tsa init, tsa stamp (openssl ts -verify), archive backup (stamped), archive inspect', () => {
    const init = rootca(
      [
        'tsa',
        'init',
        '--home',
        home,
        '--ca',
        ROOT,
        '--holders',
        'alice,carol',
        '--operator',
        'alice',
        '--witness',
        'olivia',
        '--out',
        join(dir, 'tsa.pem'),
      ],
      { env: env() },
    );
    assert.equal(init.status, 0, init.stderr + init.stdout);
    assert.match(init.stdout, /TSA tsa-ecc-rootca1-[0-9a-f]+ \(p384\) in service/);
    assert.match(init.stdout, /backup {5}backup-\d+-\S+ -> .* \(time-stamped, token [0-9a-f]+\)/);
    const list = rootca(['tsa', 'list', '--home', home]);
    assert.match(list.stdout, /active +p384 ecc-rootca1 policy 1\.2\.392\.200091\.100\.902\.2 holders alice,carol/);

    writeFileSync(join(dir, 'minutes.txt'), 'minutes of the key ceremony\n');
    const stamp = rootca(
      [
        'tsa',
        'stamp',
        join(dir, 'minutes.txt'),
        '--home',
        home,
        '--holder',
        'carol',
        '--out',
        join(dir, 'minutes.tsr'),
      ],
      { env: env() },
    );
    assert.equal(stamp.status, 0, stamp.stderr);
    assert.match(
      openssl([
        'ts',
        '-verify',
        '-data',
        join(dir, 'minutes.txt'),
        '-in',
        join(dir, 'minutes.tsr'),
        '-CAfile',
        join(dir, `${ROOT}.pem`),
        '-untrusted',
        join(dir, 'tsa.pem'),
      ]),
      /Verification: OK/,
    );
    const notHolder = rootca(
      ['tsa', 'stamp', join(dir, 'minutes.txt'), '--home', home, '--holder', 'bob', '--out', join(dir, 'bob.tsr')],
      { env: env() },
    );
    assert.equal(notHolder.status, 1);
    assert.match(notHolder.stderr, /bob holds no copy of the TSA key/);

    const backup = rootca(['archive', 'backup', '--home', home, '--operator', 'bob'], { env: env() });
    assert.equal(backup.status, 0, backup.stderr);
    assert.match(backup.stdout, /not time-stamped: bob holds no copy of the TSA key/);
    const inspect = rootca(['archive', 'inspect', '--home', home, '--json']);
    assert.equal(inspect.status, 0, inspect.stdout);
    const report = JSON.parse(inspect.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.sets.at(-1).reason, 'archive.backup');
    assert.equal(report.sets.at(-2).reason, 'tsa.init');
    assert.ok(report.sets.at(-2).stamp.genTime);
  });
});
