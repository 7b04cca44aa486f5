/**
 * Personnel controls (CPS 5.3, R-5.3): appointment, training, background checks, role
 * assignment (a history, for job rotation, 5.3.5) and removal. An operator is fit for duty
 * only while appointed, trained within the configured period and background-checked.
 */
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { isoDate } from './dates.ts';
import { getOperator, type OperatorRecord } from './operators.ts';
import { checkRoleCombination } from './permissions.ts';
import { isRole, ROLES, type Role } from './roles.ts';
import {
  endAllOperatorRoles,
  endOperatorRole,
  insertOperatorRole,
  insertPersonnelEvent,
  markOperatorRemoved,
  operatorRoleHistory,
  personnelEvents,
  setBackgroundCheckedOn,
  setTrainedOn,
} from '../store/operators.ts';

const DAY = 86_400_000;

/** Throws OPERATOR_REMOVED / TRAINING_MISSING / TRAINING_EXPIRED / BACKGROUND_CHECK_* when the person may not take part. */
export function checkFitForDuty(inst: Installation, op: OperatorRecord): void {
  if (op.status !== 'active')
    throw new CaError(
      'OPERATOR_REMOVED',
      `operator ${op.name} was removed${op.removedAt ? ` on ${op.removedAt.slice(0, 10)}` : ''} and can no longer take part`,
    );
  const now = inst.clock.now().getTime();
  const p = inst.config.personnel;
  if (!op.trainedOn)
    throw new CaError(
      'TRAINING_MISSING',
      `${op.name} has no training recorded; record it with \`rootca operator train ${op.name} --date YYYY-MM-DD\` (CPS 5.3.3)`,
    );
  if (now - Date.parse(op.trainedOn) > p.trainingValidityDays * DAY) {
    throw new CaError(
      'TRAINING_EXPIRED',
      `${op.name} was last trained on ${op.trainedOn.slice(0, 10)}, more than ${p.trainingValidityDays} days ago; retraining is due (CPS 5.3.4)`,
    );
  }
  if (!op.backgroundCheckedOn)
    throw new CaError('BACKGROUND_CHECK_MISSING', `${op.name} has no background check recorded (CPS 5.3.2)`);
  if (now - Date.parse(op.backgroundCheckedOn) > p.backgroundCheckValidityDays * DAY) {
    throw new CaError(
      'BACKGROUND_CHECK_EXPIRED',
      `${op.name}'s background check of ${op.backgroundCheckedOn.slice(0, 10)} is older than ${p.backgroundCheckValidityDays} days (CPS 5.3.2)`,
    );
  }
}

/** One change to a personnel record (CPS 5.3), as it is authorised and recorded. */
export type PersonnelChange =
  | { kind: 'assign-role'; operator: string; role: string }
  | { kind: 'end-role'; operator: string; role: string }
  | { kind: 'training'; operator: string; date: string }
  | { kind: 'background-check'; operator: string; date: string }
  | { kind: 'remove'; operator: string; reason: string };

/** The operator a change is for, refused when the change cannot apply to them (removed, unknown or held role). */
export function checkedPersonnelChange(inst: Installation, change: PersonnelChange): OperatorRecord {
  const op = getOperator(inst, change.operator);
  if (op.status !== 'active')
    throw new CaError('OPERATOR_REMOVED', `operator ${op.name} was removed; appoint a new operator instead`);
  if (change.kind === 'assign-role') {
    if (!isRole(change.role))
      throw new CaError('ROLE_UNKNOWN', `unknown role ${change.role}; the roles are: ${Object.keys(ROLES).join(', ')}`);
    if (op.roles.includes(change.role))
      throw new CaError('ROLE_ALREADY_HELD', `${op.name} already holds ${change.role}`);
    checkRoleCombination(op.name, [...op.roles, change.role as Role]);
  }
  if (change.kind === 'end-role' && !op.roles.includes(change.role as Role))
    throw new CaError('ROLE_NOT_HELD', `${op.name} does not hold ${change.role}`);
  if (change.kind === 'training' || change.kind === 'background-check') isoDate(change.date);
  return op;
}

/** Inside the action's transaction: applies one checked, authorised change with its personnel event. */
export function applyPersonnelChange(
  inst: Installation,
  op: OperatorRecord,
  change: PersonnelChange,
  authorisedBy: string,
): void {
  const now = inst.clock.now().toISOString();
  switch (change.kind) {
    case 'assign-role':
      insertOperatorRole(inst.db, op.id, change.role, now);
      break;
    case 'end-role':
      if (endOperatorRole(inst.db, op.id, change.role, now) === 0)
        throw new CaError('ROLE_NOT_HELD', `${op.name} does not hold ${change.role}`);
      break;
    case 'training':
      setTrainedOn(inst.db, op.id, isoDate(change.date));
      break;
    case 'background-check':
      setBackgroundCheckedOn(inst.db, op.id, isoDate(change.date));
      break;
    case 'remove':
      markOperatorRemoved(inst.db, op.id, now);
      endAllOperatorRoles(inst.db, op.id, now);
      break;
  }
  insertPersonnelEvent(inst.db, {
    operatorId: op.id,
    kind: change.kind,
    detail: JSON.stringify(change),
    at: now,
    authorisedBy,
  });
}

/** One entry of a personnel file. */
export interface PersonnelEvent {
  kind: string;
  detail: Record<string, unknown>;
  at: string;
  authorisedBy: string;
}

/** The personnel file of one operator, oldest first: appointment, roles, training, removal. */
export function personnelHistory(inst: Installation, name: string): PersonnelEvent[] {
  const op = getOperator(inst, name);
  return personnelEvents(inst.db, op.id).map((r) => ({
    kind: r.kind,
    detail: JSON.parse(r.detail),
    at: r.at,
    authorisedBy: r.authorised_by,
  }));
}

/** Role assignments over time (job rotation, CPS 5.3.5). */
export function roleHistory(
  inst: Installation,
  name: string,
): { role: string; assignedAt: string; endedAt: string | null }[] {
  const op = getOperator(inst, name);
  return operatorRoleHistory(inst.db, op.id).map((r) => ({
    role: r.role,
    assignedAt: r.assigned_at,
    endedAt: r.ended_at,
  }));
}
