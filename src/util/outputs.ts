/**
 * Output files of an operation, handled so that a crash never leaves a half-written file, a
 * file the store does not know, or a file overwritten (CONVENTIONS 4; issue 14):
 *  1. `planOutputs` — before anyone is asked for a passphrase: distinct names, the folder exists
 *     and is writable, nothing there yet (nor a `*.partial`), and, where a folder is given to
 *     confine them (a ceremony file's `--out-dir`), inside it;
 *  2. `stageOutput` — before the commit: `NAME.partial`, exclusive, mode set, fsynced;
 *  3. `publishOutput` — after the commit: the partial is hard-linked to its name (a link never
 *     replaces an existing file, unlike rename), removed, and the folder fsynced. Idempotent:
 *     a file already there with the same digest counts as published, so resuming is safe.
 * The ceremony-side bookkeeping (what to finish after a crash) is in operation/durable-outputs.ts.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { CaError } from '../errors.ts';
import { sha256Hex } from './digest.ts';
import { printable } from './printable.ts';
import { fsyncPath } from './fsync.ts';

export const PARTIAL_SUFFIX = '.partial';

/** Certificates, CRLs, OCSP responses and publication files are public: owner writes, all read. */
export const PUBLIC_FILE_MODE = 0o644;

export interface OutputRequest {
  /** As the operator gave it (relative to `baseDir`). */
  path: string;
  /** What it is, for messages: `--out`, `outputs.certificatePem`. */
  what: string;
  mode?: number;
}

export interface PlannedOutput {
  path: string;
  what: string;
  mode: number;
}

export interface StagedOutput extends PlannedOutput {
  sha256: string;
}

/** Every check an output can fail, done before any key is touched; throws CaError naming the output. */
export function planOutputs(
  requests: OutputRequest[],
  o: { baseDir?: string; confineTo?: string } = {},
): PlannedOutput[] {
  const base = resolve(o.baseDir ?? '.');
  const planned = requests.map((r) => ({
    path: resolve(base, r.path),
    what: r.what,
    mode: r.mode ?? PUBLIC_FILE_MODE,
  }));
  planned.forEach((p, i) => {
    const other = planned.findIndex((q, j) => j < i && q.path === p.path);
    if (other >= 0)
      throw new CaError(
        'OUTPUT_NAMES_CLASH',
        `${planned[other]!.what} and ${p.what} both name ${printable(p.path)}; each output needs its own file`,
      );
  });
  for (const p of planned) {
    const dir = dirname(p.path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new CaError(
        'OUTPUT_DIR_MISSING',
        `${p.what}: the folder ${printable(dir)} does not exist; create it first (nothing was done)`,
      );
    }
    if (
      o.confineTo !== undefined &&
      !inside(realpathSync(resolve(o.confineTo)), resolve(realpathSync(dir), basename(p.path)))
    ) {
      throw new CaError(
        'OUTPUT_OUTSIDE_DIR',
        `${p.what}: ${printable(p.path)} is outside the output folder ${printable(resolve(o.confineTo))}; name a file inside it`,
      );
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      throw new CaError(
        'OUTPUT_DIR_NOT_WRITABLE',
        `${p.what}: the folder ${printable(dir)} is not writable by this user (nothing was done)`,
      );
    }
    for (const f of [p.path, p.path + PARTIAL_SUFFIX]) {
      if (existsSync(f))
        throw new CaError(
          'OUTPUT_EXISTS',
          `${p.what}: ${printable(f)} already exists; nothing is overwritten (nothing was done)`,
        );
    }
  }
  return planned;
}

/** Writes `NAME.partial` exclusively with the output's mode (whatever the umask), fsynced. */
export function stageOutput(p: PlannedOutput, bytes: Buffer | string): StagedOutput {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  writeDurable(p.path + PARTIAL_SUFFIX, data, p.mode);
  return { ...p, sha256: sha256Hex(data) };
}

/**
 * Gives the staged partial its name. Returns 'already' when the file is there with the right
 * digest (a resumed run). Throws when something else took the name or the partial is gone.
 */
export function publishOutput(s: { path: string; sha256: string }): 'published' | 'already' {
  const partial = s.path + PARTIAL_SUFFIX;
  if (existsSync(s.path)) {
    if (sha256Hex(readFileSync(s.path)) !== s.sha256) {
      throw new CaError(
        'OUTPUT_CONFLICT',
        `${printable(s.path)} appeared while the operation ran and is not its output; it was left alone (the output waits in ${printable(partial)})`,
      );
    }
    if (existsSync(partial)) unlinkSync(partial);
    return 'already';
  }
  if (!existsSync(partial)) throw new CaError('OUTPUT_PARTIAL_MISSING', `${printable(partial)} is gone`);
  if (sha256Hex(readFileSync(partial)) !== s.sha256)
    throw new CaError('OUTPUT_PARTIAL_CHANGED', `${printable(partial)} is not what the operation wrote`);
  linkSync(partial, s.path);
  unlinkSync(partial);
  fsyncPath(dirname(s.path)); // a rename is durable only once its folder is on disk too
  return 'published';
}

/** Writes an output again from its stored bytes (the partial was lost): stage, then publish. */
export function rewriteOutput(s: { path: string; sha256: string; mode: number }, bytes: Buffer): void {
  if (sha256Hex(bytes) !== s.sha256)
    throw new CaError(
      'OUTPUT_SOURCE_CHANGED',
      `the stored bytes for ${printable(s.path)} do not have the recorded digest`,
    );
  const partial = s.path + PARTIAL_SUFFIX;
  if (existsSync(partial)) unlinkSync(partial);
  writeDurable(partial, bytes, s.mode);
  publishOutput(s);
}

/** Removes the partials of an operation that did not commit (only ours: planOutputs saw none). */
export function discardPartials(outputs: { path: string }[]): void {
  for (const o of outputs) {
    const partial = o.path + PARTIAL_SUFFIX;
    if (existsSync(partial)) unlinkSync(partial);
  }
}

function writeDurable(path: string, data: Buffer, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, data);
    fchmodSync(fd, mode);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
