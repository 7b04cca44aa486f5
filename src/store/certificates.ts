/** Repository of `certificates`: every certificate a CA signed, its own included (profile 'root'). */
import type { Generated } from 'kysely';
import { run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `certificates` table (migrations 1 and 2). */
export interface CertificatesTable {
  id: Generated<number>;
  issuer_ca_id: number;
  serial_hex: string;
  profile: string;
  subject_text: string;
  not_before: string;
  not_after: string;
  sha256: string;
  der: Buffer;
  created_at: string;
  requester: string | null;
  csr_der: Buffer | null;
  details: Generated<string>;
}

const q = sqliteQueries<{ certificates: CertificatesTable }>();

/**
 * A certificate of the CA itself (profile 'root': never one it issued to someone, so
 * certificate lists leave it out): the root ceremony's, or one a changeover made (`details`
 * names the changeover). Returns its id.
 */
export function insertCaOwnCertificate(db: Db, x: {
  caId: number; serialHex: string; subject: string; notBefore: string; notAfter: string; sha256: string; der: Buffer;
  createdAt: string; details?: Record<string, unknown>;
}): number {
  return run(db, q.insertInto('certificates').values({
    issuer_ca_id: x.caId, serial_hex: x.serialHex, profile: 'root', subject_text: x.subject, not_before: x.notBefore,
    not_after: x.notAfter, sha256: x.sha256, der: x.der, created_at: x.createdAt,
    ...(x.details ? { details: JSON.stringify(x.details) } : {}),
  })).lastInsertRowid;
}
