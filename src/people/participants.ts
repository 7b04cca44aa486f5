/**
 * Gathering the people an operation needs (CPS 5.2.2: "operations by at least two persons").
 * Each participant unlocks their credential and signs the operation's digest; the signatures
 * go into the audit event, so the record shows who was present, not just who was named.
 */
import { createHash } from 'node:crypto';
import { CaError } from '../errors.ts';
import { verifyCredentialSignature, type UnlockedCredential } from '../keys/credential.ts';
import { wipe } from '../keys/wipe.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import type { Installation } from '../installation/installation.ts';
import { authenticateOperator, getOperator, type OperatorRecord } from './operators.ts';
import { checkSlotRole, OPERATIONS, type Operation, type OperationRule, type Slot } from './permissions.ts';
import { checkFitForDuty } from './personnel.ts';
import { progressTask } from '../util/progress.ts';
import { auditRefusal } from '../installation/refusal.ts';
import { alreadyAudited } from '../operation/refusals.ts';

/** Where passphrases come from: a hidden prompt, a file, or an environment variable (cli/). */
export interface PassphraseSource {
  /** The passphrase of `operator`, or undefined if this source has none for them. */
  get(operator: string, prompt: string): Promise<Buffer | undefined>;
}

export interface Participant {
  operator: OperatorRecord;
  credential: UnlockedCredential;
  /** Signature over the operation digest with the participant's credential. */
  signature: Buffer;
}

/** SHA-256 over the canonical JSON of an operation: what every participant signs. */
export function operationDigest(operation: Record<string, unknown>): Buffer {
  return createHash('sha256').update(canonicalJson(operation)).digest();
}

/** The part a person plays in an operation; their role and fitness are checked for it. */
export interface Duty {
  operation: Operation;
  slot: Slot;
}

/**
 * Asks `source` for one person's passphrase and unlocks their credential. With a duty, the
 * person must first hold the role the permission table names for it and be fit for duty
 * (appointed, trained, checked: CPS 5.3) — checked before any passphrase is asked for.
 * Every refusal is audited.
 */
export async function bringParticipant(
  inst: Installation,
  name: string,
  source: PassphraseSource,
  purpose: string,
  digest: Buffer,
  duty?: Duty,
): Promise<Participant | undefined> {
  if (duty) {
    try {
      const op = getOperator(inst, name);
      checkSlotRole(duty.operation, duty.slot, name, op.roles);
      const rule: OperationRule = OPERATIONS[duty.operation];
      if (op.status !== 'active' || rule.requiresCurrentTraining !== false) checkFitForDuty(inst, op);
    } catch (e) {
      if (e instanceof CaError) {
        auditRefusal(
          inst,
          { action: duty.operation, target: name, actor: name },
          { code: e.code, message: e.message, details: { slot: duty.slot } },
        );
        // Recorded as this operation's refusal: the runner that asked for the person does not record it again.
        throw alreadyAudited(e);
      }
      throw e;
    }
  }
  const passphrase = await source.get(name, `passphrase for ${name} (${purpose})`);
  if (!passphrase) return undefined;
  const unlocking = progressTask(`unlocking the credential of ${name}`); // scrypt: a few tenths of a second each
  try {
    const { operator, credential } = authenticateOperator(inst, name, passphrase, purpose);
    const signature = credential.sign(digest);
    if (!verifyCredentialSignature(operator.credential.signingPublicKey, operator.credential.kind, digest, signature)) {
      throw new CaError('CREDENTIAL_MISMATCH', `credential of ${name} does not match its registered public key`);
    }
    return { operator, credential, signature };
  } finally {
    unlocking.done();
    wipe(passphrase);
  }
}

/** The audit form of participants: names, roles at the time, and their signatures. */
export function participantEvidence(
  digest: Buffer,
  participants: { role: string; p: Participant }[],
): Record<string, unknown> {
  return {
    operationDigest: digest.toString('hex'),
    participants: participants.map(({ role, p }) => ({
      operator: p.operator.name,
      as: role,
      roles: p.operator.roles,
      credentialKind: p.operator.credential.kind,
      signature: p.signature.toString('base64'),
    })),
  };
}

export function lockAll(participants: (Participant | undefined)[]): void {
  for (const p of participants) p?.credential.lock();
}
