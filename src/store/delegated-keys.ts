/**
 * Repository of `delegated_keys` (migration 11): the OCSP responder and publication keys a root
 * certified (issue 15; BR 6.1.7). The key itself is a `ca_keys` row with its own custodians;
 * this row says whose it is, what it signs, and which issued certificate carries it.
 */
import { all, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** What a delegated key signs: pre-signed OCSP responses, or the publication manifest. */
export type DelegatedPurpose = 'ocsp' | 'publication';

/** A row of `delegated_keys`. */
export interface DelegatedKeyRow {
  key_id: string;
  ca_id: number;
  purpose: DelegatedPurpose;
  issuer_key_id: string;
  certificate_id: number | null;
  status: 'pending' | 'active' | 'failed';
  created_at: string;
}

/** The tables read here (and the columns of `cas`, `certificates`, `ca_keys` joined). */
interface DelegatedTables {
  delegated_keys: DelegatedKeyRow;
  cas: { id: number; name: string };
  certificates: { id: number; der: Buffer; serial_hex: string; not_before: string; not_after: string };
  ca_keys: { key_id: string; status: string; threshold: number };
}

/** A delegated key with its CA's name and its certificate, once issued. */
export interface DelegatedKeyView extends DelegatedKeyRow {
  ca_name: string;
  der: Buffer | null;
  serial_hex: string | null;
  not_before: string | null;
  not_after: string | null;
  key_status: string;
  threshold: number;
}

const q = sqliteQueries<DelegatedTables>();

/** Every delegated key (of one CA and purpose, when given), oldest first. */
export function listDelegatedKeys(
  db: Db,
  filter: { caId?: number; purpose?: DelegatedPurpose } = {},
): DelegatedKeyView[] {
  let query = q
    .selectFrom('delegated_keys as d')
    .innerJoin('cas as c', 'c.id', 'd.ca_id')
    .innerJoin('ca_keys as k', 'k.key_id', 'd.key_id')
    .leftJoin('certificates as x', 'x.id', 'd.certificate_id')
    .select([
      'd.key_id',
      'd.ca_id',
      'd.purpose',
      'd.issuer_key_id',
      'd.certificate_id',
      'd.status',
      'd.created_at',
      'c.name as ca_name',
      'x.der',
      'x.serial_hex',
      'x.not_before',
      'x.not_after',
      'k.status as key_status',
      'k.threshold',
    ]);
  if (filter.caId !== undefined) query = query.where('d.ca_id', '=', filter.caId);
  if (filter.purpose !== undefined) query = query.where('d.purpose', '=', filter.purpose);
  return all(db, query.orderBy('d.created_at').orderBy('d.key_id'));
}

/** Inside the key's generating transaction: the key, pending until the root certifies it. */
export function insertPendingDelegatedKey(db: Db, row: Omit<DelegatedKeyRow, 'status' | 'certificate_id'>): void {
  run(db, q.insertInto('delegated_keys').values({ ...row, status: 'pending', certificate_id: null }));
}

/** The key is in service with its certificate (earlier ones stay in service until they expire: rollover). */
export function activateDelegatedKey(db: Db, keyId: string, certificateId: number): void {
  run(
    db,
    q
      .updateTable('delegated_keys')
      .set({ status: 'active', certificate_id: certificateId })
      .where('key_id', '=', keyId),
  );
}

/** The root did not certify the key: it never signs. */
export function markDelegatedKeyFailed(db: Db, keyId: string): void {
  run(db, q.updateTable('delegated_keys').set({ status: 'failed' }).where('key_id', '=', keyId));
}
