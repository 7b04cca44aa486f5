/**
 * What a backup set's manifest states about a snapshot of the store, and what `archive inspect`
 * checks in one (CPS 5.5.1, 5.5.3): the records counted, the last certificate, each CA's CRL
 * number, the signer's registered key and the TSA that stamped the set. A snapshot may be older
 * than this program's schema, so a table it lacks counts as empty.
 */
import { all, first, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The columns these reads name, for Kysely (each table is owned by its own repository). */
interface SnapshotTables {
  cas: { id: number; name: string; certificate_id: number | null };
  certificates: { id: number; issuer_ca_id: number; serial_hex: string; profile: string; der: Buffer };
  crl_numbers: { ca_id: number; last_number: number };
  operators: { name: string; credential_kind: string; signing_public_key: Buffer };
  tsa_keys: { key_id: string; ca_id: number; policy_oid: string; certificate_id: number | null };
  revocations: object;
  crls: object;
  ocsp_responses: object;
  ceremonies: object;
  transcripts: object;
  audit_events: object;
  publications: object;
  tsa_tokens: object;
  backups: object;
  serial_reservations: object;
}

const q = sqliteQueries<SnapshotTables>();

/** A table whose rows a snapshot counts. */
export type CountedTable = keyof SnapshotTables;

/** How many rows `table` has; 0 when this snapshot's schema does not have it yet. */
export function countRows(db: Db, table: CountedTable): number {
  try {
    return first(
      db,
      q.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')),
    )!.n;
  } catch {
    return 0;
  }
}

/** How many certificates were issued to others (not a CA's own current certificate); 0 without the tables. */
export function countIssuedCertificates(db: Db): number {
  try {
    const own = q
      .selectFrom('cas')
      .select((eb) => eb.ref('certificate_id').$notNull().as('certificate_id'))
      .where('certificate_id', 'is not', null);
    return first(
      db,
      q
        .selectFrom('certificates')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('id', 'not in', own),
    )!.n;
  } catch {
    return 0;
  }
}

/** The certificate issued last, with its issuer's name. */
export function lastCertificate(db: Db): { id: number; serial_hex: string; name: string } | undefined {
  return first(
    db,
    q
      .selectFrom('certificates as x')
      .innerJoin('cas as c', 'c.id', 'x.issuer_ca_id')
      .select(['x.id', 'x.serial_hex', 'c.name'])
      .orderBy('x.id', 'desc')
      .limit(1),
  );
}

/** The last CRL number used by each CA, by CA name (RFC 5280 5.2.3). */
export function crlNumbersByCa(db: Db): Record<string, number> {
  const rows = all(
    db,
    q
      .selectFrom('crl_numbers as n')
      .innerJoin('cas as c', 'c.id', 'n.ca_id')
      .select(['c.name', 'n.last_number'])
      .orderBy('c.name'),
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.last_number]));
}

/** The schema version of the store (PRAGMA user_version). */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** PRAGMA integrity_check, its lines joined ('ok' when sound). */
export function integrityCheck(db: Db): string {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((r) => r.integrity_check).join('; ');
}

/** Switches a snapshot to rollback-journal mode, so the set is one self-contained file. */
export function useRollbackJournal(db: Db): void {
  db.pragma('journal_mode = DELETE');
}

/** The signing key an operator of this snapshot had registered, to check the set's manifest signature. */
export function registeredSigningKey(
  db: Db,
  operator: string,
): { credential_kind: string; signing_public_key: Buffer } | undefined {
  return first(
    db,
    q.selectFrom('operators').select(['credential_kind', 'signing_public_key']).where('name', '=', operator),
  );
}

/** The TSA key of this snapshot that stamped a set: its policy, certificate and CA. */
export function snapshotTsa(
  db: Db,
  keyId: string,
): { policy_oid: string; cert: Buffer; ca_id: number; ca_name: string } | undefined {
  return first(
    db,
    q
      .selectFrom('tsa_keys as k')
      .innerJoin('certificates as x', 'x.id', 'k.certificate_id')
      .innerJoin('cas as c', 'c.id', 'k.ca_id')
      .select(['k.policy_oid', 'x.der as cert', 'k.ca_id', 'c.name as ca_name'])
      .where('k.key_id', '=', keyId),
  );
}

/** Every certificate of a CA itself (profile 'root'), oldest first: its self-signed, renewal and link certificates. */
export function caOwnCertificates(db: Db, caId: number): Buffer[] {
  return all(
    db,
    q
      .selectFrom('certificates')
      .select('der')
      .where('issuer_ca_id', '=', caId)
      .where('profile', '=', 'root')
      .orderBy('id'),
  ).map((r) => r.der);
}
