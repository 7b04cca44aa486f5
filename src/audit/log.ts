import type { Clock } from '../clock.ts';
import {
  auditChainTexts,
  auditEventsBetween,
  auditSeqBounds,
  eachAuditEvent,
  eachAuditEventAfter,
  insertAuditEvent,
  type AuditEventRow,
} from '../store/audit-events.ts';
import type { Db } from '../store/db.ts';
import { metaValue, setMetaValue } from '../store/meta.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { loadAuditPublicKeys, loadCheckpoints } from './checkpoint.ts';
import { rootFromLeafHashes } from './merkle.ts';
import { MerkleWorker } from './merkle-worker.ts';
import { eventHash, eventLeafHash, GENESIS_HASH, type AuditEvent, type AuditEventInput } from './event.ts';
import { TrailVerifier, type AuditVerification } from './trail-verifier.ts';

/** The `meta` key under which the chain head is kept, in the transaction of each append. */
const AUDIT_HEAD = 'audit_head';

/** Events read a statement call by verify's fast path: a page costs about 1.5 MB of text. */
const CHAIN_PAGE = 4096;

/**
 * From this many events verify builds the Merkle tree in a worker thread, beside the chain
 * (issue 17.5); below it, starting a thread costs more than it saves.
 */
const MERKLE_WORKER_FROM = 50_000;

export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Appends one event; inside a caller's transaction it commits with it. */
  append(input: AuditEventInput): AuditEvent {
    return this.db
      .transaction(() => {
        const head = this.head();
        const event: Omit<AuditEvent, 'hash' | 'prevHash'> = {
          seq: head.seq + 1,
          at: this.clock.now().toISOString(),
          actor: input.actor,
          roles: [...input.roles].sort(),
          action: input.action,
          target: input.target,
          outcome: input.outcome,
          details: JSON.parse(canonicalJson(input.details ?? {})) as Record<string, unknown>,
        };
        const hash = eventHash(head.hash, event);
        insertAuditEvent(this.db, {
          seq: event.seq,
          at: event.at,
          actor: event.actor,
          roles: JSON.stringify(event.roles),
          action: event.action,
          target: event.target,
          outcome: event.outcome,
          details: canonicalJson(event.details),
          prev_hash: head.hash,
          hash,
        });
        setMetaValue(this.db, AUDIT_HEAD, `${event.seq}:${hash}`);
        return { ...event, prevHash: head.hash, hash };
      })
      .immediate();
  }

  /** The recorded head of the chain (seq 0 and the genesis hash when empty). */
  head(): { seq: number; hash: string } {
    const value = metaValue(this.db, AUDIT_HEAD);
    if (value === undefined) return { seq: 0, hash: GENESIS_HASH };
    const [seq, hash] = value.split(':');
    return { seq: Number(seq), hash };
  }

  /** Events in order, optionally a range of seq numbers. */
  list(from = 1, to = Number.MAX_SAFE_INTEGER): AuditEvent[] {
    return auditEventsBetween(this.db, from, to).map(toEvent);
  }

  /**
   * Recomputes the whole chain and the Merkle tree, and checks every stored checkpoint
   * against it; reports the first position that does not hold. One read transaction, so a
   * concurrent append cannot make a consistent log look broken.
   */
  verify(options: { merkleWorkerFrom?: number } = {}): AuditVerification {
    return this.db
      .transaction(() => {
        const checkpoints = loadCheckpoints(this.db);
        const verifier = new TrailVerifier({ checkpoints, keys: loadAuditPublicKeys(this.db) });
        // Chain texts first, a page of events a statement call (issue 17.5); from the first
        // event that does not verify so, whole rows. Only a log whose seq starts at 1 is read so.
        let accepted = 0;
        const bounds = auditSeqBounds(this.db);
        if (bounds?.first === 1) {
          // The fast path's leaves go to the worker a page at a time; the rest are hashed here.
          const worker =
            bounds.last >= (options.merkleWorkerFrom ?? MERKLE_WORKER_FROM)
              ? new MerkleWorker(checkpoints.map((c) => c.body.treeSize))
              : undefined;
          try {
            if (worker) verifier.deferLeaves();
            pages: for (let after = 0; after < bounds.last; after += CHAIN_PAGE) {
              const count = Math.min(CHAIN_PAGE, bounds.last - after);
              const texts = auditChainTexts(this.db, after, count);
              if (texts.length !== count) break; // an event is missing in this page
              for (const text of texts) {
                if (!verifier.pushChainText(accepted + 1, text)) break pages;
                accepted++;
              }
              worker?.push(verifier.takeDeferredLeaves());
            }
            if (worker) {
              worker.push(verifier.takeDeferredLeaves());
              verifier.resumeLeaves(worker.finish());
            }
          } finally {
            worker?.close();
          }
        }
        for (const row of eachAuditEventAfter(this.db, accepted)) verifier.pushStored(row, toEvent);
        return verifier.finish(this.head());
      })
      .deferred();
  }

  /** The stored events in stored order, one at a time (no other statement may run on this connection meanwhile). */
  *iterate(): Generator<AuditEvent> {
    for (const row of eachAuditEvent(this.db)) yield toEvent(row);
  }

  /** The leaf hashes of the stored events in order (for inclusion and consistency proofs). */
  leafHashes(): Buffer[] {
    const out: Buffer[] = [];
    for (const row of eachAuditEvent(this.db)) out.push(eventLeafHash(toEvent(row)));
    return out;
  }

  /** MTH over the first `size` stored events (default all). */
  treeHead(size?: number): { treeSize: number; rootHash: string } {
    const leaves = this.leafHashes();
    const n = size ?? leaves.length;
    return { treeSize: n, rootHash: rootFromLeafHashes(leaves.slice(0, n)).toString('hex') };
  }
}

function toEvent(r: AuditEventRow): AuditEvent {
  let roles: string[] = [];
  let details: Record<string, unknown> = {};
  try {
    roles = JSON.parse(r.roles);
  } catch {
    roles = [`<unparsable: ${r.roles}>`];
  }
  try {
    details = JSON.parse(r.details);
  } catch {
    details = { unparsable: r.details };
  }
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    roles,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
