/**
 * Writing one backup set to every location (CPS 5.5.4). The write order makes a crash at any
 * point safe:
 *   1. snapshot the store with the online backup API into `<primary>/NAME.partial/rootca.db`, fsync;
 *   2. copy the snapshot into `<secondary>/NAME.partial/`, hashing it in the same read, fsync;
 *      copy the config, fsync; read the facts the manifest states from the snapshot itself;
 *   3. build manifest.json; have the TSA stamp it and the operator sign it; write both, fsync;
 *   4. copy the other finished files into `<secondary>/NAME.partial/`, fsync, compare digests
 *      (the snapshot's copy is read back and compared with the digest the manifest states);
 *   5. rename NAME.partial to NAME in the primary, then in the secondary (fsync each parent).
 * A `.partial` folder is never a set: inspection ignores it (or, beside a complete copy, calls
 * it an interrupted copy), and the next backup removes or completes it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import { derToPem } from '../pki/pem.ts';
import { parseTimeStampToken, timeStampResponse } from '../pki/tsp.ts';
import type { Db } from '../store/db.ts';
import { sha256File } from '../util/digest.ts';
import { fsyncPath } from '../util/fsync.ts';
import { copyDurable, copyHashing, mkdirDurable, PARTIAL_SUFFIX, renameDurable, writeDurable } from './files.ts';
import {
  BACKUP_FORMAT,
  CONFIG_FILE,
  DB_FILE,
  MANIFEST_FILE,
  SIGNATURE_FILE,
  TOKEN_FILE,
  TSA_CERT_FILE,
  encodeManifest,
  type BackupManifest,
  type ManifestSignature,
} from './format.ts';
import { openSnapshot, snapshotDatabase, snapshotFacts } from './snapshot.ts';
import { integrityCheckInWorker } from '../store/snapshot-integrity.ts';
import { restrictToOwner } from '../util/file-modes.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Who signs manifest.json: the operator who made the change, with their unlocked credential. */
export interface ManifestSigner {
  operator: string;
  credentialKind: string;
  signingPublicKey: Buffer;
  sign(data: Uint8Array): Buffer;
}

/** The internal TSA, when it can stamp for this operator; otherwise why not. */
export type ManifestStamping =
  | { tsaKeyId: string; tsaCertificateDer: Buffer; stamp(data: Buffer): Promise<Buffer> }
  | { reason: string };

export interface WriteSetInput {
  db: Db;
  clock: Clock;
  /** The installation's config file, copied as it is on disk. */
  configPath: string;
  /** Resolved folders; the set is staged in the first. At least one. */
  locations: string[];
  number: number;
  name: string;
  created: Date;
  installation: string;
  reason: string;
  ceremonyId: number | null;
  previous: BackupManifest['previous'];
  signer: ManifestSigner;
  stamping: ManifestStamping;
  /** Called after each step (staged, snapshot, stamped, manifest, copied:N, renamed:N), so a test can crash the process there. */
  step?: (name: string) => void;
}

export interface WrittenSet {
  manifest: BackupManifest;
  manifestSha256: string;
  stamped: boolean;
  notStampedReason?: string;
  tokenSerialHex?: string;
}

