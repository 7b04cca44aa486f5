/**
 * the Merkle tree over the audit log hashes exactly as RFC 9162 2.1 says, so an
 * auditor's CT tooling agrees with it, and its proofs catch every kind of tampering.
 *
 * Known answers: the RFC 6962 reference tree of 8 leaves used by the Certificate Transparency
 * reference implementations, as published in transparency-dev/merkle
 * (testonly/constants.go: leaf inputs, every complete-subtree hash, roots of sizes 0..8 and
 * compact ranges; proof/verify_test.go: inclusion and consistency proofs; proof/proof_test.go:
 * which tree nodes make up the proofs for sizes up to 8). Properties: checked against a
 * second, literal recursive transcription of the RFC's definitions kept in this file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isCaError } from '../errors.ts';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  nodeHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const hexes = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex'));

// ---------------------------------------------------------------------------------------
// Published vectors (transparency-dev/merkle testonly/constants.go, proof/verify_test.go).

const KAT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);

/** Hashes of every complete subtree of the 8-leaf tree: [level][index], level 0 = leaf hashes. */
const KAT_NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

/** Roots of the trees of the first 0..8 leaves. */
const KAT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** Inclusion proofs as published (verify_test.go numbers leaves from 1; these are 0-based). */
const KAT_INCLUSION = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const KAT_CONSISTENCY = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

/**
 * Node names of the tree picture in proof_test.go, mapped onto the published hashes:
 * leaves a..f, j, leaf#7 (level 0), g h i (level 1), k l (level 2). `ij` is the node that
 * tree of size 7 has in place of l: HASH(0x01 || i || j) = MTH(D[4:7]).
 */
const N = {
  a: KAT_NODES[0][0],
  b: KAT_NODES[0][1],
  c: KAT_NODES[0][2],
  d: KAT_NODES[0][3],
  e: KAT_NODES[0][4],
  f: KAT_NODES[0][5],
  j: KAT_NODES[0][6],
  leaf7: KAT_NODES[0][7],
  g: KAT_NODES[1][0],
  h: KAT_NODES[1][1],
  i: KAT_NODES[1][2],
  k: KAT_NODES[2][0],
  l: KAT_NODES[2][1],
  ij: nodeHash(hex(KAT_NODES[1][2]), hex(KAT_NODES[0][6])).toString('hex'),
};

/** Which nodes make up a proof, for sizes up to 8 (proof_test.go TestInclusion / TestConsistency). */
const STRUCTURAL_INCLUSION: Array<[size: number, index: number, nodes: string[]]> = [
  [2, 0, [N.b]],
  [2, 1, [N.a]],
  [3, 1, [N.a, N.c]],
  [7, 0, [N.b, N.h, N.ij]],
  [7, 1, [N.a, N.h, N.ij]],
  [7, 2, [N.d, N.g, N.ij]],
  [7, 3, [N.c, N.g, N.ij]],
  [7, 4, [N.f, N.j, N.k]],
  [7, 5, [N.e, N.j, N.k]],
  [7, 6, [N.i, N.k]],
  [4, 2, [N.d, N.g]],
  [5, 3, [N.c, N.g, N.e]],
  [6, 3, [N.c, N.g, N.i]],
  [6, 4, [N.f, N.k]],
];
const STRUCTURAL_CONSISTENCY: Array<[oldSize: number, newSize: number, nodes: string[]]> = [
  [1, 2, [N.b]],
  [1, 4, [N.b, N.h]],
  [1, 6, [N.b, N.h, N.i]],
  [2, 3, [N.c]],
  [2, 8, [N.h, N.l]],
  [3, 7, [N.c, N.d, N.g, N.ij]],
  [4, 7, [N.ij]],
  [5, 7, [N.e, N.f, N.j, N.k]],
  [6, 7, [N.i, N.j, N.k]],
  [7, 8, [N.j, N.leaf7, N.i, N.k]],
  [2, 4, [N.h]],
  [3, 5, [N.c, N.d, N.g, N.e]],
  [3, 6, [N.c, N.d, N.g, N.i]],
  [4, 6, [N.i]],
  [1, 7, [N.b, N.h, N.ij]],
  [1, 1, []],
  [2, 2, []],
  [3, 3, []],
  [4, 4, []],
  [5, 5, []],
  [7, 7, []],
  [8, 8, []],
];

