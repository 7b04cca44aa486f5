/**
 * Bringing together the people a CA key operation needs (CPS 5.2.2, 6.1.1, 6.2.8): a Service
 * Operation Manager who witnesses, and M custodians of the key. A witness who is also a
 * custodian of the key does not count as one of the M.
 */
import { CaError, type ErrorCode } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator } from './operators.ts';
import { bringParticipant, lockAll, type Participant, type PassphraseSource } from './participants.ts';
import { checkSlotRole, type Operation } from './permissions.ts';

export interface QuorumRequest {
  /** The operation in the permission table (permissions.ts) whose witness/custodian slots apply. */
  operationName: Operation;
  witness: string;
  /** People already authenticated for this operation (e.g. the operator), reused if they are custodians. */
  alreadyPresent?: Participant[];
  /** Custodians of the key, in the order they are asked. */
  holders: string[];
  threshold: number;
  digest: Buffer;
  passphrases: PassphraseSource;
  /** Words for prompts and records, e.g. "the rootca2 key ceremony". */
  operation: string;
  /** Throws after auditing; supplied by the use case so the event names its action. */
  refuse(code: ErrorCode, message: string): never;
}

export interface Quorum {
  witness: Participant;
  custodians: Participant[];
  all: Participant[];
  lock(): void;
}

export async function gatherQuorum(inst: Installation, q: QuorumRequest): Promise<Quorum> {
  const witnessRecord = getOperator(inst, q.witness);
  if (!witnessRecord.roles.includes('operation-manager')) {
    q.refuse(
      'WITNESS_ROLE_MISSING',
      `witness ${q.witness} does not hold the operation-manager role (Service Operation Manager, CPS 6.1.1)`,
    );
  }
  const custodians: Participant[] = [];
  let witness: Participant | undefined;
  try {
    witness = await bringParticipant(inst, q.witness, q.passphrases, `witness of ${q.operation}`, q.digest, {
      operation: q.operationName,
      slot: 'witness',
    });
    if (!witness)
      q.refuse(
        'WITNESS_ABSENT',
        `the witness ${q.witness} did not authenticate; CA key operations are observed by a Service Operation Manager (CPS 6.1.1)`,
      );
    for (const holder of q.holders) {
      if (custodians.length >= q.threshold) break;
      if (holder === q.witness) continue; // one person, one part: a witness is not also counted as a custodian
      const known = q.alreadyPresent?.find((x) => x.operator.name === holder);
      if (known) checkSlotRole(q.operationName, 'custodian', holder, known.operator.roles);
      const p =
        known ??
        (await bringParticipant(inst, holder, q.passphrases, `custodian for ${q.operation}`, q.digest, {
          operation: q.operationName,
          slot: 'custodian',
        }));
      if (p) custodians.push(p);
    }
    if (custodians.length < q.threshold) {
      q.refuse(
        'QUORUM_NOT_MET',
        `needs ${q.threshold} of ${q.holders.length} custodians, ${custodians.length} present (${custodians.map((x) => x.operator.name).join(', ') || 'none'})`,
      );
    }
  } catch (e) {
    lockAll([witness, ...custodians.filter((c) => !q.alreadyPresent?.includes(c))]);
    throw e instanceof CaError ? e : new CaError('QUORUM_FAILED', (e as Error).message, { cause: e });
  }
  const all = [...(q.alreadyPresent ?? []), witness!, ...custodians.filter((c) => !q.alreadyPresent?.includes(c))];
  return { witness: witness!, custodians, all, lock: () => lockAll(all) };
}
