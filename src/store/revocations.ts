/** Repository of `revocations`: one row per revoked certificate (R-4.1, CPS 4.9). */
import { eachRaw, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `revocations` table (migration 4). */
export interface RevocationsTable {
  certificate_id: number;
  issuer_ca_id: number;
  serial_hex: string;
  revoked_at: string;
  reason: string;
  invalidity_date: string | null;
  source: string;
  operator: string;
  approved_by: string | null;
  recorded_at: string;
}

const q = sqliteQueries<{ revocations: RevocationsTable }>();

/** A revocation, written in the caller's transaction with its audit event; the primary key refuses a second one. */
export function insertRevocation(
  db: Db,
  r: {
    certificateId: number;
    caId: number;
    serialHex: string;
    revokedAt: string;
    reason: string;
    invalidityDate: string | null;
    source: string;
    operator: string;
    approvedBy: string | null;
    recordedAt: string;
  },
): void {
  run(
    db,
    q.insertInto('revocations').values({
      certificate_id: r.certificateId,
      issuer_ca_id: r.caId,
      serial_hex: r.serialHex,
      revoked_at: r.revokedAt,
      reason: r.reason,
      invalidity_date: r.invalidityDate,
      source: r.source,
      operator: r.operator,
      approved_by: r.approvedBy,
      recorded_at: r.recordedAt,
    }),
  );
}

const revocationReads = sqliteQueries<{ revocations: { certificate_id: number; reason: string } }>();

/** The reason the certificate was revoked for, or undefined when it is not revoked. */
export function findRevocationReason(db: Db, certificateId: number | null): string | undefined {
  return first(
    db,
    revocationReads
      .selectFrom('revocations')
      .select('reason')
      .where('certificate_id', '=', certificateId as number),
  )?.reason;
}

const crlReads = sqliteQueries<{
  revocations: RevocationsTable;
  certificates: { id: number; issuer_ca_id: number; serial_hex: string; profile: string };
}>();

/** A CRL entry as read: serial_hex, revoked_at, reason, invalidity_date (a row array, not an object: issue 17.5). */
export type CrlEntryRow = [serialHex: string, revokedAt: string, reason: string, invalidityDate: string | null];

/**
 * What a CA's CRL lists: the revocations of the certificates it issued (never its own, profile
 * 'root'), in issuance order, one row at a time — a CRL of a million entries is encoded as it
 * is read, never held as rows (issue 17.5).
 */
export function revocationsForCrl(db: Db, caId: number): IterableIterator<CrlEntryRow> {
  return eachRaw<CrlEntryRow>(
    db,
    // CROSS JOIN keeps revocations the outer loop (SQLite does not reorder it): read in rowid order,
    // which is certificate_id, so no temporary sort of a million rows for the ORDER BY.
    crlReads
      .selectFrom('revocations as r')
      .crossJoin('certificates as x')
      .whereRef('x.id', '=', 'r.certificate_id')
      .select(['x.serial_hex', 'r.revoked_at', 'r.reason', 'r.invalidity_date'])
      .where('x.issuer_ca_id', '=', caId)
      .where('x.profile', '!=', 'root')
      .orderBy('r.certificate_id'),
  );
}
