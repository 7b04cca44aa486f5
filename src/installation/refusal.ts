/**
 * How a refused operation is recorded (CPS 5.4.1: refused operations are audit events). Beside
 * the installation, below every use case, so any of them can record a refusal without importing
 * another's module.
 */
import type { ErrorCode } from '../errors.ts';
import type { Installation } from './installation.ts';

/** The audit event of a refusal: one shape for every operation that refuses (CPS 5.4.1). */
export function auditRefusal(
  inst: Installation,
  r: { action: string; target: string; actor?: string },
  e: { code: ErrorCode; message: string; details?: Record<string, unknown> },
): void {
  inst.audit.append({
    actor: r.actor ?? inst.systemActor,
    roles: [],
    action: r.action,
    target: r.target,
    outcome: 'refused',
    details: { code: e.code, message: e.message, ...e.details },
  });
}