/** Compact ranges of the trees of 0..8 leaves (constants.go CompactTrees), leftmost first. */
const KAT_COMPACT: string[][] = [
  [],
  [N.a],
  [N.g],
  [N.g, N.c],
  [N.k],
  [N.k, N.e],
  [N.k, N.i],
  [N.k, N.i, N.j],
  [KAT_NODES[3][0]],
];

// ---------------------------------------------------------------------------------------
// A second implementation, transcribed literally from RFC 9162 2.1 (recursion over
// slices, its own SHA-256 calls), to check the iterative one against.

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const refLeaf = (d: Uint8Array): Buffer => sha(Buffer.from([0]), d);
const refNode = (l: Uint8Array, r: Uint8Array): Buffer => sha(Buffer.from([1]), l, r);
/** "the largest power of two smaller than n": 2^(ceil(log2 n) - 1), computed differently from the module. */
const refK = (n: number): number => 2 ** (Math.ceil(Math.log2(n)) - 1);

function refMth(d: Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return d[0];
  const k = refK(d.length);
  return refNode(refMth(d.slice(0, k)), refMth(d.slice(k)));
}

function refPath(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = refK(d.length);
  return m < k
    ? [...refPath(m, d.slice(0, k)), refMth(d.slice(k))]
    : [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}

function refSubproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [refMth(d)];
  const k = refK(d.length);
  return m <= k
    ? [...refSubproof(m, d.slice(0, k), b), refMth(d.slice(k))]
    : [...refSubproof(m - k, d.slice(k), false), refMth(d.slice(0, k))];
}

/** Rebuilds the root from an audit path by reading PATH's definition backwards; null if it does not fit. */
function refInclusionRoot(
  index: number,
  size: number,
  leaf: Buffer,
  proof: Buffer[],
  end = proof.length,
): Buffer | null {
  if (size === 1) return end === 0 ? leaf : null;
  if (end === 0) return null;
  const k = refK(size);
  const sibling = proof[end - 1];
  if (index < k) {
    const sub = refInclusionRoot(index, k, leaf, proof, end - 1);
    return sub && refNode(sub, sibling);
  }
  const sub = refInclusionRoot(index - k, size - k, leaf, proof, end - 1);
  return sub && refNode(sibling, sub);
}

function refVerifyInclusion(leaf: Buffer, index: number, size: number, proof: Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (![leaf, root, ...proof].every((h) => h.length === 32)) return false;
  const r = refInclusionRoot(index, size, leaf, proof);
  return r !== null && r.equals(root);
}

/** Rebuilds [old root, new root] by reading SUBPROOF's definition backwards; null if it does not fit. */
function refConsistencyRoots(
  m: number,
  n: number,
  b: boolean,
  oldRoot: Buffer,
  proof: Buffer[],
  end: number,
): [Buffer, Buffer] | null {
  if (m === n) {
    if (b) return end === 0 ? [oldRoot, oldRoot] : null;
    return end === 1 ? [proof[0], proof[0]] : null;
  }
  if (end === 0) return null;
  const k = refK(n);
  const p = proof[end - 1];
  if (m <= k) {
    const r = refConsistencyRoots(m, k, b, oldRoot, proof, end - 1);
    return r && [r[0], refNode(r[1], p)];
  }
  const r = refConsistencyRoots(m - k, n - k, false, oldRoot, proof, end - 1);
  return r && [refNode(p, r[0]), refNode(p, r[1])];
}

function refVerifyConsistency(m: number, n: number, oldRoot: Buffer, newRoot: Buffer, proof: Buffer[]): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (![oldRoot, newRoot, ...proof].every((h) => h.length === 32)) return false;
  if (m === 0) return proof.length === 0 && oldRoot.equals(sha()) && (n > 0 || newRoot.equals(sha()));
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  const r = refConsistencyRoots(m, n, true, oldRoot, proof, proof.length);
  return r !== null && r[0].equals(oldRoot) && r[1].equals(newRoot);
}

// ---------------------------------------------------------------------------------------
// Fixtures.

