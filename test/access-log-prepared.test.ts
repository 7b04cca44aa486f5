/**
 * The access log's prepared line (AccessLog.appendOcspPrepared, the OCSP fast path's way) is
 * byte for byte the line appendOcsp writes for the same request: parts copied as bytes, "us"
 * written digit by digit.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { fixedClock } from '../src/clock.ts';
import { AccessLog, type OcspAccessEntry, ocspAccessFields } from '../src/server/access-log.ts';
import { tempDir } from './helpers.ts';

test('access log: a prepared OCSP line equals the one appendOcsp writes', async () => {
  const dir = tempDir();
  const clock = fixedClock(new Date('2026-12-02T17:00:00.123Z'));
  const recorded: string[] = [];
  const log = new AccessLog({
    dir,
    clock,
    store: {
      recordAccessLogSegment: (r) => {
        recorded.push(r.name);
        return { ...r, prevSha256: '', closedAt: r.closedAt.toISOString() } as never;
      },
    },
  });
  const base: OcspAccessEntry = {
    ip: '127.0.0.1',
    method: 'GET',
    http: 200,
    outcome: 'good',
    source: 'presigned',
    ca: 'ecc-rootca1',
    hash: 'sha1',
    serials: ['6cabf43f9ea7e6359fe7c8d8aca1d16f'],
    nonce: false,
    version: 3,
    length: 849,
    micros: 0,
  };
  const other: OcspAccessEntry = { ...base, ip: '::1', method: 'POST', serials: ['01', '02'], version: undefined };
  const micros = [0, 7, 10, 99, 100, 12345, 1_000_000, 987654321012];
  for (const [i, us] of micros.entries()) {
    for (const e of [base, other]) {
      if (i % 3 === 2) clock.advance(1);
      log.appendOcsp({ ...e, micros: us });
      log.appendOcspPrepared(`,"ip":${JSON.stringify(e.ip)}`, ocspAccessFields(e), us, clock.now().getTime());
    }
  }
  await log.closeSegmentNow();
  await log.close();
  assert.equal(recorded.length, 1);
  const lines = gunzipSync(readFileSync(`${dir}/${recorded[0]}`))
    .toString('latin1')
    .split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, micros.length * 4);
  for (let i = 0; i < lines.length; i += 2) {
    assert.equal(lines[i + 1], lines[i]);
    JSON.parse(lines[i]!);
  }
  assert.match(lines.at(-1)!, /,"us":987654321012\}$/);
  assert.match(lines[0]!, /^\{"t":"2026-12-02T17:00:00.123Z","ip":"127.0.0.1","m":"GET".*,"len":849,"us":0\}$/);
});
