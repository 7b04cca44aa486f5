/**
 * An append-only Merkle tree with the hashing of RFC 9162 (Certificate Transparency 2.0),
 * section 2.1, so an auditor can check with any CT tooling that one audit checkpoint
 * contains an event (inclusion) and that a later checkpoint only appended to an earlier one
 * (consistency) —. Pure and synchronous: no clock, files or randomness.
 *
 * Sizes and indexes are JavaScript numbers and must be safe integers; shifts are done with
 * arithmetic, not `>>`, so trees past 2^32 leaves stay correct.
 */
import { createHash, hash } from 'node:crypto';
import { CaError } from '../errors.ts';

/** SHA-256 output length; every leaf hash, node hash and proof element has it. */
const HASH_LEN = 32;

/** RFC 9162 2.1.1: "MTH({}) = HASH()", the hash of an empty string. */
const EMPTY_ROOT = createHash('sha256').digest();

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

function invalid(message: string, details: Record<string, unknown> = {}): CaError {
  return new CaError('MERKLE_INVALID_ARGUMENT', message, { details });
}

/** RFC 9162 2.1.1: "MTH({d(0)}) = HASH(0x00 || d(0))". */
export function leafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

/** leafHash of a leaf given as text (its UTF-8 bytes): one-shot, no Hash object (a million events, issue 17.5). */
export function leafHashOfText(leaf: string): Buffer {
  return hash('sha256', `\0${leaf}`, 'buffer');
}

/*
 * The same hashes as binary strings (one char per byte, 'latin1'): a one-shot hash into a
 * latin1 string costs about a third of one into a Buffer (Node 20's 'buffer' output takes a
 * slow encoding path and allocates), and the frontier below runs one leaf hash and about one
 * node hash per event (issue 17.5, a million events). Same bytes in, same hashes out.
 */

/** leafHashOfText as a binary string: SHA-256(0x00 || UTF-8 of leaf), RFC 9162 2.1.1. */
function leafHashOfTextBinary(leaf: string): string {
  return hash('sha256', `\0${leaf}`, 'binary');
}

/** nodeHash of two 32-byte hashes given as binary strings, into a binary string (RFC 9162 2.1.1). */
function nodeHashBinary(left: string, right: string): string {
  NODE_INPUT.write(left, 1, HASH_LEN, 'latin1');
  NODE_INPUT.write(right, 1 + HASH_LEN, HASH_LEN, 'latin1');
  return hash('sha256', NODE_INPUT, 'binary');
}

/** 0x01 || left || right, reused: nodeHash runs about once per event. */
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_LEN, 0x01);

/** RFC 9162 2.1.1: "MTH(D_n) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))". */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length === HASH_LEN && right.length === HASH_LEN) {
    NODE_INPUT.set(left, 1);
    NODE_INPUT.set(right, 1 + HASH_LEN);
    return hash('sha256', NODE_INPUT, 'buffer');
  }
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** RFC 9162 2.1.1: "k is the largest power of two smaller than n (i.e., k < n <= 2k)"; n >= 2. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_LEN;
}

function checkLeafHashes(leafHashes: readonly Uint8Array[]): void {
  if (!Array.isArray(leafHashes)) throw invalid('leaf hashes must be an array of 32-byte hashes');
  for (let i = 0; i < leafHashes.length; i++) {
    if (!isHash(leafHashes[i])) {
      throw invalid(
        `leaf hash ${i} is not a ${HASH_LEN}-byte SHA-256 hash (the tree is built over leaf hashes, not leaves)`,
        { index: i },
      );
    }
  }
}

function checkSize(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw invalid(`${name} must be an integer between 0 and ${max}, got ${String(value)}`, { [name]: value, max });
  }
}

/**
 * MTH(D[lo:hi]) for hi > lo, bottom-up: pairing neighbours level by level and carrying an
 * odd last node up unchanged gives the same left-balanced tree as the recursive definition.
 */
