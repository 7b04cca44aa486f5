#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's own test runner, so CI reads the
// runner's summary. Extra arguments are passed to `node --test`; a .ts file among them runs
// that file instead of all.
//
// The test files are compiled first, once per run, by scripts/compile-tests.mjs (esbuild, with
// source maps: a failure points at the .ts line) and the runner runs the JavaScript; file names
// in what it prints are the .ts files. ROOTCA_TEST_TSX=1 runs the .ts files through tsx instead.
// A compile error fails the run before any test runs.
//
// Around it (issue 20.6): a line at least every 30 s while files run (which are running, how
// many are done), and the slowest tests before the summary, which stays the last lines. Every
// file's wall time goes to test-output/test-durations.json, to see where the suite's time goes
// (docs/testing.md, "Keeping the suite fast"); the next run starts the longest files first.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileTests, REPO } from './compile-tests.mjs';

const HEARTBEAT_MS = 30_000;
const seconds = (ms) => `${Math.round(ms / 1000)} s`;
const SLOWEST = 10;
/**
 * Files run at a time. Three on two cores: the suite's processes use about half the CPU time
 * of its wall time at two (they wait on servers, child processes, PostgreSQL, the disk), so a
 * third file fills that; tests keep timing bounds with room for a busy machine (testing.md).
 */
const CONCURRENCY = Number(process.env.ROOTCA_TEST_CONCURRENCY) || 3;
const DURATIONS = join('test-output', 'test-durations.json');

