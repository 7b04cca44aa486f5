/**
 * CPS 5.5.1 / R-8.1: the OCSP access log. Hourly segments, closed when the hour turns (also
 * without traffic), gzip-compressed, SHA-256 chained in the online store; a segment left open
 * by a process that died is closed by the next one, also when it died half-way through closing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync, gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { fixedClock } from '../src/clock.ts';
import { AccessLog, verifyAccessLogChain } from '../src/server/access-log.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { tempDir, waitFor } from './helpers.ts';

const entry = (serial: string) => ({
  ip: '127.0.0.1',
  method: 'POST' as const,
  http: 200,
  outcome: 'good',
  source: 'presigned',
  ca: 'rsaroot',
  hash: 'sha1',
  serials: [serial],
  nonce: false,
  version: 1,
  length: 461,
  micros: 80,
});

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

describe('CPS 5.5.1 OCSP access log segments', () => {
  it('a new segment each hour; the old one is closed on the next request or by the timer; the chain links them', async () => {
    const dir = tempDir();
    const store = new SqliteOnlineStore(join(dir, 'online.db'));
    const clock = fixedClock(new Date('2030-01-01T10:59:58Z'));
    const log = new AccessLog({ dir: join(dir, 'log'), store, clock, flushMs: 30 });
    for (const s of ['01', '02', '03']) log.appendOcsp(entry(s));
    clock.set(new Date('2030-01-01T11:00:01Z'));
    log.appendOcsp(entry('04')); // turns the hour: the 10h segment is closed
    clock.set(new Date('2030-01-01T12:00:00Z'));
    await waitFor(
      'the timer closes the 11h segment without further traffic',
      () => store.accessLogSegments().length >= 2,
      { timeoutMs: 5000 },
    );
    await log.close();
    const records = store.accessLogSegments();
    assert.equal(records.length, 2);
    assert.match(records[0]!.name, /^ocsp-20300101T10Z-\d+-1\.log\.gz$/);
    assert.match(records[1]!.name, /^ocsp-20300101T11Z-\d+-2\.log\.gz$/);
    assert.deepEqual(
      records.map((r) => r.lines),
      [3, 1],
    );
    assert.equal(records[0]!.prevSha256, '');
    assert.equal(records[1]!.prevSha256, records[0]!.sha256);
    assert.deepEqual(verifyAccessLogChain(join(dir, 'log'), records), []);
    const lines = gunzipSync(readFileSync(join(dir, 'log', records[0]!.name)))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.sn[0]),
      ['01', '02', '03'],
    );
    assert.equal(lines[0].t, '2030-01-01T10:59:58.000Z');
    store.close();
  });

  it('segments left by a dead process are closed by the next one: raw, and compressed but perhaps unrecorded', async () => {
    const dir = tempDir();
    const logDir = join(dir, 'log');
    const store = new SqliteOnlineStore(join(dir, 'online.db'));
    const clock = fixedClock(new Date('2030-02-01T00:00:00Z'));
    // A process that started the log directory, then three crashes.
    await new AccessLog({ dir: logDir, store, clock }).close();
    const raw = (pid: number, n: number) => {
      const p = join(logDir, `ocsp-20300131T23Z-${pid}-${n}.log`);
      writeFileSync(p, '{"t":"2030-01-31T23:10:00.000Z","m":"GET"}\n{"t":"2030-01-31T23:11:00.000Z","m":"POST"}\n');
      return p;
    };
    raw(deadPid(), 1); // crashed while the segment was open
    const compressed = raw(deadPid(), 2); // crashed after the rename, before recording
    writeFileSync(`${compressed}.gz`, gzipSync(readFileSync(compressed)));
    const recorded = raw(deadPid(), 3); // crashed after recording, before removing the raw file
    writeFileSync(`${recorded}.gz`, gzipSync(readFileSync(recorded)));
    store.recordAccessLogSegment({
      name: `${recorded.slice(logDir.length + 1)}.gz`,
      sha256: createHash('sha256')
        .update(readFileSync(`${recorded}.gz`))
        .digest('hex'),
      lines: 2,
      closedAt: clock.now(),
    });
    writeFileSync(join(logDir, `ocsp-20300131T23Z-${process.pid}-9.log`), 'mine\n'); // a live process's open segment: left alone

    const log = new AccessLog({ dir: logDir, store, clock });
    await log.closeSegmentNow(); // waits for the recovery
    const records = store.accessLogSegments();
    assert.equal(records.length, 3);
    assert.deepEqual(
      records.map((r) => r.lines),
      [2, 2, 2],
    );
    assert.deepEqual(verifyAccessLogChain(logDir, records), []);
    assert.deepEqual(
      readdirSync(logDir).filter((n) => n.endsWith('.log')),
      [`ocsp-20300131T23Z-${process.pid}-9.log`],
    );
    assert.ok(!existsSync(compressed) && !existsSync(recorded));
    await log.close();
    store.close();
  });
});
