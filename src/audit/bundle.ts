/**
 * The audit export bundle (CPS 5.4.5 "backed up onto offline recording media"; R-7.2, R-11.1):
 * a folder an auditor can check years later without rootca's database — the events as JSON
 * lines, every signed checkpoint as its own self-contained file, the audit public keys, the
 * review records, and a manifest with the SHA-256 of each file. Verification recomputes the
 * chain, the Merkle tree and every checkpoint from those files alone.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CaError } from '../errors.ts';
import { parseCheckpointFile, spkiFingerprint, type AuditCheckpoint, type AuditPublicKey } from './checkpoint.ts';
import { TrailVerifier, type AuditVerification } from './trail-verifier.ts';
import type { AuditEvent } from './event.ts';
import { readManifestFile } from '../util/manifest-file.ts';

import {
  BUNDLE_FORMAT,
  EVENTS_FILE,
  KEYS_FILE,
  MANIFEST_FILE,
  type BundleManifest,
  type KeyFileEntry,
} from './bundle-write.ts';

export interface BundleVerification {
  ok: boolean;
  dir: string;
  /** Each problem found, in the order checked. */
  problems: string[];
  /** What was checked and held. */
  checked: string[];
  log?: AuditVerification;
  /** Checkpoints the auditor kept, checked against the bundle's events. */
  kept: { file: string; ok: boolean; problem?: string }[];
}

/** Yields the lines of a file without reading it whole. */
function* linesOf(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const text = rest + buf.toString('utf8', 0, n);
      const parts = text.split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
    if (rest !== '') yield rest;
  } finally {
    closeSync(fd);
  }
}

function sha256File(path: string): { sha256: string; bytes: number } {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      h.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), bytes };
}

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p, base) : [relative(base, p).split(sep).join('/')];
  });
}

function asEvent(x: unknown): AuditEvent | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const e = x as Record<string, unknown>;
  const str = (k: string) => typeof e[k] === 'string';
  if (!Number.isSafeInteger(e.seq) || !['at', 'actor', 'action', 'target', 'outcome', 'prevHash', 'hash'].every(str))
    return undefined;
  if (!Array.isArray(e.roles) || typeof e.details !== 'object' || e.details === null) return undefined;
  return x as AuditEvent;
}

/**
 * Checks a bundle offline: the manifest's digests (and that no file was added or removed),
 * then the chain, the tree and every checkpoint from the files alone; with `kept`, also
 * checkpoint files an auditor kept from earlier (each must be a prefix of these events).
 */
export function verifyAuditBundle(
  dir: string,
  options: { kept?: { file: string; text: string }[] } = {},
): BundleVerification {
  const problems: string[] = [];
  const checked: string[] = [];
  const result = (log?: AuditVerification, kept: BundleVerification['kept'] = []): BundleVerification => ({
    ok: problems.length === 0 && kept.every((k) => k.ok),
    dir,
    problems,
    checked,
    ...(log ? { log } : {}),
    kept,
  });
  const manifest = readBundleManifest(dir, problems);
  if (!manifest) return result();
  const listed = checkBundleFiles(dir, manifest, problems, checked);
  const keys = readBundleKeys(dir, problems);
  const checkpoints = readBundleCheckpoints(dir, listed, keys, problems);
  if (checkpoints.length !== manifest.checkpoints)
    problems.push(`the manifest announces ${manifest.checkpoints} checkpoints, the bundle holds ${checkpoints.length}`);

  // The events: chain, tree, every checkpoint; and the auditor's own kept checkpoints.
  const kept = parseKept(options.kept ?? [], keys);
  const verifier = new TrailVerifier({ checkpoints, keys });
  const keptRoots = replayEvents(
    dir,
    verifier,
    new Set(kept.flatMap((k) => (k.cp ? [k.cp.body.treeSize] : []))),
    problems,
  );
  const log = verifier.finish(manifest.head);
  if (log.firstBad) problems.push(`event ${log.firstBad.position}: ${log.firstBad.problem}`);
  for (const p of log.checkpoints.problems) if (!problems.includes(p.problem)) problems.push(p.problem);
  if (log.treeSize !== manifest.treeSize || log.rootHash !== manifest.rootHash) {
    problems.push(
      `the manifest's tree head (size ${manifest.treeSize}, root ${String(manifest.rootHash).slice(0, 16)}…) is not the tree of the events (size ${log.treeSize}, root ${log.rootHash.slice(0, 16)}…)`,
    );
  }
  if (log.ok) {
    checked.push(`${log.events} events: hash chain and RFC 9162 tree recomputed (root ${log.rootHash})`);
    checked.push(
      `${log.checkpoints.verified} signed checkpoint(s) verified${log.checkpoints.uncovered ? `; the last ${log.checkpoints.uncovered} event(s) come after the latest checkpoint (protected by the chain only)` : ''}`,
    );
  }
  const keptResults = kept.map((k) => {
    if (k.problem || !k.cp) return { file: k.file, ok: false, problem: k.problem };
    const root = keptRoots.get(k.cp.body.treeSize);
    if (root === undefined)
      return {
        file: k.file,
        ok: false,
        problem: `${k.file} covers ${k.cp.body.treeSize} events but the bundle has only ${log.events}: events were cut off`,
      };
    if (root !== k.cp.body.rootHash)
      return {
        file: k.file,
        ok: false,
        problem: `${k.file}: the bundle's first ${k.cp.body.treeSize} events are not the ones that checkpoint signed (an event was changed, removed, inserted or reordered)`,
      };
    return { file: k.file, ok: true };
  });
  for (const k of keptResults)
    if (k.ok)
      checked.push(
        `kept checkpoint ${k.file} (size ${kept.find((x) => x.file === k.file)!.cp!.body.treeSize}) is a prefix of the bundle's log`,
      );
  return result(log, keptResults);
}

