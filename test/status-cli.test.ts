/**
 * Issue 16 items 1-2 from the command line, as monitoring and an operator use them: `rootca
 * status` exits 0 (nothing due), 3 (within a margin) or 4 (overdue) as the clock (libfaketime)
 * passes each date; `rootca status ceremony --dry-run` signs nothing; a status ceremony killed
 * (SIGKILL, ROOTCA_FAULT_AT) before its first commit, between its commits and after its last
 * ends in a state that `rootca ceremony resume` or running it again finishes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { openInstallation } from '../src/installation/installation.ts';
import { derToPem } from '../src/pki/pem.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  REPO,
  run,
  runShippedCeremony,
  setUpDelegatedKeys,
  storyTests,
  tempDir,
  type CommandResult,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const DAY = 86_400_000;
const CA = 'ecc-rootca1';

describe('rootca status and rootca status ceremony on the command line, with the clock moved', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  /** Day 0: set once the root and its delegated keys exist, so no day precedes their certificates. */
  let T0 = Date.now();
  const env = {
    ...process.env,
    TZ: 'UTC',
    ...Object.fromEntries(
      Object.entries(allPassphrases()).map(([n, p]) => [`ROOTCA_PASSPHRASE_${n.toUpperCase()}`, p]),
    ),
  };
  /** `rootca` at T0 + `days` (libfaketime), with `extra` environment. */
  const at = (days: number, args: string[], extra: Record<string, string> = {}): CommandResult => {
    const stamp = new Date(T0 + days * DAY).toISOString().replace('T', ' ').slice(0, 19);
    return run('faketime', [stamp, process.execPath, join(REPO, 'bin', 'rootca.mjs'), '--home', home, ...args], {
      env: { ...env, ...extra },
    });
  };
  const people = ['--operator', 'alice', '--witness', 'olivia'];
  const ceremony = (days: number, out: string, extra: Record<string, string> = {}) =>
    at(days, ['status', 'ceremony', CA, '--out', join(dir, out), ...people], extra);
  /** faketime reports its child's SIGKILL on stderr and exits 1. */
  const assertKilled = (r: CommandResult) => {
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Killed/, r.stderr);
  };
  const dryRun = (out: string) =>
    at(0, ['--json', 'status', 'ceremony', CA, '--out', join(dir, out), ...people, '--dry-run']);
  const statusJson = (days: number) => {
    const r = at(days, ['--json', 'status']);
    return { status: r.status, json: JSON.parse(r.stdout) as { level: string; exitCode: number; cas: unknown[] } };
  };
  const stampAt = (days: number) => new Date(T0 + days * DAY).toISOString().replace('T', ' ').slice(0, 19);
  const ceremonyArgs = (out: string) => ['status', 'ceremony', CA, '--out', join(dir, out), ...people];
  /** The certificate the root's OCSP responder key is in service under now. */
  const responderCertificate = () => {
    const inst = openInstallation(home);
    try {
      return inst.db
        .prepare(
          `SELECT c.serial_hex, c.der FROM delegated_keys d JOIN certificates c ON c.id = d.certificate_id
           WHERE d.purpose = 'ocsp'`,
        )
        .get() as { serial_hex: string; der: Buffer };
    } finally {
      inst.close();
    }
  };
  /** The newest pre-signed responses for the sub-CA certificate, by CertID hash. */
  const subResponses = (): [string, Buffer][] => {
    const inst = openInstallation(home);
    try {
      const rows = inst.db
        .prepare(
          `SELECT o.hash_algorithm AS hash, o.der FROM ocsp_responses o JOIN certificates c ON c.id = o.certificate_id
           WHERE c.profile = 'subca' ORDER BY o.id`,
        )
        .all() as { hash: string; der: Buffer }[];
      return [...new Map(rows.map((r) => [r.hash, r.der])).entries()];
    } finally {
      inst.close();
    }
  };
  const lastCeremony = () => {
    const inst = openInstallation(home);
    try {
      return inst.db
        .prepare("SELECT id, status, details FROM ceremonies WHERE kind = 'status.ceremony' ORDER BY id DESC LIMIT 1")
        .get() as { id: number; status: string; details: string };
    } finally {
      inst.close();
    }
  };
  const story = storyTests();

  story('a root and a subordinate CA with no CRL and no OCSP yet: exit 4, the JSON names what is due', async () => {
    const inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    await runShippedCeremony(inst, CA, dir);
    await setUpDelegatedKeys(inst, CA); // its responder and publication keys sign the responses and the manifest
    T0 = Date.now() + 2000;
    openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        join(dir, 'sub.key'),
        '-out',
        join(dir, 'sub.csr'),
        '-subj',
        '/C=JP/O=Example/CN=CLI Sub CA',
      ]),
    );
    const sub = await issueCertificate(inst, {
      operator: 'alice',
      witness: 'olivia',
      passphrases: passphraseMap(allPassphrases()),
      caName: CA,
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(join(dir, 'sub.csr')),
    });
    writeFileSync(join(dir, 'sub.pem'), sub.certificatePem);
    inst.close();
    const { status, json } = statusJson(0);
    assert.equal(status, 4);
    assert.equal(json.level, 'error');
    assert.equal(json.exitCode, 4);
    const text = at(0, ['status']);
    assert.equal(text.status, 4);
    assert.match(text.stdout, /ERROR {3}CRL: ecc-rootca1 has no CRL/);
    assert.match(text.stdout, /OVERDUE \(exit 4\)/);
    assert.equal(at(0, ['status', '--ca', 'nope']).status, 1, 'an unknown CA is a refusal, not a status');
  });

  story('the dry run lists the CRL, two responses per certificate and the publication, and signs nothing', () => {
    const r = dryRun('dry.json');
    assert.equal(r.status, 0, r.stderr);
    const plan = (JSON.parse(r.stdout) as { plan: { signatures: number; crl: string; ocsp: unknown[] } }).plan;
    // The sub-CA and the root's responder and publication certificates, two responses each.
    assert.equal(plan.signatures, 8);
    assert.equal(plan.ocsp.length, 3);
    assert.equal(existsSync(join(dir, 'dry.json')), false);
    assert.equal(lastCeremony(), undefined, 'no ceremony row');
  });

  story(
    'killed between its commits (CRL stored): resume says run it again; the run signs the rest and closes the row',
    () => {
      const killed = ceremony(0, 'pub-a.json', { ROOTCA_FAULT_AT: 'status.ceremony:crl-committed' });
      assertKilled(killed);
      const row = lastCeremony();
      assert.equal(row.status, 'started');
      const resume = at(0, ['ceremony', 'resume', String(row.id)]);
      assert.equal(resume.status, 1);
      assert.match(
        resume.stdout + resume.stderr,
        /committed crl\.issued before it stopped; run the same command again/,
      );
      const dry = dryRun('pub-a.json');
      const plan = (JSON.parse(dry.stdout) as { plan: { crl: string | null; signatures: number } }).plan;
      assert.equal(plan.crl, null, 'the CRL the killed run signed is stored');
      assert.equal(plan.signatures, 7);
      const again = ceremony(0, 'pub-a.json');
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /partly|committed crl\.issued/);
      const inst = openInstallation(home);
      const earlier = inst.db.prepare('SELECT status, details FROM ceremonies WHERE id = ?').get(row.id) as {
        status: string;
        details: string;
      };
      inst.close();
      assert.equal(earlier.status, 'completed');
      assert.equal(
        (JSON.parse(earlier.details) as { finishedBy: { ceremonyId: number } }).finishedBy.ceremonyId,
        lastCeremony().id,
      );
      assert.ok(existsSync(join(dir, 'pub-a.json')));
      // The file is what the online side imports: signed by the root, with the new CRL and responses.
      const store = `sqlite:${join(dir, 'online.db')}`;
      const imported = at(0, [
        'online',
        'import',
        join(dir, 'pub-a.json'),
        '--store',
        store,
        '--trust',
        join(dir, `${CA}.pem`),
      ]);
      assert.equal(imported.status, 0, imported.stderr + imported.stdout);
      assert.equal(at(0, ['status']).status, 0);
    },
  );

  story('exit 0 until the OCSP margin (day 76), 3 within it, 4 after nextUpdate (day 90)', () => {
    assert.equal(statusJson(75).status, 0);
    const warn = statusJson(77);
    assert.equal(warn.status, 3);
    assert.equal(warn.json.level, 'warning');
    assert.match(at(77, ['status']).stdout, /WARNING pre-signed OCSP responses/);
    assert.equal(statusJson(91).status, 4);
  });

  story('killed after its last commit: rootca ceremony resume writes the publication file', () => {
    const killed = ceremony(80, 'pub-b.json', { ROOTCA_FAULT_AT: 'status.ceremony:committed' });
    assertKilled(killed);
    assert.equal(existsSync(join(dir, 'pub-b.json')), false);
    assert.ok(existsSync(join(dir, 'pub-b.json.partial')));
    const row = lastCeremony();
    const resume = at(80, ['ceremony', 'resume', String(row.id)]);
    assert.equal(resume.status, 0, resume.stderr + resume.stdout);
    assert.ok(existsSync(join(dir, 'pub-b.json')));
    assert.equal(statusJson(80).status, 0);
  });

  story('killed before anything is stored: resume closes it as abandoned and the run signs it all', () => {
    assert.equal(statusJson(200).status, 4, 'the CRL of day 0 expired on day 180');
    const killed = ceremony(200, 'pub-c.json', { ROOTCA_FAULT_AT: 'status.ceremony:intent' });
    assertKilled(killed);
    const resume = at(200, ['ceremony', 'resume', String(lastCeremony().id)]);
    assert.equal(resume.status, 0, resume.stderr + resume.stdout);
    assert.match(resume.stdout, /abandoned/);
    const r = ceremony(200, 'pub-c.json');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /CRL #\d+ until/);
    assert.equal(statusJson(200).status, 0);
    const verify = at(200, ['audit', 'verify', '--state']);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });

  story(
    'day 300: responses would outlive the responder certificate — the ceremony issues its successor; killed after that commit, then after the responses, each run again signs only what is still due',
    () => {
      assert.equal(
        statusJson(300).status,
        4,
        'the responses of day 200 expired on day 290; the CRL is good until day 380',
      );
      // The responder certificate of day 0 (a year) would be outlived by responses made now (day 299.9 or 300):
      // the plan re-certifies its key.
      const before = responderCertificate();
      const dry = at(299.9, ['--json', ...ceremonyArgs('pub-d.json'), '--dry-run']);
      assert.equal(dry.status, 0, dry.stderr);
      const planned = (JSON.parse(dry.stdout) as { plan: { certificates: { serialHex: string; why: string }[] } }).plan;
      assert.deepEqual(
        planned.certificates.map((c) => c.serialHex),
        [before.serial_hex],
      );
      assert.match(planned.certificates[0]!.why, /would outlive it/);
      assert.match(
        at(299.9, [...ceremonyArgs('pub-d.json'), '--dry-run']).stdout,
        new RegExp(`ocsp certificate: a successor of ${before.serial_hex} .* with its OCSP sha1 \\+ sha256`),
      );
      // Killed once the successor committed (item 3: resumable without a second successor). At day 299.9:
      // every faketime run at a day starts at the same instant, so a certificate made in a run at day 300
      // would not yet be valid for the next run started at day 300.
      assertKilled(ceremony(299.9, 'pub-d.json', { ROOTCA_FAULT_AT: 'status.ceremony:certificate-committed' }));
      const first = lastCeremony();
      assert.equal(first.status, 'started');
      const successor = responderCertificate();
      assert.notEqual(successor.serial_hex, before.serial_hex);
      const resume = at(300, ['ceremony', 'resume', String(first.id)]);
      assert.equal(resume.status, 1);
      assert.match(
        resume.stdout + resume.stderr,
        /committed certificate\.issue before it stopped; run the same command again/,
      );
      const again = at(300, ['--json', ...ceremonyArgs('pub-d.json'), '--dry-run']);
      assert.deepEqual((JSON.parse(again.stdout) as { plan: { certificates: unknown[] } }).plan.certificates, []);
      // Killed again after the responses (signed under the successor) committed.
      assertKilled(ceremony(300, 'pub-d.json', { ROOTCA_FAULT_AT: 'status.ceremony:ocsp-committed' }));
      const second = lastCeremony();
      assert.equal(statusJson(300).status, 0, 'the responses are stored');
      const last = at(300, ['--json', ...ceremonyArgs('pub-d.json'), '--dry-run']);
      const plan = (JSON.parse(last.stdout) as { plan: { signatures: number; publication: { why: string } } }).plan;
      assert.equal(plan.signatures, 1);
      assert.equal(plan.publication.why, 'pre-signed OCSP responses are in no publication file yet');
      const r = ceremony(300, 'pub-d.json');
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(join(dir, 'pub-d.json')));
      const inst = openInstallation(home);
      const state = (id: number) =>
        (inst.db.prepare('SELECT status FROM ceremonies WHERE id = ?').get(id) as { status: string }).status;
      const ocspCertificates = inst.db
        .prepare("SELECT serial_hex, der FROM certificates WHERE profile = 'ocsp'")
        .all() as {
        serial_hex: string;
        der: Buffer;
      }[];
      const states = [state(first.id), state(second.id)];
      inst.close();
      assert.deepEqual(states, ['completed', 'completed'], 'both interrupted rows closed as finished by the last run');
      assert.deepEqual(
        ocspCertificates.map((c) => c.serial_hex).sort(),
        [before.serial_hex, successor.serial_hex].sort(),
        'one successor, and the old certificate untouched',
      );
      assert.ok(ocspCertificates.find((c) => c.serial_hex === before.serial_hex)!.der.equals(before.der));
      // OpenSSL: the successor chains to the root (on day 301: it was made seconds after day 300 began);
      // on day 370, after the old one expired, the responses verify with the successor they carry.
      const root = join(dir, `${CA}.pem`);
      writeFileSync(join(dir, 'responder-2.pem'), derToPem(successor.der, 'CERTIFICATE'));
      const verify = run('faketime', [
        stampAt(301),
        'openssl',
        'verify',
        '-CAfile',
        root,
        join(dir, 'responder-2.pem'),
      ]);
      assert.match(verify.stdout, /: OK/, verify.stderr);
      for (const [hash, der] of subResponses()) {
        writeFileSync(join(dir, `sub-${hash}.der`), der);
        // The digest comes before -cert (OpenSSL: "Digest must be before -cert").
        const digest = hash === 'sha256' ? ['-sha256'] : [];
        const args = ['ocsp', '-respin', join(dir, `sub-${hash}.der`), '-issuer', root, ...digest];
        const out = run('faketime', [
          stampAt(370),
          'openssl',
          ...args,
          '-cert',
          join(dir, 'sub.pem'),
          '-CAfile',
          root,
          '-no_nonce',
        ]);
        assert.match(out.stdout + out.stderr, /Response verify OK/);
        assert.match(out.stdout, /: good/);
      }
    },
  );
});
