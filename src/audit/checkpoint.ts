/**
 * Audit checkpoints: a signed tree head of the audit log's RFC 9162 Merkle tree,
 * {installation, treeSize, rootHash, at}, signed by the audit key (a service key, never a CA
 * key). A checkpoint file is self-contained: body, signature and the audit public key, so an
 * auditor who keeps it can later prove the log still starts with exactly those events.
 *
 * The signed bytes are the canonical JSON of the body (keys sorted, no whitespace), so
 * `openssl pkeyutl -verify -rawin` can check an Ed25519 checkpoint by hand.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { CaError } from '../errors.ts';
import { insertCheckpointRow, listCheckpointRows, nextCheckpointNumber } from '../store/audit-checkpoints.ts';
import { listAuditKeyRows } from '../store/audit-keys.ts';
import type { Db } from '../store/db.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export const CHECKPOINT_FORMAT = 'rootca-audit-checkpoint/1';

export type AuditKeyKind = 'ed25519' | 'p256' | 'p384';

/** What the audit key signs. */
export interface CheckpointBody {
  installation: string;
  treeSize: number;
  /** MTH of the first `treeSize` events, lower-case hex. */
  rootHash: string;
  at: string;
}

export interface AuditCheckpoint {
  number: number;
  body: CheckpointBody;
  keyId: string;
  signature: Buffer;
  /** RFC 3161 TimeStampToken (DER) over the signature bytes, when a time-stamper was given. */
  timeStampToken?: Buffer;
}

/** The public half of an audit key, as stored and as exported. */
export interface AuditPublicKey {
  keyId: string;
  kind: AuditKeyKind;
  publicKeySpki: Buffer;
  status: 'active' | 'retired';
  createdAt: string;
  retiredAt: string | null;
}

/** The self-contained file form (checkpoint-N.json). */
export interface CheckpointFile {
  format: typeof CHECKPOINT_FORMAT;
  number: number;
  body: CheckpointBody;
  keyId: string;
  keyKind: AuditKeyKind;
  /** SPKI of the audit key, PEM. */
  publicKey: string;
  /** SHA-256 of the SPKI DER, hex: the fingerprint recorded in the log's audit.key-init event. */
  publicKeySha256: string;
  /** Over the canonical JSON of `body`; base64. */
  signature: string;
  /** RFC 3161 TimeStampToken over the signature bytes, base64; absent when not time-stamped. */
  timeStampToken?: string;
}

/** The exact bytes the audit key signs. */
export function checkpointSignedBytes(body: CheckpointBody): Buffer {
  return Buffer.from(
    canonicalJson({ installation: body.installation, treeSize: body.treeSize, rootHash: body.rootHash, at: body.at }),
    'utf8',
  );
}

