/** The level-by-level tree gives the same roots and audit paths as RFC 9162's recursive definition (merkle.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inclusionProof, leafHash, rootFromLeafHashes, verifyInclusion } from './merkle.ts';
import { MerkleTreeLevels } from './tree.ts';

describe('MerkleTreeLevels', () => {
  it('matches merkle.ts for every leaf of every tree size 0..70', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    for (let n = 0; n <= 70; n++) {
      const tree = new MerkleTreeLevels(leaves.slice(0, n));
      const root = rootFromLeafHashes(leaves.slice(0, n));
      assert.deepEqual(tree.root(), root, `root of ${n}`);
      for (let i = 0; i < n; i++) {
        const path = tree.inclusionProof(i);
        assert.deepEqual(path, inclusionProof(leaves.slice(0, n), i), `path of ${i} in ${n}`);
        assert.ok(verifyInclusion(leaves[i], i, n, path, root));
      }
      assert.throws(() => tree.inclusionProof(n), /outside the tree/);
    }
  });
});
