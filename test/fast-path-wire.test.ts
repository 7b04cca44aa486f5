/**
 * The fast path's batched counts (src/server/fast-path-wire.ts): the latency histogram it
 * fills in one pass per flush must expose exactly what one prom-client observe() per request
 * gives (buckets, count, sum to the last digit), across flushes and after a registry reset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FastPathCounts } from '../src/server/fast-path-wire.ts';
import { createMetrics } from '../src/server/metrics.ts';
import { errorAnswer, type OcspAnswer } from '../src/server/ocsp-responder.ts';

const answer: OcspAnswer = { ...errorAnswer('tryLater'), outcome: 'good', source: 'presigned' };

/** The histogram's lines of an exposition. */
async function latencyLines(m: ReturnType<typeof createMetrics>): Promise<string[]> {
  return (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('rootca_http_request_duration_seconds'));
}

/** Values in every bucket, past the last, on the bounds themselves, and fractions whose sum rounds. */
function latencies(seed: number, n: number): number[] {
  const out: number[] = [];
  const bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
  for (let i = 0; i < n; i++) {
    const k = (i * 7919 + seed) % 23;
    out.push(k < bounds.length ? bounds[k]! : k === 22 ? 1.5 : ((i * 104729 + seed) % 1_000_000) * 1.3e-7);
  }
  return out;
}

test('fast path counts: the latency histogram equals one observe() per request', async () => {
  const batched = createMetrics();
  const one = createMetrics();
  const counts = new FastPathCounts(batched);
  for (const [route, seed, n] of [
    ['/ocsp/*', 1, 5000],
    ['/ocsp', 2, 1],
    ['/ocsp/*', 3, 777],
    ['/', 4, 0],
    ['/', 5, 40],
  ] as const) {
    const s = counts.statsFor(route, 'GET', answer);
    for (const v of latencies(seed, n)) {
      s.n++;
      s.latencies.push(v);
      one.latency.labels(route).observe(v);
    }
    counts.flush();
    assert.equal(s.latencies.length, 0);
    assert.deepEqual(await latencyLines(batched), await latencyLines(one));
  }
  const lines = await latencyLines(batched);
  assert.ok(lines.includes('rootca_http_request_duration_seconds_count{route="/ocsp/*"} 5777'), lines.join('\n'));
  assert.ok(lines.some((l) => /_bucket\{le="0.0005",route="\/ocsp\/\*"\} [1-9]/.test(l)));

  // A reset registry (prom-client makes new series) is counted into again, not into the old series.
  batched.registry.resetMetrics();
  one.registry.resetMetrics();
  const s = counts.statsFor('/ocsp/*', 'GET', answer);
  for (const v of latencies(9, 300)) {
    s.n++;
    s.latencies.push(v);
    one.latency.labels('/ocsp/*').observe(v);
  }
  counts.flush();
  assert.deepEqual(await latencyLines(batched), await latencyLines(one));
  assert.ok((await latencyLines(batched)).includes('rootca_http_request_duration_seconds_count{route="/ocsp/*"} 300'));
});