/** SHA-256 of a public key's SPKI DER, hex. */
export function spkiFingerprint(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

const hashFor = (kind: AuditKeyKind): string | null =>
  kind === 'ed25519' ? null : kind === 'p256' ? 'sha256' : 'sha384';

/** The hash a service key of this kind signs with (null: Ed25519 is pure). */
export function signatureHashOf(kind: AuditKeyKind): 'sha256' | 'sha384' {
  return kind === 'p384' ? 'sha384' : 'sha256';
}

/** True when `cp.signature` is the audit key's signature over the checkpoint body. Never throws. */
export function verifyCheckpointSignature(
  cp: AuditCheckpoint,
  key: Pick<AuditPublicKey, 'kind' | 'publicKeySpki'>,
): boolean {
  try {
    const pub = createPublicKey({ key: key.publicKeySpki, format: 'der', type: 'spki' });
    const expected = key.kind === 'ed25519' ? 'ed25519' : 'ec';
    if (pub.asymmetricKeyType !== expected) return false;
    return cryptoVerify(hashFor(key.kind), checkpointSignedBytes(cp.body), pub, cp.signature);
  } catch {
    return false;
  }
}

export function toPem(spki: Buffer): string {
  return createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();
}

/** The file an auditor keeps. */
export function checkpointToFile(
  cp: AuditCheckpoint,
  key: Pick<AuditPublicKey, 'kind' | 'publicKeySpki'>,
): CheckpointFile {
  return {
    format: CHECKPOINT_FORMAT,
    number: cp.number,
    body: cp.body,
    keyId: cp.keyId,
    keyKind: key.kind,
    publicKey: toPem(key.publicKeySpki),
    publicKeySha256: spkiFingerprint(key.publicKeySpki),
    signature: cp.signature.toString('base64'),
    ...(cp.timeStampToken ? { timeStampToken: cp.timeStampToken.toString('base64') } : {}),
  };
}

const invalid = (where: string, message: string) => new CaError('CHECKPOINT_FILE_INVALID', `${where}: ${message}`);
const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads a checkpoint file (untrusted: it comes from an auditor's media). Checks its shape and
 * that the signature verifies with the key it carries; whether that key belongs to this
 * installation is the caller's question. Throws CHECKPOINT_FILE_INVALID naming the field.
 */
export function parseCheckpointFile(
  text: string,
  where = 'checkpoint file',
): { checkpoint: AuditCheckpoint; key: Pick<AuditPublicKey, 'keyId' | 'kind' | 'publicKeySpki'> } {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw invalid(where, `not JSON (${(e as Error).message})`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw invalid(where, 'not a JSON object');
  if (j.format !== CHECKPOINT_FORMAT)
    throw invalid(where, `format must be "${CHECKPOINT_FORMAT}", got ${JSON.stringify(j.format)}`);
  if (!Number.isSafeInteger(j.number) || (j.number as number) < 1)
    throw invalid(where, 'number must be a positive integer');
  const b = j.body as Record<string, unknown> | undefined;
  if (typeof b !== 'object' || b === null) throw invalid(where, 'body is missing');
  if (typeof b.installation !== 'string') throw invalid(where, 'body.installation must be a string');
  if (!Number.isSafeInteger(b.treeSize) || (b.treeSize as number) < 0)
    throw invalid(where, 'body.treeSize must be a non-negative integer');
  if (typeof b.rootHash !== 'string' || !HEX64.test(b.rootHash))
    throw invalid(where, 'body.rootHash must be 64 lower-case hex digits');
  if (typeof b.at !== 'string' || Number.isNaN(Date.parse(b.at))) throw invalid(where, 'body.at must be a date-time');
  const extra = Object.keys(b).filter((k) => !['installation', 'treeSize', 'rootHash', 'at'].includes(k));
  if (extra.length) throw invalid(where, `body has unknown key ${extra[0]}`);
  if (typeof j.keyId !== 'string' || !j.keyId) throw invalid(where, 'keyId must be a string');
  if (j.keyKind !== 'ed25519' && j.keyKind !== 'p256' && j.keyKind !== 'p384')
    throw invalid(where, 'keyKind must be ed25519, p256 or p384');
  if (typeof j.signature !== 'string' || !BASE64.test(j.signature)) throw invalid(where, 'signature must be base64');
  if (j.timeStampToken !== undefined && (typeof j.timeStampToken !== 'string' || !BASE64.test(j.timeStampToken)))
    throw invalid(where, 'timeStampToken must be base64');
  let spki: Buffer;
  try {
    spki = createPublicKey({ key: String(j.publicKey), format: 'pem' }).export({ format: 'der', type: 'spki' });
  } catch {
    throw invalid(where, 'publicKey is not a PEM public key');
  }
  if (typeof j.publicKeySha256 === 'string' && j.publicKeySha256 !== spkiFingerprint(spki))
    throw invalid(where, 'publicKeySha256 is not the fingerprint of publicKey');
  const checkpoint: AuditCheckpoint = {
    number: j.number as number,
    body: { installation: b.installation, treeSize: b.treeSize as number, rootHash: b.rootHash, at: b.at },
    keyId: j.keyId,
    signature: Buffer.from(j.signature, 'base64'),
    ...(typeof j.timeStampToken === 'string' ? { timeStampToken: Buffer.from(j.timeStampToken, 'base64') } : {}),
  };
  const key = { keyId: j.keyId, kind: j.keyKind as AuditKeyKind, publicKeySpki: spki };
  if (!verifyCheckpointSignature(checkpoint, key))
    throw new CaError(
      'CHECKPOINT_SIGNATURE_INVALID',
      `${where}: the signature does not verify with the public key in the file (the checkpoint was altered)`,
    );
  return { checkpoint, key };
}

/**
 * Stored checkpoints in number order. The body is taken from the signed JSON, not from the
 * query columns, so what is checked is what was signed.
 */
export function loadCheckpoints(db: Db): AuditCheckpoint[] {
  return listCheckpointRows(db).map((r) => {
    let body: CheckpointBody;
    try {
      body = JSON.parse(r.body) as CheckpointBody;
    } catch {
      body = { installation: '', treeSize: r.tree_size, rootHash: r.root_hash, at: r.at };
    }
    return {
      number: r.number,
      body,
      keyId: r.key_id,
      signature: r.signature,
      ...(r.timestamp_token ? { timeStampToken: r.timestamp_token } : {}),
    };
  });
}

/** Every audit key ever made (public halves), oldest first. */
export function loadAuditPublicKeys(db: Db): AuditPublicKey[] {
  return listAuditKeyRows(db).map((r) => ({
    keyId: r.key_id,
    kind: r.kind,
    publicKeySpki: r.public_key_spki,
    status: r.status,
    createdAt: r.created_at,
    retiredAt: r.retired_at,
  }));
}

/** The file name of checkpoint `n` (in $ROOTCA_HOME/checkpoints/ and in export bundles). */
export const checkpointFileName = (n: number): string => `checkpoint-${n}.json`;

/** Stores a checkpoint (inside the caller's transaction); its number is the next one. */
export function insertCheckpoint(db: Db, cp: Omit<AuditCheckpoint, 'number'>, examiner: string): AuditCheckpoint {
  const number = nextCheckpointNumber(db);
  insertCheckpointRow(db, {
    number,
    tree_size: cp.body.treeSize,
    root_hash: cp.body.rootHash,
    at: cp.body.at,
    body: checkpointSignedBytes(cp.body).toString('utf8'),
    key_id: cp.keyId,
    signature: cp.signature,
    timestamp_token: cp.timeStampToken ?? null,
    examiner,
    file: checkpointFileName(number),
  });
  return { ...cp, number };
}
