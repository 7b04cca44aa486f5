/**
 * Authority over personnel (CPS 5.2.1, 5.3): appointing, re-assigning, training records and
 * removal are authorised by a Person Responsible for Services with a Service Operation
 * Manager present (5.2.2: no task by one person). Nobody changes their own record.
 *
 * Bootstrap: a new installation has nobody to authorise the first appointments. Until it has
 * an active Person Responsible and an active Service Operation Manager, appointments are made
 * by the installer and audited as `bootstrap`; once both exist the bootstrap closes for good.
 */
import { CaError, UsageError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { runRecordedAction } from '../operation/recorded-action.ts';
import {
  checkedAppointment,
  getOperator,
  listOperators,
  recordAppointment,
  type AddOperatorParams,
  type OperatorRecord,
} from './operators.ts';
import { bringParticipant, lockAll, operationDigest, type Participant, type PassphraseSource } from './participants.ts';
import { checkDistinct } from './permissions.ts';
import { applyPersonnelChange, checkedPersonnelChange, type PersonnelChange } from './personnel.ts';
import { insertMetaValue, metaValue } from '../store/meta.ts';

/** Who authorises a personnel change (CPS 5.2.1, 5.2.2). */
export interface Authority {
  /** A Person Responsible for Services. */
  authoriser?: string;
  /** A Service Operation Manager. */
  witness?: string;
  passphrases: PassphraseSource;
}

/** Whether appointments are still made by the installer (no Person Responsible and Operation Manager yet). */
export function bootstrapOpen(inst: Installation): boolean {
  return metaValue(inst.db, 'bootstrap_closed') === undefined;
}

/** Closes the bootstrap for good once an active Person Responsible and Operation Manager exist. */
export function closeBootstrapIfReady(inst: Installation): void {
  if (!bootstrapOpen(inst)) return;
  const active = listOperators(inst).filter((o) => o.status === 'active');
  if (
    active.some((o) => o.roles.includes('person-responsible')) &&
    active.some((o) => o.roles.includes('operation-manager'))
  ) {
    insertMetaValue(inst.db, 'bootstrap_closed', inst.clock.now().toISOString());
    inst.audit.append({
      actor: inst.systemActor,
      roles: [],
      action: 'installation.bootstrap-closed',
      target: inst.config.installation.name,
      outcome: 'success',
      details: {},
    });
  }
}

/** Refuses a personnel change without both people named (a usage error, before anything is recorded). */
function requireAuthority(inst: Installation, a: Authority): void {
  if (bootstrapOpen(inst)) return;
  if (!a.authoriser || !a.witness)
    throw new UsageError(
      'PERSONNEL_AUTHORISATION_REQUIRED',
      'personnel changes need --by NAME (person-responsible) and --witness NAME (operation-manager), CPS 5.2.1/5.2.2',
    );
}

/** The checks on who authorises a change to `subject`'s record (CPS 5.2.2, 5.2.4); a CaError is a refusal. */
function checkAuthority(inst: Installation, a: Authority, subject: string): void {
  if (bootstrapOpen(inst)) return;
  if (a.authoriser === subject || a.witness === subject)
    throw new CaError(
      'SELF_CHANGE_REFUSED',
      `${subject} cannot authorise or witness a change to their own record (CPS 5.2.4)`,
    );
  checkDistinct('operator.manage', { authoriser: [a.authoriser!], witness: [a.witness!] });
}

/** Authenticates authoriser and witness for a personnel change; returns who authorised it. */
async function authorise(
  inst: Installation,
  a: Authority,
  change: Record<string, unknown>,
  subject: string,
): Promise<string> {
  if (bootstrapOpen(inst)) return 'bootstrap';
  const digest = operationDigest({ kind: 'operator.manage', subject, change });
  const people: Participant[] = [];
  try {
    for (const [name, slot] of [
      [a.authoriser!, 'authoriser'],
      [a.witness!, 'witness'],
    ] as const) {
      const p = await bringParticipant(
        inst,
        name,
        a.passphrases,
        `${slot} of a personnel change for ${subject}`,
        digest,
        { operation: 'operator.manage', slot },
      );
      if (!p) throw new CaError('AUTHENTICATION_REQUIRED', `${name} did not authenticate`);
      people.push(p);
    }
  } finally {
    lockAll(people);
  }
  return `${a.authoriser}+${a.witness}`;
}

/** Appoints an operator (CPS 5.3.1), authorised as above, on the recorded-action runner. */
export async function appointOperator(inst: Installation, p: AddOperatorParams, a: Authority): Promise<OperatorRecord> {
  requireAuthority(inst, a);
  const change = { kind: 'appoint', roles: p.roles };
  return runRecordedAction(inst, {
    action: 'operator.add',
    target: p.name,
    actor: a.authoriser,
    refusalDetails: { change },
    check: () => {
      checkAuthority(inst, a, p.name);
      return checkedAppointment(inst, p);
    },
    ask: () => authorise(inst, a, change, p.name),
    work: (checked, authorisedBy, audit) => {
      const op = recordAppointment(inst, { ...p, authorisedBy }, checked, audit);
      closeBootstrapIfReady(inst);
      return op;
    },
  });
}

/** Role assignment, training/background records, removal; authorised as above and audited. */
export async function changePersonnel(
  inst: Installation,
  change: PersonnelChange,
  a: Authority,
): Promise<OperatorRecord> {
  requireAuthority(inst, a);
  return runRecordedAction(inst, {
    action: `operator.${change.kind}`,
    target: change.operator,
    actor: a.authoriser,
    check: () => {
      checkAuthority(inst, a, change.operator);
      return checkedPersonnelChange(inst, change);
    },
    ask: () => authorise(inst, a, change, change.operator),
    work: (op, authorisedBy, audit) => {
      applyPersonnelChange(inst, op, change, authorisedBy);
      audit({ actor: authorisedBy, roles: [], details: { ...change } });
      closeBootstrapIfReady(inst);
      return getOperator(inst, op.name);
    },
  });
}