export async function writeBackupSet(i: WriteSetInput): Promise<WrittenSet> {
  const step = i.step ?? (() => {});
  const staging = join(i.locations[0]!, i.name + PARTIAL_SUFFIX);
  for (const loc of i.locations) mkdirDurable(loc);
  mkdirDurable(staging);
  step('staged');
  const dbPath = join(staging, DB_FILE);
  await snapshotDatabase(i.db, dbPath);
  restrictToOwner(dbPath); // wrapped keys and sealed shares: 0600 whatever the umask (issue 14 item 3)
  step('snapshot');
  // One read of the snapshot both hashes it for the manifest and writes it into the other
  // locations' staging folders (issue 17.5: it was read three times, 400 MB at 1 M revocations).
  // A staging folder is never a set (see above), so copying before the manifest exists is safe.
  const others = i.locations.slice(1).map((loc) => join(loc, i.name + PARTIAL_SUFFIX));
  for (const to of others) {
    if (existsSync(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
    mkdirDurable(to);
  }
  // PRAGMA integrity_check reads the same file in a worker thread meanwhile (issue 17.5).
  const integrity = integrityCheckInWorker(dbPath);
  integrity.catch(() => {}); // awaited below, after the copy; a rejection is not lost meanwhile
  let dbDigest: { sha256: string; size: number };
  try {
    dbDigest = copyHashing(
      dbPath,
      others.map((to) => join(to, DB_FILE)),
    );
    copyDurable(i.configPath, join(staging, CONFIG_FILE));
  } catch (e) {
    await integrity.catch(() => {});
    throw e;
  }
  const base = baseManifest(i, staging, dbPath, dbDigest, await integrity);
  const { manifest, bytes, token, notStampedReason } = await stampManifest(base, i.stamping);
  step('stamped');
  const signature: ManifestSignature = {
    format: 'rootca-backup-signature/1',
    signer: i.signer.operator,
    credentialKind: i.signer.credentialKind,
    signingPublicKey: i.signer.signingPublicKey.toString('base64'),
    signature: i.signer.sign(bytes).toString('base64'),
  };
  if (token) {
    writeDurable(join(staging, TOKEN_FILE), timeStampResponse(token));
    writeDurable(
      join(staging, TSA_CERT_FILE),
      derToPem((i.stamping as { tsaCertificateDer: Buffer }).tsaCertificateDer, 'CERTIFICATE'),
    );
  }
  writeDurable(join(staging, SIGNATURE_FILE), `${JSON.stringify(signature, null, 2)}\n`);
  writeDurable(join(staging, MANIFEST_FILE), bytes);
  fsyncPath(staging);
  step('manifest');

  others.forEach((to, n) => {
    completeSetCopy(staging, to, dbDigest.sha256);
    step(`copied:${n + 1}`);
  });
  i.locations.forEach((loc, n) => {
    renameDurable(join(loc, i.name + PARTIAL_SUFFIX), join(loc, i.name));
    step(`renamed:${n}`);
  });
  return {
    manifest,
    manifestSha256: sha256(bytes),
    stamped: !!token,
    notStampedReason,
    tokenSerialHex: token ? parseTimeStampToken(token).serialHex : undefined,
  };
}

/** The manifest less its time-stamp part: what the staged snapshot and config hold, read from them. */
function baseManifest(
  i: WriteSetInput,
  staging: string,
  dbPath: string,
  dbDigest: { sha256: string; size: number },
  integrity: string,
): Omit<BackupManifest, 'timeStamp'> {
  const snap = openSnapshot(dbPath);
  let facts;
  try {
    facts = snapshotFacts(snap, i.clock);
  } finally {
    snap.close();
  }
  if (integrity !== 'ok')
    throw new CaError('SNAPSHOT_CORRUPT', `the snapshot fails PRAGMA integrity_check: ${integrity}`);
  const files = [
    { name: DB_FILE, ...dbDigest },
    { name: CONFIG_FILE, ...sha256File(join(staging, CONFIG_FILE)) },
  ];
  return {
    format: BACKUP_FORMAT,
    installation: i.installation,
    set: i.name,
    number: i.number,
    created: i.created.toISOString(),
    reason: i.reason,
    ceremonyId: i.ceremonyId,
    previous: i.previous,
    files,
    database: { schemaVersion: facts.schemaVersion, integrityCheck: integrity },
    audit: facts.audit,
    serials: facts.serials,
    crlNumbers: facts.crlNumbers,
    records: facts.records,
    signer: { operator: i.signer.operator, credentialKind: i.signer.credentialKind },
  };
}

/**
 * The manifest with its time-stamp part, and the token over it (CPS 5.5.5). The stamp covers the
 * manifest, so the manifest can only say that a stamp was asked for; if the TSA then fails, the
 * manifest is rebuilt to say it is not stamped and why.
 */
async function stampManifest(
  base: Omit<BackupManifest, 'timeStamp'>,
  stamping: ManifestStamping,
): Promise<{ manifest: BackupManifest; bytes: Buffer; token?: Buffer; notStampedReason?: string }> {
  let notStampedReason: string;
  if ('stamp' in stamping) {
    const manifest: BackupManifest = {
      ...base,
      timeStamp: {
        requested: true,
        tsaKeyId: stamping.tsaKeyId,
        tsaCertificateSha256: sha256(stamping.tsaCertificateDer),
      },
    };
    const bytes = encodeManifest(manifest);
    try {
      return { manifest, bytes, token: await stamping.stamp(bytes) };
    } catch (e) {
      notStampedReason = `the TSA ${stamping.tsaKeyId} failed: ${(e as Error).message}`;
    }
  } else {
    notStampedReason = stamping.reason;
  }
  const manifest: BackupManifest = { ...base, timeStamp: { requested: false, reason: notStampedReason } };
  return { manifest, bytes: encodeManifest(manifest), notStampedReason };
}

/** Copies a set's files into a new folder `to` (refused if it exists), fsyncs, and checks the bytes. */
export function copySetFiles(from: string, to: string): void {
  if (existsSync(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
  mkdirDurable(to);
  for (const f of readdirSync(from).sort()) copyChecked(from, to, f);
  fsyncPath(to);
}

/** Copies one file, hashing the original in the same read, and checks the copy read back against that digest. */
function copyChecked(from: string, to: string, f: string): void {
  const original = copyHashing(join(from, f), [join(to, f)]).sha256;
  if (sha256File(join(to, f)).sha256 !== original)
    throw new CaError('COPY_MISMATCH', `the copy of ${f} in ${to} differs from the original`);
}

/**
 * Finishes a staging folder `to` that already holds the snapshot's copy: the snapshot read back
 * must have the digest the manifest states; every other file is copied and checked as copySetFiles does.
 */
function completeSetCopy(from: string, to: string, dbSha256: string): void {
  if (sha256File(join(to, DB_FILE)).sha256 !== dbSha256)
    throw new CaError('COPY_MISMATCH', `the copy of ${DB_FILE} in ${to} differs from the original`);
  for (const f of readdirSync(from).sort()) if (f !== DB_FILE) copyChecked(from, to, f);
  fsyncPath(to);
}
