/**
 * The changeover warning (CPS 5.6, R-9.1): "Re-Keying of the CAs' own Key Pairs or renewal of
 * Certificates thereof shall be performed basically when their usage periods become shorter
 * than the maximum validity periods of the Certificates issued to Subscribers."
 *
 * A CA's remaining life is its current certificate's notAfter minus now. The validity it
 * issues is what its profiles give when nobody asks for less (the profile default, the length
 * issuance uses, src/pki/profiles.ts validityFor); only profiles the CA can issue count (those
 * without a policy purpose, or whose purpose has a CP registered for it). Changeover is due
 * when the remaining life is below the longest of these: from then on a default issuance is
 * clamped to the CA's notAfter. The profiles' maxima are shown too, since a request for the
 * maximum is clamped earlier.
 */
import { PROFILES, type IssuedProfileName } from '../pki/profiles.ts';
import { getCa, listCas, type CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { caPolicies } from '../issuance/policies.ts';

const DAY = 86_400_000;

export interface ProfileValidity {
  profile: IssuedProfileName;
  days: number;
}

export interface ChangeoverState {
  ca: string;
  status: string;
  notAfter: string;
  /** Whole days left until notAfter (negative once expired). */
  remainingDays: number;
  /** The longest default validity among the profiles the CA can issue. */
  longestValidity: ProfileValidity | null;
  /** The longest maximum validity among them (a request for it is clamped when remainingDays is below it). */
  longestMaximum: ProfileValidity | null;
  changeoverDue: boolean;
  /** One line for people: why it is (not) due, and what to do. */
  advice: string;
}

/** The profiles a CA can issue now: no CP needed, or a CP registered for the purpose. */
function issuableProfiles(inst: Installation, ca: CaSummary): IssuedProfileName[] {
  return (Object.keys(PROFILES) as IssuedProfileName[]).filter((name) => {
    const purpose = PROFILES[name].policyPurpose;
    return !purpose || caPolicies(inst, ca.id, purpose).length > 0;
  });
}

function longest(profiles: IssuedProfileName[], pick: (p: IssuedProfileName) => number): ProfileValidity | null {
  let best: ProfileValidity | null = null;
  for (const p of profiles) if (!best || pick(p) > best.days) best = { profile: p, days: pick(p) };
  return best;
}

export function changeoverStateOf(inst: Installation, ca: CaSummary): ChangeoverState {
  const now = inst.clock.now();
  const remainingMs = Date.parse(ca.notAfter) - now.getTime();
  const remainingDays = Math.floor(remainingMs / DAY);
  const profiles = issuableProfiles(inst, ca);
  const longestValidity = longest(profiles, (p) => PROFILES[p].defaultValidityDays);
  const longestMaximum = longest(profiles, (p) => PROFILES[p].maxValidityDays);
  const due = ca.status === 'active' && longestValidity !== null && remainingMs < longestValidity.days * DAY;
  let advice: string;
  if (ca.status !== 'active') advice = `${ca.name} is ${ca.status}; it issues nothing`;
  else if (remainingMs <= 0) advice = `${ca.name} has expired; it can issue nothing until it is renewed or re-keyed`;
  else if (due) {
    advice =
      `changeover due (CPS 5.6): ${remainingDays} days left, less than the ${longestValidity!.days}-day ${longestValidity!.profile} validity; ` +
      `certificates are clamped to ${ca.notAfter}. Run rootca ca renew (same key) or rootca ca rekey (new key) for ${ca.name}`;
  } else if (longestMaximum && remainingMs < longestMaximum.days * DAY) {
    advice = `not due; a request for the ${longestMaximum.profile} maximum of ${longestMaximum.days} days would be clamped to ${ca.notAfter}`;
  } else advice = 'not due';
  return {
    ca: ca.name,
    status: ca.status,
    notAfter: ca.notAfter,
    remainingDays,
    longestValidity,
    longestMaximum,
    changeoverDue: due,
    advice,
  };
}

/** Every CA's changeover state, or one CA's (CA_UNKNOWN for a name that is not there). */
export function changeoverStates(inst: Installation, caName?: string): ChangeoverState[] {
  return (caName ? [getCa(inst, caName)] : listCas(inst)).map((ca) => changeoverStateOf(inst, ca));
}
