/**
 * CPS 5.6, R-9.1: the changeover warning, renewal (same key) and re-key (new key with link
 * certificates, RFC 4210 4.4), with the clock moved 20 years ahead and every certificate
 * checked by `openssl verify` at that time (-attime, and once under libfaketime): a
 * subordinate issued by the old key verifies from the new root through OldWithNew, and one
 * issued by the new key verifies from the old root through NewWithOld.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { changeoverCertificates, currentLinkCertificates } from '../src/lifecycle/ca-certificate-history.ts';
import { getCa } from '../src/installation/cas.ts';
import { changeoverStates } from '../src/lifecycle/changeover.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { rekeyCa, type RekeyResult } from '../src/lifecycle/rekey.ts';
import { renewCa } from '../src/lifecycle/renewal.ts';
import { runRootCeremony } from '../src/lifecycle/root-ceremony.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import { fixedClock } from '../src/clock.ts';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import { derToPem } from '../src/pki/pem.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  REPO,
  rootca,
  run,
  runShippedCeremony,
  storyTests,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const CA = 'ecc-rootca1';
const T0 = new Date('2026-12-01T00:00:00Z');
const YEARS_20 = new Date('2046-12-01T00:00:00Z');

/** The shipped ecc-rootca1 ceremony with a 25-year root, so the old root is still valid at the 20-year changeover point. */
async function root25(inst: Installation, dir: string) {
  const text = readFileSync(join(REPO, 'ceremonies', `${CA}.yaml`), 'utf8').replace(/years: 20\b/, 'years: 25');
  assert.match(text, /years: 25/);
  const file = join(dir, `${CA}-25y.yaml`);
  writeFileSync(file, text);
  return runRootCeremony(inst, {
    ceremony: parseRootCeremony(Buffer.from(text), file),
    baseDir: dir,
    passphrases: passphraseMap(allPassphrases()),
  });
}

function subCsr(dir: string, name: string): Buffer {
  const csr = join(dir, `${name}.csr`);
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
    csr,
    '-subj',
    `/C=JP/O=Example Trust/CN=${name}`,
  ]);
  return readFileSync(csr);
}

const people = { operator: 'alice', witness: 'olivia' };
const atTime = (d: Date) => String(Math.floor(d.getTime() / 1000) + 3600);

