/**
 * Setting up a PKCS#11 token for CA keys (CPS 6.2.1, 6.4.1, 6.4.2; ). The token is
 * initialised with a security-officer PIN and a user PIN that this program generates and
 * nobody ever sees: each PIN is split M-of-N (M >= 2) and sealed to the named custodians,
 * exactly like the soft store's KEK, and rebuilt only in memory at activation. A CA
 * Administrator performs it under a Service Operation Manager's observation (CPS 5.2.2).
 */
import { CaError, type ErrorCode } from '../errors.ts';
import { adoptToken, finalizeTokenInit, initTokenInSlot, type TokenInitResult } from '../keys/pkcs11-token.ts';
import { generatePin, type PinKind, splitToCustodians } from '../keys/pkcs11-shares.ts';
import type { SealedShare, ShareRecipient } from '../keys/ports.ts';
import { wipe } from '../keys/wipe.ts';
import { findTokenRecord, storeTokenRecord } from './hsm-tokens.ts';
import { pinContext } from '../keys/pkcs11-shares.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator } from '../people/operators.ts';
import {
  bringParticipant,
  lockAll,
  operationDigest,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import { checkDistinct, checkSlotRole } from '../people/permissions.ts';
import { refuser } from '../operation/refusals.ts';

/** What `rootca token init` is given: the module and label, the PIN holders, and who performs and observes it. */
export interface InitTokenParams {
  /** PKCS#11 module (library) path. */
  module: string;
  /** Label to give the token (unique in this installation). */
  label: string;
  /** Index in the module's slot list of an uninitialised slot; default: the first free one. */
  slotIndex?: number;
  /**
   * Adopt a token the vendor's tools already initialised under `label`: its temporary user PIN,
   * given once here, is replaced by a generated one; the SO PIN stays with the vendor process.
   */
  adoptWithPin?: Buffer;
  holders: string[];
  threshold: number;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
}

/** Sets up a token (or adopts one) with generated PINs split M-of-N to the holders, audited (CPS 6.4.1). */
export async function initToken(
  inst: Installation,
  p: InitTokenParams,
): Promise<{ label: string; serial: string; holders: string[]; threshold: number }> {
  const refuse = refuser(inst, 'token.init', p.label);
  const recipients = checkTokenInit(inst, p, refuse);
  const digest = tokenInitDigest(inst, p);
  const present: Participant[] = [];
  try {
    const { operator, witness } = await bringOperatorAndWitness(inst, p, digest, refuse, present);
    const soPin = generatePin();
    const userPin = generatePin();
    try {
      const { serial, shares } = await initialiseAndSealPins(p, soPin, userPin, recipients, refuse);
      recordTokenInit(inst, p, { serial, shares, digest, operator, witness, present });
      return { label: p.label, serial, holders: p.holders, threshold: p.threshold };
    } finally {
      wipe(soPin, userPin);
    }
  } finally {
    lockAll(present);
  }
}

type Refuse = (code: ErrorCode, message: string, details?: Record<string, unknown>) => never;
type PinShares = Record<PinKind, SealedShare[]>;

/** Refuses a bad label, a taken label, a weak threshold or unfit holders before anyone is asked to authenticate. */
function checkTokenInit(inst: Installation, p: InitTokenParams, refuse: Refuse): ShareRecipient[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(p.label))
    refuse('TOKEN_LABEL_INVALID', `token label "${p.label}" must be 1-32 letters, digits, . _ -`);
  if (findTokenRecord(inst, p.label)) refuse('TOKEN_EXISTS', `a token labelled "${p.label}" is already registered`);
  if (!Number.isInteger(p.threshold) || p.threshold < 2)
    refuse(
      'THRESHOLD_TOO_LOW',
      `threshold ${p.threshold} refused: the PIN must need at least 2 custodians (CPS 6.4.1)`,
    );
  if (p.threshold > p.holders.length)
    refuse('THRESHOLD_EXCEEDS_CUSTODIANS', `threshold ${p.threshold} exceeds the ${p.holders.length} holders`);
  const dup = p.holders.find((h, i) => p.holders.indexOf(h) !== i);
  if (dup) refuse('DUPLICATE_CUSTODIAN', `${dup} is named twice; each share goes to a different person (CPS 6.4.2)`);
  const recipients = p.holders.map((h) => {
    try {
      const op = getOperator(inst, h);
      if (op.status !== 'active') throw new CaError('OPERATOR_REMOVED', `${h} was removed`);
      checkSlotRole('token.init', 'custodian', h, op.roles);
      return { name: op.name, encryptionPublicKey: op.credential.encryptionPublicKey };
    } catch (e) {
      return refuse((e as CaError).code ?? 'OPERATOR_UNKNOWN', (e as Error).message);
    }
  });
  try {
    checkDistinct('token.init', { operator: [p.operator], witness: [p.witness], custodian: p.holders });
  } catch (e) {
    refuse((e as CaError).code, (e as Error).message);
  }
  return recipients;
}

