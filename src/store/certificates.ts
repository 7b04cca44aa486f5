/** Repository of `certificates`: every certificate a CA signed, its own included (profile 'root'). */
import { sql, type Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
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
export function insertCaOwnCertificate(
  db: Db,
  x: {
    caId: number;
    serialHex: string;
    subject: string;
    notBefore: string;
    notAfter: string;
    sha256: string;
    der: Buffer;
    createdAt: string;
    details?: Record<string, unknown>;
  },
): number {
  return run(
    db,
    q.insertInto('certificates').values({
      issuer_ca_id: x.caId,
      serial_hex: x.serialHex,
      profile: 'root',
      subject_text: x.subject,
      not_before: x.notBefore,
      not_after: x.notAfter,
      sha256: x.sha256,
      der: x.der,
      created_at: x.createdAt,
      ...(x.details ? { details: JSON.stringify(x.details) } : {}),
    }),
  ).lastInsertRowid;
}

/** A certificate a CA issued, with its CA's name and its revocation if any (`issuance/certificates.ts`). */
export interface IssuedCertificateRow {
  id: number;
  issuer_ca_id: number;
  ca_name: string;
  serial_hex: string;
  profile: string;
  subject_text: string;
  not_before: string;
  not_after: string;
  sha256: string;
  der: Buffer;
  revoked_at: string | null;
  reason: string | null;
  invalidity_date: string | null;
  source: string | null;
}

interface IssuedTables {
  certificates: CertificatesTable;
  cas: { id: number; name: string };
  revocations: {
    certificate_id: number;
    revoked_at: string;
    reason: string;
    invalidity_date: string | null;
    source: string;
  };
}

const issued = sqliteQueries<IssuedTables>();

function issuedRows() {
  return issued
    .selectFrom('certificates as x')
    .innerJoin('cas as c', 'c.id', 'x.issuer_ca_id')
    .leftJoin('revocations as r', 'r.certificate_id', 'x.id')
    .select([
      'x.id',
      'x.issuer_ca_id',
      'c.name as ca_name',
      'x.serial_hex',
      'x.profile',
      'x.subject_text',
      'x.not_before',
      'x.not_after',
      'x.sha256',
      'x.der',
      'r.revoked_at',
      'r.reason',
      'r.invalidity_date',
      'r.source',
    ]);
}

/** The certificates CAs issued (never a CA's own, profile 'root'), of one CA or of all, in issuance order. */
export function listIssuedCertificateRows(db: Db, caName?: string): IssuedCertificateRow[] {
  const rows = issuedRows().where('x.profile', '!=', 'root');
  return all(db, (caName === undefined ? rows : rows.where('c.name', '=', caName)).orderBy('x.id'));
}

/** A certificate by serial, of one CA or (to say which CA issued it) of any. */
export function findIssuedCertificateRow(db: Db, serialHex: string, caName?: string): IssuedCertificateRow | undefined {
  const rows = issuedRows().where('x.serial_hex', '=', serialHex);
  return first(db, caName === undefined ? rows : rows.where('c.name', '=', caName));
}

/** The serial of the issued certificate whose request was exactly these CSR bytes, if any (issue 15.7: a CSR on file proves nothing). */
export function serialOfStoredCsr(db: Db, csrDer: Buffer): string | undefined {
  return first(db, q.selectFrom('certificates').select('serial_hex').where('csr_der', '=', csrDer))?.serial_hex;
}

/** The PKCS#10 request a certificate was issued from, when one is on file. */
export function csrOfCertificate(db: Db, certificateId: number): Buffer | undefined {
  return (
    first(db, q.selectFrom('certificates').select('csr_der').where('id', '=', certificateId))?.csr_der ?? undefined
  );
}

/** A certificate a CA issued, stored in the issuance's one transaction; returns its id. */
export function insertIssuedCertificate(
  db: Db,
  x: {
    caId: number;
    serialHex: string;
    profile: string;
    subject: string;
    notBefore: string;
    notAfter: string;
    sha256: string;
    der: Buffer;
    createdAt: string;
    requester: string | null;
    /** Null for a cross-certificate, whose request is the other root's certificate. */
    csrDer: Buffer | null;
    details: Record<string, unknown>;
  },
): number {
  return run(
    db,
    q.insertInto('certificates').values({
      issuer_ca_id: x.caId,
      serial_hex: x.serialHex,
      profile: x.profile,
      subject_text: x.subject,
      not_before: x.notBefore,
      not_after: x.notAfter,
      sha256: x.sha256,
      der: x.der,
      created_at: x.createdAt,
      requester: x.requester,
      csr_der: x.csrDer,
      details: JSON.stringify(x.details),
    }),
  ).lastInsertRowid;
}

/** The bytes of a stored certificate by digest, to write a lost output again rather than sign again (issue 14). */
export function certificateDerBySha256(db: Db, sha256: string): Buffer | undefined {
  return first(db, q.selectFrom('certificates').select('der').where('sha256', '=', sha256).limit(1))?.der;
}

const certificateCeremonyReads = sqliteQueries<{ certificates: { id: number; details: string } }>();

/** The ceremony that issued the certificate, as its `details` record it (null for none). */
export function certificateCeremonyId(db: Db, certificateId: number): number | null {
  const row = first(
    db,
    certificateCeremonyReads
      .selectFrom('certificates')
      .select(sql<number | null>`json_extract(details, '$.ceremonyId')`.as('id'))
      .where('id', '=', certificateId),
  );
  return row!.id;
}
