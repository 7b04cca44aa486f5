/**
 * certificates issued from CSRs made by `openssl req`, checked by OpenSSL
 * as a relying party would: a subordinate CA of each root signs a TLS leaf that verifies with
 * strict policy checking; a TSA certificate signs time-stamps `openssl ts -verify` accepts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { issueCertificate } from '../src/issuance/issuance.ts';
import type { IssueParams } from '../src/issuance/issuance-checks.ts';
import type { Installation } from '../src/installation/installation.ts';
import { fixedClock } from '../src/clock.ts';
import { CaError } from '../src/errors.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  run,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const ROOTS = [
  {
    name: 'rootca1',
    cp: '1.2.392.200091.100.901.1',
    tsCp: '1.2.392.200091.100.901.2',
    subKey: 'rsa:2048',
    legacy: true,
  },
  {
    name: 'rootca2',
    cp: '1.2.392.200091.100.901.4',
    tsCp: '1.2.392.200091.100.901.5',
    subKey: 'rsa:2048',
    legacy: false,
  },
  {
    name: 'rootca3',
    cp: '1.2.392.200091.100.901.6',
    tsCp: '1.2.392.200091.100.901.7',
    subKey: 'rsa:4096',
    legacy: false,
  },
  {
    name: 'ecc-rootca1',
    cp: '1.2.392.200091.100.902.1',
    tsCp: '1.2.392.200091.100.902.2',
    subKey: 'ec:P-384',
    legacy: false,
  },
];

function newKeyArgs(spec: string, keyout: string): string[] {
  if (spec.startsWith('ec:'))
    return ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${spec.slice(3)}`, '-nodes', '-keyout', keyout];
  return ['-newkey', spec, '-nodes', '-keyout', keyout];
}

/** A CSR and its key, made by openssl in `dir`. */
function makeCsr(dir: string, name: string, subject: string, keySpec = 'rsa:2048'): { csr: string; key: string } {
  const csr = join(dir, `${name}.csr`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-new', ...newKeyArgs(keySpec, key), '-out', csr, '-subj', subject]);
  return { csr, key };
}

describe('R-3 issuance from CSRs, verified by OpenSSL', () => {
  const dir = tempDir();
  let inst: Installation;
  const issue = (p: Partial<IssueParams> & Pick<IssueParams, 'caName' | 'profile' | 'csr'>) =>
    issueCertificate(inst, {
      operator: 'alice',
      witness: 'olivia',
      passphrases: passphraseMap(allPassphrases()),
      ...p,
    });

  before(async () => {
    inst = installationWithPeople({ dir });
    // These tests exercise the profiles directly; the RA workflow has its own tests (roles.test.ts).
    inst.config.issuance.requireApplicationFor = [];
    for (const r of ROOTS) await runShippedCeremony(inst, r.name, dir);
  });

  for (const root of ROOTS) {
    it(`R-3.1 ${root.name}: a subordinate CA from an openssl CSR signs a TLS leaf that verifies with -x509_strict -policy_check -explicit_policy`, async () => {
      const d = join(dir, root.name);
      mkdirSync(d);
      const sub = makeCsr(d, 'sub', `/C=JP/O=Example Trust/CN=Example ${root.name} Sub CA`, root.subKey);
      const r = await issue({
        caName: root.name,
        profile: 'subca',
        ...TLS_SUBCA,
        csr: readFileSync(sub.csr),
        outPem: join(d, 'sub.pem'),
        outDer: join(d, 'sub.der'),
        pathLenConstraint: 0,
        allowLegacySha1: root.legacy,
        requester: 'Example Trust, pki@example.jp',
      });
      assert.equal(
        r.notes.some((n) => /LEGACY/.test(n)),
        root.legacy,
      );

      // The subordinate CA (its key held by the test) signs a leaf with openssl.
      writeFileSync(
        join(d, 'leaf.ext'),
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          'subjectAltName=DNS:www.example.jp',
          `certificatePolicies=${root.cp}`,
          'authorityKeyIdentifier=keyid',
          'subjectKeyIdentifier=hash',
        ].join('\n'),
      );
      const leaf = makeCsr(d, 'leaf', '/CN=www.example.jp');
      openssl([
        'x509',
        '-req',
        '-in',
        leaf.csr,
        '-CA',
        join(d, 'sub.pem'),
        '-CAkey',
        sub.key,
        '-set_serial',
        '0x1234567890abcdef01',
        '-days',
        '90',
        '-sha256',
        '-extfile',
        join(d, 'leaf.ext'),
        '-out',
        join(d, 'leaf.pem'),
      ]);
      const out = openssl([
        'verify',
        '-x509_strict',
        '-policy_check',
        '-explicit_policy',
        '-policy',
        root.cp,
        '-CAfile',
        join(dir, `${root.name}.pem`),
        '-untrusted',
        join(d, 'sub.pem'),
        join(d, 'leaf.pem'),
      ]);
      assert.match(out, /leaf\.pem: OK/);
      // A policy the root never asserted does not verify: the CP OID really is in the chain.
      const wrong = run('openssl', [
        'verify',
        '-x509_strict',
        '-policy_check',
        '-explicit_policy',
        '-policy',
        '1.2.3.4',
        '-CAfile',
        join(dir, `${root.name}.pem`),
        '-untrusted',
        join(d, 'sub.pem'),
        join(d, 'leaf.pem'),
      ]);
      assert.notEqual(wrong.status, 0);

      // DER round-trips through openssl unchanged.
      openssl(['x509', '-in', join(d, 'sub.pem'), '-outform', 'der', '-out', join(d, 'sub.openssl.der')]);
      assert.ok(readFileSync(join(d, 'sub.openssl.der')).equals(readFileSync(join(d, 'sub.der'))));
      assert.ok(r.certificateDer.equals(readFileSync(join(d, 'sub.der'))));

      const text = openssl(['x509', '-in', join(d, 'sub.pem'), '-noout', '-text']);
      assert.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
      assert.match(text, new RegExp(`Policy: ${root.cp.replaceAll('.', '\\.')}`));
      assert.match(text, new RegExp(`URI:http://127\\.0\\.0\\.1:8080/crl/${root.name}\\.crl`));
      assert.match(text, /OCSP - URI:http:\/\/127\.0\.0\.1:8080\/ocsp/);
    });
  }

  it('R-3.2 a TSA certificate signs time-stamps that openssl ts -verify accepts', async () => {
    const d = join(dir, 'tsa');
    mkdirSync(d);
    const tsa = makeCsr(d, 'tsa', '/C=JP/O=Example Trust/CN=Example TSA', 'ec:P-256');
    await issue({ caName: 'rootca2', profile: 'tsa', csr: readFileSync(tsa.csr), outPem: join(d, 'tsa.pem') });
    const text = openssl(['x509', '-in', join(d, 'tsa.pem'), '-noout', '-text']);
    assert.match(text, /Extended Key Usage: critical\s+Time Stamping/);
    assert.match(text, /Key Usage: critical\s+Digital Signature/);
    writeFileSync(join(d, 'data.txt'), 'a record worth time-stamping\n');
    writeFileSync(join(d, 'serial'), '01\n');
    writeFileSync(
      join(d, 'ts.cnf'),
      [
        '[ tsa ]',
        'default_tsa = tsa1',
        '[ tsa1 ]',
        `serial = ${join(d, 'serial')}`,
        'signer_digest = sha256',
        'default_policy = 1.2.392.200091.100.901.5',
        'digests = sha256',
        'accuracy = secs:1',
        'ordering = yes',
        'tsa_name = no',
        'ess_cert_id_chain = no',
        'ess_cert_id_alg = sha256',
      ].join('\n'),
    );
    openssl(['ts', '-query', '-data', join(d, 'data.txt'), '-sha256', '-cert', '-out', join(d, 'q.tsq')]);
    openssl([
      'ts',
      '-reply',
      '-config',
      join(d, 'ts.cnf'),
      '-queryfile',
      join(d, 'q.tsq'),
      '-signer',
      join(d, 'tsa.pem'),
      '-inkey',
      tsa.key,
      '-out',
      join(d, 'r.tsr'),
    ]);
    const v = openssl([
      'ts',
      '-verify',
      '-data',
      join(d, 'data.txt'),
      '-in',
      join(d, 'r.tsr'),
      '-CAfile',
      join(dir, 'rootca2.pem'),
      '-untrusted',
      join(d, 'tsa.pem'),
    ]);
    assert.match(v, /Verification: OK/);
  });

  it('R-3.2 a TA certificate carries the Time-Stamp CP of its root', async () => {
    const ta = makeCsr(dir, 'ta', '/C=JP/O=Example Trust/CN=Example TA', 'ec:P-384');
    const r = await issue({ caName: 'ecc-rootca1', profile: 'ta', csr: readFileSync(ta.csr) });
    writeFileSync(join(dir, 'ta.pem'), r.certificatePem);
    assert.match(
      openssl(['x509', '-in', join(dir, 'ta.pem'), '-noout', '-text']),
      /Policy: 1\.2\.392\.200091\.100\.902\.2/,
    );
  });

  it('R-3.3 a delegated OCSP responder certificate: OCSPSigning, ocsp-nocheck, a life of days', async () => {
    const o = makeCsr(dir, 'ocsp', '/C=JP/O=Example Trust/CN=rootca3 OCSP Responder', 'ec:P-256');
    const r = await issue({ caName: 'rootca3', profile: 'ocsp', csr: readFileSync(o.csr), validityDays: 30 });
    writeFileSync(join(dir, 'ocsp.pem'), r.certificatePem);
    const text = openssl(['x509', '-in', join(dir, 'ocsp.pem'), '-noout', '-text']);
    assert.match(text, /Extended Key Usage:\s+OCSP Signing/);
    assert.match(text, /OCSP No Check/);
    assert.equal(Math.round((r.notAfter.getTime() - r.notBefore.getTime()) / 86_400_000), 30);
    assert.match(openssl(['verify', '-CAfile', join(dir, 'rootca3.pem'), join(dir, 'ocsp.pem')]), /OK/);
    await assert.rejects(
      () => issue({ caName: 'rootca3', profile: 'ocsp', csr: readFileSync(o.csr), validityDays: 800 }),
      (e: unknown) => e instanceof CaError && e.code === 'VALIDITY_TOO_LONG',
    );
  });

  describe('refusals: a clear message, an audit event, and nothing signed by the root', () => {
    const refusal = async (
      code: string,
      p: Partial<IssueParams> & Pick<IssueParams, 'caName' | 'profile' | 'csr'>,
      message?: RegExp,
    ) => {
      const activationsBefore = inst.audit.list().filter((e) => e.action === 'key.activate').length;
      const seqBefore = inst.audit.list().at(-1)?.seq ?? 0;
      const certsBefore = (inst.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n;
      await assert.rejects(
        () => issue(p),
        (e: unknown) => {
          assert.ok(e instanceof CaError, String(e));
          assert.equal(e.code, code, e.message);
          if (message) assert.match(e.message, message);
          return true;
        },
      );
      // This refusal's own event, whatever else the log holds.
      const mine = inst.audit.list().filter((e) => e.seq > seqBefore && e.action === 'certificate.issue');
      assert.equal(mine.length, 1, 'one certificate.issue event for this request');
      assert.equal(mine[0]!.outcome, 'refused');
      assert.equal((mine[0]!.details as { code: string }).code, code);
      assert.equal(
        inst.audit.list().filter((e) => e.action === 'key.activate').length,
        activationsBefore,
        'the root key was not activated',
      );
      assert.equal((inst.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n, certsBefore);
    };
    const d = join(dir, 'bad');
    before(() => mkdirSync(d));

    it('a CSR whose signature is broken by one byte (proof of possession, CPS 3.2.1)', async () => {
      const c = makeCsr(d, 'broken', '/C=JP/O=X/CN=Broken');
      openssl(['req', '-in', c.csr, '-outform', 'DER', '-out', join(d, 'broken.der')]);
      const bytes = readFileSync(join(d, 'broken.der'));
      bytes[bytes.length - 5] ^= 0x01;
      await refusal(
        'CSR_REJECTED',
        { caName: 'rootca2', profile: 'subca', ...TLS_SUBCA, csr: bytes },
        /proof of possession/,
      );
    });
    it('an RSA-1024 key', async () => {
      const c = makeCsr(d, 'rsa1024', '/C=JP/O=X/CN=Small', 'rsa:1024');
      await refusal(
        'CSR_REJECTED',
        { caName: 'rootca2', profile: 'subca', ...TLS_SUBCA, csr: readFileSync(c.csr) },
        /2048/,
      );
    });
    it('a public exponent of 3', async () => {
      openssl([
        'genpkey',
        '-algorithm',
        'RSA',
        '-pkeyopt',
        'rsa_keygen_bits:2048',
        '-pkeyopt',
        'rsa_keygen_pubexp:3',
        '-out',
        join(d, 'e3.key'),
      ]);
      openssl(['req', '-new', '-key', join(d, 'e3.key'), '-subj', '/C=JP/O=X/CN=E3', '-out', join(d, 'e3.csr')]);
      await refusal(
        'CSR_REJECTED',
        { caName: 'rootca2', profile: 'subca', ...TLS_SUBCA, csr: readFileSync(join(d, 'e3.csr')) },
        /65537/,
      );
    });
    it('a P-521 key', async () => {
      const c = makeCsr(d, 'p521', '/C=JP/O=X/CN=P521', 'ec:P-521');
      await refusal(
        'CSR_REJECTED',
        { caName: 'ecc-rootca1', profile: 'subca', ...TLS_SUBCA, csr: readFileSync(c.csr) },
        /P-521|secp521r1/,
      );
    });
    it('a subject attribute the profile does not allow (refused, not dropped)', async () => {
      const c = makeCsr(d, 'email', '/C=JP/O=X/CN=Mail/emailAddress=ca@example.jp');
      await refusal(
        'SUBJECT_NOT_ALLOWED',
        { caName: 'rootca2', profile: 'subca', ...TLS_SUBCA, csr: readFileSync(c.csr) },
        /emailAddress|1\.2\.840\.113549\.1\.9\.1/,
      );
    });
    it('a lint error (anyExtendedKeyUsage in a subordinate CA) stops issuance before the root key is touched (R-3.6)', async () => {
      const c = makeCsr(d, 'anyeku', '/C=JP/O=X/CN=Any EKU');
      await refusal(
        'PURPOSE_EKU_REFUSED',
        { caName: 'rootca2', profile: 'subca', ...TLS_SUBCA, csr: readFileSync(c.csr), extKeyUsage: ['2.5.29.37.0'] },
        /Mozilla Root Store Policy 5\.3.*anyExtendedKeyUsage/,
      );
    });
    it('R-1.3 SHA-1 issuance from RootCA1 without the legacy override', async () => {
      const c = makeCsr(d, 'sha1', '/C=JP/O=X/CN=Legacy');
      await refusal(
        'LEGACY_SHA1_REFUSED',
        { caName: 'rootca1', profile: 'subca', ...TLS_SUBCA, csr: readFileSync(c.csr) },
        /--allow-legacy-sha1/,
      );
    });
    it('an option that does not belong to the profile (a path length on a TSA)', async () => {
      const c = makeCsr(d, 'tsapath', '/C=JP/O=X/CN=TSA', 'ec:P-256');
      await refusal('PROFILE_OPTION_NOT_ALLOWED', {
        caName: 'rootca2',
        profile: 'tsa',
        csr: readFileSync(c.csr),
        pathLenConstraint: 1,
      });
    });
    it('a policy OID not registered for the CA', async () => {
      const c = makeCsr(d, 'pol', '/C=JP/O=X/CN=Policy');
      await refusal('POLICY_NOT_REGISTERED', {
        caName: 'rootca2',
        profile: 'subca',
        ...TLS_SUBCA,
        csr: readFileSync(c.csr),
        extraPolicyOids: ['2.23.140.1.2.2', '1.2.392.200091.100.901.1'],
      });
    });
  });
});

describe('R-3.4 validity never outlives the issuer', () => {
  it('clamps a subordinate CA that would outlive its root, and says changeover is due', async (t) => {
    const clock = fixedClock(new Date('2026-12-01T00:00:00Z'));
    const dir = tempDir();
    const inst = installationWithPeople({ dir, clock });
    t.after(() => inst.close()); // closed whether the test passes or not
    const root = await runShippedCeremony(inst, 'ecc-rootca1', dir);
    inst.config.issuance.requireApplicationFor = [];
    inst.config.personnel.trainingValidityDays = inst.config.personnel.backgroundCheckValidityDays = 20 * 366; // the same people, 15 years on
    clock.set(new Date('2041-06-01T00:00:00Z')); // 15 years on: 5.5 years left, a 10-year sub requested
    const c = makeCsr(dir, 'late', '/C=JP/O=X/CN=Late Sub CA', 'ec:P-256');
    const r = await issueCertificate(inst, {
      operator: 'alice',
      caName: 'ecc-rootca1',
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(c.csr),
      witness: 'olivia',
      passphrases: passphraseMap(allPassphrases()),
      outPem: join(dir, 'late.pem'),
    });
    assert.equal(r.clamped, true);
    assert.equal(r.notAfter.getTime(), root.notAfter.getTime());
    assert.match(r.notes.join('\n'), /clamped.*R-3\.4.*changeover/);
  });
});

describe('R-3.1 serials are unique per issuer, enforced by the store', () => {
  it('refuses a second reservation or certificate with the same serial', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    t.after(() => inst.close()); // closed whether the test passes or not
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    const c = makeCsr(dir, 's', '/C=JP/O=X/CN=Serial', 'ec:P-256');
    const r = await issueCertificate(inst, {
      operator: 'alice',
      caName: 'ecc-rootca1',
      profile: 'ocsp',
      csr: readFileSync(c.csr),
      witness: 'olivia',
      passphrases: passphraseMap(allPassphrases()),
    });
    const row = inst.db.prepare('SELECT issuer_ca_id FROM certificates WHERE serial_hex = ?').get(r.serialHex) as {
      issuer_ca_id: number;
    };
    assert.throws(
      () =>
        inst.db
          .prepare(
            "INSERT INTO serial_reservations (issuer_ca_id, serial_hex, ceremony_id, reserved_at) VALUES (?, ?, 1, 'x')",
          )
          .run(row.issuer_ca_id, r.serialHex),
      /UNIQUE|PRIMARY KEY/,
    );
    assert.throws(
      () =>
        inst.db
          .prepare(
            "INSERT INTO certificates (issuer_ca_id, serial_hex, profile, subject_text, not_before, not_after, sha256, der, created_at) VALUES (?, ?, 'subca', 'x', 'x', 'x', 'x', x'00', 'x')",
          )
          .run(row.issuer_ca_id, r.serialHex),
      /UNIQUE/,
    );
    assert.ok(r.serialHex.length === 32 && parseInt(r.serialHex.slice(0, 2), 16) < 0x80);
  });
});
