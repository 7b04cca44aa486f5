/**
 * Repository of the internal time-stamping authority (R-8.3; CPS 5.5.5): `tsa_keys` (one active
 * at a time), their copies sealed 1-of-N to holders `tsa_key_envelopes`, and every token issued,
 * `tsa_tokens` (RFC 3161 2.4.2: a serial is unique per TSA; append-only).
 */
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** A row of `tsa_keys`. */
export interface TsaKeyRow {
  key_id: string;
  ca_id: number;
  kind: 'p256' | 'p384';
  public_key_spki: Buffer;
  policy_oid: string;
  certificate_id: number | null;
  status: 'pending' | 'active' | 'superseded' | 'failed';
  created_at: string;
  operator: string;
  witness: string;
  ceremony_id: number | null;
}

/** The tables of this repository (and the columns of `cas` and `certificates` it joins), for Kysely. */
export interface TsaTables {
  tsa_keys: TsaKeyRow;
  tsa_key_envelopes: { key_id: string; holder: string; sealed: Buffer };
  tsa_tokens: {
    serial_hex: string;
    key_id: string;
    gen_time: string;
    hash_algorithm: string;
    message_imprint: string;
    holder: string;
    token_sha256: string;
  };
  cas: { id: number; name: string };
  certificates: { id: number; der: Buffer };
}

/** A TSA key with its CA's name and its certificate, if issued. */
export type TsaKeyView = Pick<
  TsaKeyRow,
  'key_id' | 'ca_id' | 'kind' | 'public_key_spki' | 'policy_oid' | 'certificate_id' | 'status' | 'created_at'
> & { ca_name: string; der: Buffer | null };

const q = sqliteQueries<TsaTables>();

const tsaKeys = () =>
  q
    .selectFrom('tsa_keys as k')
    .innerJoin('cas as c', 'c.id', 'k.ca_id')
    .leftJoin('certificates as x', 'x.id', 'k.certificate_id')
    .select([
      'k.key_id',
      'k.ca_id',
      'c.name as ca_name',
      'k.kind',
      'k.public_key_spki',
      'k.policy_oid',
      'k.certificate_id',
      'x.der',
      'k.status',
      'k.created_at',
    ]);

/** Every TSA key ever made, oldest first. */
export function listTsaKeys(db: Db): TsaKeyView[] {
  return all(db, tsaKeys().orderBy('k.created_at').orderBy('k.key_id'));
}

/** The TSA key in service, if any. */
export function findActiveTsaKey(db: Db): TsaKeyView | undefined {
  return first(db, tsaKeys().where('k.status', '=', 'active'));
}

/** The sealed copies of one TSA key, by holder. */
export function tsaKeyEnvelopes(db: Db, keyId: string): { holder: string; sealed: Buffer }[] {
  return all(
    db,
    q.selectFrom('tsa_key_envelopes').select(['holder', 'sealed']).where('key_id', '=', keyId).orderBy('holder'),
  );
}

/** Who holds a copy of one TSA key, by name. */
export function tsaKeyHolders(db: Db, keyId: string): string[] {
  return all(db, q.selectFrom('tsa_key_envelopes').select('holder').where('key_id', '=', keyId).orderBy('holder')).map(
    (r) => r.holder,
  );
}

/** Records one issued token. */
export function insertTsaToken(db: Db, row: TsaTables['tsa_tokens']): void {
  run(db, q.insertInto('tsa_tokens').values(row));
}

/** A new TSA key, pending until its certificate is issued, with its sealed copies. */
export function insertPendingTsaKey(
  db: Db,
  key: Omit<TsaKeyRow, 'status' | 'certificate_id' | 'ceremony_id'>,
  envelopes: { holder: string; sealed: Buffer }[],
): void {
  run(db, q.insertInto('tsa_keys').values({ ...key, status: 'pending' }));
  for (const e of envelopes)
    run(db, q.insertInto('tsa_key_envelopes').values({ key_id: key.key_id, holder: e.holder, sealed: e.sealed }));
}

/** A TSA key whose certificate could not be issued. */
export function markTsaKeyFailed(db: Db, keyId: string): void {
  run(db, q.updateTable('tsa_keys').set({ status: 'failed' }).where('key_id', '=', keyId));
}

/** Puts `keyId` in service with its certificate; the key in service before is superseded (its id returned). */
export function activateTsaKey(db: Db, keyId: string, certificateId: number, ceremonyId: number | null): string[] {
  const old = all(db, q.selectFrom('tsa_keys').select('key_id').where('status', '=', 'active')).map((r) => r.key_id);
  run(db, q.updateTable('tsa_keys').set({ status: 'superseded' }).where('status', '=', 'active'));
  run(
    db,
    q
      .updateTable('tsa_keys')
      .set({ status: 'active', certificate_id: certificateId, ceremony_id: ceremonyId })
      .where('key_id', '=', keyId),
  );
  return old;
}
