/**
 * together (CPS 5.5, 5.6, 5.7): the archive across a renewal, a re-key and a
 * second re-key of the root that certified the internal TSA, driven through the CLI as an
 * operator would. Regression for issue #19: inspection checked the TSA certificate with the
 * CA's current key, so every set made after the re-key was reported lost, and restore then
 * silently went back to the last set from before the re-key.
 *   - every set verifies (`archive inspect` exit 0) and each set's time-stamp passes
 *     `openssl ts -verify` against the root of the key that certified its TSA, and fails
 *     against the other one;
 *   - `archive restore` from the secondary after losing the primary and the live database
 *     brings back the newest state (certificates, CRLs, OCSP responses, publications, audit events);
 *   - a restore whose newest set fails verification stops and names the set and the failure;
 *     `--accept-loss-after SET` restores the older set and records what was dropped.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe } from 'node:test';
import Database from 'better-sqlite3';
import { archiveLocations } from '../src/records/backups.ts';
import { pemToDer } from '../src/pki/pem.ts';
import { verifyPublication } from '../src/publish/verify.ts';
import { certificateInfo } from '../src/pki/certificate-info.ts';
import { archiveInstallation, csr, env, ROOT, sets } from './archive-fixtures.ts';
import { rootca, run, storyTests, tempDir } from './helpers.ts';

const TABLES = ['certificates', 'crls', 'ocsp_responses', 'publications'] as const;

/** Row counts of a store, read-only (no audit event is written by looking). */
function counts(dbFile: string): Record<(typeof TABLES)[number] | 'audit_events', number> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const n = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { ...Object.fromEntries(TABLES.map((t) => [t, n(t)])), audit_events: n('audit_events') } as never;
  } finally {
    db.close();
  }
}

function auditEvents(dbFile: string): { seq: number; action: string; hash: string; details: string }[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT seq, action, hash, details FROM audit_events ORDER BY seq').all() as never;
  } finally {
    db.close();
  }
}