function find(dir, out = []) {
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/**
 * The files, longest first by the last run's durations (files it did not time first of all,
 * then by name): with two at a time, a long file started last would run alone at the end.
 */
function longestFirst(list) {
  let last = new Map();
  try {
    last = new Map(JSON.parse(readFileSync(DURATIONS, 'utf8')).map((d) => [d.file, d.seconds]));
  } catch {}
  const secs = (f) => last.get(relative(process.cwd(), f)) ?? Number.POSITIVE_INFINITY;
  return [...list].sort((a, b) => secs(b) - secs(a) || (a < b ? -1 : a > b ? 1 : 0));
}

const args = process.argv.slice(2);
const isFileArg = (a) => !a.startsWith('-') && a.endsWith('.ts') && existsSync(a);
const given = args.filter(isFileArg);
const options = args.filter((a) => !isFileArg(a));
const sources = longestFirst(given.length ? given : [...find('src'), ...find('test')]);
const total = sources.length;
const work = mkdtempSync(join(tmpdir(), 'rootca-run-tests-'));
const timings = join(work, 'timings.jsonl');
const reporter = fileURLToPath(new URL('./test-timing-reporter.mjs', import.meta.url));
const started = Date.now();

const viaTsx = process.env.ROOTCA_TEST_TSX === '1';
/** Compiled path -> source path; empty when running through tsx. */
let sourceOf = new Map();
const compiledDir = join(REPO, 'test-output', `compiled-tests-${process.pid}`);
const cleanUp = () => {
  rmSync(work, { recursive: true, force: true });
  rmSync(compiledDir, { recursive: true, force: true });
};
if (!viaTsx) {
  try {
    sourceOf = await compileTests(
      sources.map((f) => resolve(f)),
      compiledDir,
    );
  } catch (e) {
    process.stderr.write(`compiling the test files failed: ${e.message}\n`);
    cleanUp();
    process.exit(1);
  }
  process.stdout.write(`compiled ${sourceOf.size} test files in ${seconds(Date.now() - started)}\n`);
}
const files = viaTsx ? sources : [...sourceOf.keys()].map((f) => relative(process.cwd(), f));
/** What the runner prints names compiled files: name their .ts files instead. */
const literal = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const compiledName = new RegExp(
  `(${literal(compiledDir)}/|${literal(relative(process.cwd(), compiledDir))}/)o\\d+/([^\\s:'"]*?\\.test)\\.mjs`,
  'g',
);
const toSource = (text) =>
  viaTsx
    ? text
    : text.replace(compiledName, (_, dir, name) => (dir.startsWith('/') ? `${REPO}${name}.ts` : `${name}.ts`));

const child = spawn(
  process.execPath,
  [
    ...(viaTsx ? ['--import', 'tsx'] : ['--enable-source-maps']),
    '--test',
    `--test-concurrency=${CONCURRENCY}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${timings}`,
    ...options,
    ...files,
  ],
  { stdio: ['inherit', 'pipe', 'inherit'] },
);

/** The timing events so far (the reporter appends; a half-written last line is skipped). */
function events() {
  let text = '';
  try {
    text = readFileSync(timings, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((l) => {
    try {
      return l ? [JSON.parse(l)] : [];
    } catch {
      return [];
    }
  });
}

/** Each file's wall time, from the runner picking it up to its end, longest first. */
function slowestFiles(ev) {
  const start = new Map(ev.filter((e) => e.ev === 'start').map((e) => [e.file, e.at]));
  return ev
    .filter((e) => e.ev === 'done' && start.has(e.file))
    .map((e) => ({ file: e.file, ms: e.at - start.get(e.file) }))
    .sort((a, b) => b.ms - a.ms);
}

/**
 * Each file's wall time, longest first, as JSON: this run's, and the last known of the files a
 * run of some files did not run (and that still exist), so the next full run's order keeps them.
 */
function saveDurations(byFile) {
  if (!byFile.length) return;
  mkdirSync('test-output', { recursive: true });
  const seconds = new Map();
  try {
    for (const d of JSON.parse(readFileSync(DURATIONS, 'utf8'))) if (existsSync(d.file)) seconds.set(d.file, d.seconds);
  } catch {}
  for (const f of byFile) seconds.set(rel(f.file), Math.round(f.ms / 100) / 10);
  const list = [...seconds].map(([file, s]) => ({ file, seconds: s })).sort((a, b) => b.seconds - a.seconds);
  writeFileSync(DURATIONS, `${JSON.stringify(list, null, 2)}\n`);
}

const rel = (f) => relative(process.cwd(), sourceOf.get(resolve(f ?? '?')) ?? f ?? '?');

// Everything from the first summary line ("ℹ tests N") on is held back, so the slowest list
// can go before it and the summary (and any failure list Node prints) stays last.
let summary = '';
let pending = '';
let lastOutput = Date.now();
child.stdout.on('data', (chunk) => {
  lastOutput = Date.now();
  if (summary) {
    summary += chunk;
    return;
  }
  pending += chunk;
  const at = pending.search(/^ℹ tests \d+/m);
  if (at >= 0) {
    process.stdout.write(toSource(pending.slice(0, at)));
    summary = pending.slice(at);
    pending = '';
    return;
  }
  const cut = pending.lastIndexOf('\n') + 1;
  process.stdout.write(toSource(pending.slice(0, cut)));
  pending = pending.slice(cut);
});

const heartbeat = setInterval(() => {
  if (Date.now() - lastOutput < HEARTBEAT_MS) return;
  const ev = events();
  const done = new Set(ev.filter((e) => e.ev === 'done').map((e) => e.file));
  const running = ev
    .filter((e) => e.ev === 'start' && !done.has(e.file))
    .map((e) => `${rel(e.file)} (${seconds(Date.now() - e.at)})`);
  process.stdout.write(
    `… ${seconds(Date.now() - started)}: ${done.size} of ${total} files done; running ${running.join(', ') || 'none'}\n`,
  );
  lastOutput = Date.now();
}, 1000);

child.on('close', (code, signal) => {
  clearInterval(heartbeat);
  process.stdout.write(toSource(pending));
  const tests = events()
    .filter((e) => e.ev === 'test')
    .sort((a, b) => b.ms - a.ms)
    .slice(0, SLOWEST);
  if (tests.length) {
    process.stdout.write(`\nslowest ${tests.length} tests (wall time ${seconds(Date.now() - started)}):\n`);
    for (const t of tests)
      process.stdout.write(`  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${rel(t.file)} › ${t.name}\n`);
    process.stdout.write('\n');
  }
  const allFiles = slowestFiles(events());
  saveDurations(allFiles);
  const byFile = allFiles.slice(0, 5);
  if (byFile.length) {
    process.stdout.write('slowest files:\n');
    for (const f of byFile) process.stdout.write(`  ${(f.ms / 1000).toFixed(1).padStart(6)} s  ${rel(f.file)}\n`);
    process.stdout.write('\n');
  }
  process.stdout.write(toSource(summary));
  cleanUp();
  process.exit(code ?? (signal ? 1 : 0));
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