/** Deterministic PRNG (mulberry32) so a failure names a reproducible case. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_N = 4001; // room for the 2n probes of n = 2000
const LEAVES = Array.from({ length: MAX_N }, (_, i) => refLeaf(Buffer.from(`audit event ${i}`)));
const rootCache = new Map<number, Buffer>();
/** MTH of the first `size` fixture leaves, by the reference implementation. */
function rootOf(size: number): Buffer {
  let r = rootCache.get(size);
  if (!r) {
    r = refMth(LEAVES.slice(0, size));
    rootCache.set(size, r);
  }
  return r;
}

function flip(b: Buffer, byte = 0, mask = 0x08): Buffer {
  const c = Buffer.from(b);
  c[byte] ^= mask;
  return c;
}

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isCaError(e) && e.code === 'MERKLE_INVALID_ARGUMENT' && pattern.test(e.message));
}

/**
 * Checks one inclusion proof and a set of corruptions of it. A corruption must fail; a
 * wrong tree size paired with the original root is compared with the reference instead,
 * since an audit path binds the size only through the root: the path of leaf 0 in a tree
 * of 3 is also a well-formed path in a tree of 4.
 */
function checkInclusion(n: number, index: number): void {
  const leaves = LEAVES.slice(0, n);
  const proof = inclusionProof(leaves, index);
  const root = rootOf(n);
  const leaf = leaves[index];
  const at = `n=${n} index=${index}`;
  assert.deepEqual(hexes(proof), hexes(refPath(index, leaves)), `${at}: proof differs from PATH`);
  assert.equal(verifyInclusion(leaf, index, n, proof, root), true, `${at}: valid proof rejected`);

  const mustFail: Array<[string, Buffer, number, number, Buffer[], Buffer]> = [
    ['flipped leaf', flip(leaf), index, n, proof, root],
    ['flipped root', leaf, index, n, proof, flip(root, 31, 0x01)],
    ['short root', leaf, index, n, proof, root.subarray(0, 31)],
    ['empty-tree root', leaf, index, n, proof, sha()],
    ['trailing root', leaf, index, n, [...proof, root], root],
    ['trailing leaf', leaf, index, n, [...proof, leaf], root],
    ['preceding root', leaf, index, n, [root, ...proof], root],
    ['short element', leaf, index, n, [...proof.slice(0, -1), Buffer.alloc(31)], root],
  ];
  for (let i = 0; i < proof.length; i++) {
    for (const [byte, mask] of [
      [0, 0x08],
      [31, 0x80],
    ]) {
      const p = [...proof];
      p[i] = flip(p[i], byte, mask);
      mustFail.push([`proof[${i}] byte ${byte} flipped`, leaf, index, n, p, root]);
    }
  }
  if (proof.length > 0) {
    mustFail.push(['last element removed', leaf, index, n, proof.slice(0, -1), root]);
    mustFail.push(['first element removed', leaf, index, n, proof.slice(1), root]);
  }
  for (const j of new Set([index - 1, index + 1, index ^ 2, 0, n - 1])) {
    if (j === index || j < 0) continue;
    mustFail.push([`wrong index ${j}`, leaf, j, n, proof, root]);
    if (j < n) mustFail.push([`leaf ${j} with index ${j}`, leaves[j], j, n, proof, root]);
  }
  for (const s of new Set([n - 1, n + 1, 2 * n, Math.floor(n / 2)])) {
    if (s === n || s < 0) continue;
    // With the root of a tree of that size: never proves anything.
    mustFail.push([`size ${s} with its own root`, leaf, index, s, proof, rootOf(s)]);
  }
  for (const [what, l, i, s, p, r] of mustFail) {
    assert.equal(verifyInclusion(l, i, s, p, r), false, `${at}: accepted ${what}`);
  }
  for (const s of new Set([n - 1, n + 1, 2 * n, Math.floor(n / 2)])) {
    if (s === n) continue;
    assert.equal(
      verifyInclusion(leaf, index, s, proof, root),
      refVerifyInclusion(leaf, index, s, proof, root),
      `${at}: size ${s} with the size-${n} root disagrees with the reference`,
    );
  }
}

