/**
 * What `rootca audit verify --state` reads (issue 14 item 4): the rows of the state tables that
 * CPS 5.4.1 says each have an audit event — certificates, revocations, CRLs, CA keys, operators,
 * publications — with the issuing CA's name where the event names the CA.
 */
import { all, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The columns these reads name, for Kysely (each table is owned by its own repository). */
interface StateTables {
  cas: { id: number; name: string };
  certificates: { id: number; issuer_ca_id: number; serial_hex: string; sha256: string };
  revocations: { certificate_id: number; issuer_ca_id: number; serial_hex: string; reason: string };
  crls: { id: number; ca_id: number; crl_number: number; sha256: string };
  ca_keys: { key_id: string };
  operators: { id: number; name: string };
  publications: { version: number; sha256: string };
}

const q = sqliteQueries<StateTables>();

/** Every certificate with its issuer's name. */
export function certificatesForStateCheck(db: Db): { id: number; serial_hex: string; sha256: string; ca: string }[] {
  return all(
    db,
    q
      .selectFrom('certificates as x')
      .innerJoin('cas as c', 'c.id', 'x.issuer_ca_id')
      .select(['x.id', 'x.serial_hex', 'x.sha256', 'c.name as ca']),
  );
}

/** Every revocation with its issuer's name. */
export function revocationsForStateCheck(
  db: Db,
): { certificate_id: number; serial_hex: string; reason: string; ca: string }[] {
  return all(
    db,
    q
      .selectFrom('revocations as r')
      .innerJoin('cas as c', 'c.id', 'r.issuer_ca_id')
      .select(['r.certificate_id', 'r.serial_hex', 'r.reason', 'c.name as ca']),
  );
}

/** Every CRL with its issuer's name. */
export function crlsForStateCheck(db: Db): { id: number; crl_number: number; sha256: string; ca: string }[] {
  return all(
    db,
    q
      .selectFrom('crls as c')
      .innerJoin('cas as a', 'a.id', 'c.ca_id')
      .select(['c.id', 'c.crl_number', 'c.sha256', 'a.name as ca']),
  );
}

/** Every CA key id. */
export function caKeyIdsForStateCheck(db: Db): { key_id: string }[] {
  return all(db, q.selectFrom('ca_keys').select('key_id'));
}

/** Every operator's id and name. */
export function operatorsForStateCheck(db: Db): { id: number; name: string }[] {
  return all(db, q.selectFrom('operators').select(['id', 'name']));
}

/** Every publication's version and digest. */
export function publicationsForStateCheck(db: Db): { version: number; sha256: string }[] {
  return all(db, q.selectFrom('publications').select(['version', 'sha256']));
}
