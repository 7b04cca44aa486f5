/**
 * Operators: the people in trusted roles (CPS 5.2, 5.3), each with their own credential —
 * a key pair sealed under their passphrase — used to prove presence and to open key shares.
 */
import { CaError } from '../errors.ts';
import {
  checkPassphrasePolicy,
  createCredential,
  unlockCredential,
  type CredentialKind,
  type SealedCredential,
  type UnlockedCredential,
} from '../keys/credential.ts';
import type { Installation } from '../installation/installation.ts';
import { type AuditSuccess, runRecordedActionNow } from '../operation/recorded-action.ts';
import { isoDate } from './dates.ts';
import { checkRoleCombination } from './permissions.ts';
import { isRole, ROLES, type Role } from './roles.ts';
import {
  currentRoles,
  findOperatorRowById,
  findOperatorRowByName,
  insertOperator,
  insertOperatorRole,
  insertPersonnelEvent,
  listOperatorRows,
  type OperatorRow,
} from '../store/operators.ts';
import { auditRefusal } from '../installation/refusal.ts';

/** An operator as the use cases see them: roles held now, credential and personnel dates. */
export interface OperatorRecord {
  id: number;
  name: string;
  displayName: string;
  status: 'active' | 'removed';
  roles: Role[];
  credential: SealedCredential;
  createdAt: string;
  appointedAt: string;
  trainedOn: string | null;
  backgroundCheckedOn: string | null;
  removedAt: string | null;
}

/** What an operator's name may be: it appears in audit events, file names and prompts. */
export const OPERATOR_NAME = /^[a-z][a-z0-9._-]{0,63}$/;

/** An appointment: the person, their roles and credential, and who authorised it. */
export interface AddOperatorParams {
  name: string;
  displayName?: string;
  roles: string[];
  kind: CredentialKind;
  passphrase: Buffer;
  /** YYYY-MM-DD of the training and background check done before appointment (CPS 5.3.2, 5.3.3). */
  trainedOn?: string;
  backgroundCheckedOn?: string;
  /** Who authorised the appointment (names, or 'bootstrap'); see personnel-authority.ts. */
  authorisedBy?: string;
}

/** Registers a person with roles and a fresh credential sealed under their passphrase (by the installer). */
export function addOperator(inst: Installation, p: AddOperatorParams): OperatorRecord {
  return runRecordedActionNow(inst, {
    action: 'operator.add',
    target: p.name,
    check: () => checkedAppointment(inst, p),
    work: (a, _, audit) => recordAppointment(inst, p, a, audit),
  });
}

/** An appointment that passed its checks: the dates as stored, the roles and the new credential. */
export interface CheckedAppointment {
  trainedOn: string | null;
  checkedOn: string | null;
  roles: Role[];
  credential: ReturnType<typeof createCredential>;
}

/** The new operator's checks (name, roles, dates, passphrase), then their credential; a CaError is a refusal. */
export function checkedAppointment(inst: Installation, p: AddOperatorParams): CheckedAppointment {
  if (!OPERATOR_NAME.test(p.name))
    throw new CaError(
      'OPERATOR_NAME_INVALID',
      `operator name "${p.name}" must be lower case letters, digits, . _ - (starting with a letter)`,
    );
  const unknown = p.roles.filter((r) => !isRole(r));
  if (unknown.length)
    throw new CaError(
      'ROLE_UNKNOWN',
      `unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the roles are: ${Object.keys(ROLES).join(', ')}`,
    );
  if (p.roles.length === 0)
    throw new CaError('ROLE_MISSING', `operator ${p.name} needs at least one role (${Object.keys(ROLES).join(', ')})`);
  if (findOperator(inst, p.name)) throw new CaError('OPERATOR_EXISTS', `operator ${p.name} already exists`);
  checkRoleCombination(p.name, p.roles as Role[]);
  const trainedOn = p.trainedOn ? isoDate(p.trainedOn) : null;
  const checkedOn = p.backgroundCheckedOn ? isoDate(p.backgroundCheckedOn) : null;
  try {
    checkPassphrasePolicy(p.passphrase);
  } catch (e) {
    throw new CaError((e as CaError).code ?? 'WEAK_PASSPHRASE', (e as Error).message);
  }
  const credential = createCredential(p.name, p.kind, p.passphrase, {
    scryptLog2N: inst.config.credentials.scryptLog2N,
  });
  return { trainedOn, checkedOn, roles: [...new Set(p.roles)] as Role[], credential };
}