/** Checks one consistency proof and a set of corruptions of it (see checkInclusion on sizes). */
function checkConsistency(n: number, m: number, leaves: Buffer[] = LEAVES.slice(0, n)): void {
  const proof = consistencyProof(leaves, m);
  assert.deepEqual(
    hexes(consistencyProof(LEAVES, m, n)),
    hexes(proof),
    `m=${m} n=${n}: newSize argument changes the proof`,
  );
  const oldRoot = rootOf(m);
  const newRoot = rootOf(n);
  const at = `m=${m} n=${n}`;
  const expected = m === 0 || m === n ? [] : refSubproof(m, leaves, true);
  assert.deepEqual(hexes(proof), hexes(expected), `${at}: proof differs from PROOF(m, D[n])`);
  assert.equal(verifyConsistency(m, n, oldRoot, newRoot, proof), true, `${at}: valid proof rejected`);

  const mustFail: Array<[string, number, number, Buffer, Buffer, Buffer[]]> = [
    ['flipped old root', m, n, flip(oldRoot), newRoot, proof],
    ['trailing old root', m, n, oldRoot, newRoot, [...proof, oldRoot]],
    ['trailing new root', m, n, oldRoot, newRoot, [...proof, newRoot]],
    ['preceding old root', m, n, oldRoot, newRoot, [oldRoot, ...proof]],
    ['preceding new root', m, n, oldRoot, newRoot, [newRoot, ...proof]],
    ['short new root', m, n, oldRoot, newRoot.subarray(0, 31), proof],
  ];
  // Every tree extends the empty one, so with m = 0 any new root is consistent.
  if (m > 0) mustFail.push(['flipped new root', m, n, oldRoot, flip(newRoot), proof]);
  if (m < n)
    mustFail.push(['swapped roots', m, n, newRoot, oldRoot, proof], ['reversed sizes', n, m, newRoot, oldRoot, proof]);
  if (proof.length > 0) {
    mustFail.push(
      ['empty proof', m, n, oldRoot, newRoot, []],
      ['last element removed', m, n, oldRoot, newRoot, proof.slice(0, -1)],
      ['first element removed', m, n, oldRoot, newRoot, proof.slice(1)],
      ['proof[0] repeated', m, n, oldRoot, newRoot, [proof[0], ...proof]],
    );
  }
  for (let i = 0; i < proof.length; i++) {
    for (const [byte, mask] of [
      [0, 0x10],
      [31, 0x01],
    ]) {
      const p = [...proof];
      p[i] = flip(p[i], byte, mask);
      mustFail.push([`proof[${i}] byte ${byte} flipped`, m, n, oldRoot, newRoot, p]);
    }
  }
  const sizePairs: Array<[number, number]> = [];
  for (const m2 of new Set([m - 1, m + 1, m])) {
    for (const n2 of new Set([n - 1, n + 1, 2 * n, n])) {
      if ((m2 === m && n2 === n) || m2 < 0 || n2 < 0 || m2 > n2) continue;
      sizePairs.push([m2, n2]);
    }
  }
  for (const [what, a, b, r1, r2, p] of mustFail) {
    assert.equal(verifyConsistency(a, b, r1, r2, p), false, `${at}: accepted ${what}`);
  }
  for (const [m2, n2] of sizePairs) {
    // With the roots of trees of those sizes, the proof for other sizes proves nothing,
    // except that an empty proof is the right one for 0 -> any size and for equal sizes.
    const trivial = proof.length === 0 && (m2 === 0 || m2 === n2);
    assert.equal(
      verifyConsistency(m2, n2, rootOf(m2), rootOf(n2), proof),
      trivial,
      `${at}: sizes ${m2}->${n2} with their own roots`,
    );
    assert.equal(refVerifyConsistency(m2, n2, rootOf(m2), rootOf(n2), proof), trivial);
    assert.equal(
      verifyConsistency(m2, n2, oldRoot, newRoot, proof),
      refVerifyConsistency(m2, n2, oldRoot, newRoot, proof),
      `${at}: sizes ${m2}->${n2} with the original roots disagree with the reference`,
    );
  }
}

// ---------------------------------------------------------------------------------------

