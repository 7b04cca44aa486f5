#!/usr/bin/env node
// `npm run test:alone -- FILE…`: proves that every test of the given files passes when run
// by itself (issue 21: "every test runs alone"). Not part of `npm test` or CI.
//
// For each file it lists the tests (one run with a name pattern that matches nothing: every
// test is skipped, the hooks of the file still run), then runs each test alone with
// `node --import tsx --test --test-name-pattern '^NAME$'` (the name escaped, so exactly that
// name) and reports any that fail, time out or do not run. Two tests of one file with the
// same name run together; the script says so. A test's output goes to test-output/alone/.
//
//   node scripts/each-test-alone.mjs [--timeout-min 10] [--match REGEX] FILE…
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPORTER = fileURLToPath(new URL('./test-names-reporter.mjs', import.meta.url));
const NOTHING = '^(?!)';
const OUT = join('test-output', 'alone');

function parseArgs(argv) {
  const o = { timeoutMin: 10, match: undefined, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--timeout-min') {
      const v = argv[++i];
      if (!/^\d+$/.test(v ?? '') || Number(v) < 1) usage('--timeout-min needs a whole number of minutes');
      o.timeoutMin = Number(v);
    } else if (a === '--match') {
      const v = argv[++i];
      if (v === undefined) usage('--match needs a regular expression');
      o.match = new RegExp(v);
    } else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.files.length === 0) usage('name at least one test file');
  return o;
}

function usage(problem) {
  if (problem) process.stderr.write(`each-test-alone: ${problem}\n`);
  process.stderr.write('usage: node scripts/each-test-alone.mjs [--timeout-min M] [--match REGEX] FILE…\n');
  process.exit(problem ? 2 : 0);
}

/** A regular expression that matches exactly `name` and nothing longer or shorter. */
const exactly = (name) => `^${name.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}$`;

let current; // the run in progress, stopped with this script
/** Kills a run and the test process it started (a process group of its own). */
const stop = (child) => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) stop(current);
    process.exit(130);
  });
}

/** Runs the file with one name pattern; resolves with the reporter's lines, the output and the exit status. */
function runFile(file, pattern, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-name-pattern=${pattern}`,
        `--test-reporter=${REPORTER}`,
        '--test-reporter-destination=stdout',
        '--test-reporter=spec',
        '--test-reporter-destination=stderr',
        file,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop(child);
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      const tests = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      resolve({ tests, output: stderr, status, timedOut });
    });
  });
}

/** What went wrong when `name` ran alone, or undefined when it passed. */
function problemOf(name, run) {
  if (run.timedOut) return 'timed out';
  const own = run.tests.filter((t) => t.name === name && t.skip === null);
  if (own.length === 0) return 'did not run (its name pattern matched nothing?)';
  const failed = run.tests.filter((t) => !t.ok);
  if (failed.length > 0) {
    const others = failed.filter((t) => t.name !== name).length;
    return `failed${others ? ` with ${others} other test(s) of the file (a hook failed?)` : ''}`;
  }
  if (run.status !== 0) return `the run exited ${run.status}`;
  return undefined;
}

async function checkFile(file, o, failures) {
  const listing = await runFile(file, NOTHING, o.timeoutMin * 60_000);
  const names = [...new Set(listing.tests.map((t) => t.name))].filter((n) => !o.match || o.match.test(n));
  if (listing.timedOut || listing.tests.some((t) => !t.ok)) {
    const log = join(OUT, `${basename(file)}-listing.log`);
    writeFileSync(log, listing.output);
    const problem = `listing the tests failed (a hook?): see ${log}`;
    failures.push({ file, name: '(listing)', problem, log: undefined });
    return;
  }
  process.stdout.write(`${file}: ${names.length} test(s)\n`);
  for (const [i, name] of names.entries()) {
    const started = Date.now();
    const run = await runFile(file, exactly(name), o.timeoutMin * 60_000);
    const problem = problemOf(name, run);
    const twins = listing.tests.filter((t) => t.name === name).length;
    const note = twins > 1 ? ` (${twins} tests share this name and ran together)` : '';
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const verdict = problem ? `FAIL ${name} (${secs} s)${note} — ${problem}` : `ok   ${name} (${secs} s)${note}`;
    process.stdout.write(`  ${verdict}\n`);
    if (problem) {
      const log = join(OUT, `${basename(file)}-${i + 1}.log`);
      writeFileSync(log, run.output);
      failures.push({ file, name, problem, log });
    }
  }
}

const o = parseArgs(process.argv.slice(2));
mkdirSync(OUT, { recursive: true });
const failures = [];
for (const file of o.files) await checkFile(file, o, failures);
if (failures.length === 0) {
  process.stdout.write(`every test passed alone (${o.files.length} file(s))\n`);
} else {
  process.stdout.write(`\n${failures.length} test(s) failed alone:\n`);
  for (const f of failures) {
    const replay = `node --import tsx --test --test-name-pattern '${exactly(f.name)}' ${f.file}`;
    const where = f.log ? `\n    log: ${f.log}\n    replay: ${replay}` : '';
    process.stdout.write(`  ${f.file}: ${f.name} — ${f.problem}${where}\n`);
  }
  process.exitCode = 1;
}
