/**
 * The Merkle tree of a long audit log built in a worker thread (issue 17.5): at a million
 * events the leaf and node hashes take about a second, which can run beside the main thread's
 * reading and chain hashing. The main thread stays synchronous (verify runs in one SQLite read
 * transaction): pages go out by postMessage, and the answer comes back through
 * Atomics.wait and receiveMessageOnPort.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MerkleFrontierJson } from './merkle.ts';

/**
 * The worker: the MerkleFrontier of merkle.ts (leaf and node hashes of RFC 9162 2.1.1, as
 * binary strings) over the leaf texts it is sent, noting the root at each wanted size. Inline
 * code, as store/snapshot-integrity.ts does, so that it runs the same from src/ and from dist/.
 * After each page it stores how many leaves it has hashed (the main thread's sign of life); a
 * null message ends it: it answers with its frontier and the roots, and signals.
 */
const MERKLE_WORKER = `
const { workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { port, sizes, signal } = workerData;
const wanted = new Set(sizes);
const flag = new Int32Array(signal);
const nodeInput = Buffer.alloc(65, 0x01);
const nodeHash = (left, right) => {
  nodeInput.write(left, 1, 32, 'latin1');
  nodeInput.write(right, 33, 32, 'latin1');
  return hash('sha256', nodeInput, 'binary');
};
const hex = (b) => Buffer.from(b, 'latin1').toString('hex');
const nodes = [];
const roots = [];
let size = 0;
let error;
const root = () => {
  if (nodes.length === 0) return hash('sha256', '', 'hex');
  let r = nodes[nodes.length - 1];
  for (let i = nodes.length - 2; i >= 0; i--) r = nodeHash(nodes[i], r);
  return hex(r);
};
port.on('message', (leaves) => {
  if (leaves === null) {
    port.postMessage(error !== undefined ? { error } : { frontier: { size, nodes: nodes.map(hex) }, roots });
    port.close();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return;
  }
  if (error !== undefined) return;
  try {
    for (const leaf of leaves) {
      let node = hash('sha256', '\\0' + leaf, 'binary');
      let s = size;
      while (s % 2 === 1) {
        node = nodeHash(nodes.pop(), node);
        s = Math.floor(s / 2);
      }
      nodes.push(node);
      size++;
      if (wanted.has(size)) roots.push([size, root()]);
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  Atomics.store(flag, 1, size | 0);
});
`;

/** How long finish waits without the worker hashing a page before it gives up (a worker that never started). */
const STALLED_MS = 30_000;

/** What the worker built: its frontier (to continue on the main thread) and the roots at the wanted sizes. */
export interface MerkleWorkerResult {
  frontier: MerkleFrontierJson;
  /** Hex roots by tree size, for the wanted sizes the tree reached. */
  roots: Map<number, string>;
}

/**
 * A MerkleFrontier in a worker thread, fed leaf texts (their UTF-8 bytes are the leaves) a page
 * at a time. `finish` blocks until the worker has hashed every page sent; `close` ends it early.
 */
export class MerkleWorker {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  /** [0]: 1 once the worker has answered; [1]: leaves hashed so far. */
  readonly #flag = new Int32Array(new SharedArrayBuffer(8));

  readonly #stalledMs: number;

  /**
   * `sizes`: the tree sizes whose root the caller will ask for. `o.stalledMs` and `o.code` (the
   * worker's source) are for the tests: a worker that never answers.
   */
  constructor(sizes: readonly number[], o: { stalledMs?: number; code?: string } = {}) {
    this.#stalledMs = o.stalledMs ?? STALLED_MS;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(o.code ?? MERKLE_WORKER, {
      eval: true,
      workerData: { port: port2, sizes: [...sizes], signal: this.#flag.buffer },
      transferList: [port2],
    });
    this.#worker.unref(); // it ends when its port closes; it never holds the process open
    // A worker that fails is reported by finish (it stops signalling); its error event, which
    // arrives only once this thread stops waiting, must not end the process as uncaught.
    this.#worker.on('error', () => undefined);
  }

  /** Appends the leaves whose texts are `leaves`, in order. */
  push(leaves: string[]): void {
    if (leaves.length > 0) this.#port.postMessage(leaves);
  }

  /**
   * Waits for the worker to hash what it was sent, and returns its frontier and roots. Throws
   * when the worker hashes nothing for STALLED_MS (30 s; one that failed to start never signals, and
   * its error event cannot arrive while this thread waits).
   */
  finish(): MerkleWorkerResult {
    this.#port.postMessage(null);
    let hashed = Atomics.load(this.#flag, 1);
    let since = Date.now();
    while (Atomics.wait(this.#flag, 0, 0, 1000) === 'timed-out') {
      const now = Atomics.load(this.#flag, 1);
      if (now !== hashed) {
        hashed = now;
        since = Date.now();
      } else if (Date.now() - since > this.#stalledMs) {
        this.close();
        throw new Error(
          `the Merkle worker hashed nothing for ${this.#stalledMs / 1000} s (it did not start, or stopped)`,
        );
      }
    }
    const answer = receiveMessageOnPort(this.#port)?.message as
      | { frontier: MerkleFrontierJson; roots: [number, string][] }
      | { error: string }
      | undefined;
    this.close();
    if (!answer || 'error' in answer) throw new Error(`the Merkle worker failed: ${answer?.error ?? 'no answer'}`);
    return { frontier: answer.frontier, roots: new Map(answer.roots) };
  }

  /** Ends the worker (after finish, or when the caller gives up). */
  close(): void {
    this.#port.close();
    void this.#worker.terminate();
  }
}