describe('R-7.2 Merkle tree: RFC 9162 known answers', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes (every published subtree hash)', () => {
    assert.equal(leafHash(Buffer.alloc(0)).toString('hex'), KAT_NODES[0][0]);
    assert.deepEqual(
      KAT_LEAVES.map((l) => leafHash(l).toString('hex')),
      KAT_NODES[0],
    );
    const leafHashes = KAT_LEAVES.map(leafHash);
    for (let level = 1; level < KAT_NODES.length; level++) {
      for (let i = 0; i < KAT_NODES[level].length; i++) {
        const [l, r] = [hex(KAT_NODES[level - 1][2 * i]), hex(KAT_NODES[level - 1][2 * i + 1])];
        assert.equal(nodeHash(l, r).toString('hex'), KAT_NODES[level][i], `node ${level}/${i}`);
        const width = 2 ** level;
        assert.equal(
          rootFromLeafHashes(leafHashes.slice(i * width, (i + 1) * width)).toString('hex'),
          KAT_NODES[level][i],
        );
      }
    }
  });

  it('the reference transcription in this file agrees with the published vectors too', () => {
    const leafHashes = KAT_LEAVES.map(refLeaf);
    for (let n = 0; n <= 8; n++) assert.equal(refMth(leafHashes.slice(0, n)).toString('hex'), KAT_ROOTS[n]);
    for (const v of KAT_INCLUSION) {
      assert.deepEqual(hexes(refPath(v.index, leafHashes.slice(0, v.size))), v.proof);
      assert.equal(
        refVerifyInclusion(leafHashes[v.index], v.index, v.size, v.proof.map(hex), hex(KAT_ROOTS[v.size])),
        true,
      );
    }
    for (const v of KAT_CONSISTENCY.filter((c) => c.oldSize < c.newSize)) {
      assert.deepEqual(hexes(refSubproof(v.oldSize, leafHashes.slice(0, v.newSize), true)), v.proof);
      assert.equal(
        refVerifyConsistency(
          v.oldSize,
          v.newSize,
          hex(KAT_ROOTS[v.oldSize]),
          hex(KAT_ROOTS[v.newSize]),
          v.proof.map(hex),
        ),
        true,
      );
    }
  });

  it('computes the published roots of the trees of 0..8 leaves, also incrementally', () => {
    const leafHashes = KAT_LEAVES.map(leafHash);
    const frontier = new MerkleFrontier();
    for (let n = 0; n <= 8; n++) {
      assert.equal(rootFromLeafHashes(leafHashes.slice(0, n)).toString('hex'), KAT_ROOTS[n], `MTH of ${n} leaves`);
      assert.equal(frontier.size, n);
      assert.equal(frontier.root().toString('hex'), KAT_ROOTS[n], `frontier root at ${n}`);
      assert.deepEqual(frontier.toJSON(), { size: n, nodes: KAT_COMPACT[n] }, `compact range at ${n}`);
      if (n < 8) frontier.append(leafHashes[n]);
    }
  });

  it('produces and accepts the published inclusion proofs', () => {
    const leafHashes = KAT_LEAVES.map(leafHash);
    for (const v of KAT_INCLUSION) {
      const proof = inclusionProof(leafHashes.slice(0, v.size), v.index);
      assert.deepEqual(hexes(proof), v.proof, `index ${v.index} size ${v.size}`);
      assert.equal(
        verifyInclusion(leafHashes[v.index], v.index, v.size, v.proof.map(hex), hex(KAT_ROOTS[v.size])),
        true,
      );
    }
    for (const [size, index, nodes] of STRUCTURAL_INCLUSION) {
      assert.deepEqual(hexes(inclusionProof(leafHashes.slice(0, size), index)), nodes, `index ${index} size ${size}`);
      assert.equal(verifyInclusion(leafHashes[index], index, size, nodes.map(hex), hex(KAT_ROOTS[size])), true);
    }
  });

  it('produces and accepts the published consistency proofs', () => {
    const leafHashes = KAT_LEAVES.map(leafHash);
    for (const v of KAT_CONSISTENCY) {
      assert.deepEqual(
        hexes(consistencyProof(leafHashes, v.oldSize, v.newSize)),
        v.proof,
        `${v.oldSize}->${v.newSize}`,
      );
      assert.deepEqual(hexes(consistencyProof(leafHashes.slice(0, v.newSize), v.oldSize)), v.proof);
      assert.equal(
        verifyConsistency(v.oldSize, v.newSize, hex(KAT_ROOTS[v.oldSize]), hex(KAT_ROOTS[v.newSize]), v.proof.map(hex)),
        true,
      );
    }
    for (const [oldSize, newSize, nodes] of STRUCTURAL_CONSISTENCY) {
      assert.deepEqual(hexes(consistencyProof(leafHashes, oldSize, newSize)), nodes, `${oldSize}->${newSize}`);
      assert.equal(
        verifyConsistency(oldSize, newSize, hex(KAT_ROOTS[oldSize]), hex(KAT_ROOTS[newSize]), nodes.map(hex)),
        true,
      );
    }
  });

  it('treats the trivial cases as transparency-dev does, and binds size 0 to the empty root', () => {
    const h = leafHash(Buffer.from('data'));
    // A one-leaf tree: the root is the leaf hash and the path is empty.
    assert.equal(verifyInclusion(h, 0, 1, [], h), true);
    assert.equal(verifyInclusion(h, 0, 1, [], Buffer.alloc(0)), false);
    assert.equal(verifyInclusion(Buffer.alloc(0), 0, 1, [], h), false);
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [1, 1],
      [2, 1],
      [-1, 1],
      [0.5, 1],
      [Number.NaN, 1],
    ]) {
      assert.equal(verifyInclusion(h, index, size, [], h), false, `index ${index} size ${size}`);
      assert.equal(verifyInclusion(h, index, size, [], hex(KAT_ROOTS[0])), false);
    }
    const empty = hex(KAT_ROOTS[0]);
    const [r1, r2] = [hex(KAT_ROOTS[1]), hex(KAT_ROOTS[2])];
    assert.equal(verifyConsistency(0, 0, empty, empty, []), true);
    assert.equal(verifyConsistency(0, 2, empty, r2, []), true);
    assert.equal(verifyConsistency(1, 1, r1, r1, []), true);
    assert.equal(verifyConsistency(0, 2, r1, r2, []), false, 'size 0 with a non-empty root');
    assert.equal(verifyConsistency(0, 0, empty, r1, []), false);
    assert.equal(verifyConsistency(1, 1, r1, r2, []), false, 'same size, different roots');
    assert.equal(verifyConsistency(1, 1, r1, r1, [empty]), false, 'same size, non-empty proof');
    assert.equal(verifyConsistency(0, 1, empty, r1, [empty]), false, 'size 0, non-empty proof');
    assert.equal(verifyConsistency(1, 2, r1, r2, []), false, 'empty proof');
    assert.equal(verifyConsistency(2, 1, r2, r1, []), false, 'shrinking tree');
    assert.equal(verifyConsistency(-1, 1, empty, r1, []), false);
  });
});