/** Inside the action's transaction: the operator, their roles, the personnel event and the `operator.add` event. */
export function recordAppointment(
  inst: Installation,
  p: AddOperatorParams,
  a: CheckedAppointment,
  audit: AuditSuccess,
): OperatorRecord {
  const now = inst.clock.now().toISOString();
  const { credential, roles, trainedOn, checkedOn } = a;
  const id = insertOperator(inst.db, {
    name: p.name,
    display_name: p.displayName ?? p.name,
    credential_kind: credential.kind,
    signing_public_key: credential.signingPublicKey,
    encryption_public_key: credential.encryptionPublicKey,
    sealed_private_keys: credential.sealedPrivateKeys,
    created_at: now,
    appointed_at: now,
    trained_on: trainedOn,
    background_checked_on: checkedOn,
  });
  for (const r of roles) insertOperatorRole(inst.db, id, r, now);
  insertPersonnelEvent(inst.db, {
    operatorId: id,
    kind: 'appointed',
    detail: JSON.stringify({ roles, trainedOn, backgroundCheckedOn: checkedOn }),
    at: now,
    authorisedBy: p.authorisedBy ?? inst.systemActor,
  });
  audit({
    actor: p.authorisedBy ?? inst.systemActor,
    roles: [],
    details: { roles, credentialKind: p.kind, trainedOn, backgroundCheckedOn: checkedOn },
  });
  return getOperator(inst, p.name);
}

/** The operator named `name`, or undefined. */
export function findOperator(inst: Installation, name: string): OperatorRecord | undefined {
  const row = findOperatorRowByName(inst.db, name);
  return row ? toRecord(inst, row) : undefined;
}

/** The operator named `name`; OPERATOR_UNKNOWN otherwise. */
export function getOperator(inst: Installation, name: string): OperatorRecord {
  const op = findOperator(inst, name);
  if (!op) throw new CaError('OPERATOR_UNKNOWN', `no operator named ${name} in this installation`);
  return op;
}

/** The operator with this id (audit and personnel rows refer to it); OPERATOR_UNKNOWN otherwise. */
export function getOperatorById(inst: Installation, id: number): OperatorRecord {
  const row = findOperatorRowById(inst.db, id);
  if (!row) throw new CaError('OPERATOR_UNKNOWN', `no operator with id ${id}`);
  return toRecord(inst, row);
}

/** Every operator, removed ones included, by name. */
export function listOperators(inst: Installation): OperatorRecord[] {
  return listOperatorRows(inst.db).map((r) => toRecord(inst, r));
}

/**
 * Proves a person is present: opens their credential with their passphrase. A wrong
 * passphrase, an unknown or removed operator is refused and audited.
 */
export function authenticateOperator(
  inst: Installation,
  name: string,
  passphrase: Buffer,
  purpose: string,
): { operator: OperatorRecord; credential: UnlockedCredential } {
  const refuse = (e: CaError): never => {
    auditRefusal(
      inst,
      { action: 'operator.authenticate', target: name, actor: name },
      { code: e.code, message: e.message, details: { purpose } },
    );
    throw e;
  };
  const operator = findOperator(inst, name);
  if (!operator) return refuse(new CaError('OPERATOR_UNKNOWN', `no operator named ${name} in this installation`));
  if (operator.status !== 'active')
    return refuse(
      new CaError(
        'OPERATOR_REMOVED',
        `operator ${name} was removed${operator.removedAt ? ` on ${operator.removedAt.slice(0, 10)}` : ''} and can no longer take part`,
      ),
    );
  try {
    return { operator, credential: unlockCredential(name, operator.credential, passphrase) };
  } catch (e) {
    if (e instanceof CaError) return refuse(e);
    throw e;
  }
}

function toRecord(inst: Installation, r: OperatorRow): OperatorRecord {
  const roles = currentRoles(inst.db, r.id) as Role[];
  return {
    id: r.id,
    name: r.name,
    displayName: r.display_name,
    status: r.status,
    roles,
    credential: {
      kind: r.credential_kind,
      signingPublicKey: r.signing_public_key,
      encryptionPublicKey: r.encryption_public_key,
      sealedPrivateKeys: r.sealed_private_keys,
    },
    createdAt: r.created_at,
    appointedAt: r.appointed_at ?? r.created_at,
    trainedOn: r.trained_on,
    backgroundCheckedOn: r.background_checked_on,
    removedAt: r.removed_at,
  };
}
