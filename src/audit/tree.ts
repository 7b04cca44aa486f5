/**
 * The whole RFC 9162 tree over a fixed list of leaf hashes, level by level, so many inclusion
 * proofs (every event of a range, for an auditor) cost O(log n) each after one O(n) build,
 * instead of O(n) each with `inclusionProof` of merkle.ts.
 *
 * Levels are built by pairing neighbours and carrying an odd last node up unchanged, which
 * gives the same left-balanced tree as RFC 9162 2.1.1 (see merkle.ts); the audit path of a
 * leaf is then its sibling at each level where it has one, bottom-up — PATH(m, D[n]) of 2.1.3.1.
 */
import { CaError } from '../errors.ts';
import { nodeHash, rootFromLeafHashes } from './merkle.ts';

export class MerkleTreeLevels {
  readonly #levels: Buffer[][];

  constructor(leafHashes: Buffer[]) {
    this.#levels = [leafHashes.slice()];
    let level = this.#levels[0];
    while (level.length > 1) {
      const next: Buffer[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
      if (level.length % 2 === 1) next.push(level[level.length - 1]);
      this.#levels.push(next);
      level = next;
    }
  }

  get size(): number {
    return this.#levels[0].length;
  }

  /** MTH of all the leaves (SHA-256 of the empty string when there are none). */
  root(): Buffer {
    return this.size === 0 ? rootFromLeafHashes([]) : Buffer.from(this.#levels[this.#levels.length - 1][0]);
  }

  /** RFC 9162 2.1.3.1 audit path of leaf `index`, from its sibling up. */
  inclusionProof(index: number): Buffer[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new CaError(
        'MERKLE_INVALID_ARGUMENT',
        `leaf index ${String(index)} is outside the tree of size ${this.size}`,
        { details: { index, treeSize: this.size } },
      );
    }
    const path: Buffer[] = [];
    let i = index;
    for (let l = 0; l < this.#levels.length - 1; l++) {
      const sibling = i % 2 === 1 ? i - 1 : i + 1;
      if (sibling < this.#levels[l].length) path.push(this.#levels[l][sibling]);
      i = Math.floor(i / 2);
    }
    return path;
  }
}
