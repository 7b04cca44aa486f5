/**
 * `rootca audit …` as a Log Examiner runs it (R-7.2, R-7.3, R-11.1): checkpoint, consistency
 * of a kept checkpoint (exit 0, then exit 1 after the database is edited), ingest printing
 * counts only, export and offline verify-bundle. Few processes: each start costs a second.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { initAuditKey } from '../src/records/audit-checkpoints.ts';
import { auditPass, auditPassphrases, evidenceInstallation } from './audit-fixtures.ts';
import { rootca, tempDir } from './helpers.ts';

describe('rootca audit CLI', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const leoFile = join(dir, 'leo.pass');
  const r = (...args: string[]) => rootca(['--home', home, ...args], { cwd: dir });
  const asLeo = ['--examiner', 'leo', '--credential', `leo=@${leoFile}`];
  const kept = join(dir, 'kept-checkpoint.json');

  before(async () => {
    const inst = evidenceInstallation(dir, ['paula', 'olivia', 'leo']);
    try {
      await initAuditKey(inst, {
        holders: ['leo'],
        authoriser: 'paula',
        witness: 'olivia',
        passphrases: auditPassphrases,
      });
    } finally {
      inst.close();
    }
    writeFileSync(leoFile, `${auditPass('leo')}\n`, { mode: 0o600 });
  });

  /** The checkpoint an auditor kept: signed here when no test before signed it, so each test runs alone. */
  const ensureKept = () => {
    if (existsSync(kept)) return;
    const cp = r('audit', 'checkpoint', ...asLeo);
    assert.equal(cp.status, 0, cp.stderr);
    copyFileSync(join(home, 'checkpoints', 'checkpoint-1.json'), kept);
  };

  it('signs a checkpoint, and proves a kept copy is a prefix of the log as it grows', () => {
    const cp = r('audit', 'checkpoint', ...asLeo);
    assert.equal(cp.status, 0, cp.stderr);
    assert.match(cp.stdout, /checkpoint #1: size \d+, root [0-9a-f]{64}, signed with audit-/);
    const file = join(home, 'checkpoints', 'checkpoint-1.json');
    assert.ok(existsSync(file));
    copyFileSync(file, kept); // the auditor takes it away

    const log = join(dir, 'switch.log');
    writeFileSync(
      log,
      '<86>Nov 25 09:12:01 core-sw1 sshd[4242]: Accepted publickey for netops\nraw line from the badge reader\n',
    );
    const ingest = r('audit', 'ingest', log, '--source', 'core-switch', ...asLeo);
    assert.equal(ingest.status, 0, ingest.stderr);
    assert.equal(
      ingest.stdout,
      'ingested 2 lines from core-switch (1 as syslog, 1 kept raw)\n',
      'counts only (CPS 5.4.7)',
    );

    const c = r('audit', 'consistency', '--from', kept, ...asLeo);
    assert.equal(c.status, 0, c.stderr);
    const proof = JSON.parse(c.stdout) as {
      ok: boolean;
      from: { treeSize: number };
      to: { treeSize: number };
      proof: string[];
    };
    assert.equal(proof.ok, true);
    assert.ok(proof.to.treeSize > proof.from.treeSize + 2);
    assert.ok(proof.proof.every((h) => /^[0-9a-f]{64}$/.test(h)));
  });

  it('exports a bundle that verifies offline with the kept checkpoint', () => {
    ensureKept();
    const to = join(dir, 'usb');
    const ex = r('audit', 'export', '--to', to, ...asLeo);
    assert.equal(ex.status, 0, ex.stderr + ex.stdout);
    assert.match(ex.stdout, /exported \d+ events and 1 checkpoint to/);
    const vb = rootca(['audit', 'verify-bundle', to, '--checkpoint', kept], { cwd: dir });
    assert.equal(vb.status, 0, vb.stdout);
    assert.match(
      vb.stdout,
      /bundle OK[\s\S]*1 signed checkpoint\(s\) verified[\s\S]*kept checkpoint kept-checkpoint\.json .* is a prefix/,
    );
  });

  it('exits 1 naming the problem once an old event is rewritten in the database', () => {
    ensureKept();
    const raw = new Database(join(home, 'rootca.db'));
    try {
      raw.exec("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 3;");
    } finally {
      raw.close();
    }
    const c = r('audit', 'consistency', '--from', kept, ...asLeo);
    assert.equal(c.status, 1);
    assert.equal((JSON.parse(c.stdout) as { ok: boolean }).ok, false);
    assert.match(
      c.stderr,
      /NOT a prefix of the log: today's log does not start with the \d+ events the checkpoint signed.*event 3/,
    );
    const v = r('audit', 'verify');
    assert.equal(v.status, 1);
    assert.match(
      v.stdout,
      /audit log BROKEN at event 3: event 3 was changed[\s\S]*FAIL {2}checkpoint 1: events 1\.\.\d+ no longer match/,
    );
  });
});
