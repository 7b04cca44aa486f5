/**
 * CPS 5.8 / R-9.2 termination, checked with OpenSSL as a relying party: refused before the
 * notice is three months old (injected clock); then every certificate revoked
 * (cessationOfOperation), a final CRL and OCSP responses, the key destroyed under quorum and
 * witness, the CA terminated and shown so in the publication and on the Repository page. An
 * interrupted termination is resumed: after the revocations, and after the key destruction.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe } from 'node:test';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { publish } from '../src/status/publication.ts';
import { runRootCeremony } from '../src/lifecycle/root-ceremony.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { terminateCa, type TerminateParams } from '../src/lifecycle/termination.ts';
import { announceTermination } from '../src/lifecycle/termination-notice.ts';
import { fixedClock } from '../src/clock.ts';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import { CaError, type ErrorCode } from '../src/errors.ts';
import { addUtcMonths } from '../src/lint/crl/support.ts';
import { derToPem } from '../src/pki/pem.ts';
import { verifyPublication } from '../src/publish/verify.ts';
import { renderRepositoryPage } from '../src/server/repository-page.ts';
import { rejectsWith, passphraseEnv } from './lifecycle-end-fixtures.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  REPO,
  rootca,
  run,
  runShippedCeremony,
  setUpDelegatedKeys,
  storyTests,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const DAY = 86_400_000;

const day = (t: Date) => t.toISOString().slice(0, 10);

describe('CPS 5.8 CA termination', () => {
  const dir = tempDir();
  // The installation starts 130 days ago, so the termination itself runs at the real time
  // and OpenSSL checks its CRL and OCSP responses without a faked clock.
  const clock = fixedClock(new Date(Date.now() - 130 * DAY));
  let inst: Installation;
  const source = passphraseMap(allPassphrases());
  /** The one value a query selects. */
  const scalar = (sql: string, ...args: unknown[]): unknown =>
    Object.values(inst.db.prepare(sql).get(...args) as Record<string, unknown>)[0];
  const people = { operator: 'alice', witness: 'olivia', passphrases: source };
  const terminate = (caName: string, extra: Partial<TerminateParams> = {}) =>
    terminateCa(inst, { ...people, caName, authoriser: 'paula', ...extra });
  const subs: { serial: string; pem: string }[] = [];
  const crash = (at: string) => (step: string) => {
    if (step === at) throw new CaError('SIMULATED_CRASH' as ErrorCode, `the process stopped after ${step}`);
  };

  /** One CA's ending: each test builds on the ones before it (storyTests runs them first when alone). */
  const story = storyTests();

  before(async () => {
    inst = installationWithPeople({ dir, more: true, clock });
    inst.config.issuance.requireApplicationFor = [];
    for (const r of ['ecc-rootca1', 'rootca2']) {
      await runShippedCeremony(inst, r, dir);
      await setUpDelegatedKeys(inst, r);
    }
    // A second ECC root of our own, to be interrupted after its key is destroyed.
    const yaml = readFileSync(join(REPO, 'ceremonies', 'ecc-rootca1.yaml'), 'utf8')
      .replaceAll('ecc-rootca1', 'ecc-term2')
      .replace('Security Communication ECC RootCA1 }', 'Termination Test ECC Root }');
    await runRootCeremony(inst, {
      ceremony: parseRootCeremony(Buffer.from(yaml), 'ecc-term2.yaml'),
      baseDir: dir,
      passphrases: source,
    });
    for (const name of ['sub-a', 'sub-b']) {
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, `${name}.key`),
        '-out',
        join(dir, `${name}.csr`),
        '-subj',
        `/C=JP/O=Example/CN=${name}`,
      ]);
      const r = await issueCertificate(inst, {
        ...people,
        caName: 'ecc-rootca1',
        profile: 'subca',
        ...TLS_SUBCA,
        csr: readFileSync(join(dir, `${name}.csr`)),
      });
      writeFileSync(join(dir, `${name}.pem`), r.certificatePem);
      subs.push({ serial: r.serialHex, pem: join(dir, `${name}.pem`) });
    }
  });

  story('refuses a termination that was never announced', async () => {
    await rejectsWith('TERMINATION_NOT_ANNOUNCED', () => terminate('ecc-rootca1'), /announce-termination/);
    const last = inst.audit.list().at(-1)!;
    assert.equal(last.action, 'ca.terminate');
    assert.equal(last.outcome, 'refused');
  });

  story('a notice is recorded by the Person Responsible, at least three months ahead (CPS 5.8)', async () => {
    const soon = day(addUtcMonths(clock.now(), 2));
    const date = day(new Date(addUtcMonths(clock.now(), 3).getTime() + DAY));
    const base = { caName: 'ecc-rootca1', authoriser: 'paula', passphrases: source };
    await rejectsWith('NOTICE_PERIOD_TOO_SHORT', () => announceTermination(inst, { ...base, date: soon }), /3 months/);
    await rejectsWith('DATE_INVALID', () => announceTermination(inst, { ...base, date: '2027-02-30' }));
    await rejectsWith(
      'ROLE_MISSING',
      () => announceTermination(inst, { ...base, authoriser: 'alice', date }),
      /person-responsible/,
    );
    const n = await announceTermination(inst, { ...base, date });
    assert.equal(n.terminationDate, date);
    assert.equal(n.announcedAt, clock.now().toISOString());
    await rejectsWith('TERMINATION_ALREADY_ANNOUNCED', () => announceTermination(inst, { ...base, date }));
    await announceTermination(inst, { ...base, caName: 'ecc-term2', date });
    const ev = inst.audit.list().filter((e) => e.action === 'ca.announce-termination' && e.outcome === 'success');
    assert.equal(ev.length, 2);
    assert.equal((ev[0]!.details as { participants: { operator: string }[] }).participants[0]!.operator, 'paula');
  });

  story('refuses while the notice is younger than three months; nothing changes and the CA still works', async () => {
    clock.advance(31 * DAY);
    await rejectsWith('TERMINATION_NOTICE_TOO_RECENT', () => terminate('ecc-rootca1'), /3 months' notice/);
    assert.equal(scalar("SELECT status FROM cas WHERE name = 'ecc-rootca1'"), 'active');
    assert.equal(scalar('SELECT count(*) AS n FROM ca_endings'), 0);
    assert.equal(scalar('SELECT count(*) AS n FROM revocations'), 0);
  });

  story('the command line: announce-termination, then terminate refused with a clear code', () => {
    const env = passphraseEnv();
    const date = day(addUtcMonths(new Date(Date.now() + DAY), 4));
    const a = rootca(
      ['--home', inst.home, 'ca', 'announce-termination', '--ca', 'rootca2', '--date', date, '--by', 'paula'],
      { env },
    );
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, new RegExp(`Termination of rootca2 announced for ${date}`));
    const t = rootca(
      [
        '--home',
        inst.home,
        'ca',
        'terminate',
        '--ca',
        'rootca2',
        '--by',
        'paula',
        '--operator',
        'alice',
        '--witness',
        'olivia',
      ],
      { env },
    );
    assert.equal(t.status, 1);
    assert.match(t.stderr, /\[TERMINATION_NOTICE_TOO_RECENT\]/);
  });

  story(
    'interrupted after the revocations, then resumed: final CRL and OCSP verified by openssl, key destroyed, CA terminated in the publication and on the Repository page',
    async () => {
      clock.set(new Date());
      await rejectsWith('PUBLICATION_SIGNER_ENDING', () =>
        terminate('ecc-rootca1', { publishOut: join(dir, 'never.json'), publishSigner: 'ecc-rootca1' }),
      );
      await rejectsWith('SIMULATED_CRASH', () => terminate('ecc-rootca1', { step: crash('revoked') }));
      assert.equal(scalar("SELECT status FROM cas WHERE name = 'ecc-rootca1'"), 'active', 'not terminated yet');
      assert.equal(
        scalar("SELECT count(*) AS n FROM ca_endings WHERE status = 'started'"),
        1,
        'the intent record says a termination is under way',
      );
      assert.deepEqual(
        inst.db
          .prepare(
            "SELECT DISTINCT reason FROM revocations WHERE issuer_ca_id = (SELECT id FROM cas WHERE name = 'ecc-rootca1')",
          )
          .all(),
        [{ reason: 'cessationOfOperation' }],
      );
      const issuedBefore = scalar('SELECT count(*) AS n FROM certificates');
      await rejectsWith(
        'CA_ENDING',
        () =>
          issueCertificate(inst, {
            ...people,
            caName: 'ecc-rootca1',
            profile: 'subca',
            ...TLS_SUBCA,
            csr: readFileSync(join(dir, 'sub-a.csr')),
          }),
        /unfinished termination/,
      );
      assert.equal(
        scalar('SELECT count(*) AS n FROM certificates'),
        issuedBefore,
        'nothing issued while the termination is unfinished',
      );

      const out = join(dir, 'pub-terminated.json');
      const r = await terminate('ecc-rootca1', { publishOut: out, publishSigner: 'rootca2' });
      assert.equal(r.resumed, true);
      assert.deepEqual(r.revoked, [], 'revoked by the interrupted run already');
      assert.equal(r.keyDestroyed, true);
      assert.equal(
        r.ocspResponses,
        8,
        "two certificates and the root's responder and publication certificates, SHA-1 and SHA-256",
      );
      assert.equal(
        Math.round((r.crlNextUpdate!.getTime() - Date.now()) / DAY),
        365,
        'the final CRL lives as long as BR 4.9.7 allows',
      );

      const crlDer = scalar(
        "SELECT der FROM crls WHERE ca_id = (SELECT id FROM cas WHERE name = 'ecc-rootca1') AND crl_number = ?",
        r.crlNumber,
      ) as Buffer;
      const crl = join(dir, 'final.crl.pem');
      writeFileSync(crl, derToPem(crlDer, 'X509 CRL'));
      assert.match(
        openssl(['crl', '-in', crl, '-CAfile', join(dir, 'ecc-rootca1.pem'), '-noout', '-verify']),
        /verify OK/,
      );
      assert.match(
        openssl(['crl', '-in', crl, '-noout', '-text']),
        /Cessation Of Operation[\s\S]*Cessation Of Operation/,
      );
      for (const sub of subs) {
        const v = run('openssl', [
          'verify',
          '-crl_check',
          '-CRLfile',
          crl,
          '-CAfile',
          join(dir, 'ecc-rootca1.pem'),
          sub.pem,
        ]);
        assert.notEqual(v.status, 0);
        assert.match(v.stdout + v.stderr, /certificate revoked/);
      }

      const pub = verifyPublication(readFileSync(out), {
        trustAnchors: ['ecc-rootca1', 'rootca2', 'ecc-term2'].map((x) => readFileSync(join(dir, `${x}.der`))),
        now: new Date(),
      });
      assert.equal(pub.cas.get('ecc-rootca1')!.meta.status, 'terminated');
      assert.equal(pub.crls.get('ecc-rootca1')!.meta.crlNumber, String(r.crlNumber));
      const all = [...pub.items.values()].filter((i) => i.kind === 'ocsp-response' && i.ca === 'ecc-rootca1');
      assert.equal(all.length, 8, "the two certificates' and the root's two delegated certificates' last responses");
      // Checked here: the subordinate CAs' (the delegated certificates' are revoked alike).
      const ocsp = all.filter((i) => subs.some((x) => x.serial === (i.meta as { serialHex: string }).serialHex));
      assert.equal(ocsp.length, 4);
      for (const item of ocsp) {
        const meta = item.meta as { serialHex: string; hashAlgorithm: string };
        const f = join(dir, `final-${meta.serialHex}-${meta.hashAlgorithm}.ocsp`);
        writeFileSync(f, pub.files.get(item.path)!);
        const o = openssl([
          'ocsp',
          '-respin',
          f,
          '-issuer',
          join(dir, 'ecc-rootca1.pem'),
          ...(meta.hashAlgorithm === 'sha256' ? ['-sha256'] : []),
          '-cert',
          subs.find((s) => s.serial === meta.serialHex)!.pem,
          '-CAfile',
          join(dir, 'ecc-rootca1.pem'),
          '-no_nonce',
        ]);
        assert.match(o, /Response verify OK/);
        assert.match(o, /: revoked/);
        assert.match(o, /Reason: cessationOfOperation/);
      }
      assert.match(
        renderRepositoryPage(pub, { ocspUrl: 'http://127.0.0.1/ocsp' }),
        /<th scope="row">ecc-rootca1<\/th>[^\n]*Terminated/i,
      );

      // The key is gone and the CA signs nothing more.
      const key = inst.db
        .prepare(
          "SELECT k.status, k.wrapped_private_key FROM ca_keys k JOIN cas c ON c.key_id = k.key_id WHERE c.name = 'ecc-rootca1'",
        )
        .get() as { status: string; wrapped_private_key: Buffer | null };
      assert.equal(key.status, 'destroyed');
      assert.equal(key.wrapped_private_key, null);
      await rejectsWith(
        'CA_NOT_ACTIVE',
        () =>
          issueCertificate(inst, {
            ...people,
            caName: 'ecc-rootca1',
            profile: 'subca',
            ...TLS_SUBCA,
            csr: readFileSync(join(dir, 'sub-a.csr')),
          }),
        /terminated/,
      );
      await rejectsWith('CA_NOT_ACTIVE', () => issueCrl(inst, { caName: 'ecc-rootca1', ...people }), /terminated/);
      await rejectsWith('CA_NOT_ACTIVE', () => presignOcsp(inst, { caName: 'ecc-rootca1', ...people }), /terminated/);
      await rejectsWith(
        'CA_NOT_ACTIVE',
        () => publish(inst, { ...people, signerCa: 'ecc-rootca1', out: join(dir, 'never2.json') }),
        /terminated/,
      );
      await rejectsWith('CA_ALREADY_TERMINATED', () => terminate('ecc-rootca1'));

      const events = inst.audit.list().filter((e) => e.target.split('/')[0] === 'ecc-rootca1');
      const steps = events
        .filter((e) => e.action === 'ca.terminate')
        .map(
          (e) =>
            `${e.action}:${e.outcome}:${(e.details as { step?: string; code?: string }).step ?? (e.details as { code?: string }).code}`,
        );
      for (const s of [
        'ca.terminate:refused:TERMINATION_NOT_ANNOUNCED',
        'ca.terminate:refused:TERMINATION_NOTICE_TOO_RECENT',
        'ca.terminate:success:started',
        'ca.terminate:failed:SIMULATED_CRASH',
        'ca.terminate:success:resumed',
        'ca.terminate:success:completed',
      ]) {
        assert.ok(steps.includes(s), `${s} in ${steps.join(', ')}`);
      }
      assert.equal(
        events.filter(
          (e) =>
            e.action === 'certificate.revoke' && (e.details as { reason: string }).reason === 'cessationOfOperation',
        ).length,
        4,
        "the two certificates and the root's responder and publication certificates",
      );
      assert.ok(
        events.some(
          (e) =>
            e.action === 'certificate.issue' &&
            e.outcome === 'refused' &&
            (e.details as { code: string }).code === 'CA_NOT_ACTIVE',
        ),
      );
      const destroyed = events.find((e) => e.action === 'key.destroy' && e.outcome === 'success')!;
      const roles = (destroyed.details as { participants: { as: string }[] }).participants.map((p) => p.as);
      assert.ok(
        roles.includes('witness') && roles.some((x) => x.includes('custodian')) && roles.includes('authoriser'),
        roles.join(', '),
      );
    },
  );

  story(
    'interrupted after the key was destroyed: the Person Responsible and the witness complete it (rootca ca terminate)',
    async () => {
      await rejectsWith('SIMULATED_CRASH', () => terminate('ecc-term2', { step: crash('key-destroyed') }));
      assert.equal(scalar("SELECT status FROM cas WHERE name = 'ecc-term2'"), 'active');
      await rejectsWith('KEY_DESTROYED', () => issueCrl(inst, { caName: 'ecc-term2', ...people }), /destroyed/);
      await rejectsWith('SAME_PERSON_TWICE', () => terminate('ecc-term2', { witness: 'paula' }));
      // Resumed on the command line (real clock: the notice was given 130 days ago).
      const cli = rootca(
        [
          '--home',
          inst.home,
          '--json',
          'ca',
          'terminate',
          '--ca',
          'ecc-term2',
          '--by',
          'paula',
          '--operator',
          'alice',
          '--witness',
          'olivia',
        ],
        { env: passphraseEnv() },
      );
      assert.equal(cli.status, 0, cli.stderr);
      const r = JSON.parse(cli.stdout) as { resumed: boolean; keyDestroyed: boolean };
      assert.equal(r.resumed, true);
      assert.equal(r.keyDestroyed, true);
      assert.equal(scalar("SELECT status FROM cas WHERE name = 'ecc-term2'"), 'terminated');
      assert.equal(scalar("SELECT count(*) AS n FROM ca_endings WHERE status = 'started'"), 0);
      const done = inst.audit
        .list()
        .filter((e) => e.target === 'ecc-term2' && e.action === 'ca.terminate' && e.outcome === 'success')
        .at(-1)!;
      assert.equal((done.details as { keyDestroyedEarlier: boolean }).keyDestroyedEarlier, true);
      assert.deepEqual(
        (done.details as { participants: { operator: string }[] }).participants.map((p) => p.operator),
        ['paula', 'olivia'],
      );
    },
  );
});