describe('R-7.2 Merkle tree: properties against the literal RFC definitions', () => {
  it('every inclusion proof for n = 0..70 verifies, and fails when corrupted', () => {
    for (let n = 0; n <= 70; n++) {
      const leaves = LEAVES.slice(0, n);
      assert.deepEqual(rootFromLeafHashes(leaves), rootOf(n), `MTH n=${n}`);
      for (let index = 0; index < n; index++) checkInclusion(n, index);
      expectInvalid(() => inclusionProof(leaves, n), /outside the tree|empty tree/);
    }
  });

  it('every consistency proof for 0 <= m <= n <= 70 verifies, and fails when corrupted', () => {
    for (let n = 0; n <= 70; n++) {
      for (let m = 0; m <= n; m++) checkConsistency(n, m);
    }
  });

  it('holds at random indexes of larger trees (n up to 2000, seed 0x52374)', () => {
    const rnd = prng(0x52374);
    const sizes = [127, 128, 129, 1023, 1024, 1025, 2000];
    for (let i = 0; i < 4; i++) sizes.push(71 + Math.floor(rnd() * 1930));
    for (const n of sizes) {
      const leaves = LEAVES.slice(0, n);
      assert.deepEqual(rootFromLeafHashes(leaves), rootOf(n), `MTH n=${n}`);
      const picks = new Set([0, 1, n - 2, n - 1, Math.floor(n / 2)]);
      while (picks.size < 12) picks.add(Math.floor(rnd() * n));
      for (const x of picks) {
        checkInclusion(n, x);
        checkConsistency(n, x, leaves);
      }
      checkConsistency(n, n, leaves);
    }
  });

  it('shows why size and root must come from the same checkpoint', () => {
    // The path of leaf 0 in a tree of 3 ([leaf 1, leaf 2]) has the shape of a path in a
    // tree of 4, so it verifies against the size-3 root whichever of the two sizes is claimed.
    const proof = inclusionProof(LEAVES.slice(0, 3), 0);
    assert.equal(verifyInclusion(LEAVES[0], 0, 4, proof, rootOf(3)), true);
    assert.equal(verifyInclusion(LEAVES[0], 0, 4, proof, rootOf(4)), false);
  });
});

