/**
 * Issue 18 bench: how long `rootca` takes to start, against a bare `node -e 0` in the same run.
 * Run: `npm run bench` (or `node --import tsx bench/startup.ts`); not part of `npm test`.
 *
 * Cases: `rootca --version`, `rootca --help`, `rootca crl issue --help` (a command's own help),
 * and `rootca ca list` on a fresh installation (opens the SQLite store). Each round runs every
 * case once, in an order rotated from round to round (so neither the first nor the last slot
 * always falls to the same case while other work on the machine comes and goes); the medians
 * over BENCH_ROUNDS rounds (default 15) are printed with their ratio to bare Node.
 * Goals: --version and any --help within 5x of bare Node, `ca list` within 8x.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO } from '../test/helpers.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const BIN = join(REPO, 'bin', 'rootca.mjs');

interface Case {
  name: string;
  args: string[];
  goal?: number;
}

function timed(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const home = mkdtempSync(join(tmpdir(), 'rootca-bench-startup-'));
try {
  const init = spawnSync(process.execPath, [BIN, '--home', home, 'init', '--name', 'bench'], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`rootca init failed: ${init.stderr}`);
  const cases: Case[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'rootca --version', args: [BIN, '--version'], goal: 5 },
    { name: 'rootca --help', args: [BIN, '--help'], goal: 5 },
    { name: 'rootca crl issue --help', args: [BIN, 'crl', 'issue', '--help'], goal: 5 },
    { name: 'rootca ca list', args: [BIN, '--home', home, 'ca', 'list'], goal: 8 },
  ];
  for (const c of cases) timed(c.args); // warm the file cache
  const times = new Map(cases.map((c) => [c.name, [] as number[]]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length]!);
    for (const c of order) times.get(c.name)!.push(timed(c.args));
  }
  const bare = median(times.get('node -e 0')!);
  console.log(
    `rootca start-up, ${ROUNDS} rounds, median wall time (Node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n`,
  );
  console.log('| command | median ms | ratio to `node -e 0` | goal |');
  console.log('|---|---:|---:|---|');
  let failed = 0;
  for (const c of cases) {
    const m = median(times.get(c.name)!);
    const ratio = m / bare;
    const verdict = c.goal === undefined ? '' : ratio <= c.goal ? `<= ${c.goal}x: met` : `<= ${c.goal}x: NOT met`;
    if (c.goal !== undefined && ratio > c.goal) failed++;
    console.log(`| \`${c.name}\` | ${m.toFixed(0)} | ${ratio.toFixed(2)} | ${verdict} |`);
  }
  if (failed) process.exitCode = 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}
