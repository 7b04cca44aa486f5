/**
 * How an operation refuses (CPS 5.4.1: refused operations are audit events): one refusal tool
 * for the key runner and the recorded-action runner, with no dependency on people or keys, so
 * any use case may run a recorded action without an import cycle.
 */
import { CaError, type ErrorCode } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { auditRefusal } from '../installation/refusal.ts';

/** Refuses with an audit event (never returns). */
export type Refuse = (code: ErrorCode, message: string, details?: Record<string, unknown>) => never;

/** What the checks step gets: `refuse` to refuse, `guard` to turn a CaError of a lookup into a refusal. */
export interface Checks {
  refuse: Refuse;
  guard: <T>(fn: () => T) => T;
}

/** Refusals already audited, so a guard around a check that refused does not refuse twice. */
const refusals = new WeakSet<CaError>();

/** True for an error `refuser` threw (its audit event is written). */
export function isRefusal(e: unknown): boolean {
  return e instanceof CaError && refusals.has(e);
}

/**
 * Marks an error whose audit event the caller wrote itself (e.g. a `failed` outcome after the
 * checks, such as an unreachable TSA), so the runners do not record it again as a refusal.
 */
export function alreadyAudited<E extends CaError>(e: E): E {
  refusals.add(e);
  return e;
}

/** Refuses with an audit event; used for every check before people are asked for anything. */
export function refuser(
  inst: Installation,
  action: string,
  target: string,
  extra: Record<string, unknown> = {},
  actor: string = inst.systemActor,
) {
  return (code: ErrorCode, message: string, details: Record<string, unknown> = {}): never => {
    auditRefusal(inst, { action, target, actor }, { code, message, details: { ...extra, ...details } });
    const e = new CaError(code, message, { details });
    refusals.add(e);
    throw e;
  };
}

/** Runs `fn`; a CaError it throws becomes a refusal through `refuse` (so it is audited). */
export function guardedBy(refuse: (code: ErrorCode, message: string, details?: Record<string, unknown>) => never) {
  return <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof CaError && !refusals.has(e)) return refuse(e.code, e.message, e.details);
      throw e;
    }
  };
}

/** Runs the checks; a CaError not yet refused (audited) becomes a refusal. */
export function checked<C>(fn: () => C, refuse: Refuse): C {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CaError && !isRefusal(e)) return refuse(e.code, e.message, e.details);
    throw e;
  }
}
