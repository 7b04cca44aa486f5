/**
 * Issue 14 item 4 (leftover): the audit evidence carries the state check of `audit verify
 * --state`. Regression: a certificate row deleted from the SQLite file left the evidence bundle
 * verifying; the bundle now records the mismatch and `audit verify-evidence` reports it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportEvidence } from '../src/records/audit-evidence.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { csr } from './archive-fixtures.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  rootca,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

describe('issue 14 item 4: audit evidence carries the state check', () => {
  const dir = tempDir();
  const passphrases = passphraseMap(allPassphrases());
  let inst: Installation;
  let serial: string;
  let today: string;

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    inst.config.issuance.requireApplicationFor = [];
    serial = (
      await issueCertificate(inst, {
        operator: 'alice',
        witness: 'olivia',
        passphrases,
        caName: 'ecc-rootca1',
        profile: 'ocsp',
        csr: csr('evidence state'),
      })
    ).serialHex;
    today = inst.clock.now().toISOString().slice(0, 10);
  });
  after(() => inst?.close());

  it('an untouched installation: the bundle records a clean state check and verifies', async () => {
    const out = join(dir, 'clean');
    const r = await exportEvidence(inst, { from: today, to: today, out, examiner: 'leo', passphrases });
    assert.deepEqual(r.verification.problems, []);
    assert.equal(r.manifest.stateCheck?.ok, true);
    assert.deepEqual(r.manifest.stateCheck?.mismatches, []);
    const recorded = JSON.parse(readFileSync(join(out, r.manifest.stateCheck!.file), 'utf8')) as {
      ok: boolean;
      checked: Record<string, unknown>;
    };
    assert.equal(recorded.ok, true);
    assert.ok(recorded.checked.certificates);
  });

  it('a deleted certificate row: the bundle reports the mismatch and verify-evidence fails naming it', async () => {
    inst.db.pragma('foreign_keys = OFF');
    inst.db.prepare('DELETE FROM certificates WHERE serial_hex = ?').run(serial);
    inst.db.pragma('foreign_keys = ON');
    const out = join(dir, 'tampered');
    const r = await exportEvidence(inst, { from: today, to: today, out, examiner: 'leo', passphrases });
    assert.equal(r.manifest.stateCheck?.ok, false);
    assert.match(r.manifest.stateCheck!.mismatches.join('\n'), /no certificates row/);
    assert.equal(r.verification.ok, false);
    assert.match(
      r.verification.problems.join('\n'),
      /state check[\s\S]*no certificates row[\s\S]*certificate\.issue ecc-rootca1/,
    );
    assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /State check[\s\S]*no certificates row/);
    const cli = rootca(['audit', 'verify-evidence', out]);
    assert.equal(cli.status, 1, cli.stdout + cli.stderr);
    assert.match(cli.stdout + cli.stderr, /no certificates row/);
  });
});
