/**
 * Files that hold wrapped keys, sealed shares or operator credentials are readable by their
 * owner only (issue 14 item 3; CPS 6.2.4 and 6.4.2: activation data and private keys are kept
 * from anyone but the people entrusted with them). Modes are set with chmod after creation:
 * a `mode:` option is only what the umask leaves of it, and an existing file keeps its mode.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The installation home and every folder under it that holds secrets. */
export const PRIVATE_DIR_MODE = 0o700;
/** The database (and its WAL/SHM), backups of it, the config, transcripts. */
export const PRIVATE_FILE_MODE = 0o600;

/** The files SQLite keeps beside a database in WAL mode. */
export const SQLITE_COMPANIONS = ['', '-wal', '-shm', '-journal'];

/** Creates a folder, or tightens an existing one, to 0700 (whatever the umask). */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Sets a file to 0600 if it exists. */
export function restrictToOwner(path: string): void {
  if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE);
}

/** A database file and its WAL/SHM: 0600. SQLite creates WAL and SHM with the database's mode. */
export function restrictDatabaseFiles(dbPath: string): void {
  for (const suffix of SQLITE_COMPANIONS) restrictToOwner(dbPath + suffix);
}

/** Every folder under `dir` to 0700 and every file to 0600 (a backup set, a copy of one). */
export function restrictTree(dir: string): void {
  if (!existsSync(dir)) return;
  chmodSync(dir, PRIVATE_DIR_MODE);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) restrictTree(p);
    else chmodSync(p, PRIVATE_FILE_MODE);
  }
}

export interface LooseMode {
  path: string;
  mode: string;
  want: string;
}

/**
 * What in `paths` (folders walked) is readable or writable by group or others: what `rootca
 * doctor` warns about when a mode was loosened after `init` (a copy, a restore, an editor).
 */
export function findLooseModes(paths: string[]): LooseMode[] {
  const out: LooseMode[] = [];
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    const want = st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
    if ((st.mode & 0o077) !== 0) out.push({ path: p, mode: octal(st.mode & 0o777), want: octal(want) });
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
  };
  for (const p of paths) visit(p);
  return out;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** The mode of a path as `0600`, for messages and tests. */
export function modeOf(path: string): string {
  return octal(statSync(path).mode & 0o777);
}
