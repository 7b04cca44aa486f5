/**
 * The Merkle worker thread of audit verify (issue 17.5): the same roots as MerkleFrontier on
 * the main thread, and a worker that never answers ends in an error, not a wait forever.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MerkleFrontier } from './merkle.ts';
import { MerkleWorker } from './merkle-worker.ts';

describe('issue 17.5 MerkleWorker', () => {
  it('builds the frontier and the roots at the wanted sizes that MerkleFrontier builds', () => {
    const leaves = Array.from({ length: 1000 }, (_, i) => `{"seq":${i + 1},"é":"${'x'.repeat(i % 7)}"}`);
    const worker = new MerkleWorker([1, 7, 512, 999, 5000]);
    for (let i = 0; i < leaves.length; i += 300) worker.push(leaves.slice(i, i + 300));
    const { frontier, roots } = worker.finish();
    const here = new MerkleFrontier();
    const want = new Map<number, string>();
    leaves.forEach((leaf, i) => {
      here.appendLeafText(leaf);
      if ([1, 7, 512, 999].includes(i + 1)) want.set(i + 1, here.root().toString('hex'));
    });
    assert.deepEqual(roots, want);
    assert.equal(MerkleFrontier.fromJSON(frontier).root().toString('hex'), here.root().toString('hex'));
  });

  it('throws when the worker hashes nothing (it did not start), instead of waiting forever', () => {
    const started = Date.now();
    const worker = new MerkleWorker([], { stalledMs: 1500, code: 'throw new Error("not starting")' });
    worker.push(['{}']);
    assert.throws(() => worker.finish(), /the Merkle worker hashed nothing for 1.5 s/);
    assert.ok(Date.now() - started < 15_000);
  });
});
