/**
 * Writing the audit export bundle (CPS 5.4.5; ): its file names, its manifest, and
 * the folder itself — events, checkpoints, keys, reviews and a README. Verifying it is
 * `bundle.ts`.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CaError } from '../errors.ts';
import {
  checkpointFileName,
  checkpointToFile,
  spkiFingerprint,
  toPem,
  type AuditCheckpoint,
  type AuditKeyKind,
  type AuditPublicKey,
} from './checkpoint.ts';
import { TrailVerifier, type AuditVerification } from './trail-verifier.ts';
import type { AuditEvent } from './event.ts';

export const BUNDLE_FORMAT = 'rootca-audit-bundle/1';
export const MANIFEST_FILE = 'manifest.json';
export const EVENTS_FILE = 'events.jsonl';
export const KEYS_FILE = 'audit-keys.json';
export const REVIEWS_FILE = 'reviews.json';
export const README_FILE = 'README.txt';

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  installation: string;
  createdAt: string;
  exportedBy: string;
  /** The chain head recorded beside the log when it was exported. */
  head: { seq: number; hash: string };
  treeSize: number;
  rootHash: string;
  checkpoints: number;
  files: { path: string; sha256: string; bytes: number }[];
}

/** A key in audit-keys.json. */
export interface KeyFileEntry {
  keyId: string;
  kind: AuditKeyKind;
  publicKey: string;
  publicKeySha256: string;
  status: 'active' | 'retired';
  createdAt: string;
  retiredAt: string | null;
}

export interface BundleContent {
  installation: string;
  createdAt: string;
  exportedBy: string;
  head: { seq: number; hash: string };
  events: Iterable<AuditEvent>;
  checkpoints: AuditCheckpoint[];
  keys: AuditPublicKey[];
  reviews: unknown[];
}

/** One event as a JSON line, fields in a fixed order. */
function eventLine(e: AuditEvent): string {
  return JSON.stringify({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    roles: e.roles,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    details: e.details,
    prevHash: e.prevHash,
    hash: e.hash,
  });
}

const README = `rootca audit export bundle (${BUNDLE_FORMAT})

events.jsonl          every audit event, one JSON object per line, in order
checkpoints/*.json    signed tree heads (RFC 9162 Merkle tree over the events), self-contained
audit-keys.json       the audit public keys that signed them (never CA keys)
reviews.json          Log Examiners' review records (CPS 5.4.2)
manifest.json         SHA-256 of every file above, the recorded chain head and tree head

Verify offline:  rootca audit verify-bundle THIS_FOLDER [--checkpoint KEPT_CHECKPOINT.json]
By hand: each event's leaf is the canonical JSON (sorted keys, no spaces) of
{seq, at, actor, roles, action, target, outcome, details}; hash = SHA-256(prevHash "\\n" leaf);
the tree is RFC 9162 2.1.1 (leaf prefix 0x00, node prefix 0x01) over those leaves.
`;

/**
 * Writes the bundle into `dir`, which must not exist or be empty: nothing is overwritten
 * (every file is created with O_EXCL). Returns the manifest.
 */
export function writeAuditBundle(dir: string, c: BundleContent): BundleManifest {
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new CaError('OUTPUT_EXISTS', `${dir} exists and is not an empty folder; an export never overwrites anything`);
  }
  mkdirSync(join(dir, 'checkpoints'), { recursive: true, mode: 0o700 });
  const files: BundleManifest['files'] = [];
  const put = (path: string, data: string | Buffer) => {
    writeFileSync(join(dir, path), data, { flag: 'wx', mode: 0o600 });
    files.push({ path, sha256: createHash('sha256').update(data).digest('hex'), bytes: Buffer.byteLength(data) });
  };

  // Events are streamed: the log may be large.
  const fd = openSync(join(dir, EVENTS_FILE), 'wx', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  let tree: AuditVerification;
  try {
    const verifier = new TrailVerifier({ checkpoints: c.checkpoints, keys: c.keys });
    let chunk: string[] = [];
    const flush = () => {
      const b = Buffer.from(chunk.join(''), 'utf8');
      writeSync(fd, b);
      hash.update(b);
      bytes += b.length;
      chunk = [];
    };
    for (const e of c.events) {
      verifier.push(e);
      chunk.push(`${eventLine(e)}\n`);
      if (chunk.length >= 1000) flush();
    }
    flush();
    tree = verifier.finish(c.head);
  } finally {
    closeSync(fd);
  }
  files.push({ path: EVENTS_FILE, sha256: hash.digest('hex'), bytes });

  for (const cp of c.checkpoints) {
    const key = c.keys.find((k) => k.keyId === cp.keyId);
    if (!key)
      throw new CaError(
        'AUDIT_KEY_UNKNOWN',
        `checkpoint ${cp.number} names audit key ${cp.keyId}, which is not stored`,
      );
    put(`checkpoints/${checkpointFileName(cp.number)}`, `${JSON.stringify(checkpointToFile(cp, key), null, 2)}\n`);
  }
  const keys: KeyFileEntry[] = c.keys.map((k) => ({
    keyId: k.keyId,
    kind: k.kind,
    publicKey: toPem(k.publicKeySpki),
    publicKeySha256: spkiFingerprint(k.publicKeySpki),
    status: k.status,
    createdAt: k.createdAt,
    retiredAt: k.retiredAt,
  }));
  put(KEYS_FILE, `${JSON.stringify(keys, null, 2)}\n`);
  put(REVIEWS_FILE, `${JSON.stringify(c.reviews, null, 2)}\n`);
  put(README_FILE, README);

  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    installation: c.installation,
    createdAt: c.createdAt,
    exportedBy: c.exportedBy,
    head: c.head,
    treeSize: tree.treeSize,
    rootHash: tree.rootHash,
    checkpoints: c.checkpoints.length,
    files: files.sort((a, b) => a.path.localeCompare(b.path)),
  };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  return manifest;
}