describe("R-7.2 MerkleFrontier: the log writer's incremental tree", () => {
  it('has the same root as rootFromLeafHashes at every size up to 520 and from 1000 to 1100, and survives a JSON round trip', () => {
    const frontier = new MerkleFrontier();
    assert.deepEqual(frontier.root(), sha());
    for (let n = 1; n <= 1100; n++) {
      frontier.append(LEAVES[n - 1]);
      assert.equal(frontier.size, n);
      if (n <= 520 || n >= 1000) assert.deepEqual(frontier.root(), rootFromLeafHashes(LEAVES.slice(0, n)), `size ${n}`);
      if (n <= 70) {
        assert.deepEqual(frontier.root(), rootOf(n));
        const restored = MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(frontier)));
        assert.deepEqual(restored.toJSON(), frontier.toJSON());
        restored.append(LEAVES[n]);
        assert.deepEqual(restored.root(), rootOf(n + 1), `restored at ${n} then appended`);
      }
    }
  });

  it('copies what it is given, so a caller reusing a buffer cannot change the tree', () => {
    const frontier = new MerkleFrontier();
    const buf = Buffer.from(LEAVES[0]);
    frontier.append(buf);
    buf.fill(0);
    frontier.root().fill(0);
    assert.deepEqual(frontier.root(), rootOf(1));
    const leaves = [Buffer.from(LEAVES[0])];
    rootFromLeafHashes(leaves).fill(0);
    inclusionProof(LEAVES.slice(0, 2), 1)[0].fill(0);
    assert.deepEqual(leaves[0], LEAVES[0]);
    assert.deepEqual(LEAVES[0], refLeaf(Buffer.from('audit event 0')));
  });

  it('proves 1,000 appended events consistent with earlier checkpoints, and catches a rewrite', () => {
    const leaves = LEAVES.slice(0, 1000);
    // The writer keeps only the frontier, persisted between runs, and signs (size, root) checkpoints.
    const checkpoints: Array<{ size: number; root: Buffer }> = [{ size: 0, root: new MerkleFrontier().root() }];
    let saved = new MerkleFrontier().toJSON();
    for (let i = 0; i < leaves.length; i++) {
      const frontier = MerkleFrontier.fromJSON(saved);
      frontier.append(leaves[i]);
      checkpoints.push({ size: frontier.size, root: frontier.root() });
      saved = frontier.toJSON();
    }
    const head = checkpoints[1000];
    assert.deepEqual(head.root, rootFromLeafHashes(leaves));
    const sampled = checkpoints.filter(
      (c) => c.size % 37 === 0 || [1, 2, 3, 511, 512, 513, 999, 1000].includes(c.size),
    );
    for (const old of sampled) {
      const proof = consistencyProof(leaves, old.size);
      assert.equal(verifyConsistency(old.size, head.size, old.root, head.root, proof), true, `checkpoint ${old.size}`);
    }
    const pairs = [
      [1, 2],
      [3, 64],
      [64, 377],
      [377, 512],
      [512, 999],
      [377, 1000],
    ];
    for (const [a, b] of pairs) {
      const proof = consistencyProof(leaves, a, b);
      assert.equal(verifyConsistency(a, b, checkpoints[a].root, checkpoints[b].root, proof), true, `${a}->${b}`);
      const i = Math.floor(a / 2);
      assert.equal(verifyInclusion(leaves[i], i, b, inclusionProof(leaves.slice(0, b), i), checkpoints[b].root), true);
    }

    // Event 500 rewritten after the fact: the new head is consistent with checkpoints taken
    // before it, and with none taken after it.
    const forged = [...leaves];
    forged[500] = leafHash(Buffer.from('rewritten event 500'));
    const forgedRoot = rootFromLeafHashes(forged);
    for (const size of [1, 377, 500]) {
      assert.equal(
        verifyConsistency(size, 1000, checkpoints[size].root, forgedRoot, consistencyProof(forged, size)),
        true,
        `before the rewrite: ${size}`,
      );
    }
    for (const size of [501, 512, 999]) {
      assert.equal(
        verifyConsistency(size, 1000, checkpoints[size].root, forgedRoot, consistencyProof(forged, size)),
        false,
        `after the rewrite: ${size}`,
      );
    }
    assert.equal(verifyInclusion(leaves[500], 500, 1000, inclusionProof(forged, 500), forgedRoot), false);
  });

  it('refuses a persisted frontier that does not fit its size, or a leaf that is not a hash', () => {
    const f = new MerkleFrontier();
    for (const l of LEAVES.slice(0, 5)) f.append(l);
    const good = f.toJSON();
    assert.equal(good.nodes.length, 2);
    expectInvalid(
      () => MerkleFrontier.fromJSON({ size: 5, nodes: good.nodes.slice(1) }),
      /must hold 2 hashes for size 5/,
    );
    expectInvalid(() => MerkleFrontier.fromJSON({ size: 7, nodes: good.nodes }), /must hold 3 hashes for size 7/);
    expectInvalid(() => MerkleFrontier.fromJSON({ size: 4, nodes: good.nodes }), /must hold 1 hashes for size 4/);
    expectInvalid(() => MerkleFrontier.fromJSON({ size: -1, nodes: [] }), /frontier.size/);
    expectInvalid(() => MerkleFrontier.fromJSON({ size: 1.5, nodes: [] }), /frontier.size/);
    expectInvalid(() => MerkleFrontier.fromJSON({ size: '5', nodes: good.nodes }), /frontier.size/);
    expectInvalid(() => MerkleFrontier.fromJSON({ size: 5, nodes: [good.nodes[0], 'zz'] }), /frontier.nodes.1/);
    expectInvalid(
      () => MerkleFrontier.fromJSON({ size: 5, nodes: [good.nodes[0], good.nodes[1].toUpperCase()] }),
      /frontier.nodes.1/,
    );
    expectInvalid(() => MerkleFrontier.fromJSON({ size: 5, nodes: good.nodes, root: 'x' }), /unknown key root/);
    expectInvalid(() => MerkleFrontier.fromJSON(null), /object/);
    expectInvalid(() => f.append(Buffer.from('not a hash')), /32 bytes/);
    assert.equal(f.size, 5, 'a refused append leaves the frontier as it was');
    assert.deepEqual(MerkleFrontier.fromJSON(good).root(), f.root());
  });
});

