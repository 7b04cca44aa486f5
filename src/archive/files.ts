/**
 * Durable file operations for backup sets (CPS 5.5.4). A set is written under a temporary
 * name (`NAME.partial`), every file and the folder are fsynced, and only then is the folder
 * renamed to its final name; so a crash leaves either a complete set or a `.partial` folder,
 * never a set that looks complete and is not.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncPath } from '../util/fsync.ts';

export const PARTIAL_SUFFIX = '.partial';

/** Writes a new file (never overwriting) and fsyncs it. */
export function writeDurable(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { flag: 'wx', mode: 0o600 });
  fsyncPath(path);
}

/** Copies a file that is not being written (never onto an existing one) and fsyncs the copy. */
export function copyDurable(from: string, to: string): void {
  if (existsSync(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
  copyFileSync(from, to);
  fsyncPath(to);
}

/**
 * Copies a file that is not being written into new files `to` (never onto existing ones, 0600),
 * hashing the bytes as they are read: one read of the source gives its SHA-256 and every copy
 * (issue 17.5: the backup after a change read its 400 MB database three times). Each copy is
 * fsynced; the caller checks a copy against the returned digest by reading it back.
 */
export function copyHashing(from: string, to: readonly string[]): { sha256: string; size: number } {
  for (const t of to) if (existsSync(t)) throw Object.assign(new Error(`${t} already exists`), { code: 'EEXIST' });
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(1 << 20);
  const src = openSync(from, 'r');
  const fds: number[] = [];
  let size = 0;
  try {
    for (const t of to) fds.push(openSync(t, 'wx', 0o600));
    for (let n = readSync(src, chunk); n > 0; n = readSync(src, chunk)) {
      const part = chunk.subarray(0, n);
      hash.update(part);
      for (const fd of fds) for (let off = 0; off < n; ) off += writeSync(fd, part, off, n - off);
      size += n;
    }
    for (const fd of fds) fsyncSync(fd);
  } finally {
    closeSync(src);
    for (const fd of fds) closeSync(fd);
  }
  return { sha256: hash.digest('hex'), size };
}

/** Creates a folder (and its parents) and fsyncs the parent so the entry survives a crash. */
export function mkdirDurable(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  fsyncPath(path);
  fsyncPath(dirname(path));
}

/** Renames `from` to `to` (same file system) and fsyncs the parent folder. Refuses an existing `to`. */
export function renameDurable(from: string, to: string): void {
  if (existsSync(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
  renameSync(from, to);
  fsyncPath(dirname(to));
}

/** What a backup location holds: complete sets, interrupted (`.partial`) ones, anything else. */
export interface LocationListing {
  exists: boolean;
  sets: string[];
  partials: string[];
  other: string[];
}

export const SET_NAME = /^backup-(\d{6,})-(\d{8}T\d{6,9}Z)$/;

export function listLocation(dir: string): LocationListing {
  if (!existsSync(dir)) return { exists: false, sets: [], partials: [], other: [] };
  const out: LocationListing = { exists: true, sets: [], partials: [], other: [] };
  for (const name of readdirSync(dir).sort()) {
    const isDir = statSync(join(dir, name)).isDirectory();
    if (isDir && SET_NAME.test(name)) out.sets.push(name);
    else if (isDir && name.endsWith(PARTIAL_SUFFIX) && SET_NAME.test(name.slice(0, -PARTIAL_SUFFIX.length)))
      out.partials.push(name.slice(0, -PARTIAL_SUFFIX.length));
    else out.other.push(name);
  }
  return out;
}

/** The set number in a set name. */
export function setNumber(name: string): number {
  const m = SET_NAME.exec(name);
  return m ? Number(m[1]) : NaN;
}