function subtreeRoot(hashes: readonly Uint8Array[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return Buffer.from(hashes[lo]);
  const level: Uint8Array[] = hashes.slice(lo, hi);
  let n = level.length;
  while (n > 1) {
    let w = 0;
    for (let r = 0; r + 1 < n; r += 2) level[w++] = nodeHash(level[r], level[r + 1]);
    if (n % 2 === 1) level[w++] = level[n - 1];
    n = w;
  }
  return level[0] as Buffer;
}

/** MTH over leaf HASHES (callers keep leaf hashes, not leaves). O(n) memory is fine; n up to ~1e6. */
export function rootFromLeafHashes(leafHashes: Buffer[]): Buffer {
  checkLeafHashes(leafHashes);
  if (leafHashes.length === 0) return Buffer.from(EMPTY_ROOT);
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

/**
 * RFC 9162 2.1.3.1 PATH(m, D[n]): the audit path of leaf `index` in the tree over all of
 * `leafHashes`, ordered from the leaf's sibling up to the child of the root.
 */
export function inclusionProof(leafHashes: Buffer[], index: number): Buffer[] {
  checkLeafHashes(leafHashes);
  const n = leafHashes.length;
  if (n === 0) throw invalid('no inclusion proof exists in an empty tree', { index, treeSize: 0 });
  if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
    throw invalid(`leaf index ${String(index)} is outside the tree of size ${n} (valid: 0..${n - 1})`, {
      index,
      treeSize: n,
    });
  }
  // Walk down from the root; PATH puts the sibling of each subtree after the path inside it,
  // so the list is collected root-first and reversed.
  const path: Buffer[] = [];
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index - lo < k) {
      path.push(subtreeRoot(leafHashes, lo + k, hi)); // "PATH(m, D[0:k]) : MTH(D[k:n])"
      hi = lo + k;
    } else {
      path.push(subtreeRoot(leafHashes, lo, lo + k)); // "PATH(m - k, D[k:n]) : MTH(D[0:k])"
      lo += k;
    }
  }
  return path.reverse();
}

/**
 * RFC 9162 2.1.3.2 verification algorithm. Returns false (never throws) for anything that
 * does not prove inclusion, malformed arguments included. The size is bound only through the
 * root, as in every CT verifier: take `treeSize` and `root` from the same signed checkpoint.
 */
export function verifyInclusion(
  leafHash: Buffer,
  index: number,
  treeSize: number,
  proof: Buffer[],
  root: Buffer,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0) return false;
  if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  // 1. "If leaf_index is greater than or equal to tree_size, then fail the proof verification."
  if (index >= treeSize) return false;
  // 2.-3. "Set fn to leaf_index and sn to tree_size - 1." "Set r to hash."
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    // 4a. "If sn is 0, then stop the iteration and fail the proof verification."
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 5. "If sn is equal to 0 and r and the root_hash are equal, then the log has proven the inclusion"
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 2.1.4.1 PROOF(m, D[n]) with m = `oldSize`, n = `newSize` (default: all leaves).
 * Empty when m = 0 or m = n: there is nothing to prove beyond comparing roots.
 */
export function consistencyProof(leafHashes: Buffer[], oldSize: number, newSize: number = leafHashes.length): Buffer[] {
  checkLeafHashes(leafHashes);
  checkSize('newSize', newSize, leafHashes.length);
  checkSize('oldSize', oldSize, newSize);
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF(m, D[lo:hi], b), unrolled: each step appends one node after the deeper sub-proof,
  // so nodes are collected outermost first and reversed at the end.
  const proof: Buffer[] = [];
  let m = oldSize;
  let lo = 0;
  let hi = newSize;
  let b = true;
  for (;;) {
    const n = hi - lo;
    if (m === n) {
      // "SUBPROOF(m, D[m], true) = {}" and "SUBPROOF(m, D[m], false) = {MTH(D[m])}"
      if (!b) proof.push(subtreeRoot(leafHashes, lo, hi));
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      proof.push(subtreeRoot(leafHashes, lo + k, hi)); // "SUBPROOF(m, D[0:k], b) : MTH(D[k:n])"
      hi = lo + k;
    } else {
      proof.push(subtreeRoot(leafHashes, lo, lo + k)); // "SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])"
      lo += k;
      m -= k;
      b = false;
    }
  }
  return proof.reverse();
}