describe("R-8 the archive across renew, re-key and a second re-key of the TSA's root (issue #19)", () => {
  const dir = tempDir('rootca-archive-rekey-');
  const f = (name: string) => join(dir, name);
  let home: string;
  let primary: string;
  let secondary: string;
  const cli = (args: string[]) => {
    const r = rootca([...args, '--home', home], { env: env() });
    assert.equal(r.status, 0, `rootca ${args.join(' ')}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const people = ['--operator', 'alice', '--witness', 'olivia'];
  let n = 0;
  const issue = (label: string) => {
    writeFileSync(f(`${label}.csr`), csr(`responder ${label}`));
    cli(['issue', '--ca', ROOT, '--profile', 'ocsp', '--csr', f(`${label}.csr`), ...people]);
  };
  /** A round of ordinary work: an issuance, a CRL, pre-signed OCSP responses, a publication (each change backed up, stamped). */
  const work = (label: string) => {
    issue(label);
    cli(['crl', 'issue', '--ca', ROOT, ...people]);
    cli(['ocsp', 'presign', '--ca', ROOT, ...people]);
    cli(['publish', '--signer', ROOT, '--out', f(`publication-${++n}.json`), ...people]);
  };

  /** The root's responder and publication keys, certified by its current key (issue 15: after the ceremony and each re-key). */
  const delegate = () => {
    for (const group of [['ocsp', 'responder'], ['publication-key']])
      cli([...group, 'issue', '--ca', ROOT, '--holders', 'alice,bob,carol', '--threshold', '2', ...people]);
  };

  /** Root certificate files: key 1 (the ceremony's), key 2 and key 3 (each re-key's NewWithNew). */
  const roots = { key1: f(`${ROOT}.pem`), key2: f(`rekey1/${ROOT}.pem`), key3: f(`rekey2/${ROOT}.pem`) };
  /** TSA certificates: TSA 1 certified by key 1 (fixture), TSA 2 by key 2 (tsa init after the first re-key). */
  const tsas = { tsa1: f('tsa.pem'), tsa2: f('tsa2.pem') };

  /** The archive's life across the re-keys, then its loss: each test builds on the ones before it (storyTests). */
  const story = storyTests();

  before(async () => {
    const made = await archiveInstallation(dir);
    try {
      home = made.inst.home;
      primary = archiveLocations(made.inst)[0]!.dir;
      secondary = made.secondary;
    } finally {
      made.inst.close();
    }

    delegate();
    work('before');
    cli(['ca', 'renew', '--ca', ROOT, ...people]);
    const rekey1 = cli(['ca', 'rekey', '--ca', ROOT, '--out-dir', f('rekey1'), ...people]);
    assert.match(
      rekey1,
      /WARNING the internal TSA tsa-ecc-rootca1-[0-9a-f]+ was certified by the retired key .*rootca tsa init --ca ecc-rootca1/,
    );
    delegate();
    issue('rekeyed');
    writeFileSync(f('record.txt'), 'a record stamped after the re-key\n');
    cli(['tsa', 'stamp', f('record.txt'), '--holder', 'alice', '--out', f('record.tsr')]);
    cli(['tsa', 'init', '--ca', ROOT, '--holders', 'alice,bob', ...people, '--out', tsas.tsa2]);
    cli(['ca', 'rekey', '--ca', ROOT, '--out-dir', f('rekey2'), ...people]);
    delegate();
    work('rekeyed-twice');
    // The publication is no change that backs up by itself: this set carries it.
    cli(['archive', 'backup', '--operator', 'alice']);
  });

  story(
    "the TSA certified by the retired key keeps stamping after the re-key: openssl ts -verify against that key's root",
    () => {
      const verify = (root: string) =>
        run('openssl', [
          'ts',
          '-verify',
          '-data',
          f('record.txt'),
          '-in',
          f('record.tsr'),
          '-CAfile',
          root,
          '-untrusted',
          tsas.tsa1,
        ]);
      assert.match(verify(roots.key1).stdout, /Verification: OK/);
      assert.notEqual(verify(roots.key2).status, 0, 'the new key did not certify that TSA');
    },
  );

  story('archive inspect: every set verifies in both locations, those stamped before and after each re-key', () => {
    const out = cli(['archive', 'inspect']);
    assert.match(out, /OK: \d+ sets verified, nothing lost/);
    assert.doesNotMatch(out, /LOSS/);
    const report = JSON.parse(cli(['archive', 'inspect', '--json']));
    assert.ok(report.sets.length >= 12, String(report.sets.length));
    for (const s of report.sets) assert.deepEqual(s.where, { primary: 'ok', secondary: 'ok' }, s.name);
  });

  story(
    "openssl ts -verify accepts each set's token against the root of the key that certified its TSA, and not against the other",
    () => {
      const tsaOf = (setDir: string) => {
        const pem = readFileSync(join(setDir, 'tsa.pem'), 'utf8');
        if (pem === readFileSync(tsas.tsa1, 'utf8')) return 'tsa1';
        assert.equal(pem, readFileSync(tsas.tsa2, 'utf8'), `${setDir}: stamped by an unknown TSA`);
        return 'tsa2';
      };
      const verify = (setDir: string, root: string) =>
        run('openssl', [
          'ts',
          '-verify',
          '-data',
          join(setDir, 'manifest.json'),
          '-in',
          join(setDir, 'manifest.tsr'),
          '-CAfile',
          root,
          '-untrusted',
          join(setDir, 'tsa.pem'),
        ]);
      const seen = { tsa1: 0, tsa2: 0 };
      for (const name of sets(secondary)) {
        const setDir = join(secondary, name);
        if (!existsSync(join(setDir, 'manifest.tsr'))) continue;
        const tsa = tsaOf(setDir);
        seen[tsa]++;
        const right = tsa === 'tsa1' ? roots.key1 : roots.key2;
        const wrong = tsa === 'tsa1' ? roots.key2 : roots.key3;
        const ok = verify(setDir, right);
        assert.equal(ok.status, 0, `${name}: ${ok.stderr}`);
        assert.match(ok.stdout, /Verification: OK/);
        assert.notEqual(verify(setDir, wrong).status, 0, `${name} must not verify against ${wrong}`);
      }
      assert.ok(seen.tsa1 >= 5 && seen.tsa2 >= 4, JSON.stringify(seen));
    },
  );

  story(
    'the publication after the second re-key verifies on the online side, with what key 1 issued, through both OldWithNew links',
    () => {
      const anchor = pemToDer(readFileSync(roots.key3, 'utf8'), 'CERTIFICATE');
      const pub = verifyPublication(readFileSync(f(`publication-${n}.json`)), {
        trustAnchors: [anchor],
        now: new Date(),
      });
      const ca = pub.cas.get(ROOT)!;
      assert.equal(
        ca.previousKeys.length,
        2,
        "key 2 through the second re-key's OldWithNew, key 1 through the first's",
      );
      assert.deepEqual(pub.links.map((l) => l.kind).sort(), [
        'new-with-old',
        'new-with-old',
        'old-with-new',
        'old-with-new',
      ]);
      const tsa1 = certificateInfo(pemToDer(readFileSync(tsas.tsa1, 'utf8'), 'CERTIFICATE'));
      assert.ok(pub.certificates.get(ROOT)!.has(tsa1.serialHex), 'the TSA certificate key 1 issued is published');
      // And OpenSSL builds the same path: key 1's TSA certificate from the newest root.
      assert.match(
        run('openssl', [
          'verify',
          '-purpose',
          'timestampsign',
          '-CAfile',
          roots.key3,
          '-untrusted',
          f(`rekey2/${ROOT}-oldwithnew.pem`),
          '-untrusted',
          f(`rekey1/${ROOT}-oldwithnew.pem`),
          tsas.tsa1,
        ]).stdout,
        /OK/,
      );
    },
  );

  describe('losing the primary and the live database', () => {
    const liveDb = () => join(home, 'rootca.db');
    let before: ReturnType<typeof counts>;
    let beforeEvents: ReturnType<typeof auditEvents>;
    let newest: string;
    const restored = f('restored');
    const pristine = f('secondary-copy');

    story(
      'archive restore --from SECONDARY brings back the newest state: the same records and the same audit chain',
      () => {
        cpSync(secondary, pristine, { recursive: true });
        before = counts(liveDb());
        beforeEvents = auditEvents(liveDb());
        newest = sets(secondary).at(-1)!;
        for (const name of readdirSync(home).filter((x) => x.startsWith('rootca.db'))) rmSync(join(home, name));
        rmSync(primary, { recursive: true });

        const r = rootca(['archive', 'restore', '--from', secondary, '--home', restored, ...people, '--json'], {
          env: env(),
        });
        assert.equal(r.status, 0, r.stderr + r.stdout);
        const out = JSON.parse(r.stdout);
        assert.equal(out.set, newest, 'the newest set, made after the second re-key');
        assert.deepEqual(out.dropped, []);

        const after = counts(join(restored, 'rootca.db'));
        for (const t of TABLES) assert.equal(after[t], before[t], `${t}: as many as before the loss`);
        const events = auditEvents(join(restored, 'rootca.db'));
        const head = out.auditHead.seq;
        assert.deepEqual(
          events.slice(0, head).map((e) => e.hash),
          beforeEvents.slice(0, head).map((e) => e.hash),
          'the same events, the same chain',
        );
        // What the live log had beyond the set: only the record of that backup itself and inspections.
        assert.deepEqual([...new Set(beforeEvents.slice(head).map((e) => e.action))].sort(), [
          'archive.backup',
          'archive.inspect',
        ]);
        assert.equal(
          events.filter((e) => e.seq <= head).length + beforeEvents.slice(head).length,
          before.audit_events,
          "audit events: all of them, bar the set's own bookkeeping",
        );
        assert.equal(events[head]!.action, 'archive.restore');

        const inspect = rootca(['archive', 'inspect', '--home', restored]);
        assert.equal(inspect.status, 0, inspect.stdout + inspect.stderr);
        assert.match(inspect.stdout, /OK: \d+ sets verified, nothing lost/);
      },
    );

    story(
      'a restore whose newest set fails verification stops, naming the set and the failure; nothing is created',
      () => {
        const bad = sets(pristine).at(-1)!;
        const db = join(pristine, bad, 'rootca.db');
        const bytes = readFileSync(db);
        bytes[bytes.length - 100]! ^= 0x01;
        writeFileSync(db, bytes);
        const previous = sets(pristine).at(-2)!;
        const target = f('restored-2');
        const r = rootca(['archive', 'restore', '--from', pristine, '--home', target, ...people], { env: env() });
        assert.equal(r.status, 1, r.stdout);
        assert.match(r.stderr, new RegExp(`the newest set ${bad} in \\S+ does not verify: rootca.db was altered`));
        assert.match(r.stderr, new RegExp(`--accept-loss-after ${previous}`));
        assert.match(r.stderr, /RESTORE_NEWEST_UNVERIFIED/);
        assert.ok(!existsSync(target), 'nothing restored');
        // Accepting a loss needs a set that is there and verifies.
        const unknown = rootca(
          [
            'archive',
            'restore',
            '--from',
            pristine,
            '--home',
            target,
            ...people,
            '--accept-loss-after',
            'backup-999999-20300101T000000000Z',
          ],
          { env: env() },
        );
        assert.match(
          unknown.stderr,
          /no complete set backup-999999-20300101T000000000Z in \S+; nothing was restored \[BACKUP_SET_UNKNOWN\]/,
        );
        const unverified = rootca(
          ['archive', 'restore', '--from', pristine, '--home', target, ...people, '--accept-loss-after', bad],
          { env: env() },
        );
        assert.match(
          unverified.stderr,
          new RegExp(`${bad} in \\S+ does not verify: rootca.db was altered.*\\[BACKUP_SET_UNVERIFIED\\]`),
        );
        assert.ok(!existsSync(target), 'nothing restored');
      },
    );

    story(
      '--accept-loss-after SET restores the older set and records in the restored audit log what was dropped',
      () => {
        const bad = sets(pristine).at(-1)!;
        const previous = sets(pristine).at(-2)!;
        const target = f('restored-2');
        const r = rootca(
          [
            'archive',
            'restore',
            '--from',
            pristine,
            '--home',
            target,
            ...people,
            '--accept-loss-after',
            previous,
            '--json',
          ],
          { env: env() },
        );
        assert.equal(r.status, 0, r.stderr + r.stdout);
        const out = JSON.parse(r.stdout);
        assert.equal(out.set, previous);
        assert.deepEqual(
          out.dropped.map((d: { set: string }) => d.set),
          [bad],
        );
        const event = auditEvents(join(target, 'rootca.db')).find((e) => e.action === 'archive.restore')!;
        const details = JSON.parse(event.details);
        assert.equal(details.lossAccepted.after, previous);
        assert.equal(details.lossAccepted.dropped[0].set, bad);
        assert.equal(details.lossAccepted.dropped[0].verified, false);
        assert.match(details.lossAccepted.dropped[0].problems.join('\n'), /rootca.db was altered/);
        assert.ok(
          details.lossAccepted.dropped[0].records.auditEvents > 0,
          'what the dropped set held, as its manifest states',
        );
        // The dropped set stays where it was, reported as dropped, not as a new loss.
        const inspect = rootca(['archive', 'inspect', '--home', target, '--location', pristine]);
        assert.equal(inspect.status, 0, inspect.stdout + inspect.stderr);
        assert.match(
          inspect.stdout,
          new RegExp(
            `WARNING \\S+secondary-copy ${bad}: rootca.db was altered .*\\(dropped by the restore that accepted the loss after ${previous}\\)`,
          ),
        );
      },
    );
  });
});