/** The bundle's manifest, when it is one of this format; otherwise the problem is recorded. */
function readBundleManifest(dir: string, problems: string[]): BundleManifest | undefined {
  return readManifestFile<BundleManifest>(
    dir,
    MANIFEST_FILE,
    BUNDLE_FORMAT,
    (m) => m?.format === BUNDLE_FORMAT && Array.isArray(m.files) && typeof m.head === 'object' && m.head !== null,
    problems,
  );
}

/** Every listed file is there with its digest; nothing unlisted was added. Returns the listed paths. */
function checkBundleFiles(dir: string, manifest: BundleManifest, problems: string[], checked: string[]): Set<string> {
  const listed = new Set<string>();
  for (const f of manifest.files) {
    if (
      typeof f.path !== 'string' ||
      !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(f.path) ||
      f.path.split('/').includes('..')
    ) {
      problems.push(`the manifest lists an unsafe path ${JSON.stringify(f.path)}`);
      continue;
    }
    listed.add(f.path);
    const p = join(dir, f.path);
    if (!existsSync(p)) {
      problems.push(`${f.path} is listed in the manifest but missing`);
      continue;
    }
    const actual = sha256File(p);
    if (actual.sha256 !== f.sha256 || actual.bytes !== f.bytes)
      problems.push(`${f.path} does not match its SHA-256 in the manifest (the file was changed)`);
  }
  for (const f of filesUnder(dir)) {
    if (f !== MANIFEST_FILE && !listed.has(f)) problems.push(`${f} is not listed in the manifest (a file was added)`);
  }
  if (problems.length === 0) checked.push(`${manifest.files.length} files match the manifest's SHA-256 digests`);
  return listed;
}

/** The audit keys, from the bundle's key file alone; each fingerprint must match its key. */
function readBundleKeys(dir: string, problems: string[]): AuditPublicKey[] {
  const keys: AuditPublicKey[] = [];
  try {
    for (const k of JSON.parse(readFileSync(join(dir, KEYS_FILE), 'utf8')) as KeyFileEntry[]) {
      const spki = Buffer.from(k.publicKey.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
      if (spkiFingerprint(spki) !== k.publicKeySha256)
        problems.push(`${KEYS_FILE}: key ${k.keyId}'s fingerprint does not match its public key`);
      keys.push({
        keyId: k.keyId,
        kind: k.kind,
        publicKeySpki: spki,
        status: k.status,
        createdAt: k.createdAt,
        retiredAt: k.retiredAt,
      });
    }
  } catch (e) {
    problems.push(`${KEYS_FILE} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return keys;
}

/** The bundle's checkpoint files, each signed by one of its audit keys. */
function readBundleCheckpoints(
  dir: string,
  listed: Set<string>,
  keys: AuditPublicKey[],
  problems: string[],
): AuditCheckpoint[] {
  const checkpoints: AuditCheckpoint[] = [];
  for (const f of [...listed].filter((p) => p.startsWith('checkpoints/')).sort()) {
    try {
      const { checkpoint, key } = parseCheckpointFile(readFileSync(join(dir, f), 'utf8'), f);
      const known = keys.find((k) => k.keyId === key.keyId);
      if (!known || !known.publicKeySpki.equals(key.publicKeySpki))
        problems.push(`${f}: its public key is not audit key ${key.keyId} of ${KEYS_FILE}`);
      checkpoints.push(checkpoint);
    } catch (e) {
      problems.push(e instanceof CaError ? e.message : `${f}: ${(e as Error).message}`);
    }
  }
  return checkpoints;
}

/** The auditor's own kept checkpoints, each signed by one of the bundle's audit keys. */
function parseKept(
  kept: { file: string; text: string }[],
  keys: AuditPublicKey[],
): { file: string; cp?: AuditCheckpoint; problem?: string }[] {
  return kept.map((k) => {
    try {
      const parsed = parseCheckpointFile(k.text, k.file);
      const known = keys.find((x) => x.keyId === parsed.key.keyId && x.publicKeySpki.equals(parsed.key.publicKeySpki));
      return {
        file: k.file,
        cp: parsed.checkpoint,
        problem: known
          ? undefined
          : `${k.file} is signed by a key that is not among this bundle's audit keys (${parsed.key.keyId})`,
      };
    } catch (e) {
      return { file: k.file, cp: undefined, problem: (e as Error).message };
    }
  });
}

/** Feeds the bundle's events, one line at a time, to the verifier; returns the tree roots at the sizes in `wanted`. */
function replayEvents(
  dir: string,
  verifier: TrailVerifier,
  wanted: Set<number>,
  problems: string[],
): Map<number, string> {
  const roots = new Map<number, string>();
  if (wanted.has(0)) roots.set(0, verifier.root());
  const eventsPath = join(dir, EVENTS_FILE);
  if (!existsSync(eventsPath)) {
    problems.push(`${EVENTS_FILE} is missing`);
    return roots;
  }
  let n = 0;
  for (const line of linesOf(eventsPath)) {
    n++;
    let e: AuditEvent | undefined;
    try {
      e = asEvent(JSON.parse(line));
    } catch {
      e = undefined;
    }
    if (!e) {
      problems.push(`${EVENTS_FILE} line ${n} is not an audit event`);
      e = {
        seq: -n,
        at: '',
        actor: '',
        roles: [],
        action: '',
        target: '',
        outcome: 'failed',
        details: {},
        prevHash: '',
        hash: '',
      };
    }
    verifier.push(e);
    if (wanted.has(verifier.size)) roots.set(verifier.size, verifier.root());
  }
  return roots;
}
