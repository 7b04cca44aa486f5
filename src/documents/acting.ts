/** Who acts on a document and how they authenticate (refusals are audited by the recorded-action runner). */
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { bringParticipant, operationDigest, type PassphraseSource } from '../people/participants.ts';
import type { Operation, Slot } from '../people/permissions.ts';

/** The person acting and where their passphrase comes from. */
export interface Acting {
  by: string;
  passphrases: PassphraseSource;
}

/** The person authenticates and signs the digest of what they do; returns their roles at the time. */
export async function authenticate(
  inst: Installation,
  who: Acting,
  operation: Operation,
  slot: Slot,
  what: Record<string, unknown>,
): Promise<{ roles: string[]; signature: string; digest: string }> {
  const digest = operationDigest({ kind: operation, ...what });
  const p = await bringParticipant(inst, who.by, who.passphrases, operation, digest, { operation, slot });
  if (!p) throw new CaError('AUTHENTICATION_REQUIRED', `${who.by} did not authenticate`);
  p.credential.lock();
  return { roles: p.operator.roles, signature: p.signature.toString('hex'), digest: digest.toString('hex') };
}