describe('CPS 5.6 key changeover: status, renewal and re-key verified by OpenSSL 20 years ahead', () => {
  const dir = tempDir('rootca-changeover-');
  const clock = fixedClock(T0);
  let inst: Installation;
  const pem = (name: string, der: Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, derToPem(der, 'CERTIFICATE'));
    return f;
  };
  let originalRoot: string;
  let subOld: string;
  let rekeyed: RekeyResult;

  /** One CA's changeover: each test builds on the ones before it (storyTests runs them first when alone). */
  const story = storyTests();

  before(async () => {
    inst = installationWithPeople({ dir, clock });
    inst.config.issuance.requireApplicationFor = [];
    // The same people 20 years on: keep their training and checks in date for this test.
    inst.config.personnel.trainingValidityDays = inst.config.personnel.backgroundCheckValidityDays = 30 * 366;
    const r = await root25(inst, dir);
    originalRoot = pem('original-root.pem', r.certificateDer);
  });

  story(
    'R-9.1 status: not due at creation; due 20 years on, when the remaining life is below the longest validity the profiles issue',
    () => {
      const [s0] = changeoverStates(inst, CA);
      assert.equal(s0!.changeoverDue, false);
      assert.deepEqual(s0!.longestValidity, { profile: 'subca', days: 3652 });
      assert.deepEqual(s0!.longestMaximum, { profile: 'subca', days: 7305 });
      assert.ok(s0!.remainingDays >= 9130 && s0!.remainingDays <= 9132, String(s0!.remainingDays));
      assert.equal(s0!.advice, 'not due');

      clock.set(YEARS_20);
      const [s] = changeoverStates(inst, CA);
      assert.equal(s!.changeoverDue, true);
      assert.ok(s!.remainingDays > 1800 && s!.remainingDays < 1830, String(s!.remainingDays));
      assert.match(s!.advice, /changeover due \(CPS 5\.6\).*rootca ca renew.*rootca ca rekey/);
      assert.throws(() => changeoverStates(inst, 'nope'), /CA_UNKNOWN|no CA named nope/);
    },
  );

  story(
    'issuance at the changeover point clamps and says changeover is due; the sub verifies from the original root',
    async () => {
      const r = await issueCertificate(inst, {
        ...people,
        caName: CA,
        profile: 'subca',
        ...TLS_SUBCA,
        csr: subCsr(dir, 'sub-old-key'),
        pathLenConstraint: 0,
        passphrases: passphraseMap(allPassphrases()),
      });
      assert.equal(r.clamped, true);
      assert.equal(r.changeoverDue, true);
      assert.match(r.notes.join('\n'), /clamped.*changeover for ecc-rootca1 is due/);
      subOld = pem('sub-old-key.pem', r.certificateDer);
      assert.match(
        openssl(['verify', '-attime', atTime(clock.now()), '-x509_strict', '-CAfile', originalRoot, subOld]),
        /OK/,
      );
    },
  );

  story(
    'renew: same key, new serial and validity; OpenSSL verifies it and the old sub under it; audited with a transcript',
    async () => {
      const before = getCa(inst, CA);
      const r = await renewCa(inst, {
        ...people,
        caName: CA,
        passphrases: passphraseMap(allPassphrases()),
        out: join(dir, 'renewed.pem'),
      });
      const after = getCa(inst, CA);
      assert.equal(after.keyId, before.keyId);
      assert.notEqual(after.serialHex, before.serialHex);
      assert.equal(after.serialHex, r.serialHex);
      assert.equal(after.subject, before.subject);
      assert.equal(r.notAfter.toISOString(), '2071-12-01T00:00:00.000Z'); // as long as the current one: 25 years from now
      const renewed = join(dir, 'renewed.pem');
      const t = atTime(clock.now());
      assert.match(
        openssl(['verify', '-attime', t, '-x509_strict', '-check_ss_sig', '-CAfile', renewed, renewed]),
        /OK/,
      );
      assert.match(openssl(['verify', '-attime', t, '-x509_strict', '-CAfile', renewed, subOld]), /OK/);
      // Same key and extensions: the SKI is unchanged; subject, keyUsage and basicConstraints as before.
      const text = (f: string) =>
        openssl(['x509', '-in', f, '-noout', '-text', '-certopt', 'no_serial,no_validity,no_signame,no_sigdump']);
      assert.equal(text(renewed), text(originalRoot));
      const ev = inst.audit
        .list()
        .filter((e) => e.action === 'ca.renew')
        .at(-1)!;
      assert.equal(ev.outcome, 'success');
      assert.equal((ev.details as { serial: string }).serial, r.serialHex);
      assert.ok(JSON.parse(readFileSync(r.transcriptFile, 'utf8')));
      assert.equal(changeoverStates(inst, CA)[0]!.changeoverDue, false);
      assert.deepEqual(
        changeoverCertificates(inst, CA).map((c) => c.kind),
        ['renewed'],
      );
    },
  );

  story(
    'rekey: new key with new custodians, NewWithNew and both link certificates; the old key is retired',
    async () => {
      const before = getCa(inst, CA);
      rekeyed = await rekeyCa(inst, {
        ...people,
        caName: CA,
        holders: ['bob', 'carol'],
        threshold: 2,
        passphrases: passphraseMap(allPassphrases()),
        outDir: join(dir, 'rekey'),
      });
      const after = getCa(inst, CA);
      assert.notEqual(after.keyId, before.keyId);
      assert.equal(after.keyId, rekeyed.keyId);
      assert.deepEqual(after.custodians, ['bob', 'carol']);
      assert.equal(after.subject, before.subject);
      assert.equal(
        (inst.db.prepare('SELECT status FROM ca_keys WHERE key_id = ?').get(before.keyId) as { status: string }).status,
        'retired',
      );
      assert.deepEqual(
        rekeyed.links.map((l) => l.kind),
        ['old-with-new', 'new-with-old'],
      );
      for (const l of rekeyed.links) assert.equal(l.notAfter.toISOString(), before.notAfter); // RFC 4210 4.4: until the old certificate expires
      assert.deepEqual(
        currentLinkCertificates(inst, CA).map((c) => c.path),
        ['certs/ecc-rootca1-oldwithnew.crt', 'certs/ecc-rootca1-newwithold.crt'],
      );
      const ev = inst.audit
        .list()
        .filter((e) => e.action === 'ca.rekey')
        .at(-1)!;
      assert.equal(ev.outcome, 'success');
      assert.deepEqual((ev.details as { keyActivations: unknown }).keyActivations, { previousKey: 1, newKey: 2 });
      const activations = inst.audit
        .list()
        .filter((e) => e.action === 'key.activate' && e.outcome === 'success')
        .slice(-3)
        .map((e) => (e.details as { keyId: string }).keyId);
      assert.deepEqual(activations, [rekeyed.keyId, rekeyed.keyId, before.keyId]);
    },
  );

  story(
    'OpenSSL: a sub of the OLD key verifies from the NEW root through OldWithNew, and a sub of the NEW key from the OLD root through NewWithOld',
    async () => {
      const r = await issueCertificate(inst, {
        ...people,
        caName: CA,
        profile: 'subca',
        ...TLS_SUBCA,
        csr: subCsr(dir, 'sub-new-key'),
        pathLenConstraint: 0,
        passphrases: passphraseMap(allPassphrases()),
      });
      assert.equal(r.clamped, false);
      assert.equal(r.changeoverDue, false);
      const subNew = pem('sub-new-key.pem', r.certificateDer);
      const out = join(dir, 'rekey');
      const newRoot = join(out, `${CA}.pem`);
      const oldWithNew = join(out, `${CA}-oldwithnew.pem`);
      const newWithOld = join(out, `${CA}-newwithold.pem`);
      const t = atTime(clock.now());
      const verify = (anchor: string, untrusted: string[], cert: string) =>
        run('openssl', [
          'verify',
          '-attime',
          t,
          '-x509_strict',
          '-CAfile',
          anchor,
          ...untrusted.flatMap((u) => ['-untrusted', u]),
          cert,
        ]);

      // The new root is self-signed; each link verifies under the key that signed it.
      assert.equal(verify(newRoot, [], newRoot).status, 0);
      assert.equal(verify(newRoot, [], oldWithNew).status, 0);
      assert.equal(verify(originalRoot, [], newWithOld).status, 0);

      // Old key's sub, new root: needs OldWithNew; without it there is no path.
      assert.notEqual(verify(newRoot, [], subOld).status, 0);
      const a = verify(newRoot, [oldWithNew], subOld);
      assert.equal(a.status, 0, a.stderr + a.stdout);
      // New key's sub, old root: needs NewWithOld.
      assert.notEqual(verify(originalRoot, [], subNew).status, 0);
      const b = verify(originalRoot, [newWithOld], subNew);
      assert.equal(b.status, 0, b.stderr + b.stdout);
      // With both links offered, OpenSSL still finds the right one in each direction.
      assert.equal(verify(newRoot, [oldWithNew, newWithOld], subOld).status, 0);
      assert.equal(verify(originalRoot, [oldWithNew, newWithOld], subNew).status, 0);
      // The chain OpenSSL builds: sub -> OldWithNew -> new root.
      assert.match(
        openssl(['verify', '-attime', t, '-show_chain', '-CAfile', newRoot, '-untrusted', oldWithNew, subOld]),
        /depth=1: .*Security Communication ECC RootCA1 \(untrusted\)[\s\S]*depth=2/,
      );

      // The same at the changeover point under libfaketime instead of -attime.
      const ft = run(
        'faketime',
        [
          '2046-12-01 02:00:00',
          'openssl',
          'verify',
          '-x509_strict',
          '-CAfile',
          newRoot,
          '-untrusted',
          oldWithNew,
          subOld,
        ],
        { env: { ...process.env, TZ: 'UTC' } },
      );
      assert.equal(ft.status, 0, ft.stderr + ft.stdout);
      // ... and the link is no use once the old key's certificate has expired.
      assert.notEqual(
        run('openssl', [
          'verify',
          '-attime',
          String(Date.parse('2072-01-01T00:00:00Z') / 1000),
          '-CAfile',
          newRoot,
          '-untrusted',
          oldWithNew,
          subOld,
        ]).status,
        0,
      );
    },
  );

  story(
    'after re-key the CRL is signed by the new key, and OpenSSL checks the old-key sub against it from the new root',
    async () => {
      const crl = await issueCrl(inst, { caName: CA, ...people, passphrases: passphraseMap(allPassphrases()) });
      const crlFile = join(dir, 'after-rekey.crl');
      writeFileSync(crlFile, crl.der);
      const out = join(dir, 'rekey');
      const r = run('openssl', [
        'verify',
        '-attime',
        atTime(clock.now()),
        '-crl_check',
        '-CRLfile',
        crlFile,
        '-CAfile',
        join(out, `${CA}.pem`),
        '-untrusted',
        join(out, `${CA}-oldwithnew.pem`),
        subOld,
      ]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
    },
  );

  story('CLI: rootca status --json and rootca ca changeovers list what was done', () => {
    const home = inst.home;
    const s = rootca(['--home', home, '--json', 'status']);
    // 0 nothing due, 3 within a margin, 4 overdue (status/due.ts): this story signs no OCSP responses.
    const report = JSON.parse(s.stdout) as {
      exitCode: number;
      cas: { changeover: { ca: string; changeoverDue: boolean; remainingDays: number } }[];
    };
    assert.equal(s.status, report.exitCode, s.stderr);
    const states = report.cas.map((c) => c.changeover);
    assert.equal(states[0]!.ca, CA);
    assert.equal(typeof states[0]!.changeoverDue, 'boolean');
    const text = rootca(['--home', home, 'status']);
    assert.match(text.stdout, /ecc-rootca1 \(active\)[\s\S]*longest issued +3652 days \(subca default\)/);
    const p = rootca(['--home', home, 'ca', 'changeovers', CA, '--pem', 'old-with-new']);
    assert.equal(p.stdout, readFileSync(join(dir, 'rekey', `${CA}-oldwithnew.pem`), 'utf8'));
  });
});

