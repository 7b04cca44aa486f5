/** Repository of `audit_reviews`: a Log Examiner's review of a range of events (CPS 5.4.2). Append-only. */
import type { Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** A row of `audit_reviews`; log_verified is 0 or 1. */
export interface AuditReviewRow {
  id: number;
  from_seq: number;
  to_seq: number;
  findings: string;
  examiner: string;
  reviewed_at: string;
  log_verified: number;
  tree_size: number;
  root_hash: string;
  audit_seq: number;
}

/** The table of this repository, for Kysely. */
export interface AuditReviewTables {
  audit_reviews: Omit<AuditReviewRow, 'id'> & { id: Generated<number> };
}

const q = sqliteQueries<AuditReviewTables>();

/** Every review, oldest first. */
export function listReviewRows(db: Db): AuditReviewRow[] {
  return all(db, q.selectFrom('audit_reviews').selectAll().orderBy('id'));
}

/** Stores one review and returns it as stored. */
export function insertReview(db: Db, row: Omit<AuditReviewRow, 'id'>): AuditReviewRow {
  const id = run(db, q.insertInto('audit_reviews').values(row)).lastInsertRowid;
  return first(db, q.selectFrom('audit_reviews').selectAll().where('id', '=', id))!;
}
