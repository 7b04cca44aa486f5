/**
 * Issue 14 leftovers, through the real `rootca` command against a real installation: `doctor`
 * names what an operator must fix, `ceremony resume` finishes a ceremony whose output could not
 * be named after the commit, and `crl export` / `ocsp export` write stored artefacts again —
 * byte for byte what the store holds, readable by OpenSSL, never signed again.
 * Each test makes its own installation, so any one runs alone.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { runRootCeremony } from '../src/lifecycle/root-ceremony.ts';
import type { PassphraseSource } from '../src/people/participants.ts';
import { derToPem } from '../src/pki/pem.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { csr, ROOT } from './archive-fixtures.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  REPO,
  rootca,
  runShippedCeremony,
  setUpDelegatedKeys,
  tempDir,
} from './helpers.ts';

const people = () => ({
  caName: ROOT,
  operator: 'alice',
  witness: 'olivia',
  passphrases: passphraseMap(allPassphrases()),
});
const activations = (inst: Installation) => inst.audit.list().filter((e) => e.action === 'key.activate').length;

/** Runs `body` with a fresh installation (ecc-rootca1 made when asked) in its own folder; closes it after. */
async function withInstallation(
  o: { root: boolean },
  body: (inst: Installation, dir: string) => Promise<void> | void,
): Promise<void> {
  const dir = tempDir();
  const inst = installationWithPeople({ dir });
  try {
    if (o.root) await runShippedCeremony(inst, ROOT, dir);
    await body(inst, dir);
  } finally {
    inst.close();
  }
}

describe('rootca doctor', () => {
  it('says nothing is wrong on a sound installation (exit 0), as text and as JSON', () =>
    withInstallation({ root: false }, (inst) => {
      const text = rootca(['--home', inst.home, 'doctor']);
      assert.equal(text.status, 0, text.stderr);
      assert.equal(text.stdout, 'no problems found: file modes, interrupted ceremonies, audit log and state tables\n');
      const json = rootca(['--home', inst.home, '--json', 'doctor']);
      assert.equal(json.status, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), { ok: true, findings: [] });
    }));

  it('names a home and a config file loosened later, one line each (exit 1); the database is tightened again on opening', () =>
    withInstallation({ root: false }, (inst) => {
      chmodSync(join(inst.home, 'rootca.db'), 0o644);
      chmodSync(join(inst.home, 'rootca.yaml'), 0o644);
      chmodSync(inst.home, 0o755);
      const events = inst.audit.list().length;
      const out = rootca(['--home', inst.home, 'doctor']);
      assert.equal(out.status, 1, out.stderr);
      assert.deepEqual(
        out.stdout
          .trimEnd()
          .split('\n')
          .map((l) => l.replace(/ \(chmod.*/, '')),
        [
          `WARNING file-mode: the home ${inst.home} is 0755; it should be 0700`,
          `WARNING file-mode: ${join(inst.home, 'rootca.yaml')} is 0644; it should be 0600`,
        ],
      );
      assert.equal(
        (statSync(join(inst.home, 'rootca.db')).mode & 0o777).toString(8),
        '600',
        'opening the installation tightened the database',
      );
      const json = JSON.parse(rootca(['--home', inst.home, '--json', 'doctor']).stdout) as {
        ok: boolean;
        findings: { topic: string }[];
      };
      assert.equal(json.ok, false);
      assert.deepEqual(
        json.findings.map((f) => f.topic),
        ['file-mode', 'file-mode'],
      );
      assert.equal(inst.audit.list().length, events, 'doctor appends no event');
    }));
});

/**
 * A root ceremony whose certificate file could not be named after the commit: someone creates
 * the output while the custodians authenticate (after the preflight), so it waits as .partial.
 */
