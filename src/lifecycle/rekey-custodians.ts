/**
 * The custodians of a re-key's new key (rekey.ts step 2), gathered within the key session.
 */
import type { Installation } from '../installation/installation.ts';
import type { KeySession } from '../operation/key-session.ts';
import { bringParticipant, lockAll, type Participant, type PassphraseSource } from '../people/participants.ts';
import { ACTION } from './rekey-commit.ts';
import type { Refuse } from '../operation/refusals.ts';

/**
 * M custodians of the new key: people already in the session (operator, custodians of the old
 * key) count without a second passphrase; the witness never counts (CPS 6.1.1: observed, not
 * observing). Refuses QUORUM_NOT_MET when fewer than M authenticate.
 */
export async function gatherNewKeyCustodians(
  inst: Installation,
  s: KeySession,
  holders: string[],
  threshold: number,
  passphrases: PassphraseSource,
  refuse: Refuse,
): Promise<Participant[]> {
  const present = s.people().map((x) => x.p);
  const out: Participant[] = [];
  const brought: Participant[] = [];
  try {
    for (const h of holders) {
      if (out.length >= threshold) break;
      if (h === s.witness.operator.name) continue;
      const known = present.find((x) => x.operator.name === h);
      const p =
        known ??
        (await bringParticipant(inst, h, passphrases, `custodian of the new ${s.ca.name} key`, s.digest, {
          operation: ACTION,
          slot: 'custodian',
        }));
      if (p && !known) brought.push(p);
      if (p) out.push(p);
    }
    if (out.length < threshold)
      refuse(
        'QUORUM_NOT_MET',
        `the new key needs ${threshold} of ${holders.length} custodians, ${out.length} present (${out.map((x) => x.operator.name).join(', ') || 'none'})`,
      );
    return out;
  } catch (e) {
    lockAll(brought);
    throw e;
  }
}
