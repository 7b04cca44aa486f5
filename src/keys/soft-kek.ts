/**
 * The soft store's key-encryption key (KEK) at rest (CPS 6.2.2, 6.2.8, 6.4.1, 6.4.2; ):
 * split M-of-N with Shamir's scheme, each share sealed to one custodian's credential together
 * with the key it belongs to, and rebuilt only in memory from a quorum of present custodians.
 */
import { createHash } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { CaError } from '../errors.ts';
import type { UnlockedCredential } from './credential.ts';
import type { SealedShare, ShareRecipient, SoftKeyRecord } from './ports.ts';
import { sealToPublicKey } from './sealed-box.ts';
import { wipe } from './wipe.ts';

const SHARE_VERSION = 1;
const MAX_CUSTODIANS = 255; // shamir-secret-sharing works over GF(2^8)

const CPS_641 = 'CPS 6.4.1: "At least two digital keys are used for activation of CA Private Keys."';

/**
 * A plain Uint8Array view of the same bytes: shamir-secret-sharing checks
 * `constructor === Uint8Array`, so it refuses a Buffer.
 */
function plainView(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function shareAad(custodian: string): Buffer {
  return Buffer.from(`rootca-share|${custodian}`, 'utf8');
}

/** What a custodian's sealed share carries, so a share moved to another key or row is caught. */
interface SharePayload {
  keyId: string;
  spkiSha256: Buffer;
  index: number;
  threshold: number;
  share: Buffer;
}

/** version(1) | keyIdLen(2) | keyId | SHA-256(SPKI)(32) | index(1) | threshold(1) | shareLen(2) | share. */
function encodeSharePayload(p: SharePayload): Buffer {
  const keyId = Buffer.from(p.keyId, 'utf8');
  const out = Buffer.alloc(1 + 2 + keyId.length + 32 + 1 + 1 + 2 + p.share.length);
  let o = 0;
  out[o++] = SHARE_VERSION;
  out.writeUInt16BE(keyId.length, o);
  o += 2;
  keyId.copy(out, o);
  o += keyId.length;
  p.spkiSha256.copy(out, o);
  o += 32;
  out[o++] = p.index;
  out[o++] = p.threshold;
  out.writeUInt16BE(p.share.length, o);
  o += 2;
  p.share.copy(out, o);
  return out;
}

/** Views into `buf` (wiping `buf` wipes the share); undefined when malformed. */
function decodeSharePayload(buf: Buffer): SharePayload | undefined {
  if (buf.length < 3 || buf[0] !== SHARE_VERSION) return undefined;
  const keyIdLength = buf.readUInt16BE(1);
  let o = 3;
  if (buf.length < o + keyIdLength + 32 + 4) return undefined;
  const keyId = buf.subarray(o, o + keyIdLength).toString('utf8');
  o += keyIdLength;
  const spkiSha256 = buf.subarray(o, o + 32);
  o += 32;
  const index = buf[o++]!;
  const threshold = buf[o++]!;
  const shareLength = buf.readUInt16BE(o);
  o += 2;
  if (buf.length !== o + shareLength) return undefined;
  return { keyId, spkiSha256, index, threshold, share: buf.subarray(o) };
}

/** CPS 6.4.1: at least two custodians, and no more needed than there are. */
export function checkThreshold(threshold: number, custodianCount: number, keyId: string): void {
  if (!Number.isInteger(threshold) || threshold < 2) {
    throw new CaError(
      'THRESHOLD_TOO_LOW',
      `key ${keyId}: threshold ${threshold} refused, at least 2 custodians must be needed to activate a CA key (${CPS_641})`,
      {
        details: { keyId, threshold },
      },
    );
  }
  if (threshold > custodianCount) {
    throw new CaError(
      'THRESHOLD_EXCEEDS_CUSTODIANS',
      `key ${keyId}: threshold ${threshold} exceeds the ${custodianCount} custodian(s) named; the key could never be activated`,
      {
        details: { keyId, threshold, custodians: custodianCount },
      },
    );
  }
}

/** Names given more than once. */
export function duplicatesOf(names: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

/** The custodians of a new key: named, each once, M-of-N with 2 <= M <= N <= 255 (CPS 6.4.1, 6.4.2). */
export function checkCustodians(keyId: string, custodians: ShareRecipient[], threshold: number): void {
  if (!Array.isArray(custodians) || custodians.some((c) => typeof c?.name !== 'string' || c.name.length === 0)) {
    throw new CaError('INVALID_ARGUMENT', `key ${keyId}: every custodian needs a non-empty operator name`);
  }
  const names = custodians.map((c) => c.name);
  const dups = duplicatesOf(names);
  if (dups.length > 0) {
    throw new CaError(
      'DUPLICATE_CUSTODIAN',
      `key ${keyId}: custodian(s) ${dups.join(', ')} named more than once; each share must go to a different person (CPS 6.4.2)`,
      {
        details: { keyId, duplicates: dups },
      },
    );
  }
  checkThreshold(threshold, custodians.length, keyId);
  if (custodians.length > MAX_CUSTODIANS) {
    throw new CaError(
      'TOO_MANY_CUSTODIANS',
      `key ${keyId}: at most ${MAX_CUSTODIANS} custodians, ${custodians.length} named`,
    );
  }
}

/** Splits the KEK among the custodians, each share sealed to them with the key it opens. */
export async function splitKek(
  kek: Uint8Array,
  k: { keyId: string; publicKeySpki: Buffer; threshold: number; custodians: ShareRecipient[] },
): Promise<SealedShare[]> {
  let shares: Uint8Array[] = [];
  const payloads: Buffer[] = [];
  try {
    shares = await split(kek, k.custodians.length, k.threshold);
    const spkiSha256 = createHash('sha256').update(k.publicKeySpki).digest();
    return k.custodians.map((c, i): SealedShare => {
      const share = Buffer.from(shares[i]!.buffer, shares[i]!.byteOffset, shares[i]!.byteLength);
      const payload = encodeSharePayload({ keyId: k.keyId, spkiSha256, index: i + 1, threshold: k.threshold, share });
      payloads.push(payload);
      return {
        custodian: c.name,
        index: i + 1,
        sealed: sealToPublicKey(c.encryptionPublicKey, payload, shareAad(c.name)),
      };
    });
  } finally {
    wipe(...shares, ...payloads);
  }
}

/** The names present, for a message. */
export function presentList(names: string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

/**
 * Checks who is present against the record and combines their shares into the KEK, which
 * the caller must wipe. Error codes as documented on `activateSoftKey`.
 */
export async function recoverKek(record: SoftKeyRecord, present: UnlockedCredential[]): Promise<Buffer> {
  const { keyId, threshold } = record;
  const custodians = record.shares.map((s) => s.custodian);
  // A tampered record must not lower the bar below what CPS 6.4.1 allows.
  checkThreshold(threshold, custodians.length, keyId);
  const names = present.map((c) => c.operator);
  checkPresent(keyId, threshold, custodians, names);

  const spkiSha256 = createHash('sha256').update(record.publicKeySpki).digest();
  const opened: Buffer[] = [];
  try {
    const shares: Uint8Array[] = [];
    for (const cred of present) shares.push(openShare(record, cred, spkiSha256, opened));
    let kek: Uint8Array;
    try {
      kek = await combine(shares);
    } catch (cause) {
      throw new CaError(
        'KEY_RECONSTRUCTION_FAILED',
        `key ${keyId}: the shares of ${presentList(names)} do not combine`,
        { cause, details: { keyId, present: names } },
      );
    }
    return Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength);
  } finally {
    wipe(...opened);
  }
}

/** Refuses before any share is opened: each person once, only this key's custodians, at least its threshold (CPS 6.2.2). */
function checkPresent(keyId: string, threshold: number, custodians: string[], names: string[]): void {
  const dups = duplicatesOf(names);
  if (dups.length > 0) {
    throw new CaError(
      'DUPLICATE_CUSTODIAN',
      `key ${keyId}: ${dups.join(', ')} presented more than once; a person counts once toward the quorum (needs ${threshold} different custodians, CPS 6.2.2)`,
      { details: { keyId, duplicates: dups } },
    );
  }
  const strangers = names.filter((n) => !custodians.includes(n));
  if (strangers.length > 0) {
    throw new CaError(
      'NOT_A_CUSTODIAN',
      `key ${keyId}: ${strangers.join(', ')} hold(s) no share of this key; its custodians are ${custodians.join(', ')}`,
      {
        details: { keyId, notCustodians: strangers, custodians },
      },
    );
  }
  if (names.length < threshold) {
    throw new CaError(
      'QUORUM_NOT_MET',
      `key ${keyId} needs ${threshold} of ${custodians.length} custodians, ${names.length} present (${presentList(names)})`,
      { details: { keyId, threshold, custodians, present: names } },
    );
  }
}

/**
 * Opens one custodian's share and checks it belongs to this key, index and threshold, so rows
 * moved between keys are caught; the plaintext goes into `opened` for the caller to wipe.
 */
function openShare(record: SoftKeyRecord, cred: UnlockedCredential, spkiSha256: Buffer, opened: Buffer[]): Uint8Array {
  const { keyId, threshold } = record;
  const row = record.shares.find((s) => s.custodian === cred.operator)!;
  let plaintext: Buffer;
  try {
    plaintext = cred.open(row.sealed, shareAad(row.custodian));
  } catch (cause) {
    if (cause instanceof CaError && cause.code === 'CREDENTIAL_LOCKED') throw cause;
    throw new CaError(
      'SHARE_INVALID',
      `key ${keyId}: the share sealed for ${row.custodian} does not open with ${cred.operator}'s credential (altered, or sealed to an earlier credential)`,
      {
        cause,
        details: { keyId, custodian: row.custodian },
      },
    );
  }
  opened.push(plaintext);
  const payload = decodeSharePayload(plaintext);
  if (!payload) {
    throw new CaError('SHARE_INVALID', `key ${keyId}: the share sealed for ${row.custodian} is malformed`, {
      details: { keyId, custodian: row.custodian },
    });
  }
  if (
    payload.keyId !== keyId ||
    !payload.spkiSha256.equals(spkiSha256) ||
    payload.index !== row.index ||
    payload.threshold !== threshold
  ) {
    throw new CaError(
      'SHARE_WRONG_KEY',
      `key ${keyId}: the share sealed for ${row.custodian} belongs to key ${payload.keyId} share ${payload.index} (threshold ${payload.threshold}), ` +
        `not to key ${keyId} share ${row.index} (threshold ${threshold}); share rows were moved between keys or edited`,
      {
        details: {
          keyId,
          custodian: row.custodian,
          shareKeyId: payload.keyId,
          shareIndex: payload.index,
          rowIndex: row.index,
        },
      },
    );
  }
  return plainView(payload.share);
}