async function interruptedCeremony(
  inst: Installation,
  dir: string,
): Promise<{ id: number; pem: string; certificatePem: string }> {
  const pem = join(dir, `${ROOT}.pem`);
  const real = passphraseMap(allPassphrases());
  const intruding: PassphraseSource = {
    get: async (who, prompt) => {
      if (!existsSync(pem)) writeFileSync(pem, 'not the certificate');
      return real.get(who, prompt);
    },
  };
  const file = join(REPO, 'ceremonies', `${ROOT}.yaml`);
  const r = await runRootCeremony(inst, {
    ceremony: parseRootCeremony(readFileSync(file), file),
    baseDir: dir,
    passphrases: intruding,
  });
  assert.ok(existsSync(`${pem}.partial`), 'the certificate waits as .partial');
  return { id: r.ceremonyId, pem, certificatePem: r.certificatePem };
}

describe('rootca ceremony resume', () => {
  it('doctor names the interrupted ceremony; resume refuses while the name is taken, then writes the stored certificate', () =>
    withInstallation({ root: false }, async (inst, dir) => {
      const c = await interruptedCeremony(inst, dir);
      const doctor = rootca(['--home', inst.home, 'doctor']);
      assert.equal(doctor.status, 1);
      assert.match(
        doctor.stdout,
        new RegExp(
          `^WARNING interrupted: ceremony #${c.id} \\(ceremony\\.root-ca, started .*\\): committed; outputs still to write: .*${ROOT}\\.pem.* \\(rootca ceremony resume ${c.id}\\)$`,
          'm',
        ),
      );

      const blocked = rootca(['--home', inst.home, 'ceremony', 'resume', String(c.id)]);
      assert.equal(blocked.status, 1, blocked.stderr);
      assert.match(
        blocked.stdout,
        new RegExp(`ceremony #${c.id} \\(ceremony\\.root-ca\\) is committed; still to write: .*${ROOT}\\.pem`),
      );
      assert.equal(readFileSync(c.pem, 'utf8'), 'not the certificate', 'the file in the way is left alone');

      unlinkSync(c.pem);
      const done = rootca(['--home', inst.home, 'ceremony', 'resume', String(c.id)]);
      assert.equal(done.status, 0, done.stderr);
      assert.match(
        done.stdout,
        new RegExp(
          `ceremony #${c.id} \\(ceremony\\.root-ca\\) was committed; its outputs are now written: .*${ROOT}\\.pem`,
        ),
      );
      assert.equal(readFileSync(c.pem, 'utf8'), c.certificatePem, 'the certificate the ceremony stored');
      assert.ok(!existsSync(`${c.pem}.partial`));
      assert.match(openssl(['verify', '-CAfile', c.pem, c.pem]), /OK/);
      assert.ok(
        inst.audit.list().some((e) => e.action === 'ceremony.outputs-finished' && e.details.ceremonyId === c.id),
      );

      const clean = rootca(['--home', inst.home, 'doctor']);
      assert.equal(clean.status, 0, clean.stdout);
    }));

  it('refuses a ceremony with nothing left to finish and one that does not exist (exit 1)', () =>
    withInstallation({ root: true }, (inst) => {
      const id = (inst.db.prepare('SELECT max(id) AS id FROM ceremonies').get() as { id: number }).id;
      const finished = rootca(['--home', inst.home, 'ceremony', 'resume', String(id)]);
      assert.equal(finished.status, 1);
      assert.match(
        finished.stderr,
        new RegExp(
          `ceremony #${id} \\(ceremony\\.root-ca\\) is completed and has nothing left to finish \\[CEREMONY_NOTHING_TO_RESUME\\]`,
        ),
      );
      const unknown = rootca(['--home', inst.home, 'ceremony', 'resume', '999']);
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /there is no ceremony #999 \[CEREMONY_UNKNOWN\]/);
      const notANumber = rootca(['--home', inst.home, 'ceremony', 'resume', 'x']);
      assert.equal(notANumber.status, 2);
    }));
});

