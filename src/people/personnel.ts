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

const DAY = 86_400_000;

/** Throws OPERATOR_REMOVED / TRAINING_MISSING / TRAINING_EXPIRED / BACKGROUND_CHECK_* when the person may not take part. */
export function checkFitForDuty(inst: Installation, op: OperatorRecord): void {
  if (op.status !== 'active') throw new CaError('OPERATOR_REMOVED', `operator ${op.name} was removed${op.removedAt ? ` on ${op.removedAt.slice(0, 10)}` : ''} and can no longer take part`);
  const now = inst.clock.now().getTime();
  const p = inst.config.personnel;
  if (!op.trainedOn) throw new CaError('TRAINING_MISSING', `${op.name} has no training recorded; record it with \`rootca operator train ${op.name} --date YYYY-MM-DD\` (CPS 5.3.3)`);
  if (now - Date.parse(op.trainedOn) > p.trainingValidityDays * DAY) {
    throw new CaError('TRAINING_EXPIRED', `${op.name} was last trained on ${op.trainedOn.slice(0, 10)}, more than ${p.trainingValidityDays} days ago; retraining is due (CPS 5.3.4)`);
  }
  if (!op.backgroundCheckedOn) throw new CaError('BACKGROUND_CHECK_MISSING', `${op.name} has no background check recorded (CPS 5.3.2)`);
  if (now - Date.parse(op.backgroundCheckedOn) > p.backgroundCheckValidityDays * DAY) {
    throw new CaError('BACKGROUND_CHECK_EXPIRED', `${op.name}'s background check of ${op.backgroundCheckedOn.slice(0, 10)} is older than ${p.backgroundCheckValidityDays} days (CPS 5.3.2)`);
  }
}

export type PersonnelChange =
  | { kind: 'assign-role'; operator: string; role: string }
  | { kind: 'end-role'; operator: string; role: string }
  | { kind: 'training'; operator: string; date: string }
  | { kind: 'background-check'; operator: string; date: string }
  | { kind: 'remove'; operator: string; reason: string };

/** Applies one change (already authorised) with its personnel event, in one transaction. */
export function applyPersonnelChange(inst: Installation, change: PersonnelChange, authorisedBy: string): OperatorRecord {
  const op = getOperator(inst, change.operator);
  const now = inst.clock.now().toISOString();
  if (op.status !== 'active') throw new CaError('OPERATOR_REMOVED', `operator ${op.name} was removed; appoint a new operator instead`);
  inst.db.transaction(() => {
    switch (change.kind) {
      case 'assign-role': {
        if (!isRole(change.role)) throw new CaError('ROLE_UNKNOWN', `unknown role ${change.role}; the roles are: ${Object.keys(ROLES).join(', ')}`);
        if (op.roles.includes(change.role)) throw new CaError('ROLE_ALREADY_HELD', `${op.name} already holds ${change.role}`);
        checkRoleCombination(op.name, [...op.roles, change.role as Role]);
        inst.db.prepare('INSERT INTO operator_roles (operator_id, role, assigned_at) VALUES (?,?,?)').run(op.id, change.role, now);
        break;
      }
      case 'end-role': {
        const r = inst.db.prepare('UPDATE operator_roles SET ended_at = ? WHERE operator_id = ? AND role = ? AND ended_at IS NULL').run(now, op.id, change.role);
        if (r.changes === 0) throw new CaError('ROLE_NOT_HELD', `${op.name} does not hold ${change.role}`);
        break;
      }
      case 'training':
        inst.db.prepare('UPDATE operators SET trained_on = ? WHERE id = ?').run(isoDate(change.date), op.id);
        break;
      case 'background-check':
        inst.db.prepare('UPDATE operators SET background_checked_on = ? WHERE id = ?').run(isoDate(change.date), op.id);
        break;
      case 'remove':
        inst.db.prepare("UPDATE operators SET status = 'removed', removed_at = ? WHERE id = ?").run(now, op.id);
        inst.db.prepare('UPDATE operator_roles SET ended_at = ? WHERE operator_id = ? AND ended_at IS NULL').run(now, op.id);
        break;
    }
    inst.db.prepare('INSERT INTO personnel_events (operator_id, kind, detail, at, authorised_by) VALUES (?,?,?,?,?)').run(op.id, change.kind, JSON.stringify(change), now, authorisedBy);
  }).immediate();
  return getOperator(inst, op.name);
}

export interface PersonnelEvent { kind: string; detail: Record<string, unknown>; at: string; authorisedBy: string }

/** The personnel file of one operator, oldest first: appointment, roles, training, removal. */
export function personnelHistory(inst: Installation, name: string): PersonnelEvent[] {
  const op = getOperator(inst, name);
  return (inst.db.prepare('SELECT kind, detail, at, authorised_by FROM personnel_events WHERE operator_id = ? ORDER BY id').all(op.id) as { kind: string; detail: string; at: string; authorised_by: string }[])
    .map((r) => ({ kind: r.kind, detail: JSON.parse(r.detail), at: r.at, authorisedBy: r.authorised_by }));
}

/** Role assignments over time (job rotation, CPS 5.3.5). */
export function roleHistory(inst: Installation, name: string): { role: string; assignedAt: string; endedAt: string | null }[] {
  const op = getOperator(inst, name);
  return (inst.db.prepare('SELECT role, assigned_at, ended_at FROM operator_roles WHERE operator_id = ? ORDER BY id').all(op.id) as { role: string; assigned_at: string; ended_at: string | null }[])
    .map((r) => ({ role: r.role, assignedAt: r.assigned_at, endedAt: r.ended_at }));
}
