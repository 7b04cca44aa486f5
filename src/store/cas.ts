/** Repository of `cas`: the CAs of this installation, each pointing at its current key and certificate. */
import type { Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `cas` table (migration 1). */
export interface CasTable {
  id: Generated<number>;
  name: string;
  key_id: string;
  subject_der: Buffer;
  signature_algorithm: string;
  legacy_sha1: number;
  certificate_id: number | null;
  status: Generated<string>;
  created_at: string;
}

const q = sqliteQueries<{ cas: CasTable }>();

/** Whether a CA of this name exists (a root ceremony never makes a second one, CPS 6.1.1). */
export function caNameTaken(db: Db, name: string): boolean {
  return first(db, q.selectFrom('cas').select('id').where('name', '=', name)) !== undefined;
}

/** A new CA row from a root ceremony, before its certificate is stored; returns its id. */
export function insertCa(
  db: Db,
  x: {
    name: string;
    keyId: string;
    subjectDer: Buffer;
    signatureAlgorithm: string;
    legacySha1: boolean;
    createdAt: string;
  },
): number {
  return run(
    db,
    q.insertInto('cas').values({
      name: x.name,
      key_id: x.keyId,
      subject_der: x.subjectDer,
      signature_algorithm: x.signatureAlgorithm,
      legacy_sha1: x.legacySha1 ? 1 : 0,
      created_at: x.createdAt,
    }),
  ).lastInsertRowid;
}

/** The CA's current certificate row, or null before it has one. */
export function currentCaCertificateId(db: Db, caId: number): number | null | undefined {
  return first(db, q.selectFrom('cas').select('certificate_id').where('id', '=', caId))?.certificate_id;
}

/**
 * Points the CA at a new current certificate (root ceremony, renewal) and, at a re-key, a new
 * key (CPS 5.6): from then on issuance, CRLs and OCSP sign with these.
 */
export function switchCaCertificate(
  db: Db,
  caId: number,
  x: { certificateId: number; keyId?: string; signatureAlgorithm?: string; legacySha1?: boolean },
): void {
  run(
    db,
    q
      .updateTable('cas')
      .set({
        ...(x.keyId !== undefined ? { key_id: x.keyId } : {}),
        certificate_id: x.certificateId,
        ...(x.signatureAlgorithm !== undefined ? { signature_algorithm: x.signatureAlgorithm } : {}),
        ...(x.legacySha1 !== undefined ? { legacy_sha1: x.legacySha1 ? 1 : 0 } : {}),
      })
      .where('id', '=', caId),
  );
}

/** An active CA becomes compromised (CPS 5.7.1) or terminated (CPS 5.8); false if it was no longer active. */
export function endActiveCa(db: Db, caId: number, status: 'compromised' | 'terminated'): boolean {
  const ended = q.updateTable('cas').set({ status }).where('id', '=', caId).where('status', '=', 'active');
  return run(db, ended).changes === 1;
}

/** What `installation/cas.ts` reads of a CA: its row, current certificate and key threshold. */
export interface CaSummaryRow {
  id: number;
  name: string;
  key_id: string;
  status: string;
  signature_algorithm: string;
  legacy_sha1: number;
  subject_text: string;
  serial_hex: string;
  not_before: string;
  not_after: string;
  sha256: string;
  der: Buffer;
  threshold: number;
}

interface JoinedTables {
  cas: CasTable;
  certificates: {
    id: number;
    subject_text: string;
    serial_hex: string;
    not_before: string;
    not_after: string;
    sha256: string;
    der: Buffer;
  };
  ca_keys: { key_id: string; threshold: number };
}

const joined = sqliteQueries<JoinedTables>();

function caSummaries() {
  return joined
    .selectFrom('cas as c')
    .innerJoin('certificates as x', 'x.id', 'c.certificate_id')
    .innerJoin('ca_keys as k', 'k.key_id', 'c.key_id')
    .select([
      'c.id',
      'c.name',
      'c.key_id',
      'c.status',
      'c.signature_algorithm',
      'c.legacy_sha1',
      'x.subject_text',
      'x.serial_hex',
      'x.not_before',
      'x.not_after',
      'x.sha256',
      'x.der',
      'k.threshold',
    ]);
}

/** Every CA with a certificate, by name. */
export function listCaSummaryRows(db: Db): CaSummaryRow[] {
  return all(db, caSummaries().orderBy('c.name'));
}

/** One CA by name, or undefined. */
export function findCaSummaryRow(db: Db, name: string): CaSummaryRow | undefined {
  return first(db, caSummaries().where('c.name', '=', name));
}

/** The DER of a CA's current certificate (its current key's), or undefined before it has one. */
export function currentCaCertificateDer(db: Db, caId: number): Buffer | undefined {
  return first(
    db,
    joined
      .selectFrom('cas as c')
      .innerJoin('certificates as x', 'x.id', 'c.certificate_id')
      .select('x.der')
      .where('c.id', '=', caId),
  )?.der;
}
