/**
 * The runner for an operation without a CA key (issue 13 item 3): the same refusal protocol as
 * `runOperation` — checks first, a refusal audited before anyone is asked for anything (CPS
 * 5.4.1 "refused operations are recorded") — then the work and its success audit event in one
 * transaction, so a recorded action is never half done. A CaError from any step (the checks,
 * the asking, or the work, whose transaction is then rolled back) is audited as a refusal.
 */
import type { AuditEvent, AuditEventInput } from '../audit/event.ts';
import type { Installation } from '../installation/installation.ts';
import { checked, type Checks, type Refuse, guardedBy, refuser } from './refusals.ts';

/** Inside the work's transaction: appends the success audit event of the action on its target. */
export type AuditSuccess = (e: Omit<AuditEventInput, 'action' | 'target' | 'outcome'>) => AuditEvent;

export interface RecordedActionSpec<C, P, R> {
  /** The audit action of the refusal and of the success event. */
  action: string;
  /** What the audit events name. */
  target: string;
  /** Who a refusal names (the system actor when not given). */
  actor?: string;
  /** Added to every refusal's audit details. */
  refusalDetails?: Record<string, unknown>;
  /** Sync checks: a CaError here is a refusal, audited, before anyone is asked for anything. */
  check(c: Checks): C;
  /** After the checks, outside the transaction: who authenticates, what is read (may still refuse). */
  ask?(c: C, x: Checks): Promise<P>;
  /** The state writes with their success audit event, in one transaction. */
  work(c: C, p: P, audit: AuditSuccess): R;
}

/** Runs one recorded action: audited checks, then the work and its audit event in one transaction. */
export async function runRecordedAction<C, P = undefined, R = void>(
  inst: Installation,
  spec: RecordedActionSpec<C, P, R>,
): Promise<R> {
  const { c, x } = checkedStart(inst, spec);
  const p = await refusedOnError(() => prepared(spec, c, x), x.refuse);
  return committed(inst, spec, c, p, x.refuse);
}

/**
 * The same protocol for an action that asks no one, run synchronously: an appointment by the
 * installer (bootstrap, demo, fixtures) is one call with no await between its checks and its writes.
 */
export function runRecordedActionNow<C, R = void>(
  inst: Installation,
  spec: Omit<RecordedActionSpec<C, undefined, R>, 'ask'>,
): R {
  const { c, x } = checkedStart(inst, spec);
  return committed(inst, spec, c, undefined, x.refuse);
}

/** The refusal tools for the action and the result of its checks (a CaError there is a refusal). */
function checkedStart<C>(
  inst: Installation,
  spec: Pick<RecordedActionSpec<C, unknown, unknown>, 'action' | 'target' | 'actor' | 'refusalDetails' | 'check'>,
): { c: C; x: Checks } {
  const refuse = refuser(inst, spec.action, spec.target, spec.refusalDetails, spec.actor);
  const x = { refuse, guard: guardedBy(refuse) };
  return { c: checked(() => spec.check(x), refuse), x };
}

/** The work with its success event in one transaction; a CaError rolls it back and is audited as a refusal. */
function committed<C, P, R>(
  inst: Installation,
  spec: Pick<RecordedActionSpec<C, P, R>, 'action' | 'target' | 'work'>,
  c: C,
  p: P,
  refuse: Refuse,
): R {
  const audit: AuditSuccess = (e) =>
    inst.audit.append({ ...e, action: spec.action, target: spec.target, outcome: 'success' });
  // The refusal is appended after the rollback, so it is recorded even though the work is not.
  return checked(() => inst.db.transaction(() => spec.work(c, p, audit)).immediate(), refuse);
}

/** Awaits `fn`; a CaError that is not yet a refusal becomes one (audited). */
async function refusedOnError<T>(fn: () => Promise<T>, refuse: Refuse): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    return checked(() => {
      throw e;
    }, refuse);
  }
}

/** The ask step's result, or nothing for an action that asks no one. */
async function prepared<C, P, R>(spec: RecordedActionSpec<C, P, R>, c: C, x: Checks): Promise<P> {
  if (!spec.ask) return undefined as P;
  return spec.ask(c, x);
}
