/**
 * What a batch activation may still sign (CPS 6.2.9: "CA Private Keys are automatically
 * deactivated after completion of a successful access thereto"; one access is one approved
 * plan, docs/hsm.md "One access"). Both key stores check each message here before signing it:
 * a message outside the plan, or one of its messages a second time, is refused.
 */
import { createHash } from 'node:crypto';
import { CaError } from '../errors.ts';
import type { SigningPlan } from './ports.ts';

const digestOf = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The messages of a plan not yet signed, by their SHA-256 (a plan may hold the same bytes twice). */
export class PlannedMessages {
  readonly planned: number;
  #left = new Map<string, number>();
  #remaining: number;

  /** Refuses an empty plan (INVALID_ARGUMENT): a batch of nothing is no access to approve. */
  constructor(
    readonly keyId: string,
    readonly plan: SigningPlan,
  ) {
    if (plan.messages.length === 0)
      throw new CaError('INVALID_ARGUMENT', `key ${keyId}: a batch activation needs at least one planned message`);
    for (const m of plan.messages) {
      const d = digestOf(m);
      this.#left.set(d, (this.#left.get(d) ?? 0) + 1);
    }
    this.planned = plan.messages.length;
    this.#remaining = this.planned;
  }

  /** Messages still to sign; the activation ends when this reaches 0. */
  get remaining(): number {
    return this.#remaining;
  }

  /** Takes `data` off the plan; KEY_BATCH_NOT_IN_PLAN when it is not (or no longer) in it. */
  take(data: Uint8Array): void {
    const d = digestOf(data);
    const n = this.#left.get(d);
    if (!n)
      throw new CaError(
        'KEY_BATCH_NOT_IN_PLAN',
        `key ${this.keyId}: the data to sign is not one of the ${this.planned} messages approved for ${this.plan.purpose} (or was signed already); the batch activation ends (CPS 6.2.9)`,
        { details: { keyId: this.keyId, sha256: d, purpose: this.plan.purpose } },
      );
    if (n === 1) this.#left.delete(d);
    else this.#left.set(d, n - 1);
    this.#remaining--;
  }
}

/** KEY_NOT_ACTIVE for a spent or ended activation, single or batch. */
export function keyNotActive(keyId: string, plan?: PlannedMessages): CaError {
  const what = plan
    ? `a batch activation signs its ${plan.planned} planned messages (${plan.plan.purpose}) and no more`
    : 'an activation signs once';
  return new CaError(
    'KEY_NOT_ACTIVE',
    `key ${keyId} is not active: ${what} (CPS 6.2.9); activate it again with a quorum`,
    { details: { keyId } },
  );
}
