/** Verifying an audit trail event by event (chain, Merkle tree, signed checkpoints), for the live log and exported bundles alike. */
import { createHash, hash as sha } from 'node:crypto';
import type { AuditEventRow } from '../store/audit-events.ts';
import { spkiFingerprint, verifyCheckpointSignature, type AuditCheckpoint, type AuditPublicKey } from './checkpoint.ts';
import { leafHash, MerkleFrontier } from './merkle.ts';
import type { MerkleWorkerResult } from './merkle-worker.ts';
import { eventHash, eventLeafHash, GENESIS_HASH, type AuditEvent } from './event.ts';

export interface AuditVerification {
  ok: boolean;
  events: number;
  /** The chain hash of the last event that verified. */
  headHash: string;
  /** The Merkle tree recomputed over the stored events (all of them, as stored). */
  treeSize: number;
  rootHash: string;
  /**
   * The first position (1-based seq) where the log does not hold, with what is wrong there.
   * When only a signed checkpoint shows the damage (the chain was recomputed around a
   * change), this is the first event after the last checkpoint that still matches.
   */
  firstBad?: { position: number; problem: string };
  checkpoints: {
    /** How many stored checkpoints there are, and how many verified completely. */
    checked: number;
    verified: number;
    latest?: { number: number; treeSize: number };
    /** Events after the largest checkpoint that verified: protected by the chain only. */
    uncovered: number;
    problems: { checkpoint: number; problem: string }[];
  };
}

/** What the events are checked against: stored checkpoints and the audit public keys. */
export interface TrailEvidence {
  checkpoints: AuditCheckpoint[];
  keys: AuditPublicKey[];
}

type Range = { position: number; end: number; problem: string };

/**
 * Leaves handed out to be hashed elsewhere (deferLeaves): the texts not yet taken, how many
 * there are in all, and the checkpoints whose root is to be compared once it is known, each
 * with where its problem goes among the problems.
 */
type Deferred = { leaves: string[]; count: number; checks: { cp: AuditCheckpoint; at: number }[] };

/** An event as stored: roles and details are the JSON text the log wrote. */
export type StoredAuditEvent = AuditEventRow;

/**
 * The leaf bytes (eventLeaf in event.ts) of a stored event, spelled from its stored text: the
 * canonical JSON of the event has its keys in this order, and roles and details are stored as
 * canonical JSON already. Stored text that is not canonical gives other bytes, another hash,
 * and the event is then checked the slow way.
 */
function storedLeaf(r: StoredAuditEvent): string {
  const str = JSON.stringify;
  return `{"action":${str(r.action)},"actor":${str(r.actor)},"at":${str(r.at)},"details":${r.details},"outcome":${str(r.outcome)},"roles":${r.roles},"seq":${r.seq},"target":${str(r.target)}}`;
}

/** How the leaf of an audit.key-init or audit.checkpoint event begins ("action" is its first key). */
const AUDIT_ACTION_LEAF = '{"action":"audit.';

/**
 * Verifies a log streamed one event at a time (from the database or from an export bundle):
 * the hash chain, the Merkle tree, and every checkpoint (signature, key, root at its size).
 * Memory is O(log n) plus one entry per checkpoint and key.
 */
export class TrailVerifier {
  #count = 0;
  #prev = GENESIS_HASH;
  #chainBad?: { position: number; problem: string };
  #frontier = new MerkleFrontier();
  #deferred?: Deferred;
  readonly #pending: AuditCheckpoint[];
  #next = 0;
  readonly #keyInits = new Map<string, { seq: number; fingerprint: unknown }>();
  readonly #checkpointEvents = new Map<number, { seq: number; treeSize: unknown; rootHash: unknown }>();
  readonly #problems: { checkpoint: number; problem: string }[] = [];
  readonly #ranges: Range[] = [];
  #lastGoodSize = 0;
  #verified = 0;

