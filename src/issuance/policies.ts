/**
 * Certificate Policy OIDs registered per CA and purpose (R-1.2, CPS 1.2). They are rows, not
 * code: "The Services may add a new CP in the future" (CPS 1.2), so `registerPolicy` adds one
 * on the Person Responsible's authority with a Service Operation Manager present (5.2.1, 5.2.2),
 * and from then on the profiles of that purpose assert it and `--policy OID` may name it.
 */
import { CaError } from '../errors.ts';
import type { PolicyPurpose } from '../pki/profiles.ts';
import { getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { auditRefusal } from '../installation/refusal.ts';
import {
  bringParticipant,
  lockAll,
  operationDigest,
  participantEvidence,
  type PassphraseSource,
} from '../people/participants.ts';
import { checkDistinct } from '../people/permissions.ts';
import { insertRegisteredPolicy, listRegisteredPolicyRows, policyOidsOf } from '../store/ca-policies.ts';

export const POLICY_PURPOSES: readonly PolicyPurpose[] = ['subordinate-ca', 'time-stamping'];
/** A dotted OID in canonical form (no leading zeros; first arc 0-2, second below 40 under 0 and 1). */
const OID = /^([0-2])\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const ANY_POLICY = '2.5.29.32.0';

export function caPolicies(inst: Installation, caId: number, purpose: PolicyPurpose | null): string[] {
  if (!purpose) return [];
  return policyOidsOf(inst.db, caId, purpose);
}

/** CA/Browser Forum reserved policy identifiers (BR 7.1.6.1), allowed alongside a CA's own CP. */
export function isReservedBrPolicy(oid: string): boolean {
  return oid.startsWith('2.23.140.1.');
}

export interface RegisteredPolicy {
  ca: string;
  purpose: PolicyPurpose;
  oid: string;
  /** The CP's name; null for the policies a root ceremony registered. */
  name: string | null;
  registeredAt: string;
  /** Who authorised it; null for the policies a root ceremony registered. */
  registeredBy: string | null;
}

export function listPolicies(inst: Installation, caName?: string): RegisteredPolicy[] {
  return listRegisteredPolicyRows(inst.db, caName).map((r) => ({
    ca: r.ca,
    purpose: r.purpose,
    oid: r.oid,
    name: r.name,
    registeredAt: r.registered_at,
    registeredBy: r.registered_by,
  }));
}

/** Throws POLICY_OID_INVALID unless `oid` is a CP identifier a CA may register. */
export function checkPolicyOid(oid: string): void {
  const m = OID.exec(oid);
  if (!m) throw new CaError('POLICY_OID_INVALID', `"${oid}" is not a dotted OID like 1.2.392.200091.100.901.8`);
  if (m[1] !== '2' && Number(m[2]) >= 40)
    throw new CaError('POLICY_OID_INVALID', `"${oid}": under arc ${m[1]} the second arc is below 40 (X.660)`);
  if (oid === ANY_POLICY)
    throw new CaError('POLICY_OID_INVALID', 'anyPolicy (2.5.29.32.0) is not a Certificate Policy of its own');
  if (isReservedBrPolicy(oid))
    throw new CaError(
      'POLICY_OID_INVALID',
      `${oid} is a CA/Browser Forum reserved identifier (BR 7.1.6.1); it is asserted with --policy and needs no registration`,
    );
}

export interface RegisterPolicyParams {
  caName: string;
  purpose: PolicyPurpose;
  oid: string;
  name: string;
  /** Person Responsible for Services. */
  by: string;
  /** Service Operation Manager. */
  witness: string;
  passphrases: PassphraseSource;
}

/** Registers a new CP OID for a CA (CPS 1.2); audited with both people's signatures. */
export async function registerPolicy(inst: Installation, p: RegisterPolicyParams): Promise<RegisteredPolicy> {
  const target = `policy:${p.caName}/${p.purpose}`;
  const refused = (e: unknown): never => {
    if (e instanceof CaError)
      auditRefusal(
        inst,
        { action: 'policy.register', target, actor: p.by },
        { code: e.code, message: e.message, details: { oid: p.oid, ...e.details } },
      );
    throw e;
  };
  let participants;
  try {
    const ca = checkedRegistration(inst, p);
    checkDistinct('policy.register', { authoriser: [p.by], witness: [p.witness] });
    const digest = operationDigest({
      kind: 'policy.register',
      ca: ca.name,
      purpose: p.purpose,
      oid: p.oid,
      name: p.name.trim(),
    });
    const authoriser = await bringParticipant(inst, p.by, p.passphrases, 'policy.register', digest, {
      operation: 'policy.register',
      slot: 'authoriser',
    });
    if (!authoriser) throw new CaError('AUTHENTICATION_REQUIRED', `${p.by} did not authenticate`);
    participants = [authoriser];
    const witness = await bringParticipant(inst, p.witness, p.passphrases, 'policy.register', digest, {
      operation: 'policy.register',
      slot: 'witness',
    });
    if (!witness) throw new CaError('WITNESS_ABSENT', `${p.witness} (Service Operation Manager) did not authenticate`);
    participants.push(witness);
    const now = inst.clock.now().toISOString();
    inst.db
      .transaction(() => {
        insertRegisteredPolicy(inst.db, {
          caId: ca.id,
          purpose: p.purpose,
          oid: p.oid,
          registeredAt: now,
          name: p.name.trim(),
          registeredBy: p.by,
        });
        inst.audit.append({
          actor: p.by,
          roles: authoriser.operator.roles,
          action: 'policy.register',
          target,
          outcome: 'success',
          details: {
            ca: ca.name,
            purpose: p.purpose,
            oid: p.oid,
            name: p.name.trim(),
            ...participantEvidence(digest, [
              { role: 'authoriser', p: authoriser },
              { role: 'witness', p: witness },
            ]),
          },
        });
      })
      .immediate();
    return listPolicies(inst, ca.name).find((x) => x.oid === p.oid)!;
  } catch (e) {
    return refused(e);
  } finally {
    lockAll(participants ?? []);
  }
}

/** The registration's checks (purpose, OID, name, an active CA, no clash); throws the CaError the caller audits. */
function checkedRegistration(inst: Installation, p: RegisterPolicyParams) {
  if (!POLICY_PURPOSES.includes(p.purpose))
    throw new CaError('POLICY_PURPOSE_UNKNOWN', `purpose "${p.purpose}" is not one of ${POLICY_PURPOSES.join(', ')}`);
  checkPolicyOid(p.oid);
  if (!p.name.trim()) throw new CaError('POLICY_NAME_REQUIRED', 'a registered CP has a name (CPS 1.2 Table 1.2-3)');
  const ca = getCa(inst, p.caName);
  if (ca.status !== 'active')
    throw new CaError(
      'CA_NOT_ACTIVE',
      `${ca.name} is ${ca.status}; it issues nothing more, so no policy is added to it`,
    );
  const clash = listPolicies(inst).find((x) => x.oid === p.oid);
  if (clash)
    throw new CaError(
      'POLICY_EXISTS',
      `${p.oid} is already registered for ${clash.ca} (${clash.purpose}${clash.name ? `, "${clash.name}"` : ''}); a CP OID names one policy of one CA`,
    );
  return ca;
}
