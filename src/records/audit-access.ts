/**
 * Reading the audit log is itself controlled and recorded (CPS 5.4.4: "secure sole access by
 * the authorized personnel"): only a Log Examiner, authenticated, and the read is an event.
 */
import type { AuditEvent } from '../audit/event.ts';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { bringParticipant, operationDigest, type PassphraseSource } from '../people/participants.ts';
import { auditRefusal } from '../installation/refusal.ts';

export async function readAuditLog(
  inst: Installation,
  p: { examiner: string; passphrases: PassphraseSource; from?: number; to?: number },
): Promise<AuditEvent[]> {
  const from = p.from ?? 1;
  const to = p.to ?? Number.MAX_SAFE_INTEGER;
  const digest = operationDigest({ kind: 'audit.read', from, to });
  const who = await bringParticipant(inst, p.examiner, p.passphrases, 'reading the audit log', digest, {
    operation: 'audit.read',
    slot: 'examiner',
  });
  if (!who) {
    const e = new CaError(
      'AUTHENTICATION_REQUIRED',
      `${p.examiner} did not authenticate; the audit log is read only by an authenticated Log Examiner (CPS 5.4.4)`,
    );
    auditRefusal(inst, { action: 'audit.read', target: 'audit-log', actor: p.examiner }, e);
    throw e;
  }
  who.credential.lock();
  const events = inst.audit.list(from, to);
  inst.audit.append({
    actor: p.examiner,
    roles: who.operator.roles,
    action: 'audit.read',
    target: 'audit-log',
    outcome: 'success',
    details: { from, to: Math.min(to, events.at(-1)?.seq ?? 0), events: events.length },
  });
  return events;
}