  constructor(private readonly evidence: TrailEvidence = { checkpoints: [], keys: [] }) {
    this.#pending = [...evidence.checkpoints].sort((a, b) => a.body.treeSize - b.body.treeSize || a.number - b.number);
    [...evidence.checkpoints]
      .sort((a, b) => a.number - b.number)
      .forEach((cp, i) => {
        if (cp.number !== i + 1)
          this.#problems.push({
            checkpoint: i + 1,
            problem: `checkpoint ${i + 1} is missing (the stored checkpoints jump to ${cp.number})`,
          });
      });
    this.#checkDue();
  }

  /**
   * Feeds the next event as the store holds it: roles and details as the JSON text written at
   * append time (canonical JSON, audit/log.ts). The chain hash is taken over those bytes as
   * they are, without parsing and re-canonicalising them (issue 17.5). Only an event whose
   * recomputed hash matches the stored one, in sequence after a good chain, is accepted so;
   * anything else goes through `push` and its parse, so what is reported stays the same.
   */
  pushStored(row: StoredAuditEvent, parse: (row: StoredAuditEvent) => AuditEvent): void {
    const position = this.#count + 1;
    if (this.#chainBad || row.seq !== position || row.prev_hash !== this.#prev) return this.push(parse(row));
    const leaf = Buffer.from(storedLeaf(row), 'utf8');
    const hash = createHash('sha256').update(this.#prev).update('\n').update(leaf).digest('hex');
    if (hash !== row.hash) return this.push(parse(row));
    this.#count = position;
    this.#prev = hash;
    this.#append(leafHash(leaf));
    // Key and checkpoint records are read from their details, as push reads them.
    if (row.outcome === 'success' && (row.action === 'audit.key-init' || row.action === 'audit.checkpoint'))
      this.#record(parse(row));
    this.#checkDue();
  }

  /**
   * The fast path (issue 17.5): event `seq` as its chain text from the store (store/audit-events.ts
   * auditChainTexts): stored hash, prev_hash, a newline, then the leaf text, or null. Accepted,
   * and true returned, only when it is next in sequence after a good chain, its prev_hash is
   * the last hash and its chain hash is the stored one; otherwise nothing is fed, false is
   * returned, and the caller feeds this event and every later one through pushStored, so what
   * is reported stays the same. The caller vouches that `seq` is the row's seq (the store
   * returns a whole range of seq or fewer rows).
   */
  pushChainText(seq: number, text: string | null): boolean {
    const position = this.#count + 1;
    if (this.#chainBad || seq !== position || text === null) return false;
    // hash and prev_hash are 64 bytes each (the store checks), so the leaf starts at 129.
    if (text.charCodeAt(128) !== 10 || !text.startsWith(this.#prev, 64)) return false;
    const hash = sha('sha256', text.slice(64), 'hex');
    if (!text.startsWith(hash)) return false;
    this.#count = position;
    this.#prev = hash;
    const leaf = text.slice(129);
    if (this.#deferred) {
      this.#deferred.leaves.push(leaf);
      this.#deferred.count++;
    } else this.#frontier.appendLeafText(leaf);
    // Key and checkpoint records are read from the leaf: the event's own fields, as push reads
    // them. The leaf's keys are in canonical order, so such an event's leaf begins with its
    // action; #record checks the action and outcome of what it parses.
    if (leaf.startsWith(AUDIT_ACTION_LEAF)) this.#record(JSON.parse(leaf) as AuditEvent);
    this.#checkDue();
    return true;
  }

  /** Feeds the next event in stored order. */
  push(e: AuditEvent): void {
    const position = ++this.#count;
    if (!this.#chainBad) {
      const bad = (problem: string) => {
        this.#chainBad = { position, problem };
      };
      if (e.seq !== position) {
        bad(
          e.seq > position
            ? `event ${position} is missing (next stored event is ${e.seq})`
            : `event ${e.seq} is out of order (expected ${position})`,
        );
      } else if (e.prevHash !== this.#prev) {
        bad(
          `event ${position} does not follow event ${position - 1} (an event before it was changed, removed or reordered)`,
        );
      } else {
        let recomputed = '';
        try {
          recomputed = eventHash(this.#prev, e);
        } catch {
          /* unhashable fields: reported as changed */
        }
        if (recomputed !== e.hash) bad(`event ${position} was changed after it was written`);
        else this.#prev = e.hash;
      }
    }
    let leaf: Buffer;
    try {
      leaf = eventLeafHash(e);
    } catch {
      leaf = leafHash(Buffer.from(`unhashable event ${position}`));
    }
    this.#append(leaf);
    this.#record(e);
    this.#checkDue();
  }

  /** Notes the audit keys and checkpoints the log itself records, to hold the stored ones to them. */
  #record(e: AuditEvent): void {
    if (e.outcome === 'success' && e.action === 'audit.key-init' && typeof e.details.keyId === 'string') {
      this.#keyInits.set(e.details.keyId, { seq: e.seq, fingerprint: e.details.publicKeySha256 });
    }
    if (e.outcome === 'success' && e.action === 'audit.checkpoint' && typeof e.details.number === 'number') {
      this.#checkpointEvents.set(e.details.number, {
        seq: e.seq,
        treeSize: e.details.treeSize,
        rootHash: e.details.rootHash,
      });
    }
  }

  #append(leafHash: Buffer): void {
    if (this.#deferred) throw new Error('the leaves are deferred: resumeLeaves first');
    this.#frontier.append(leafHash);
  }

  /**
   * From here on, pushChainText hands its leaf texts out (takeDeferredLeaves) instead of hashing
   * them, and checkpoints due meanwhile wait for their root (resumeLeaves): the Merkle tree is
   * built elsewhere (audit/merkle-worker.ts, issue 17.5). Only before the first event.
   */
  deferLeaves(): void {
    if (this.#frontier.size !== 0) throw new Error('deferLeaves: events were pushed already');
    this.#deferred = { leaves: [], count: 0, checks: [] };
  }

  /** The leaf texts deferred since the last call, in order. */
  takeDeferredLeaves(): string[] {
    const d = this.#deferred;
    if (!d) return [];
    const leaves = d.leaves;
    d.leaves = [];
    return leaves;
  }

  /**
   * The tree built over every deferred leaf: its frontier, and its roots at the sizes of the
   * checkpoints that came due. Those checkpoints are checked now, in the order they came due,
   * their problems put where they would have been; then the leaves are hashed here again.
   */
  resumeLeaves(built: MerkleWorkerResult): void {
    const d = this.#deferred;
    if (!d) return;
    const frontier = MerkleFrontier.fromJSON(built.frontier);
    if (frontier.size !== d.count) throw new Error(`resumeLeaves: ${frontier.size} leaves built, ${d.count} deferred`);
    this.#deferred = undefined;
    this.#frontier = frontier;
    const found: { at: number; problem: { checkpoint: number; problem: string } }[] = [];
    for (const { cp, at } of d.checks) {
      const root = built.roots.get(cp.body.treeSize);
      if (root === undefined) throw new Error(`resumeLeaves: no root at size ${cp.body.treeSize}`);
      const problem = this.#checkRoot(cp, root);
      if (problem) found.push({ at, problem });
    }
    // Backwards, so the earlier places stay where they were.
    for (let i = found.length - 1; i >= 0; i--) this.#problems.splice(found[i].at, 0, found[i].problem);
  }

  /** Events pushed so far (the tree size). */
  get size(): number {
    return this.#frontier.size + (this.#deferred?.count ?? 0);
  }

  /** The tree root over the events pushed so far, hex. */
  root(): string {
    if (this.#deferred) throw new Error('the leaves are deferred: resumeLeaves first');
    return this.#frontier.root().toString('hex');
  }

  /** Checks the checkpoints whose size the tree has just reached. */
  #checkDue(): void {
    const treeSize = this.size;
    while (this.#next < this.#pending.length && this.#pending[this.#next].body.treeSize <= treeSize) {
      const cp = this.#pending[this.#next++];
      const size = cp.body.treeSize;
      if (!Number.isSafeInteger(size) || size < 0 || size !== treeSize) {
        this.#problems.push({
          checkpoint: cp.number,
          problem: `checkpoint ${cp.number} has an invalid tree size ${String(size)}`,
        });
        continue;
      }
      // Only a checkpoint that verifies may blame the events.
      if (!this.#checkSignature(cp)) continue;
      if (this.#deferred) {
        this.#deferred.checks.push({ cp, at: this.#problems.length });
        continue;
      }
      const problem = this.#checkRoot(cp, this.#frontier.root().toString('hex'));
      if (problem) this.#problems.push(problem);
    }
  }

  /** Compares a checkpoint's root with the recomputed one at its size; the problem, if any, is the caller's to place. */
  #checkRoot(cp: AuditCheckpoint, root: string): { checkpoint: number; problem: string } | undefined {
    const size = cp.body.treeSize;
    if (root === cp.body.rootHash) {
      this.#lastGoodSize = Math.max(this.#lastGoodSize, size);
      this.#verified++;
      return undefined;
    }
    const from = this.#lastGoodSize + 1;
    const problem = `events ${from}..${size} no longer match signed checkpoint ${cp.number} (root ${cp.body.rootHash.slice(0, 16)}… at size ${size}, recomputed ${root.slice(0, 16)}…): an event in that range was changed, removed, inserted or reordered`;
    this.#ranges.push({ position: from, end: size, problem });
    return { checkpoint: cp.number, problem };
  }

  /** The signature, the key it names, and that key's record in the log itself. */
  #checkSignature(cp: AuditCheckpoint): boolean {
    const problem = (p: string) => {
      this.#problems.push({ checkpoint: cp.number, problem: `checkpoint ${cp.number}: ${p}` });
      return false;
    };
    const key = this.evidence.keys.find((k) => k.keyId === cp.keyId);
    if (!key) return problem(`signed with audit key ${cp.keyId}, which is not among the audit keys`);
    if (!verifyCheckpointSignature(cp, key))
      return problem(`the signature does not verify with audit key ${cp.keyId} (the stored checkpoint was altered)`);
    const recorded = this.#keyInits.get(cp.keyId);
    if (!recorded)
      return problem(`audit key ${cp.keyId} is not recorded by an audit.key-init event among the events it signs`);
    if (recorded.fingerprint !== spkiFingerprint(key.publicKeySpki))
      return problem(`audit key ${cp.keyId} is not the key recorded in event ${recorded.seq} (the key was replaced)`);
    if (key.retiredAt && Date.parse(cp.body.at) > Date.parse(key.retiredAt))
      return problem(`signed at ${cp.body.at}, after audit key ${cp.keyId} was retired (${key.retiredAt})`);
    return true;
  }

  /** Ends the stream; `recordedHead` is the head kept beside the log (meta, or a bundle manifest). */
  finish(recordedHead?: { seq: number; hash: string }): AuditVerification {
    if (this.#deferred) throw new Error('the leaves are deferred: resumeLeaves first');
    const count = this.#count;
    for (const cp of this.#pending.slice(this.#next)) {
      this.#checkSignature(cp);
      const problem = `checkpoint ${cp.number} covers ${cp.body.treeSize} events but the log has only ${count}: events ${count + 1}..${cp.body.treeSize} were cut off`;
      this.#problems.push({ checkpoint: cp.number, problem });
      this.#ranges.push({ position: count + 1, end: cp.body.treeSize, problem });
    }
    this.#next = this.#pending.length;
    for (const [n, ev] of this.#checkpointEvents) {
      const cp = this.evidence.checkpoints.find((c) => c.number === n);
      if (!cp)
        this.#problems.push({
          checkpoint: n,
          problem: `checkpoint ${n}, recorded by event ${ev.seq}, is missing from the stored checkpoints`,
        });
      else if (cp.body.treeSize !== ev.treeSize || cp.body.rootHash !== ev.rootHash)
        this.#problems.push({
          checkpoint: n,
          problem: `checkpoint ${n} is not the one event ${ev.seq} recorded (size ${String(ev.treeSize)})`,
        });
    }
    if (!this.#chainBad && recordedHead) this.#chainBad = headMismatch(recordedHead, count, this.#prev);
    const range = [...this.#ranges].sort((a, b) => a.position - b.position)[0];
    const chain = this.#chainBad;
    // The chain names the exact event; a checkpoint only the range after the last good one.
    const firstBad =
      chain && (!range || chain.position <= range.end)
        ? chain
        : range
          ? { position: range.position, problem: range.problem }
          : undefined;
    const problems = [...this.#problems].sort((a, b) => a.checkpoint - b.checkpoint);
    const latest = this.evidence.checkpoints.reduce<AuditCheckpoint | undefined>(
      (m, c) => (!m || c.number > m.number ? c : m),
      undefined,
    );
    return {
      ok: !firstBad && problems.length === 0,
      events: count,
      headHash: this.#prev,
      treeSize: this.#frontier.size,
      rootHash: this.#frontier.root().toString('hex'),
      ...(firstBad ? { firstBad } : {}),
      checkpoints: {
        checked: this.evidence.checkpoints.length,
        verified: this.#verified,
        ...(latest ? { latest: { number: latest.number, treeSize: latest.body.treeSize } } : {}),
        uncovered: count - this.#lastGoodSize,
        problems,
      },
    };
  }
}

/**
 * The chain verified but does not end where the head kept beside it says (issue 14 item 5: a
 * message that does not mislead). Same length, other hash: the events were re-chained (changed,
 * then every later hash recomputed) or the recorded head was edited. Other length: events were
 * cut off or added after the head was recorded.
 */
function headMismatch(
  head: { seq: number; hash: string },
  count: number,
  lastHash: string,
): { position: number; problem: string } | undefined {
  if (head.seq === count && head.hash === lastHash) return undefined;
  if (head.seq === count) {
    return {
      position: count,
      problem: `the chain of ${count} events is consistent but its last hash ${lastHash.slice(0, 16)}… is not the recorded head hash ${head.hash.slice(0, 16)}…: the events were re-chained (changed and every later hash recomputed) or the recorded head was edited`,
    };
  }
  if (head.seq > count)
    return {
      position: count + 1,
      problem: `the log has ${count} events but its recorded head is event ${head.seq}: events ${count + 1}..${head.seq} were cut off`,
    };
  return {
    position: head.seq + 1,
    problem: `the log has ${count} events but its recorded head is event ${head.seq}: events ${head.seq + 1}..${count} were added without moving the head`,
  };
}
