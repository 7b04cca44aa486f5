#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's own test runner (through tsx), so
// CI reads the runner's summary. Extra arguments are passed to `node --test` (e.g. a file).
//
// Around it (issue 20.6): a line at least every 30 s while files run (which are running, how
// many are done), and the slowest tests before the summary, which stays the last lines. Every
// file's wall time goes to test-output/test-durations.json, to see where the suite's time goes
// (docs/testing.md, "Keeping the suite fast").
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HEARTBEAT_MS = 30_000;
const SLOWEST = 10;

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

const args = process.argv.slice(2);
const files = args.some((a) => !a.startsWith('-')) ? [] : [...find('src'), ...find('test')].sort();
const total = files.length || args.filter((a) => !a.startsWith('-')).length;
const work = mkdtempSync(join(tmpdir(), 'rootca-run-tests-'));
const timings = join(work, 'timings.jsonl');
const reporter = fileURLToPath(new URL('./test-timing-reporter.mjs', import.meta.url));
const started = Date.now();

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${timings}`,
    ...args,
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

/** Each file's wall time of this run, longest first, as JSON (a run of every file or of some). */
function saveDurations(byFile) {
  if (!byFile.length) return;
  mkdirSync('test-output', { recursive: true });
  const list = byFile.map((f) => ({ file: rel(f.file), seconds: Math.round(f.ms / 100) / 10 }));
  writeFileSync(join('test-output', 'test-durations.json'), `${JSON.stringify(list, null, 2)}\n`);
}

const seconds = (ms) => `${Math.round(ms / 1000)} s`;
const rel = (f) => relative(process.cwd(), f ?? '?');

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
    process.stdout.write(pending.slice(0, at));
    summary = pending.slice(at);
    pending = '';
    return;
  }
  const cut = pending.lastIndexOf('\n') + 1;
  process.stdout.write(pending.slice(0, cut));
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
  process.stdout.write(pending);
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
  process.stdout.write(summary);
  rmSync(work, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
