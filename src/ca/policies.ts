/** Certificate Policy OIDs registered per CA and purpose (R-1.2, CPS 1.2). */
import type { PolicyPurpose } from '../pki/profiles.ts';
import type { Installation } from './installation.ts';

export function caPolicies(inst: Installation, caId: number, purpose: PolicyPurpose | null): string[] {
  if (!purpose) return [];
  return (inst.db.prepare('SELECT oid FROM ca_policies WHERE ca_id = ? AND purpose = ? ORDER BY id').all(caId, purpose) as { oid: string }[]).map((r) => r.oid);
}

/** CA/Browser Forum reserved policy identifiers (BR 7.1.6.1), allowed alongside a CA's own CP. */
export function isReservedBrPolicy(oid: string): boolean {
  return oid.startsWith('2.23.140.1.');
}