/** The digest the operator and witness sign: it binds their consent to this exact token set-up. */
function tokenInitDigest(inst: Installation, p: InitTokenParams) {
  return operationDigest({
    kind: 'token.init',
    module: p.module,
    label: p.label,
    holders: p.holders,
    threshold: p.threshold,
    installation: inst.config.installation.name,
  });
}

/** Authenticates the CA Administrator then the witness (CPS 5.2.2), adding each to `present` so the caller locks them. */
async function bringOperatorAndWitness(
  inst: Installation,
  p: InitTokenParams,
  digest: ReturnType<typeof operationDigest>,
  refuse: Refuse,
  present: Participant[],
): Promise<{ operator: Participant; witness: Participant }> {
  const operator = await bringParticipant(
    inst,
    p.operator,
    p.passphrases,
    `operator setting up token ${p.label}`,
    digest,
    { operation: 'token.init', slot: 'operator' },
  );
  if (!operator) refuse('OPERATOR_ABSENT', `the CA Administrator ${p.operator} did not authenticate`);
  present.push(operator!);
  const witness = await bringParticipant(
    inst,
    p.witness,
    p.passphrases,
    `witness of setting up token ${p.label}`,
    digest,
    { operation: 'token.init', slot: 'witness' },
  );
  if (!witness) refuse('WITNESS_ABSENT', `the witness ${p.witness} did not authenticate (CPS 5.2.2)`);
  present.push(witness!);
  return { operator: operator!, witness: witness! };
}

/** Initialises (or adopts) the token and seals its PINs to the holders; the user PIN is set and tried before anything is recorded. */
async function initialiseAndSealPins(
  p: InitTokenParams,
  soPin: Buffer,
  userPin: Buffer,
  recipients: ShareRecipient[],
  refuse: Refuse,
): Promise<{ serial: string; shares: PinShares }> {
  let made: TokenInitResult;
  try {
    made = p.adoptWithPin
      ? adoptToken({ module: p.module, label: p.label }, p.adoptWithPin, userPin)
      : initTokenInSlot({ module: p.module, label: p.label, slotIndex: p.slotIndex, soPin });
  } catch (e) {
    return refuse((e as CaError).code ?? 'TOKEN_INIT_FAILED', (e as Error).message);
  }
  const t = { label: p.label, serial: made.serial };
  const shares = {
    user: await splitToCustodians(userPin, pinContext(t, 'user'), p.threshold, recipients),
    so: p.adoptWithPin ? [] : await splitToCustodians(soPin, pinContext(t, 'so'), p.threshold, recipients),
  };
  // The user PIN is set and tried once before anything is recorded.
  if (!p.adoptWithPin)
    try {
      finalizeTokenInit({ module: p.module, label: p.label, serial: made.serial }, soPin, userPin);
    } catch (e) {
      return refuse((e as CaError).code ?? 'TOKEN_INIT_FAILED', (e as Error).message);
    }
  return { serial: made.serial, shares };
}

/** Stores the token record and its success audit event in one transaction, so neither exists without the other. */
function recordTokenInit(
  inst: Installation,
  p: InitTokenParams,
  r: {
    serial: string;
    shares: PinShares;
    digest: ReturnType<typeof operationDigest>;
    operator: Participant;
    witness: Participant;
    present: Participant[];
  },
): void {
  const now = inst.clock.now().toISOString();
  inst.db
    .transaction(() => {
      storeTokenRecord(inst, {
        label: p.label,
        serial: r.serial,
        module: p.module,
        threshold: p.threshold,
        shares: r.shares,
        now,
      });
      inst.audit.append({
        actor: `${p.operator},${p.witness}`,
        roles: [...new Set(r.present.flatMap((x) => x.operator.roles))],
        action: 'token.init',
        target: p.label,
        outcome: 'success',
        details: {
          module: p.module,
          label: p.label,
          serial: r.serial,
          holders: p.holders,
          threshold: p.threshold,
          pins: p.adoptWithPin
            ? 'adopted: user PIN replaced by a generated one, split M-of-N, never shown; SO PIN kept by the vendor process'
            : 'user and SO PIN generated, split M-of-N, never shown',
          adopted: !!p.adoptWithPin,
          ...participantEvidence(r.digest, [
            { role: 'operator', p: r.operator },
            { role: 'witness', p: r.witness },
          ]),
        },
      });
    })
    .immediate();
}
