/**
 * What `rootca audit evidence` gathers for a period (CPS 8, R-11.1) that no use case reads
 * otherwise: the ceremonies whose transcripts were stored in it, when each certificate was
 * recorded, and the CRLs issued in it.
 */
import { all, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The columns these reads name, for Kysely (each table is owned by its own repository). */
interface EvidenceTables {
  transcripts: { ceremony_id: number; created_at: string };
  certificates: { id: number; created_at: string };
  crls: { ca_id: number; crl_number: number; der: Buffer; this_update: string };
}

const q = sqliteQueries<EvidenceTables>();

/** The ceremonies whose transcripts were stored from `from` to `to` (ISO, inclusive), in order. */
export function transcriptCeremoniesBetween(db: Db, from: string, to: string): number[] {
  return all(
    db,
    q
      .selectFrom('transcripts')
      .select('ceremony_id')
      .where('created_at', '>=', from)
      .where('created_at', '<=', to)
      .orderBy('ceremony_id'),
  ).map((r) => r.ceremony_id);
}

/** When each certificate was recorded, by certificate id. */
export function certificateRecordingTimes(db: Db): Map<number, string> {
  return new Map(all(db, q.selectFrom('certificates').select(['id', 'created_at'])).map((r) => [r.id, r.created_at]));
}

/** The CRLs whose thisUpdate lies from `from` to `to`, by CA and number. */
export function crlsBetween(db: Db, from: string, to: string): EvidenceTables['crls'][] {
  return all(
    db,
    q
      .selectFrom('crls')
      .select(['ca_id', 'crl_number', 'der', 'this_update'])
      .where('this_update', '>=', from)
      .where('this_update', '<=', to)
      .orderBy('ca_id')
      .orderBy('crl_number'),
  );
}
