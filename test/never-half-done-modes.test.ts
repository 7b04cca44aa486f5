/**
 * Issue 14 item 3: files with secrets are their owner's only, whatever the umask. Regressions:
 * `rootca init --home D` into an existing 0755 folder left it 0755; rootca.db, its WAL and each
 * backup's database were 0644 (wrapped keys, sealed shares, credentials world-readable).
 * `rootca doctor` warns about a mode loosened later.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { archiveLocations, backupNow } from '../src/records/backups.ts';
import { runDoctor } from '../src/installation/doctor.ts';
import { exportTranscript, loadTranscript } from '../src/records/transcript-store.ts';
import type { Installation } from '../src/installation/installation.ts';
import { modeOf } from '../src/util/file-modes.ts';
import { allPassphrases, installationWithPeople, passphraseMap, runShippedCeremony, tempDir } from './helpers.ts';

describe('issue 14 item 3: secrets 0600, the home 0700, whatever the umask', () => {
  let previous: number;
  let inst: Installation;
  const dir = tempDir();
  before(() => {
    previous = process.umask(0o022); // the usual umask that made the files 0644
    mkdirSync(join(dir, 'home'), { mode: 0o755 });
    chmodSync(join(dir, 'home'), 0o755);
    inst = installationWithPeople({ dir }); // init into the existing 0755 folder
  });
  after(() => {
    inst.close();
    process.umask(previous);
  });

  it('init tightens an existing 0755 home to 0700 and makes the database, WAL and SHM 0600', () => {
    assert.equal(modeOf(inst.home), '0700');
    for (const f of ['rootca.db', 'rootca.db-wal', 'rootca.db-shm', 'rootca.yaml']) {
      assert.ok(existsSync(join(inst.home, f)), f);
      assert.equal(modeOf(join(inst.home, f)), '0600', f);
    }
  });

  it("a backup set's database is 0600 in both locations", async () => {
    const b = await backupNow(inst, { operator: 'bob', passphrases: passphraseMap(allPassphrases()) });
    for (const loc of archiveLocations(inst)) {
      const set = join(loc.dir, b.set!);
      for (const f of readdirSync(set))
        if (f.endsWith('.db')) assert.equal(modeOf(join(set, f)), '0600', `${set}/${f}`);
    }
  });

  it('the transcript a ceremony writes into the home is 0600', async () => {
    mkdirSync(join(dir, 'out'));
    await runShippedCeremony(inst, 'ecc-rootca1', join(dir, 'out'));
    const row = inst.db.prepare('SELECT ceremony_id AS id FROM transcripts ORDER BY ceremony_id LIMIT 1').get() as
      | { id: number }
      | undefined;
    assert.ok(row, 'the installation has a ceremony transcript to export');
    for (const f of [`transcript-${row.id}.json`, `transcript-${row.id}.md`])
      assert.equal(modeOf(join(inst.home, 'transcripts', f)), '0600', f);
    const file = exportTranscript(inst, loadTranscript(inst, row.id), join(dir, 'exported'));
    assert.equal(modeOf(file), '0600');
  });

  it('doctor is quiet on a fresh installation and names a file or home loosened later', () => {
    assert.deepEqual(runDoctor(inst).findings, []);
    chmodSync(join(inst.home, 'rootca.db'), 0o644);
    chmodSync(inst.home, 0o755);
    const r = runDoctor(inst);
    assert.equal(r.ok, false);
    assert.ok(
      r.findings.some((f) => f.topic === 'file-mode' && f.message.includes('rootca.db is 0644')),
      JSON.stringify(r.findings),
    );
    assert.ok(
      r.findings.some((f) => f.topic === 'file-mode' && /the home .* is 0755/.test(f.message)),
      JSON.stringify(r.findings),
    );
    chmodSync(join(inst.home, 'rootca.db'), 0o600);
    chmodSync(inst.home, 0o700);
  });
});
