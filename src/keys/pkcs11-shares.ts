/**
 * Activation data of the pkcs11 store, split M-of-N (CPS 6.2.8, 6.4.1, 6.4.2; R-6.3): a
 * token's PINs and a backup's transport key exist at rest only as shares, each sealed to one
 * custodian's credential like the soft store's KEK shares, and are rebuilt only in memory
 * when enough custodians are present. Each share names what it belongs to (its context: the
 * token's label and serial and which secret), so a share moved to another token is caught.
 */
import { randomBytes } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { CaError } from '../errors.ts';
import type { UnlockedCredential } from './credential.ts';
import { sealToPublicKey } from './sealed-box.ts';
import type { SealedShare, ShareRecipient, TokenPlace } from './ports.ts';
import { wipe } from './wipe.ts';

const VERSION = 1;

/** Which of a token's PINs a share rebuilds: the user's, or the security officer's. */
export type PinKind = 'user' | 'so';

/** What a PIN share is bound to: this token (label and serial) and this PIN. */
export const pinContext = (t: { label: string; serial: string }, kind: PinKind): string =>
  `pkcs11 token ${t.label} (serial ${t.serial}) ${kind} PIN`;

/** Rebuilds a registered token's user PIN from the present custodians' shares; the caller wipes it. */
export function recoverUserPin(t: TokenPlace, present: UnlockedCredential[]): Promise<Buffer> {
  return recoverFromCustodians(
    pinContext({ label: t.token, serial: t.serial }, 'user'),
    t.threshold,
    t.shares,
    present,
  );
}

const aad = (custodian: string) => Buffer.from(`rootca-pkcs11-share|${custodian}`, 'utf8');

/** version(1) | contextLen(2) | context | index(1) | threshold(1) | share. */
function encode(context: string, index: number, threshold: number, share: Uint8Array): Buffer {
  const c = Buffer.from(context, 'utf8');
  const out = Buffer.alloc(5 + c.length + share.length);
  out[0] = VERSION;
  out.writeUInt16BE(c.length, 1);
  c.copy(out, 3);
  out[3 + c.length] = index;
  out[4 + c.length] = threshold;
  Buffer.from(share.buffer, share.byteOffset, share.byteLength).copy(out, 5 + c.length);
  return out;
}

function decode(b: Buffer): { context: string; index: number; threshold: number; share: Buffer } | undefined {
  if (b.length < 5 || b[0] !== VERSION) return undefined;
  const n = b.readUInt16BE(1);
  if (b.length < 5 + n + 1) return undefined;
  return {
    context: b.subarray(3, 3 + n).toString('utf8'),
    index: b[3 + n]!,
    threshold: b[4 + n]!,
    share: b.subarray(5 + n),
  };
}

/** A fresh PIN: 32 characters from a 32-letter alphabet (160 bits), typable on any HSM keypad driver. */
export function generatePin(): Buffer {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const r = randomBytes(32);
  const pin = Buffer.from([...r].map((x) => alphabet.charCodeAt(x & 31)));
  wipe(r);
  return pin;
}

/** Splits `secret` into shares for `recipients`, `threshold` of them needed (>= 2, CPS 6.4.1). */
export async function splitToCustodians(
  secret: Uint8Array,
  context: string,
  threshold: number,
  recipients: ShareRecipient[],
): Promise<SealedShare[]> {
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > recipients.length) {
    throw new CaError(
      'THRESHOLD_TOO_LOW',
      `${context}: threshold ${threshold} of ${recipients.length} refused; at least 2 custodians must be needed (CPS 6.4.1)`,
    );
  }
  const names = recipients.map((r) => r.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup)
    throw new CaError(
      'DUPLICATE_CUSTODIAN',
      `${context}: ${dup} named twice; each share goes to a different person (CPS 6.4.2)`,
    );
  const parts = await split(new Uint8Array(secret), recipients.length, threshold);
  try {
    return recipients.map((r, i) => {
      const payload = encode(context, i + 1, threshold, parts[i]!);
      try {
        return {
          custodian: r.name,
          index: i + 1,
          sealed: sealToPublicKey(r.encryptionPublicKey, payload, aad(r.name)),
        };
      } finally {
        wipe(payload);
      }
    });
  } finally {
    wipe(...parts);
  }
}

/**
 * Rebuilds the secret from the present custodians' shares; the caller wipes it. Errors:
 * NOT_A_CUSTODIAN, QUORUM_NOT_MET, SHARE_INVALID (does not open), SHARE_WRONG_KEY (opens but
 * belongs elsewhere), KEY_RECONSTRUCTION_FAILED (shares do not combine).
 */
export async function recoverFromCustodians(
  context: string,
  threshold: number,
  shares: SealedShare[],
  present: UnlockedCredential[],
): Promise<Buffer> {
  const holders = shares.map((s) => s.custodian);
  const names = [...new Set(present.map((c) => c.operator))];
  const strangers = names.filter((n) => !holders.includes(n));
  if (strangers.length)
    throw new CaError(
      'NOT_A_CUSTODIAN',
      `${context}: ${strangers.join(', ')} hold(s) no share; the custodians are ${holders.join(', ')}`,
      { details: { notCustodians: strangers } },
    );
  if (names.length < threshold)
    throw new CaError(
      'QUORUM_NOT_MET',
      `${context} needs ${threshold} of ${holders.length} custodians, ${names.length} present (${names.join(', ') || 'none'})`,
      { details: { threshold, present: names } },
    );
  const opened: Buffer[] = [];
  const parts: Uint8Array[] = [];
  try {
    for (const name of names) {
      const cred = present.find((c) => c.operator === name)!;
      const row = shares.find((s) => s.custodian === name)!;
      let plain: Buffer;
      try {
        plain = cred.open(row.sealed, aad(row.custodian));
      } catch (cause) {
        if (cause instanceof CaError && cause.code === 'CREDENTIAL_LOCKED') throw cause;
        throw new CaError(
          'SHARE_INVALID',
          `${context}: the share sealed for ${name} does not open with ${name}'s credential`,
          { cause, details: { custodian: name } },
        );
      }
      opened.push(plain);
      const p = decode(plain);
      if (!p || p.context !== context || p.index !== row.index || p.threshold !== threshold) {
        throw new CaError(
          'SHARE_WRONG_KEY',
          `${context}: the share sealed for ${name} belongs to ${p ? `${p.context} share ${p.index}` : 'something unreadable'}; share rows were moved or edited`,
          { details: { custodian: name } },
        );
      }
      parts.push(new Uint8Array(p.share.buffer, p.share.byteOffset, p.share.byteLength));
    }
    try {
      const secret = await combine(parts);
      return Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
    } catch (cause) {
      throw new CaError('KEY_RECONSTRUCTION_FAILED', `${context}: the shares of ${names.join(', ')} do not combine`, {
        cause,
      });
    }
  } finally {
    wipe(...opened);
  }
}
