/** Shared test fixtures: temp folders, installations with demo people, and the OpenSSL CLI. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initInstallation, type Installation } from '../src/installation/installation.ts';
import { closeBootstrapIfReady } from '../src/people/appointments.ts';
import { addOperator } from '../src/people/operators.ts';
import type { PassphraseSource } from '../src/people/participants.ts';
import { runRootCeremony, type RootCeremonyResult } from '../src/lifecycle/root-ceremony.ts';
import type { Clock } from '../src/clock.ts';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import { CaError } from '../src/errors.ts';
import { issueDelegatedKey, type DelegatedKeyResult } from '../src/custody/delegated-keys.ts';
import type { DelegatedPurpose } from '../src/custody/delegated-signers.ts';

export const REPO = resolve(import.meta.dirname, '..');
export const REFERENCE_ROOTS = resolve(REPO, '../shared/reference/secom-roots');

/**
 * scrypt cost for fixture installations: their passphrases guard nothing, and at the default
 * (2^17, 128 MiB) each person sealed or unlocked costs seconds on a busy machine (issue 20.6).
 */
export const TEST_SCRYPT_LOG2N = 12;

export function tempDir(prefix = 'rootca-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Passphrases made up by the test, handed out per operator; `undefined` = not present. */
export function passphraseMap(map: Record<string, string | undefined>): PassphraseSource {
  return { get: async (operator) => (map[operator] === undefined ? undefined : Buffer.from(map[operator]!, 'utf8')) };
}

export const PEOPLE = {
  alice: { roles: ['ca-administrator'], passphrase: `alice-${process.pid}-correct horse` },
  bob: { roles: ['ca-administrator'], passphrase: `bob-${process.pid}-battery staple` },
  carol: { roles: ['ca-administrator'], passphrase: `carol-${process.pid}-tr0ub4dor&3` },
  olivia: { roles: ['operation-manager'], passphrase: `olivia-${process.pid}-witness pass` },
} as const;

/** Further people for the roles tests: RA officers, a Person Responsible, a Log Examiner, a second SOM. */
export const MORE_PEOPLE = {
  rita: { roles: ['ra-officer'], passphrase: `rita-${process.pid}-ra officer one` },
  ravi: { roles: ['ra-officer'], passphrase: `ravi-${process.pid}-ra officer two` },
  paula: { roles: ['person-responsible'], passphrase: `paula-${process.pid}-responsible` },
  leo: { roles: ['log-examiner'], passphrase: `leo-${process.pid}-log examiner` },
  oscar: { roles: ['operation-manager'], passphrase: `oscar-${process.pid}-second witness` },
} as const;

export function allPassphrases(): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...PEOPLE, ...MORE_PEOPLE }).map(([k, v]) => [k, v.passphrase]));
}

/** A fresh installation in a temp folder with alice, bob, carol (custodians) and olivia (witness). */
export function installationWithPeople(options: { clock?: Clock; dir?: string; more?: boolean } = {}): Installation {
  const home = join(options.dir ?? tempDir(), 'home');
  const inst = initInstallation(home, { name: 'test', clock: options.clock, scryptLog2N: TEST_SCRYPT_LOG2N });
  const today = inst.clock.now().toISOString().slice(0, 10);
  const people = options.more ? { ...PEOPLE, ...MORE_PEOPLE } : PEOPLE;
  for (const [name, p] of Object.entries(people)) {
    addOperator(inst, {
      name,
      roles: [...p.roles],
      kind: name === 'bob' ? 'p256' : 'ed25519',
      passphrase: Buffer.from(p.passphrase),
      trainedOn: today,
      backgroundCheckedOn: today,
    });
  }
  closeBootstrapIfReady(inst);
  return inst;
}

/** Runs one of the shipped ceremony files (ceremonies/NAME.yaml) with alice and bob as custodians. */
export async function runShippedCeremony(
  inst: Installation,
  name: string,
  outDir: string,
  present: Record<string, string | undefined> = allPassphrases(),
): Promise<RootCeremonyResult> {
  const file = join(REPO, 'ceremonies', `${name}.yaml`);
  return runRootCeremony(inst, {
    ceremony: parseRootCeremony(readFileSync(file), file),
    baseDir: outDir,
    passphrases: passphraseMap(present),
  });
}

/**
 * Issue 15: a root key signs only certificates and CRLs, so every test that pre-signs OCSP
 * responses or publishes first gives the root its delegated keys — an OCSP responder key and a
 * publication key, each held 2-of-3 by alice, bob and carol and certified by the root (alice
 * operating, olivia witnessing). The one fixture step for that.
 */
export async function setUpDelegatedKeys(
  inst: Installation,
  caName: string,
  purposes: DelegatedPurpose[] = ['ocsp', 'publication'],
  validityDays?: number,
): Promise<DelegatedKeyResult[]> {
  const out: DelegatedKeyResult[] = [];
  for (const purpose of purposes)
    out.push(
      await issueDelegatedKey(inst, {
        caName,
        purpose,
        holders: ['alice', 'bob', 'carol'],
        threshold: 2,
        operator: 'alice',
        witness: 'olivia',
        passphrases: passphraseMap(allPassphrases()),
        validityDays,
      }),
    );
  return out;
}

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; returns its exit status and output (does not throw). */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
): CommandResult {
  const r = spawnSync(cmd, args, {
    cwd: options.cwd,
    input: options.input,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the OpenSSL CLI and fails the test with its stderr when it exits non-zero. */
export function openssl(args: string[], options: { cwd?: string; input?: string | Buffer } = {}): string {
  const r = run('openssl', args, options);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout + r.stderr;
}

/** Runs bin/rootca.mjs as a user would. */
export function rootca(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): CommandResult {
  return run(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args], {
    ...options,
    env: { ...process.env, ...options.env },
  });
}

/** Asserts that `fn` is refused with a CaError of `code` (and a message matching `message`). */
export const rejectsWith = (code: string, fn: () => Promise<unknown>, message?: RegExp): Promise<void> =>
  assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof CaError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });

/**
 * Waits for an event by polling `check` until it returns a value other than undefined/false
 * (which is returned), instead of sleeping a fixed time. Fails after `timeoutMs` naming `what`
 * it waited for and the last error `check` threw, if any.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last check: ${(lastError as Error)?.message ?? String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}

/** The `story` function `storyTests()` returns: registers one test of the story. */
export interface Story {
  (name: string, body: () => Promise<void> | void): void;
  /** Runs, once each, the story's tests registered so far: for a hook whose tests need that state. */
  soFar(): () => Promise<void>;
}

/**
 * Registers the tests of a story, where each builds on the state the ones before it left, so
 * that every one still runs alone and in any order (issue 21): a test first runs, once, the
 * bodies of the story's earlier tests that have not run yet, with their assertions. In a run of
 * the whole file each body runs once, in file order, as before.
 */
export function storyTests(): Story {
  const steps: (() => Promise<void>)[] = [];
  const upTo = (earlier: (() => Promise<void>)[]) => async () => {
    for (const step of earlier) await step();
  };
  const story = (name: string, body: () => Promise<void> | void) => {
    const before = upTo([...steps]);
    let once: Promise<void> | undefined;
    const run = () => (once ??= before().then(body));
    steps.push(run);
    it(name, run);
  };
  return Object.assign(story, { soFar: () => upTo([...steps]) });
}
