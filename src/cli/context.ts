/**
 * What every command shares: the installation it works on, printing, and option parsing.
 * Loaded by every command's definition, so it imports no use case at load time (start-up).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Installation } from '../installation/installation.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { UsageError, type UsageErrorCode } from '../errors.ts';
import { forScripts } from './json-output.ts';
import { cliPassphraseSource, parseCredentialOptions } from './passphrases.ts';

interface GlobalOptions {
  home?: string;
  json?: boolean;
  withBlobs?: boolean;
}

const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals() as GlobalOptions;

/** --home, else $ROOTCA_HOME, else ./rootca-data (as `defaultHome()` in installation/installation.ts). */
export const homeOf = (cmd: Command): string => resolve(globals(cmd).home ?? process.env.ROOTCA_HOME ?? 'rootca-data');

/**
 * Before a command touches the home: a warning when it is ./rootca-data only because neither
 * --home nor ROOTCA_HOME was given, since another folder would silently mean another
 * installation (issue 20 item 4). On stderr, so stdout stays what scripts read.
 */
export function warnIfHomeFromCurrentFolder(cmd: Command): void {
  if (globals(cmd).home === undefined && process.env.ROOTCA_HOME === undefined) {
    process.stderr.write(`rootca: WARNING no --home or ROOTCA_HOME: using ${homeOf(cmd)} in the current folder\n`);
  }
}

/** The first line of a command's output: the installation it acts on (stderr, for the same reason). */
export function announceInstallation(inst: Installation): void {
  process.stderr.write(`rootca: installation "${inst.config.installation.name}" at ${inst.home}\n`);
}

/** Runs `fn` with the installation at the home open, named first, and closes it. */
export async function withInstallation<T>(cmd: Command, fn: (inst: Installation) => Promise<T> | T): Promise<T> {
  const { openInstallation } = await import('../installation/installation.ts');
  warnIfHomeFromCurrentFolder(cmd);
  const inst = openInstallation(homeOf(cmd));
  announceInstallation(inst);
  try {
    return await fn(inst);
  } finally {
    inst.close();
  }
}

/** Prints `json` with --json (blobs only with --with-blobs: docs/json.md), else `text`. */
export function print(cmd: Command, json: unknown, text: string): void {
  const g = globals(cmd);
  process.stdout.write(g.json ? `${JSON.stringify(forScripts(json, g.withBlobs === true), null, 2)}\n` : `${text}\n`);
}

/** Commander argument parser for a repeatable option: every value, in order. */
export const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** The `--credential` option every command with participants takes. */
export const CREDENTIAL_HELP =
  "NAME=@FILE or NAME=env:VAR: a participant's passphrase (repeatable); else ROOTCA_PASSPHRASE_<NAME> or a prompt";

/** The passphrases of a command's participants: --credential files and variables, else the environment or a prompt. */
export function passphrasesFrom(credential: string[]): PassphraseSource {
  return cliPassphraseSource({ credentials: parseCredentialOptions(credential), interactive: true });
}

/** Reads a file the operator named; an unreadable one is a usage error (exit 2) naming what it was for. */
export function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(
      'INPUT_UNREADABLE',
      `cannot read ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** Commander argument parser for a whole number; anything else is a usage error naming the flag. */
export function wholeNumber(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError('OPTION_VALUE_INVALID', `${flag} must be a whole number, got "${v}"`);
    return Number(v);
  };
}

/** Stops the command with a usage error (exit 2), usable in an expression. */
export function usage(code: UsageErrorCode, message: string): never {
  throw new UsageError(code, message);
}

/** An ISO 8601 time given for `flag`, or undefined when the option was not given. */
export function isoTime(flag: string, v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? usage('OPTION_VALUE_INVALID', `${flag} ${v} is not an ISO 8601 time`) : d;
}