/**
 * RFC 9162 2.1.4.2 verification algorithm, for 0 < oldSize < newSize. Returns false (never
 * throws) for anything that does not prove consistency. The edge cases the RFC leaves out:
 * equal sizes need an empty proof and equal roots; oldSize 0 needs an empty proof and the
 * empty-tree root SHA-256("") as `oldRoot` (any newer tree extends the empty one).
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize)
    return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (oldSize === 0) {
    return proof.length === 0 && oldRoot.equals(EMPTY_ROOT) && (newSize > 0 || newRoot.equals(EMPTY_ROOT));
  }
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  // 1. "If consistency_path is an empty array, stop and fail the proof verification."
  if (proof.length === 0) return false;
  // 2. "If first is an exact power of 2, then prepend first_hash to the consistency_path array."
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  // 3. "Set fn to first - 1 and sn to second - 1."
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // 4. "If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set."
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 5. "Set both fr and sr to the first value in the consistency_path array."
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  // 6. "For each subsequent value c in the consistency_path array:"
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 7. "verify that the fr calculated is equal to the first_hash supplied, that the sr
  //    calculated is equal to the second_hash value supplied, and that sn is 0."
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** Number of set bits of a safe integer: the number of perfect subtrees in a tree of that size. */
function popcount(n: number): number {
  let c = 0;
  while (n > 0) {
    c += n % 2;
    n = Math.floor(n / 2);
  }
  return c;
}

/** The persisted form of a `MerkleFrontier`: hex node hashes, largest (leftmost) subtree first. */
export interface MerkleFrontierJson {
  size: number;
  nodes: string[];
}

/**
 * The right edge of the tree (a compact range over [0, size)): the roots of the perfect
 * subtrees that the binary form of `size` splits the leaves into, leftmost (largest) first.
 * It is all the log writer needs to append a leaf and to compute the root, in O(log n)
 * each, without keeping the leaves.
 */
export class MerkleFrontier {
  #size = 0;
  /** The perfect subtrees' roots, largest first, as binary strings (see leafHashOfTextBinary). */
  #nodes: string[] = [];

  /** Appends one leaf hash (SHA-256(0x00 || leaf), see `leafHash`). */
  append(leafHash: Buffer): void {
    if (!isHash(leafHash)) throw invalid(`a leaf hash must be ${HASH_LEN} bytes (hash the leaf with leafHash() first)`);
    this.#appendBinary(Buffer.from(leafHash).toString('latin1'));
  }

  /** Appends the leaf whose text is `leaf` (its UTF-8 bytes): append(leafHashOfText(leaf)), faster. */
  appendLeafText(leaf: string): void {
    this.#appendBinary(leafHashOfTextBinary(leaf));
  }

  #appendBinary(leafHash: string): void {
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw invalid('the tree cannot grow past 2^53 - 1 leaves');
    // Each trailing 1 bit of the old size is a perfect subtree of the same height as the one
    // being carried up: merge them, as in binary addition.
    let node = leafHash;
    let s = this.#size;
    while (s % 2 === 1) {
      node = nodeHashBinary(this.#nodes.pop() as string, node);
      s = Math.floor(s / 2);
    }
    this.#nodes.push(node);
    this.#size++;
  }

  /** The number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** MTH of the leaves so far: the subtree roots folded right to left (the left-balanced shape of 2.1.1). */
  root(): Buffer {
    if (this.#nodes.length === 0) return Buffer.from(EMPTY_ROOT);
    let r = this.#nodes[this.#nodes.length - 1]!;
    for (let i = this.#nodes.length - 2; i >= 0; i--) r = nodeHashBinary(this.#nodes[i]!, r);
    return Buffer.from(r, 'latin1');
  }

  /** The state to persist next to the log head. */
  toJSON(): MerkleFrontierJson {
    return { size: this.#size, nodes: this.#nodes.map((n) => Buffer.from(n, 'latin1').toString('hex')) };
  }

  /** Restores a frontier saved by `toJSON`; refuses one whose node count does not fit its size. */
  static fromJSON(j: unknown): MerkleFrontier {
    if (typeof j !== 'object' || j === null) throw invalid('a Merkle frontier must be an object { size, nodes }');
    const { size, nodes, ...rest } = j as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw invalid(`a Merkle frontier has unknown key ${extra[0]}`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalid(`frontier.size must be a non-negative integer, got ${JSON.stringify(size)}`);
    }
    if (!Array.isArray(nodes)) throw invalid('frontier.nodes must be an array of hex hashes');
    const want = popcount(size);
    if (nodes.length !== want) {
      throw invalid(`frontier.nodes must hold ${want} hashes for size ${size} (one per set bit), got ${nodes.length}`);
    }
    const f = new MerkleFrontier();
    f.#nodes = nodes.map((h, i) => {
      if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h))
        throw invalid(`frontier.nodes.${i} must be 64 lowercase hex digits`);
      return Buffer.from(h, 'hex').toString('latin1');
    });
    f.#size = size;
    return f;
  }
}
