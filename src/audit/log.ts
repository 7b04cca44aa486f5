/**
 * The audit trail (CPS 5.4, R-7): an append-only table where each event carries the hash of
 * the one before it, so a changed, deleted, inserted or reordered row breaks the chain at a
 * position `verify()` reports. The chain head is also kept in `meta`, in the same
 * transaction, so cutting events off the end is caught too.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export type AuditOutcome = 'success' | 'refused' | 'failed';

export interface AuditEventInput {
  /** Who: operator name(s) taking part, or `system:<os user>` for an unauthenticated command. */
  actor: string;
  roles: string[];
  /** What, as `area.verb`: `ceremony.root-ca`, `operator.add`, `key.activate`. */
  action: string;
  /** What it acted on: a CA name, an operator, a key id. */
  target: string;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
}

export interface AuditEvent extends Required<AuditEventInput> {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

interface Row {
  seq: number; at: string; actor: string; roles: string; action: string; target: string;
  outcome: AuditOutcome; details: string; prev_hash: string; hash: string;
}

/** The hash of one event: SHA-256 over the previous hash and the canonical JSON of its fields. */
export function eventHash(prevHash: string, e: Omit<AuditEvent, 'hash' | 'prevHash'>): string {
  const body = canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, roles: e.roles, action: e.action, target: e.target, outcome: e.outcome, details: e.details });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

export interface AuditVerification {
  ok: boolean;
  events: number;
  headHash: string;
  /** The first position (1-based seq) where the chain breaks, with what is wrong there. */
  firstBad?: { position: number; problem: string };
}

export class AuditLog {
  constructor(private readonly db: Db, private readonly clock: Clock) {}

  /** Appends one event; inside a caller's transaction it commits with it. */
  append(input: AuditEventInput): AuditEvent {
    return this.db.transaction(() => {
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
      this.db
        .prepare('INSERT INTO audit_events (seq, at, actor, roles, action, target, outcome, details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)')
        .run(event.seq, event.at, event.actor, JSON.stringify(event.roles), event.action, event.target, event.outcome, canonicalJson(event.details), head.hash, hash);
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('audit_head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(`${event.seq}:${hash}`);
      return { ...event, prevHash: head.hash, hash };
    }).immediate();
  }

  /** The recorded head of the chain (seq 0 and the genesis hash when empty). */
  head(): { seq: number; hash: string } {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'audit_head'").get() as { value: string } | undefined;
    if (!row) return { seq: 0, hash: GENESIS_HASH };
    const [seq, hash] = row.value.split(':');
    return { seq: Number(seq), hash };
  }

  /** Events in order, optionally a range of seq numbers. */
  list(from = 1, to = Number.MAX_SAFE_INTEGER): AuditEvent[] {
    const rows = this.db.prepare('SELECT * FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq').all(from, to) as Row[];
    return rows.map(toEvent);
  }

  /** Recomputes the whole chain; reports the first position that does not hold. */
  verify(): AuditVerification {
    const rows = this.db.prepare('SELECT * FROM audit_events ORDER BY rowid').all() as Row[];
    let prev = GENESIS_HASH;
    let expected = 1;
    for (const row of rows) {
      const e = toEvent(row);
      const bad = (problem: string): AuditVerification => ({ ok: false, events: rows.length, headHash: prev, firstBad: { position: expected, problem } });
      if (e.seq !== expected) {
        return bad(e.seq > expected ? `event ${expected} is missing (next stored event is ${e.seq})` : `event ${e.seq} is out of order (expected ${expected})`);
      }
      if (e.prevHash !== prev) return bad(`event ${expected} does not follow event ${expected - 1} (an event before it was changed, removed or reordered)`);
      let recomputed: string;
      try {
        recomputed = eventHash(prev, e);
      } catch {
        recomputed = '';
      }
      if (recomputed !== e.hash) return bad(`event ${expected} was changed after it was written`);
      prev = e.hash;
      expected++;
    }
    const head = this.head();
    if (head.seq !== rows.length || head.hash !== prev) {
      return {
        ok: false, events: rows.length, headHash: prev,
        firstBad: { position: Math.min(head.seq, rows.length) + 1, problem: `the log ends at event ${rows.length} but its recorded head is event ${head.seq}: events were cut off or the head was altered` },
      };
    }
    return { ok: true, events: rows.length, headHash: prev };
  }
}

function toEvent(r: Row): AuditEvent {
  let roles: string[] = [];
  let details: Record<string, unknown> = {};
  try { roles = JSON.parse(r.roles); } catch { roles = [`<unparsable: ${r.roles}>`]; }
  try { details = JSON.parse(r.details); } catch { details = { unparsable: r.details }; }
  return { seq: r.seq, at: r.at, actor: r.actor, roles, action: r.action, target: r.target, outcome: r.outcome, details, prevHash: r.prev_hash, hash: r.hash };
}
