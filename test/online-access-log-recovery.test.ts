/**
 * CPS 5.5.1: the workers of a cluster start together and each recovers the segments a dead
 * process left; every segment must be recovered exactly once (one record, one intact .gz),
 * never compressed by two workers into the same temp file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixedClock } from '../src/clock.ts';
import { AccessLog, verifyAccessLogChain } from '../src/server/access-log.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { tempDir } from './helpers.ts';

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

describe('CPS 5.5.1 access-log recovery by several workers at once', () => {
  it('four logs starting together recover each orphaned segment once; a claim left by a dead recoverer is taken over', async () => {
    const dir = tempDir();
    const logDir = join(dir, 'log');
    const store = new SqliteOnlineStore(join(dir, 'online.db'));
    const clock = fixedClock(new Date('2030-03-01T00:00:00Z'));
    await new AccessLog({ dir: logDir, store, clock }).close();
    const lines = Array.from({ length: 2000 }, (_, i) => `{"t":"2030-02-28T23:10:00.000Z","m":"GET","n":${i}}\n`).join(
      '',
    );
    const orphans = [1, 2, 3, 4, 5].map((n) => {
      const name = `ocsp-20300228T23Z-${deadPid()}-${n}.log`;
      writeFileSync(join(logDir, name), lines);
      return name;
    });
    writeFileSync(join(logDir, `${orphans[4]}.claim`), String(deadPid())); // a recoverer that died

    const errors: unknown[] = [];
    const logs = [0, 1, 2, 3].map(() => new AccessLog({ dir: logDir, store, clock, onError: (e) => errors.push(e) }));
    await Promise.all(logs.map((l) => l.close()));
    assert.deepEqual(errors, []);
    const records = store.accessLogSegments();
    assert.deepEqual(
      records.map((r) => r.name).sort(),
      orphans.map((o) => `${o}.gz`).sort(),
      'each orphan recorded once',
    );
    assert.deepEqual(
      records.map((r) => r.lines),
      [2000, 2000, 2000, 2000, 2000],
    );
    assert.deepEqual(verifyAccessLogChain(logDir, records), []);
    assert.deepEqual(
      readdirSync(logDir).filter((n) => !n.endsWith('.gz')),
      [],
      'no raw, temp or claim file left',
    );
    store.close();
  });
});
