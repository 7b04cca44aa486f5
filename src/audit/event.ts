/** An audit event, its canonical leaf bytes and its chain hash (CPS 5.4, R-7): shared by the log and its verifiers. */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json.ts';
import { leafHash } from './merkle.ts';

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

/** The leaf bytes of one event: the canonical JSON of its fields (what the chain hashes too). */
export function eventLeaf(e: Omit<AuditEvent, 'hash' | 'prevHash'>): Buffer {
  return Buffer.from(
    canonicalJson({
      seq: e.seq,
      at: e.at,
      actor: e.actor,
      roles: e.roles,
      action: e.action,
      target: e.target,
      outcome: e.outcome,
      details: e.details,
    }),
    'utf8',
  );
}

/** The hash of one event: SHA-256 over the previous hash and the canonical JSON of its fields. */
export function eventHash(prevHash: string, e: Omit<AuditEvent, 'hash' | 'prevHash'>): string {
  return createHash('sha256').update(prevHash).update('\n').update(eventLeaf(e)).digest('hex');
}

/** The RFC 9162 leaf hash of one event. */
export function eventLeafHash(e: Omit<AuditEvent, 'hash' | 'prevHash'>): Buffer {
  return leafHash(eventLeaf(e));
}