describe('R-7.2 Merkle tree: argument errors', () => {
  it('throws MERKLE_INVALID_ARGUMENT for out-of-range indexes and sizes', () => {
    const leaves = LEAVES.slice(0, 5);
    expectInvalid(() => inclusionProof([], 0), /empty tree/);
    expectInvalid(() => inclusionProof(leaves, 5), /leaf index 5 is outside the tree of size 5 \(valid: 0\.\.4\)/);
    expectInvalid(() => inclusionProof(leaves, -1), /outside/);
    expectInvalid(() => inclusionProof(leaves, 1.5), /outside/);
    expectInvalid(() => inclusionProof(leaves, Number.NaN), /outside/);
    expectInvalid(() => consistencyProof(leaves, 6), /oldSize must be an integer between 0 and 5/);
    expectInvalid(() => consistencyProof(leaves, 3, 2), /oldSize must be an integer between 0 and 2/);
    expectInvalid(() => consistencyProof(leaves, 1, 6), /newSize must be an integer between 0 and 5/);
    expectInvalid(() => consistencyProof(leaves, -1), /oldSize/);
    expectInvalid(() => consistencyProof(leaves, 1.5), /oldSize/);
    expectInvalid(() => rootFromLeafHashes([LEAVES[0], Buffer.from('leaf')]), /leaf hash 1 is not a 32-byte/);
    expectInvalid(() => inclusionProof([LEAVES[0], Buffer.alloc(33)], 0), /leaf hash 1/);
    assert.deepEqual(consistencyProof([], 0), []);
    assert.deepEqual(rootFromLeafHashes([]), sha());
  });
});
