/**
 * Issue 15.3: the root certificate is linted before the root key signs it. An edited ceremony
 * file is refused before anyone is asked for a passphrase and before any key exists, naming the
 * rule; the legacy rows pass only through an allowance naming the real certificate, which the
 * transcript records.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { parseRootCeremony } from '../config/ceremony.ts';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { allPassphrases, installationWithPeople, REPO, run, runShippedCeremony, tempDir } from '../../test/helpers.ts';
import { runRootCeremony } from './root-ceremony.ts';

const open: Installation[] = [];
afterEach(() => {
  for (const inst of open.splice(0)) inst.close();
});

function edited(dir: string, name: string, edit: (yaml: string) => string) {
  const file = join(dir, `${name}-edited.yaml`);
  writeFileSync(file, edit(readFileSync(join(REPO, 'ceremonies', `${name}.yaml`), 'utf8')));
  return parseRootCeremony(readFileSync(file), file);
}

/** Runs an edited ceremony file; asserts it is refused with `code` and `rule` named, nobody asked, nothing made, audited. */
async function refusedBeforeAnyone(name: string, edit: (yaml: string) => string, code: string, rule: RegExp) {
  const dir = tempDir();
  const inst = installationWithPeople({ dir });
  open.push(inst);
  const asked: string[] = [];
  const passphrases = {
    get: async (operator: string) => {
      asked.push(operator);
      return Buffer.from(allPassphrases()[operator]!);
    },
  };
  await assert.rejects(
    runRootCeremony(inst, { ceremony: edited(dir, name, edit), baseDir: dir, passphrases }),
    (e: unknown) => {
      assert.ok(e instanceof CaError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, rule);
      return true;
    },
  );
  assert.deepEqual(asked, [], 'nobody was asked for a passphrase');
  const n = (t: string) => (inst.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  assert.deepEqual([n('cas'), n('ca_keys'), n('certificates'), n('ceremonies')], [0, 0, 0, 0], 'nothing made');
  const refusal = inst.audit.list().at(-1)!;
  assert.equal(refusal.outcome, 'refused');
  assert.equal((refusal.details as { code: string }).code, code);
}

describe('issue 15.3: the root certificate is linted before the root key signs it', () => {
  it('refuses cA:false, naming RFC 5280 4.2.1.9 / 4.2.1.3, before any passphrase or key', async () => {
    await refusedBeforeAnyone(
      'rootca3',
      (y) => y.replace(/cA: true/, 'cA: false'),
      'ROOT_PROFILE_REFUSED',
      /e_basic_constraints: basicConstraints cA is FALSE[\s\S]*RFC 5280 4\.2\.1\.9[\s\S]*e_key_cert_sign_ca_mismatch/,
    );
  });

  it('refuses a root without keyCertSign, naming the rule', async () => {
    await refusedBeforeAnyone(
      'ecc-rootca1',
      (y) => y.replace(/usages: \[keyCertSign, cRLSign\]/, 'usages: [cRLSign]'),
      'ROOT_PROFILE_REFUSED',
      /e_key_cert_sign_ca_mismatch: basicConstraints cA is TRUE but keyUsage does not assert keyCertSign/,
    );
  });

  it('refuses a non-critical keyUsage without an allowance (a warning elsewhere is a refusal here)', async () => {
    await refusedBeforeAnyone(
      'rootca3',
      (y) => y.replace(/- type: keyUsage\n(\s+)critical: true/, '- type: keyUsage\n$1critical: false'),
      'ROOT_PROFILE_REFUSED',
      /e_key_usage_missing_or_not_critical: keyUsage is not marked critical[\s\S]*BR 1\.x 7\.1\.2\.1 \(b\)/,
    );
  });

  it("refuses RootCA2's subject without CN once its allowance is removed", async () => {
    await refusedBeforeAnyone(
      'rootca2',
      (y) => y.replace(/legacyAllowance:[^\n]*\n( {2}[^\n]*\n)+/, ''),
      'ROOT_PROFILE_REFUSED',
      /w_ca_subject_missing_attributes: CA subject has no commonName[\s\S]*BR 7\.1\.2\.10\.2/,
    );
  });

  it('refuses an allowance that waives a deviation the mirrored certificate does not have', async () => {
    await refusedBeforeAnyone(
      'rootca2',
      (y) =>
        y.replace(
          'waives: [w_ca_subject_missing_attributes]',
          'waives: [w_ca_subject_missing_attributes, e_basic_constraints]',
        ),
      'CEREMONY_ALLOWANCE_INVALID',
      /does not break e_basic_constraints/,
    );
  });

  it('refuses an allowance naming a certificate that is not a published root, or another subject', async () => {
    await refusedBeforeAnyone(
      'rootca2',
      (y) => y.replace(/sha256: "51:3B/, 'sha256: "52:3B'),
      'CEREMONY_ALLOWANCE_INVALID',
      /is not a published root/,
    );
    await refusedBeforeAnyone(
      'rootca2',
      (y) => y.replace('Security Communication RootCA2 }', 'Security Communication RootCA9 }'),
      'CEREMONY_ALLOWANCE_INVALID',
      /is not the subject of Security Communication RootCA2/,
    );
  });

  it('refuses a waiver the root does not need (RootCA1 with a critical keyUsage)', async () => {
    await refusedBeforeAnyone(
      'rootca1',
      (y) => y.replace(/- type: keyUsage\n(\s+)critical: false/, '- type: keyUsage\n$1critical: true'),
      'CEREMONY_ALLOWANCE_INVALID',
      /waives e_key_usage_missing_or_not_critical, which this root does not break/,
    );
  });

  it('lets RootCA1 through its allowance and records the allowance and what it waived', async () => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    open.push(inst);
    const r = await runShippedCeremony(inst, 'rootca1', dir);
    const waived = r.warnings.filter((w) => w.startsWith('LEGACY ALLOWANCE'));
    assert.deepEqual(waived.map((w) => /: (\w+) waived/.exec(w)![1]).sort(), [
      'e_key_usage_missing_or_not_critical',
      'e_sha1_signature',
      'w_ca_subject_missing_attributes',
    ]);
    const event = inst.audit.list().find((e) => e.action === 'ceremony.root-ca' && e.outcome === 'success')!;
    const allowance = (event.details as { legacyAllowance: { sha256: string; mirrors: string } }).legacyAllowance;
    assert.equal(allowance.mirrors, 'Security_Communication_Root_CA.crt');
    const transcript = JSON.parse(readFileSync(r.transcriptFile, 'utf8'));
    assert.equal(transcript.details.legacyAllowance.sha256, allowance.sha256);
    assert.ok(transcript.details.warnings.some((w: string) => w.includes('w_ca_subject_missing_attributes waived')));
    // The real certificate it names has the same subject bytes (OpenSSL's view of both).
    const subj = (args: string[]) =>
      run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253', ...args]).stdout;
    writeFileSync(join(dir, 'r1.der'), r.certificateDer);
    assert.equal(
      subj(['-inform', 'DER', '-in', join(dir, 'r1.der')]),
      subj(['-in', join(REPO, '..', 'shared', 'reference', 'secom-roots', 'Security_Communication_Root_CA.crt')]),
    );
  });

  it('a root without deviations needs no allowance and passes the lint clean (RootCA3)', async () => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    open.push(inst);
    const r = await runShippedCeremony(inst, 'rootca3', dir);
    assert.deepEqual(
      r.warnings.filter((w) => w.startsWith('LEGACY')),
      [],
    );
    const v = run('openssl', ['verify', '-x509_strict', '-CAfile', join(dir, 'rootca3.pem'), join(dir, 'rootca3.pem')]);
    assert.equal(v.status, 0, v.stderr);
  });
});
