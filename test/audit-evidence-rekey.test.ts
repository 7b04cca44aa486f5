/**
 * Audit evidence across renew, re-key and a second re-key (CPS 5.6, CPS 8; issue #19 item 1).
 * Regression: the bundle held only each CA's current root and checked every certificate and
 * CRL of the period against it, so `audit verify-evidence` refused what the retired keys issued
 * and the CRLs they signed. Now the bundle carries every certificate of the CA itself and each
 * artefact is checked with the key its AKI names (RFC 5280 4.2.1.1, 5.2.1):
 *   - verify-evidence is OK, and openssl agrees: each certificate verifies against the root of
 *     the key that signed it (and not the newest), the first key's also from the newest root
 *     through the OldWithNew links; each CRL verifies with `openssl crl -CAfile` of its key's root;
 *   - a CRL swapped for one the other key signed, under the same name, is refused naming it;
 *   - with the first key's certificates taken out, its CRL is refused naming the file, its AKI
 *     and the certificates tried.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportEvidence } from '../src/records/audit-evidence.ts';
import { renderEvidenceSummary, type EvidenceManifest } from '../src/records/evidence-format.ts';
import { verifyEvidence } from '../src/records/evidence-verify.ts';
import { initAuditKey } from '../src/records/audit-checkpoints.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { rekeyCa } from '../src/lifecycle/rekey.ts';
import { renewCa } from '../src/lifecycle/renewal.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import { parseCrl } from '../src/pki/crl.ts';
import { keyIdentifiersOf } from '../src/pki/issuer-key.ts';
import { csr } from './archive-fixtures.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  rootca,
  run,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

const CA = 'ecc-rootca1';

describe('audit evidence after renew, re-key and a second re-key (issue #19)', () => {
  const dir = tempDir('rootca-evidence-rekey-');
  const passphrases = passphraseMap(allPassphrases());
  const people = { operator: 'alice', witness: 'olivia', passphrases };
  const out = join(dir, 'evidence');
  let inst: Installation;
  let m: EvidenceManifest;
  const path = (file: string, base = out) => join(base, file);
  const ski = (der: Buffer) => keyIdentifiersOf(der).subject!.toString('hex');
  const aki = (der: Buffer) => keyIdentifiersOf(der).authority!.toString('hex');
  /** The PEM of each self-signed root in the bundle, by key identifier (three keys, the first with a renewal). */
  const selfSigned = new Map<string, string>();

  /** One round of work with whatever key is current: an issuance and a CRL. */
  const work = async (label: string) => {
    await issueCertificate(inst, { ...people, caName: CA, profile: 'ocsp', csr: csr(`evidence ${label}`) });
    await issueCrl(inst, { ...people, caName: CA });
  };

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    await runShippedCeremony(inst, CA, dir);
    await work('key 1');
    await renewCa(inst, { ...people, caName: CA });
    await work('key 1 renewed');
    await rekeyCa(inst, {
      ...people,
      caName: CA,
      holders: ['bob', 'carol'],
      threshold: 2,
      outDir: join(dir, 'rekey1'),
    });
    await work('key 2');
    await issueCrl(inst, { ...people, caName: CA, retiredKey: true });
    await rekeyCa(inst, {
      ...people,
      caName: CA,
      holders: ['bob', 'carol'],
      threshold: 2,
      outDir: join(dir, 'rekey2'),
    });
    await work('key 3');
    await initAuditKey(inst, { holders: ['leo'], authoriser: 'paula', witness: 'olivia', passphrases });
    const today = inst.clock.now().toISOString().slice(0, 10);
    const r = await exportEvidence(inst, { from: today, to: today, out, examiner: 'leo', passphrases });
    assert.deepEqual(r.verification.problems, []);
    m = r.manifest;
    for (const root of m.roots) {
      const x = new X509Certificate(readFileSync(path(root.file)));
      if (x.verify(x.publicKey)) selfSigned.set(ski(x.raw), x.toString());
    }
  });
  after(() => inst?.close());

  it('carries every certificate of the CA itself, and verify-evidence (library and CLI) is OK', () => {
    assert.deepEqual(
      m.roots.map((r) => r.kind),
      [
        'ceremony',
        'renewed',
        'new-with-new',
        'old-with-new',
        'new-with-old',
        'new-with-new',
        'old-with-new',
        'new-with-old',
      ],
    );
    assert.deepEqual(
      m.roots.filter((r) => r.current).map((r) => r.file),
      [`roots/${CA}.der`],
    );
    assert.equal(selfSigned.size, 3, 'three keys, each with a self-signed certificate');
    assert.equal(m.certificates.length, 4);
    assert.equal(m.crls.length, 5);
    const v = verifyEvidence(out);
    assert.deepEqual(v.problems, []);
    const signedBy = v.checked.filter((c) => /^(certificates|crls)\/.* verifies with the key of roots\//.test(c));
    assert.equal(signedBy.length, 9, v.checked.join('\n'));
    const cli = rootca(['audit', 'verify-evidence', out]);
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /evidence OK/);
  });

  it("openssl verify: each certificate against the root of the key that signed it, not the newest; the first key's through the links too", () => {
    const newest = join(dir, 'newest-root.pem');
    writeFileSync(newest, new X509Certificate(readFileSync(path(`roots/${CA}.der`))).toString());
    const newestKey = ski(readFileSync(path(`roots/${CA}.der`)));
    const links = join(dir, 'links.pem');
    writeFileSync(
      links,
      m.roots
        .filter((r) => r.kind === 'old-with-new')
        .map((r) => new X509Certificate(readFileSync(path(r.file))).toString())
        .join(''),
    );
    const keysUsed = new Set<string>();
    for (const c of m.certificates) {
      const der = readFileSync(path(c.file));
      const pem = join(dir, `${c.serialHex}.pem`);
      writeFileSync(pem, new X509Certificate(der).toString());
      const root = join(dir, `root-${aki(der)}.pem`);
      writeFileSync(root, selfSigned.get(aki(der))!);
      keysUsed.add(aki(der));
      const own = run('openssl', ['verify', '-CAfile', root, pem]);
      assert.equal(own.status, 0, `${c.file}: ${own.stdout}${own.stderr}`);
      if (aki(der) !== newestKey)
        assert.notEqual(
          run('openssl', ['verify', '-CAfile', newest, pem]).status,
          0,
          `${c.file} is not signed by the newest key`,
        );
    }
    assert.equal(keysUsed.size, 3, 'certificates of all three keys are in the bundle');
    const first = m.certificates[0]!;
    const chain = run('openssl', [
      'verify',
      '-CAfile',
      newest,
      '-untrusted',
      links,
      join(dir, `${first.serialHex}.pem`),
    ]);
    assert.equal(
      chain.status,
      0,
      `the first key's certificate from the newest root through OldWithNew:\n${chain.stdout}${chain.stderr}`,
    );
  });

  it('openssl crl -verify: each CRL with the root of the key that signed it', () => {
    for (const c of m.crls) {
      const der = readFileSync(path(c.file));
      const root = join(dir, `crl-root-${c.crlNumber}.pem`);
      writeFileSync(root, selfSigned.get(parseCrl(der).akid!.toString('hex'))!);
      const r = run('openssl', ['crl', '-inform', 'DER', '-in', path(c.file), '-CAfile', root, '-noout']);
      assert.equal(r.status, 0, `${c.file}: ${r.stderr}`);
      assert.match(r.stderr + r.stdout, /verify OK/);
    }
  });

  /** A copy of the bundle changed by `change`, with the manifest's digests and summary made to match again. */
  const tampered = (name: string, change: (d: string, m: EvidenceManifest) => void): string => {
    const d = join(dir, `t-${name}`);
    cpSync(out, d, { recursive: true });
    const copy = JSON.parse(readFileSync(path('manifest.json', d), 'utf8')) as EvidenceManifest;
    change(d, copy);
    const { files, ...body } = copy;
    writeFileSync(path('summary.md', d), renderEvidenceSummary(body));
    copy.files = files
      .filter((f) => copy.roots.some((r) => r.file === f.path) || !f.path.startsWith('roots/'))
      .map((f) => {
        const data = readFileSync(path(f.path, d));
        return { ...f, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
      });
    writeFileSync(path('manifest.json', d), JSON.stringify(copy));
    return d;
  };
  /** The newest key's CRL and one the first key signed. */
  const crlsByKey = () => {
    const key1 = m.roots[0]!;
    const byFirst = m.crls.find((c) =>
      parseCrl(readFileSync(path(c.file))).akid!.equals(keyIdentifiersOf(readFileSync(path(key1.file))).subject!),
    )!;
    return { newest: m.crls.at(-1)!, byFirst };
  };

  it('refuses a CRL swapped for one the first key signed under the same name, naming it', () => {
    const { newest, byFirst } = crlsByKey();
    const swap = (d: string) => writeFileSync(path(newest.file, d), readFileSync(path(byFirst.file)));
    const plain = join(dir, 't-plain-swap');
    cpSync(out, plain, { recursive: true });
    swap(plain);
    assert.match(verifyEvidence(plain).problems.join('\n'), new RegExp(`${newest.file} does not match its SHA-256`));
    const d = tampered('crl-swap', (x) => swap(x));
    const v = verifyEvidence(d);
    assert.equal(v.ok, false);
    assert.match(
      v.problems.join('\n'),
      new RegExp(`${newest.file}: its cRLNumber is ${byFirst.crlNumber}, the manifest says ${newest.crlNumber}`),
    );
    const cli = rootca(['audit', 'verify-evidence', d]);
    assert.equal(cli.status, 1);
    assert.match(cli.stdout, new RegExp(`FAIL.*${newest.file}`));
  });

  it("without the first key's certificates, its CRL is refused naming the file, the AKI and what was tried", () => {
    const { byFirst } = crlsByKey();
    const firstKey = ski(readFileSync(path(m.roots[0]!.file)));
    const d = tampered('no-first-key', (x, copy) => {
      const gone = copy.roots.filter((r) => ski(readFileSync(path(r.file, x))) === firstKey);
      for (const r of gone) rmSync(path(r.file, x));
      copy.roots = copy.roots.filter((r) => !gone.includes(r));
    });
    const problems = verifyEvidence(d).problems.join('\n');
    assert.match(
      problems,
      new RegExp(
        `${byFirst.file}: CRL #${byFirst.crlNumber} of ${CA}: its authorityKeyIdentifier ${firstKey} names no key among \\d+ certificate\\(s\\)[^\\n]*; tried roots/${CA}`,
      ),
    );
    assert.match(
      problems,
      new RegExp(
        `${m.certificates[0]!.file}: certificate ${m.certificates[0]!.serialHex} of ${CA}: its authorityKeyIdentifier ${firstKey} names no key`,
      ),
    );
  });
});