describe('rootca crl export', () => {
  it('writes the stored CRL again, DER or PEM, byte-identical and read by openssl crl; no new signature', () =>
    withInstallation({ root: true }, async (inst, dir) => {
      const crl = await issueCrl(inst, people());
      const stored = (
        inst.db.prepare('SELECT der FROM crls WHERE crl_number = ?').get(crl.crlNumber) as { der: Buffer }
      ).der;
      const before = activations(inst);
      const der = join(dir, 'export.crl');
      const out = rootca(['--home', inst.home, 'crl', 'export', '--ca', ROOT, '--out', der]);
      assert.equal(out.status, 0, out.stderr);
      assert.match(
        out.stdout,
        new RegExp(`^CRL #${crl.crlNumber} of ${ROOT}: wrote .*export\\.crl \\(sha256 [0-9a-f]{64}\\)$`, 'm'),
      );
      assert.ok(readFileSync(der).equals(stored), 'the exported file is the stored CRL');
      assert.match(
        openssl(['crl', '-inform', 'DER', '-in', der, '-CAfile', join(dir, `${ROOT}.pem`), '-noout']),
        /verify OK/,
      );

      const pem = join(dir, 'export.pem');
      const asPem = rootca([
        '--home',
        inst.home,
        '--json',
        'crl',
        'export',
        '--ca',
        ROOT,
        '--out',
        pem,
        '--pem',
        '--number',
        String(crl.crlNumber),
      ]);
      assert.equal(asPem.status, 0, asPem.stderr);
      assert.equal(JSON.parse(asPem.stdout).crlNumber, crl.crlNumber);
      assert.equal(readFileSync(pem, 'utf8'), derToPem(stored, 'X509 CRL'));
      assert.match(openssl(['crl', '-in', pem, '-CAfile', join(dir, `${ROOT}.pem`), '-noout']), /verify OK/);
      assert.equal(activations(inst), before, 'nothing was signed');
    }));

  it('never overwrites a file, and names a CRL the CA does not have (exit 1)', () =>
    withInstallation({ root: true }, async (inst, dir) => {
      const none = rootca(['--home', inst.home, 'crl', 'export', '--ca', ROOT, '--out', join(dir, 'none.crl')]);
      assert.equal(none.status, 1);
      assert.match(none.stderr, new RegExp(`${ROOT} has no CRL yet: rootca crl issue --ca ${ROOT} \\[CRL_UNKNOWN\\]`));
      assert.ok(!existsSync(join(dir, 'none.crl')));
      await issueCrl(inst, people());
      const taken = join(dir, 'taken.crl');
      writeFileSync(taken, 'keep me');
      const exists = rootca(['--home', inst.home, 'crl', 'export', '--ca', ROOT, '--out', taken]);
      assert.equal(exists.status, 1);
      assert.match(exists.stderr, /taken\.crl already exists/);
      assert.equal(readFileSync(taken, 'utf8'), 'keep me');
      const missing = rootca([
        '--home',
        inst.home,
        'crl',
        'export',
        '--ca',
        ROOT,
        '--out',
        join(dir, 'x.crl'),
        '--number',
        '7',
      ]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, new RegExp(`${ROOT} has no CRL #7 \\[CRL_UNKNOWN\\]`));
    }));
});

