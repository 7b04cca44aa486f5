/**
 * Repository of `ca_changeover_certificates` (migration 8): which certificates each renewal or
 * re-key made, which key each certifies and which key signed it (CPS 5.6; RFC 4210 4.4), read
 * with the `cas`, `certificates` and `ca_keys` rows they name.
 */
import type { Generated } from 'kysely';
import { all, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';
import type { CasTable } from './cas.ts';
import type { CertificatesTable } from './certificates.ts';
import type { CaKeysTable } from './ca-keys.ts';

/** 'renewed', NewWithNew, OldWithNew, NewWithOld (RFC 4210 4.4). */
export type ChangeoverKind = 'renewed' | 'new-with-new' | 'old-with-new' | 'new-with-old';

/** The `ca_changeover_certificates` table. */
export interface CaChangeoverCertificatesTable {
  id: Generated<number>;
  ca_id: number;
  certificate_id: number;
  kind: ChangeoverKind;
  subject_key_id: string;
  signer_key_id: string;
  replaces_certificate_id: number;
  ceremony_id: number;
  created_at: string;
}

interface Tables {
  ca_changeover_certificates: CaChangeoverCertificatesTable;
  cas: CasTable;
  certificates: CertificatesTable;
  ca_keys: CaKeysTable;
}

const q = sqliteQueries<Tables>();

/** Lists a certificate the changeover stored as made by it (inside the completing transaction). */
export function insertChangeoverCertificate(
  db: Db,
  x: {
    caId: number;
    certificateId: number;
    kind: ChangeoverKind;
    subjectKeyId: string;
    signerKeyId: string;
    replacesCertificateId: number;
    ceremonyId: number;
    createdAt: string;
  },
): void {
  run(
    db,
    q.insertInto('ca_changeover_certificates').values({
      ca_id: x.caId,
      certificate_id: x.certificateId,
      kind: x.kind,
      subject_key_id: x.subjectKeyId,
      signer_key_id: x.signerKeyId,
      replaces_certificate_id: x.replacesCertificateId,
      ceremony_id: x.ceremonyId,
      created_at: x.createdAt,
    }),
  );
}

/** A changeover's certificate with its CA's name and the certificate's own columns. */
export interface ChangeoverCertificateRow {
  ca_name: string;
  kind: ChangeoverKind;
  certificate_id: number;
  serial_hex: string;
  subject_key_id: string;
  signer_key_id: string;
  not_before: string;
  not_after: string;
  sha256: string;
  der: Buffer;
  ceremony_id: number;
  created_at: string;
}

/** Every certificate the changeovers made (of one CA, or all), oldest first. */
export function listChangeoverCertificates(db: Db, caName?: string): ChangeoverCertificateRow[] {
  let query = q
    .selectFrom('ca_changeover_certificates as h')
    .innerJoin('cas as c', 'c.id', 'h.ca_id')
    .innerJoin('certificates as x', 'x.id', 'h.certificate_id')
    .select([
      'c.name as ca_name',
      'h.kind',
      'h.certificate_id',
      'x.serial_hex',
      'h.subject_key_id',
      'h.signer_key_id',
      'x.not_before',
      'x.not_after',
      'x.sha256',
      'x.der',
      'h.ceremony_id',
      'h.created_at',
    ]);
  if (caName) query = query.where('c.name', '=', caName);
  return all(db, query.orderBy('h.id'));
}

/** The signers of the CA's NewWithOld links (its retired keys), with the certificate each re-key replaced. */
export function listRetiredKeySigners(
  db: Db,
  caName: string,
): { key_id: string; status: string; der: Buffer; public_key_spki: Buffer }[] {
  return all(
    db,
    q
      .selectFrom('ca_changeover_certificates as h')
      .innerJoin('cas as c', 'c.id', 'h.ca_id')
      .innerJoin('ca_keys as k', 'k.key_id', 'h.signer_key_id')
      .innerJoin('certificates as x', 'x.id', 'h.replaces_certificate_id')
      .select(['h.signer_key_id as key_id', 'k.status', 'x.der', 'k.public_key_spki'])
      .where('c.name', '=', caName)
      .where('h.kind', '=', 'new-with-old')
      .orderBy('h.id'),
  );
}

/** Every certificate of the CA itself (profile 'root'), oldest first, with its changeover kind and the CA's current one. */
export function listCaOwnCertificates(
  db: Db,
  caId: number,
): {
  id: number;
  serial_hex: string;
  subject_text: string;
  sha256: string;
  der: Buffer;
  kind: ChangeoverKind | null;
  current_id: number | null;
}[] {
  return all(
    db,
    q
      .selectFrom('certificates as x')
      .innerJoin('cas as c', 'c.id', 'x.issuer_ca_id')
      .leftJoin('ca_changeover_certificates as h', 'h.certificate_id', 'x.id')
      .select([
        'x.id',
        'x.serial_hex',
        'x.subject_text',
        'x.sha256',
        'x.der',
        'h.kind',
        'c.certificate_id as current_id',
      ])
      .where('x.issuer_ca_id', '=', caId)
      .where('x.profile', '=', 'root')
      .orderBy('x.id'),
  );
}
