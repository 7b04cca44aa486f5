/**
 * Repository of the people in trusted roles (CPS 5.2, 5.3): `operators`, their role history
 * `operator_roles` (a row is never deleted, only ended: job rotation, CPS 5.3.5) and their
 * personnel file `personnel_events`.
 */
import type { Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** A row of `operators`. */
export interface OperatorRow {
  id: number;
  name: string;
  display_name: string;
  credential_kind: 'ed25519' | 'p256';
  signing_public_key: Buffer;
  encryption_public_key: Buffer;
  sealed_private_keys: Buffer;
  status: 'active' | 'removed';
  created_at: string;
  appointed_at: string | null;
  trained_on: string | null;
  background_checked_on: string | null;
  removed_at: string | null;
}

/** The tables of this repository, for Kysely. */
export interface OperatorTables {
  operators: Omit<OperatorRow, 'id' | 'status'> & { id: Generated<number>; status: Generated<OperatorRow['status']> };
  operator_roles: {
    id: Generated<number>;
    operator_id: number;
    role: string;
    assigned_at: string;
    ended_at: string | null;
  };
  personnel_events: {
    id: Generated<number>;
    operator_id: number;
    kind: string;
    detail: string;
    at: string;
    authorised_by: string;
  };
}

const q = sqliteQueries<OperatorTables>();

/** A new operator's row (status active); returns its id. */
export function insertOperator(db: Db, row: Omit<OperatorRow, 'id' | 'status' | 'removed_at'>): number {
  return run(db, q.insertInto('operators').values(row)).lastInsertRowid;
}

/** The operator named `name`, or undefined. */
export function findOperatorRowByName(db: Db, name: string): OperatorRow | undefined {
  return first(db, q.selectFrom('operators').selectAll().where('name', '=', name));
}

/** The operator with id `id`, or undefined. */
export function findOperatorRowById(db: Db, id: number): OperatorRow | undefined {
  return first(db, q.selectFrom('operators').selectAll().where('id', '=', id));
}

/** Every operator, by name. */
export function listOperatorRows(db: Db): OperatorRow[] {
  return all(db, q.selectFrom('operators').selectAll().orderBy('name'));
}

/** Records the date of the operator's last training (CPS 5.3.3). */
export function setTrainedOn(db: Db, operatorId: number, date: string): void {
  run(db, q.updateTable('operators').set({ trained_on: date }).where('id', '=', operatorId));
}

/** Records the date of the operator's last background check (CPS 5.3.2). */
export function setBackgroundCheckedOn(db: Db, operatorId: number, date: string): void {
  run(db, q.updateTable('operators').set({ background_checked_on: date }).where('id', '=', operatorId));
}

/** Marks the operator removed (CPS 5.3.6): the row stays for the record. */
export function markOperatorRemoved(db: Db, operatorId: number, at: string): void {
  run(db, q.updateTable('operators').set({ status: 'removed', removed_at: at }).where('id', '=', operatorId));
}

/** The roles the operator holds now, sorted. */
export function currentRoles(db: Db, operatorId: number): string[] {
  const rows = all(
    db,
    q
      .selectFrom('operator_roles')
      .select('role')
      .where('operator_id', '=', operatorId)
      .where('ended_at', 'is', null)
      .orderBy('role'),
  );
  return rows.map((r) => r.role);
}

/** Starts a role assignment. */
export function insertOperatorRole(db: Db, operatorId: number, role: string, at: string): void {
  run(db, q.insertInto('operator_roles').values({ operator_id: operatorId, role, assigned_at: at }));
}

/** Ends the operator's current assignment of `role`; how many rows ended (0: not held). */
export function endOperatorRole(db: Db, operatorId: number, role: string, at: string): number {
  return run(
    db,
    q
      .updateTable('operator_roles')
      .set({ ended_at: at })
      .where('operator_id', '=', operatorId)
      .where('role', '=', role)
      .where('ended_at', 'is', null),
  ).changes;
}

/** Ends every current role of the operator (removal). */
export function endAllOperatorRoles(db: Db, operatorId: number, at: string): void {
  run(
    db,
    q
      .updateTable('operator_roles')
      .set({ ended_at: at })
      .where('operator_id', '=', operatorId)
      .where('ended_at', 'is', null),
  );
}

/** The operator's role assignments, oldest first (job rotation, CPS 5.3.5). */
export function operatorRoleHistory(
  db: Db,
  operatorId: number,
): { role: string; assigned_at: string; ended_at: string | null }[] {
  return all(
    db,
    q
      .selectFrom('operator_roles')
      .select(['role', 'assigned_at', 'ended_at'])
      .where('operator_id', '=', operatorId)
      .orderBy('id'),
  );
}

/** Adds an event to the operator's personnel file; `detail` is JSON. */
export function insertPersonnelEvent(
  db: Db,
  e: { operatorId: number; kind: string; detail: string; at: string; authorisedBy: string },
): void {
  run(
    db,
    q
      .insertInto('personnel_events')
      .values({ operator_id: e.operatorId, kind: e.kind, detail: e.detail, at: e.at, authorised_by: e.authorisedBy }),
  );
}

/** The operator's personnel file, oldest first. */
export function personnelEvents(
  db: Db,
  operatorId: number,
): { kind: string; detail: string; at: string; authorised_by: string }[] {
  return all(
    db,
    q
      .selectFrom('personnel_events')
      .select(['kind', 'detail', 'at', 'authorised_by'])
      .where('operator_id', '=', operatorId)
      .orderBy('id'),
  );
}

/** 'active' or 'removed', or undefined for a name that is no operator (checked before a ceremony asks anyone). */
export function operatorStatus(db: Db, name: string): 'active' | 'removed' | undefined {
  return first(db, q.selectFrom('operators').select('status').where('name', '=', name))?.status;
}
