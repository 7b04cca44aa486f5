/**
 * Repository of `audit_events`, the hash-chained audit trail (CPS 5.4, R-7). Rows are only
 * appended (triggers refuse the rest); reading the whole trail goes one row at a time, since a
 * verification walks every event (100k and more) and must not hold them all.
 */
import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import { first, sqliteQueries } from './query.ts';

type Db = Database.Database;

/** A row of `audit_events`: roles and details are JSON text. */
export interface AuditEventRow {
  seq: number;
  at: string;
  actor: string;
  roles: string;
  action: string;
  target: string;
  outcome: 'success' | 'refused' | 'failed';
  details: string;
  prev_hash: string;
  hash: string;
}

/** The table of this repository, for Kysely. */
export interface AuditEventTables {
  audit_events: AuditEventRow;
}

const q = sqliteQueries<AuditEventTables>();

/**
 * The first successful event a ceremony recorded (a start event aside): work it committed before
 * it stopped, which its own resume finishes rather than abandons (operation/durable-outputs.ts).
 */
export function firstCommittedActionOfCeremony(db: Db, ceremonyId: number): string | undefined {
  return first(db, q.selectFrom('audit_events').select('action')
    .where(sql<number>`json_extract(details, '$.ceremonyId')`, '=', ceremonyId).where('outcome', '=', 'success')
    .where('action', 'not like', '%.start').limit(1))?.action;
}
