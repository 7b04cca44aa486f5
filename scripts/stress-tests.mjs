#!/usr/bin/env node
// `npm run test:stress`: runs the timing-sensitive test files (the online server and the
// PostgreSQL store) again and again on a machine kept busy, to shake out tests that pass only
// when the machine is quick. Not part of CI (docs/testing.md says when to use it).
//
// Each run puts the files in an order drawn from its seed (Node 20's test runner cannot
// shuffle) and runs them one at a time under CPU load: `stress-ng --cpu N` when installed,
// else N CPU-burning node processes. A failed run prints its failing tests and its seed; the
// whole output goes to test-output/stress/. `--seed S --runs 1` replays one order.
//
//   node scripts/stress-tests.mjs [--runs 20] [--burn 2] [--seed S] [--run-timeout-min 20] [FILE…]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEFAULT_FILES = () =>
  readdirSync('test')
    .filter((n) => /^(online-.*|status-online)\.test\.ts$/.test(n))
    .sort()
    .map((n) => join('test', n));

function parseArgs(argv) {
  const o = { runs: 20, burn: 2, seed: undefined, runTimeoutMin: 20, files: [] };
  const whole = (flag, v) => {
    if (!/^\d+$/.test(v ?? '')) usage(`${flag} needs a whole number`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = whole(a, argv[++i]);
    else if (a === '--burn') o.burn = whole(a, argv[++i]);
    else if (a === '--seed') o.seed = whole(a, argv[++i]);
    else if (a === '--run-timeout-min') o.runTimeoutMin = whole(a, argv[++i]);
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.runs < 1) usage('--runs must be at least 1');
  o.filesGiven = o.files.length > 0; // the seed orders this list: a replay names the same files
  if (!o.filesGiven) o.files = DEFAULT_FILES();
  return o;
}

function usage(problem) {
  if (problem) process.stderr.write(`stress-tests: ${problem}\n`);
  process.stderr.write(
    'usage: node scripts/stress-tests.mjs [--runs N] [--burn CPUS] [--seed S] [--run-timeout-min M] [FILE…]\n',
  );
  process.exit(problem ? 2 : 0);
}

/** mulberry32: a small seeded generator, so a seed names one file order. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(files, seed) {
  const next = random(seed);
  const out = [...files];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Keeps `cpus` CPUs busy until stop() is called: stress-ng if installed, else busy node processes. */
function startLoad(cpus) {
  if (cpus === 0) return { how: 'no extra load', stop: () => undefined };
  const hasStressNg = spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).status === 0;
  const children = hasStressNg
    ? [spawn('stress-ng', ['--cpu', String(cpus), '--quiet'], { stdio: 'ignore' })]
    : Array.from({ length: cpus }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    how: hasStressNg ? `stress-ng --cpu ${cpus}` : `${cpus} CPU-burning node process(es)`,
    stop: () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    },
  };
}

/** One run of the files in order; resolves with its exit status and output. */
function runOnce(files, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      out += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, signal, timedOut, out });
    });
  });
}

/** The failing tests' lines from spec reporter output (✖ lines before the summary, without the summary's repeats). */
function failuresIn(out) {
  const summaryAt = out.indexOf('\u2716 failing tests:');
  const body = summaryAt >= 0 ? out.slice(summaryAt) : out;
  return [
    ...new Set(
      body
        .split('\n')
        .filter((l) => /^\s*\u2716 /.test(l) && !/failing tests:/.test(l))
        .map((l) => l.trim()),
    ),
  ];
}

const o = parseArgs(process.argv.slice(2));
const outDir = join('test-output', 'stress');
mkdirSync(outDir, { recursive: true });
const load = startLoad(o.burn);
const stopLoad = () => load.stop();
process.on('exit', stopLoad);
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    stopLoad();
    process.exit(130);
  });

process.stdout.write(`stress: ${o.runs} run(s) of ${o.files.length} file(s) under ${load.how}; logs in ${outDir}/\n`);
const failed = [];
const started = Date.now();
for (let run = 1; run <= o.runs; run++) {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const files = shuffled(o.files, seed);
  const t = Date.now();
  const r = await runOnce(files, o.runTimeoutMin * 60_000);
  const log = join(outDir, `run-${run}-seed-${seed}.log`);
  writeFileSync(log, `seed ${seed}\nfiles in order:\n${files.join('\n')}\n\n${r.out}`);
  const secs = Math.round((Date.now() - t) / 1000);
  if (r.status === 0) {
    process.stdout.write(`run ${run}/${o.runs} seed ${seed}: pass (${secs} s)\n`);
    continue;
  }
  const why = r.timedOut
    ? `timed out after ${o.runTimeoutMin} min`
    : `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
  const failures = failuresIn(r.out);
  failed.push({ run, seed, why, failures, log });
  process.stdout.write(
    `run ${run}/${o.runs} seed ${seed}: FAIL, ${why} (${secs} s); replay: node scripts/stress-tests.mjs --runs 1 --seed ${seed}${o.filesGiven ? ` ${o.files.join(' ')}` : ''}\n`,
  );
  for (const f of failures) process.stdout.write(`    ${f}\n`);
  process.stdout.write(`    log: ${log}\n`);
}
stopLoad();
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
if (failed.length === 0) {
  process.stdout.write(`stress: all ${o.runs} run(s) passed in ${minutes} min\n`);
} else {
  process.stdout.write(
    `stress: ${failed.length} of ${o.runs} run(s) failed in ${minutes} min; seeds ${failed.map((f) => f.seed).join(', ')}\n`,
  );
  process.exitCode = 1;
}
