/**
 * Durable file operations for backup sets (CPS 5.5.4). A set is written under a temporary
 * name (`NAME.partial`), every file and the folder are fsynced, and only then is the folder
 * renamed to its final name; so a crash leaves either a complete set or a `.partial` folder,
 * never a set that looks complete and is not.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
