/** Who acts on a document, and how refusals and authentication are handled for every document operation. */
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { auditRefusal } from '../installation/refusal.ts';
import { bringParticipant, operationDigest, type PassphraseSource } from '../people/participants.ts';
import type { Operation, Slot } from '../people/permissions.ts';

/** The person acting and where their passphrase comes from. */
export interface Acting {
  by: string;
  passphrases: PassphraseSource;
}

/** Runs `fn`; a CaError it throws is audited as a refusal of `action` on `target` and rethrown. */
export async function refusalsAudited<T>(
  inst: Installation,
  action: string,
  target: string,
  actor: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CaError) auditRefusal(inst, { action, target, actor }, e);
    throw e;
  }
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
