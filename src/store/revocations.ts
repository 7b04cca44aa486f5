/** Repository of `revocations`: one row per revoked certificate (R-4.1, CPS 4.9). */
import { first, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

const revocationReads = sqliteQueries<{ revocations: { certificate_id: number; reason: string } }>();

/** The reason the certificate was revoked for, or undefined when it is not revoked. */
export function findRevocationReason(db: Db, certificateId: number | null): string | undefined {
  return first(db, revocationReads.selectFrom('revocations').select('reason').where('certificate_id', '=', certificateId as number))?.reason;
}
