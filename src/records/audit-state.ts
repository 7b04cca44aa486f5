/**
 * `rootca audit verify --state` (issue 14 item 4; CPS 5.4.1, 5.4.4): the hash chain and the
 * checkpoints, and then the state tables against the log (audit/state-check.ts). The check is
 * itself an audit event, as `archive inspect` is; a mismatch names the row and the event.
 */
import type { AuditVerification } from '../audit/trail-verifier.ts';
import { verifyStateAgainstLog, type StateCheck } from '../audit/state-check.ts';
import type { Installation } from '../installation/installation.ts';

/** The chain and the state tables checked together. */
export interface AuditStateResult {
  ok: boolean;
  chain: AuditVerification;
  state: StateCheck;
}

/** Verifies the chain, then the state tables against the log; the check is itself audited. */
export function verifyAuditState(inst: Installation): AuditStateResult {
  const chain = inst.audit.verify();
  const state = verifyStateAgainstLog(inst.db);
  const ok = chain.ok && state.ok;
  inst.audit.append({
    actor: inst.systemActor,
    roles: [],
    action: 'audit.verify-state',
    target: 'audit-log',
    outcome: ok ? 'success' : 'failed',
    details: {
      chainOk: chain.ok,
      events: chain.events,
      checked: state.checked,
      mismatches: state.mismatches.slice(0, 50),
    },
  });
  return { ok, chain, state };
}

/** One line per mismatch: the table side, then the log side. */
export function formatStateMismatches(state: StateCheck): string[] {
  return state.mismatches.map((m) => `${m.row} <-> ${m.event}: ${m.problem}`);
}