describe('rootca ocsp export', () => {
  it('writes the current pre-signed responses again, byte-identical and read by openssl ocsp -respin; no new signature', () =>
    withInstallation({ root: true }, async (inst, dir) => {
      await setUpDelegatedKeys(inst, ROOT, ['ocsp']);
      const cert = await issueCertificate(inst, { ...people(), profile: 'ocsp', csr: csr('export responder') });
      await presignOcsp(inst, people());
      const stored = inst.db.prepare('SELECT der FROM ocsp_responses').all() as { der: Buffer }[];
      const before = activations(inst);
      const outDir = join(dir, 'ocsp');
      mkdirSync(outDir);
      const out = rootca(['--home', inst.home, 'ocsp', 'export', '--ca', ROOT, '--out-dir', outDir]);
      assert.equal(out.status, 0, out.stderr);
      const files = readdirSync(outDir).sort();
      // Also the pre-signing responder's own certificate's responses (issue 15).
      assert.deepEqual(
        files.filter((f) => f.startsWith(cert.serialHex)),
        [`${cert.serialHex}-sha1.ocsp`, `${cert.serialHex}-sha256.ocsp`],
      );
      assert.equal(files.length, 4);
      assert.deepEqual(out.stdout.trimEnd().split('\n').sort(), files.map((f) => `wrote ${join(outDir, f)}`).sort());
      const certPem = join(dir, 'responder.pem');
      writeFileSync(certPem, cert.certificatePem);
      const root = join(dir, `${ROOT}.pem`);
      for (const f of files.filter((x) => x.startsWith(cert.serialHex))) {
        const bytes = readFileSync(join(outDir, f));
        assert.ok(
          stored.some((s) => s.der.equals(bytes)),
          `${f} is a stored response`,
        );
        const sha256 = f.endsWith('-sha256.ocsp') ? ['-sha256'] : [];
        const text = openssl([
          'ocsp',
          '-respin',
          join(outDir, f),
          '-issuer',
          root,
          ...sha256,
          '-cert',
          certPem,
          '-CAfile',
          root,
          '-no_nonce',
        ]);
        assert.match(text, /Response verify OK/);
        assert.match(text, /responder\.pem: good/);
      }
      assert.equal(activations(inst), before, 'nothing was signed');
    }));

  it('one certificate with --serial; refuses a serial without responses and files already there (exit 1)', () =>
    withInstallation({ root: true }, async (inst, dir) => {
      const none = rootca(['--home', inst.home, 'ocsp', 'export', '--ca', ROOT, '--out-dir', dir]);
      assert.equal(none.status, 1);
      assert.match(
        none.stderr,
        new RegExp(
          `${ROOT} has no pre-signed OCSP responses: rootca ocsp presign --ca ${ROOT} \\[OCSP_RESPONSE_UNKNOWN\\]`,
        ),
      );
      await setUpDelegatedKeys(inst, ROOT, ['ocsp']);
      const a = await issueCertificate(inst, { ...people(), profile: 'ocsp', csr: csr('responder a') });
      await issueCertificate(inst, { ...people(), profile: 'ocsp', csr: csr('responder b') });
      await presignOcsp(inst, people());
      const outDir = join(dir, 'one');
      mkdirSync(outDir);
      const one = rootca([
        '--home',
        inst.home,
        '--json',
        'ocsp',
        'export',
        '--ca',
        ROOT,
        '--out-dir',
        outDir,
        '--serial',
        a.serialHex,
      ]);
      assert.equal(one.status, 0, one.stderr);
      assert.deepEqual(
        (JSON.parse(one.stdout) as { path: string }[]).map((f) => f.path).sort(),
        [`${a.serialHex}-sha1.ocsp`, `${a.serialHex}-sha256.ocsp`].map((f) => join(outDir, f)),
      );
      const again = rootca([
        '--home',
        inst.home,
        'ocsp',
        'export',
        '--ca',
        ROOT,
        '--out-dir',
        outDir,
        '--serial',
        a.serialHex,
      ]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /already exists/);
      const unknown = rootca([
        '--home',
        inst.home,
        'ocsp',
        'export',
        '--ca',
        ROOT,
        '--out-dir',
        outDir,
        '--serial',
        '0badc0de',
      ]);
      assert.equal(unknown.status, 1);
      assert.match(
        unknown.stderr,
        new RegExp(`no pre-signed OCSP response for ${ROOT} serial 0badc0de \\[OCSP_RESPONSE_UNKNOWN\\]`),
      );
    }));
});