describe('R-1.3 renewing the legacy SHA-1 root', () => {
  it('renews rootca1 with sha256WithRSAEncryption; OpenSSL verifies it strictly and issuance no longer defaults to SHA-1', async (t) => {
    const dir = tempDir('rootca-changeover-legacy-');
    const inst = installationWithPeople({ dir });
    t.after(() => inst.close()); // closed whether the test passes or not
    await runShippedCeremony(inst, 'rootca1', dir);
    assert.equal(getCa(inst, 'rootca1').signatureAlgorithm, 'sha1WithRSAEncryption');
    const r = await renewCa(inst, {
      ...people,
      caName: 'rootca1',
      passphrases: passphraseMap(allPassphrases()),
      out: join(dir, 'rootca1-renewed.pem'),
    });
    const ca = getCa(inst, 'rootca1');
    assert.deepEqual(
      { alg: ca.signatureAlgorithm, legacy: ca.legacySha1, serial: ca.serialHex },
      { alg: 'sha256WithRSAEncryption', legacy: false, serial: r.serialHex },
    );
    const f = join(dir, 'rootca1-renewed.pem');
    assert.match(openssl(['x509', '-in', f, '-noout', '-text']), /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(openssl(['verify', '-x509_strict', '-check_ss_sig', '-CAfile', f, f]), /OK/);
  });
});
