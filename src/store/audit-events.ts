/**
 * Repository of `audit_events`, the hash-chained audit trail (CPS 5.4, R-7). Rows are only
 * appended (triggers refuse the rest); reading the whole trail goes one row (or one page) at a time, since a
 * verification walks every event (100k and more) and must not hold them all.
 */
import { sql } from 'kysely';
import { all, allFirstColumn, each, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

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

/** Appends one event row (the caller computed its chain hash). */
export function insertAuditEvent(db: Db, row: AuditEventRow): void {
  run(db, q.insertInto('audit_events').values(row));
}

/** The events with seq in from..to, in seq order. */
export function auditEventsBetween(db: Db, from: number, to: number): AuditEventRow[] {
  return all(
    db,
    q.selectFrom('audit_events').selectAll().where('seq', '>=', from).where('seq', '<=', to).orderBy('seq'),
  );
}

/** Every event in stored order, one at a time (no other statement may run on `db` meanwhile). */
export function eachAuditEvent(db: Db): IterableIterator<AuditEventRow> {
  return each(db, q.selectFrom('audit_events').selectAll().orderBy(sql`rowid`));
}

/**
 * Every event with seq after `seq`, in stored order (where a verification leaves the fast path:
 * it accepted events 1..seq, so these are the rows after the first `seq`). seq is the rowid.
 */
export function eachAuditEventAfter(db: Db, seq: number): IterableIterator<AuditEventRow> {
  return each(db, q.selectFrom('audit_events').selectAll().where('seq', '>', seq).orderBy(sql`rowid`));
}

/** The smallest and largest seq stored (none when the log is empty); each a rowid lookup, no scan. */
export function auditSeqBounds(db: Db): { first: number; last: number } | undefined {
  const end = (direction: 'asc' | 'desc') =>
    first(db, q.selectFrom('audit_events').select('seq').orderBy('seq', direction).limit(1))?.seq;
  const [lo, hi] = [end('asc'), end('desc')];
  return lo === undefined || hi === undefined ? undefined : { first: lo, last: hi };
}

/**
 * An event as a verification reads it first, one text a row (issue 17.5, a million rows): its
 * stored hash (64 characters), then the input of its chain hash: prev_hash (64), a newline and
 * its leaf, the canonical JSON of the event (audit/event.ts eventLeaf) spelled by SQLite from
 * the stored columns in canonical key order (roles and details are stored as canonical JSON).
 * NULL when hash or prev_hash is not 64 bytes long, so the text splits only one way.
 * json_quote may spell an odd string otherwise than JSON.stringify: the hash then differs and
 * the verifier reads that event the slow way, so this only ever makes verification faster.
 */
const CHAIN_TEXT = sql<
  string | null
>`CASE WHEN octet_length(hash) = 64 AND octet_length(prev_hash) = 64 THEN concat(hash, prev_hash, char(10), '{"action":', json_quote(action), ',"actor":', json_quote(actor), ',"at":', json_quote(at), ',"details":', details, ',"outcome":', json_quote(outcome), ',"roles":', roles, ',"seq":', seq, ',"target":', json_quote(target), '}') END`;

/**
 * The chain texts (CHAIN_TEXT) of events after+1 .. after+count, in seq order. seq values are
 * distinct integers, so when `count` rows come back they are exactly those events; fewer mean
 * some are missing. One statement call for a page of rows, not one a row.
 */
export function auditChainTexts(db: Db, after: number, count: number): (string | null)[] {
  return allFirstColumn<string | null>(
    db,
    q
      .selectFrom('audit_events')
      .select(CHAIN_TEXT.as('text'))
      .where('seq', '>', after)
      .where('seq', '<=', after + count)
      .orderBy('seq'),
  );
}

/** The successful events' seq, action, target and details, in seq order (what the state check replays). */
export function successfulAuditEvents(db: Db): Pick<AuditEventRow, 'seq' | 'action' | 'target' | 'details'>[] {
  return all(
    db,
    q
      .selectFrom('audit_events')
      .select(['seq', 'action', 'target', 'details'])
      .where('outcome', '=', 'success')
      .orderBy('seq'),
  );
}

/** How many events are dated before `before`, and of those how many at or after `since`. */
export function countAuditEventsBefore(db: Db, before: string, since: string): { count: number; since: number } {
  const count = (from?: string) => {
    let query = q
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('at', '<', before);
    if (from !== undefined) query = query.where('at', '>=', from);
    return first(db, query)!.n;
  };
  return { count: count(), since: count(since) };
}

/**
 * The first successful event a ceremony recorded (a start event aside): work it committed before
 * it stopped, which its own resume finishes rather than abandons (operation/durable-outputs.ts).
 */
export function firstCommittedActionOfCeremony(db: Db, ceremonyId: number): string | undefined {
  return first(
    db,
    q
      .selectFrom('audit_events')
      .select('action')
      .where(sql<number>`json_extract(details, '$.ceremonyId')`, '=', ceremonyId)
      .where('outcome', '=', 'success')
      .where('action', 'not like', '%.start')
      .limit(1),
  )?.action;
}
