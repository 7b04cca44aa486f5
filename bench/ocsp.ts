/**
 * `npm run bench`: how fast `rootca serve --workers 2` answers OCSP, against real peers on this
 * machine, each comparison on the same terms for both sides (wrk -t2 -c32, keep-alive, the
 * access log on, 2 worker processes):
 *
 *  1. GET pre-signed over HTTP: vs nginx serving the same bytes as a static file at the same
 *     path (req/s, server CPU per request, p99, and the header bytes of each answer).
 *  2. The same over HTTPS (TLS 1.3, the same P-256 certificate for both).
 *  3. POST pre-signed: vs nginx answering POST /ocsp with the same file.
 *  4. POST with a fresh nonce on every request (wrk Lua), every answer signed live by the P-256
 *     delegated responder: vs `openssl speed ecdsap256` on one core (signatures alone).
 *  5. Memory: resident memory of each of our processes idle (12 s after start, once V8's memory reducer has run; the 3 s figure is printed too) and after the load.
 *  6. The OCSP access log on vs off (bench/serve-api.ts).
 *
 * Every comparison runs ROUNDS rounds; which side goes first alternates each round; every
 * round's req/s, p50/p99, CPU per request and the load average are printed; ratios are the
 * median of the per-round ratios. Everything is generated fresh in a temp folder by the offline
 * side; all traffic goes to 127.0.0.1; every child is killed at the end (also on error or
 * Ctrl-C). Not part of `npm test`. Writes bench/results/latest.json. `BENCH_ONLY=4` runs test 4 alone
 * (BENCH_ROUNDS and BENCH_SECONDS set the rounds and their length).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { tempDir, REPO } from '../test/helpers.ts';
import { checkResponse, type Fixture, setup } from './lib/fixture.ts';
import { errorCount, type Load, nonceScript, postScript, WRK, wrk } from './lib/load.ts';
import { formatResident, groupResident, IDLE_SETTLE_MS, type Resident } from './lib/memory.ts';
import { groupRssMb, have, http, killAllNow, loadAverage, runTool, sleep, stopChild } from './lib/processes.ts';
import { median, r2, renderTable, type Row } from './lib/report.ts';
import { SERVE_WORKERS, type Server, startApi, startNginx, startOurs } from './lib/servers.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 2;
const SPEED_SECONDS = 3;
const WATCHDOG_MS = 20 * 60_000;
const INSTALL_HINT = 'apt-get install -y nginx-light wrk';
const IDLE_RSS_MB = 80;
/** `BENCH_ONLY=4`: only test 4 (live signing; no nginx, no memory or access-log rows). */
const ONLY_LIVE = process.env.BENCH_ONLY === '4';

const rows: Row[] = [];
const notes: string[] = [];

/** One side of a comparison: where wrk goes and whose CPU is counted. */
interface Side {
  name: string;
  url: string;
  server: Server;
  script?: string;
}

/** Runs `sides` ROUNDS times, the first side first in odd rounds and last in even ones. */
async function alternate(test: string, sides: Side[]): Promise<Load[][]> {
  const runs: Load[][] = sides.map(() => []);
  for (const s of sides) await wrk(s.url, WARMUP_SECONDS, { script: s.script });
  for (let round = 1; round <= ROUNDS; round++) {
    const order = sides.map((_, i) => i);
    if (round % 2 === 0) order.reverse();
    for (const i of order) {
      const s = sides[i]!;
      const l = await wrk(s.url, SECONDS, { pgid: s.server.child.pid, script: s.script });
      runs[i]!.push(l);
      process.stderr.write(
        `bench: ${test} round ${round}/${ROUNDS} ${s.name}: ${Math.round(l.reqPerSec)} req/s, p50 ${r2(l.p50ms)} ms, p99 ${r2(l.p99ms)} ms, ${l.cpuUsPerReq?.toFixed(1)} us CPU/req (load ${l.loadAvg})\n`,
      );
    }
  }
  return runs;
}

/** Every round of a series: req/s, p50/p99, CPU per request, the load average at its start. */
function roundsNote(ls: Load[]): string {
  return ls
    .map(
      (l, i) =>
        `r${i + 1} ${Math.round(l.reqPerSec)} req/s p50 ${r2(l.p50ms)} p99 ${r2(l.p99ms)} ms ${l.cpuUsPerReq?.toFixed(1) ?? '-'} us (load ${l.loadAvg})`,
    )
    .join('; ');
}

/** The round whose req/s is the median stands for the series in the table. */
function medianLoad(ls: Load[]): Load {
  const m = median(ls.map((l) => l.reqPerSec));
  return ls.find((l) => l.reqPerSec === m)!;
}

function row(test: string, side: string, ls: Load[], extra: Partial<Row> = {}): Row {
  const l = medianLoad(ls);
  const errs = ls.reduce((n, x) => n + errorCount(x), 0);
  return {
    test,
    side,
    reqPerSec: Math.round(l.reqPerSec),
    p50ms: r2(l.p50ms),
    p99ms: r2(l.p99ms),
    cpuUsPerReq: r2(median(ls.map((x) => x.cpuUsPerReq ?? Number.NaN))),
    ...extra,
    note: `${extra.note ? `${extra.note}; ` : ''}rounds: ${roundsNote(ls)}${errs ? `; ERRORS ${JSON.stringify(ls.map((x) => x.errors))}` : ''}`,
    ...(errs ? { verdict: 'ERRORS' as const } : {}),
  };
}

/** Ours against a peer: req/s ratio (median of the rounds' ratios), and CPU and p99 ratios where targets are given. */
function compare(
  test: string,
  ours: { name: string; runs: Load[] },
  peer: { name: string; runs: Load[] },
  t: { minRatio: number; maxCpu?: number; maxP99?: number; note?: string },
): void {
  const ratios = ours.runs.map((l, i) => l.reqPerSec / peer.runs[i]!.reqPerSec);
  const cpu = median(ours.runs.map((l, i) => (l.cpuUsPerReq ?? 0) / (peer.runs[i]!.cpuUsPerReq ?? 1)));
  const p99 = median(ours.runs.map((l, i) => (l.p99ms ?? 0) / (peer.runs[i]!.p99ms ?? 1)));
  const ratio = median(ratios);
  const met =
    ratio >= t.minRatio && (t.maxCpu === undefined || cpu <= t.maxCpu) && (t.maxP99 === undefined || p99 <= t.maxP99);
  const targets = [`>= ${t.minRatio}x req/s`];
  if (t.maxCpu !== undefined) targets.push(`CPU <= ${t.maxCpu}x`);
  if (t.maxP99 !== undefined) targets.push(`p99 <= ${t.maxP99}x`);
  rows.push(
    row(test, ours.name, ours.runs, {
      ratio: r2(ratio),
      ratioOf: `median over rounds of ours / ${peer.name} req/s (per round ${ratios.map((x) => r2(x)).join(', ')}); CPU per request ${r2(cpu)}x, p99 ${r2(p99)}x`,
      target: targets.join(', '),
      verdict: met ? 'MET' : 'NOT MET',
      note: t.note,
    }),
  );
  rows.push(row(test, peer.name, peer.runs));
}

/** `openssl speed ecdsap256` on one core: signatures per second of CPU time (openssl's own divisor). */
async function opensslSpeed(): Promise<number | undefined> {
  const args = ['speed', '-seconds', String(SPEED_SECONDS), 'ecdsap256'];
  const r = await runTool('openssl', args, { timeoutMs: (SPEED_SECONDS * 2 + 30) * 1000 });
  const m = /256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout);
  return r.code === 0 && m ? Number(m[1]) : undefined;
}

/** Test 4: live signing with a fresh nonce per request, alternating with openssl speed. */
async function liveSigning(f: Fixture, ours: Server): Promise<void> {
  const script = nonceScript(join(f.dir, 'nonce.lua'), f.reqNonceDer, f.nonceBytes);
  const runs: Load[] = [];
  const speeds: number[] = [];
  await wrk(`${ours.url}/ocsp`, WARMUP_SECONDS, { script });
  for (let round = 1; round <= ROUNDS; round++) {
    const speedFirst = round % 2 === 0;
    if (speedFirst) speeds.push((await opensslSpeed()) ?? Number.NaN);
    const l = await wrk(`${ours.url}/ocsp`, SECONDS, { pgid: ours.child.pid, script });
    runs.push(l);
    if (!speedFirst) speeds.push((await opensslSpeed()) ?? Number.NaN);
    process.stderr.write(
      `bench: 4 live round ${round}/${ROUNDS}: ours ${Math.round(l.reqPerSec)} answers/s (${l.cpuUsPerReq?.toFixed(1)} us CPU each), openssl speed ${Math.round(speeds.at(-1)!)} sign/s (load ${l.loadAvg})\n`,
    );
  }
  const ratios = runs.map((l, i) => l.reqPerSec / speeds[i]!);
  const ratio = median(ratios);
  const signUs = 1e6 / median(speeds);
  rows.push(
    row('4 POST live (nonce)', `rootca serve --workers ${SERVE_WORKERS}`, runs, {
      ratio: r2(ratio),
      ratioOf: `median over rounds of our answers/s (whole server) / openssl speed sign/s (1 core) (per round ${ratios.map((x) => r2(x)).join(', ')})`,
      target: '>= 0.4x',
      verdict: Number.isNaN(ratio) ? 'NOT JUDGED' : ratio >= 0.4 ? 'MET' : 'NOT MET',
      note: `a fresh ${f.nonceBytes}-byte nonce per request (wrk Lua), keep-alive, ${WRK.connections} connections; CPU per answer vs openssl's ${signUs.toFixed(1)} us CPU per signature: ${r2(median(runs.map((l) => l.cpuUsPerReq ?? 0)) / signUs)}x`,
    }),
  );
  rows.push({
    test: '4 POST live (nonce)',
    side: 'openssl speed ecdsap256 (1 core)',
    reqPerSec: Math.round(median(speeds)),
    cpuUsPerReq: r2(signUs),
    note: `signatures per second of openssl's CPU time (its default divisor), no HTTP, no OCSP encoding; rounds: ${speeds.map((s) => Math.round(s)).join(', ')}`,
    command: `openssl speed -seconds ${SPEED_SECONDS} ecdsap256`,
  });
}

/** Test 6: the same cluster with the access log on and off, alternating. */
async function accessLogCost(f: Fixture, logs: string, presigned: Buffer): Promise<void> {
  const on = await startApi(f, 'api-log-on', logs, true);
  let off: Server | undefined;
  try {
    off = await startApi(f, 'api-log-off', logs, false);
    for (const s of [on, off]) {
      if (!(await http(s.url + f.getPath)).body.equals(presigned))
        throw new Error(`${s.url}: not the pre-signed bytes`);
    }
    const [onRuns, offRuns] = await alternate('6 access log', [
      { name: 'log on', url: on.url + f.getPath, server: on },
      { name: 'log off', url: off.url + f.getPath, server: off },
    ]);
    compare(
      '6 GET access log',
      { name: 'runServer() log on', runs: onRuns! },
      { name: 'runServer() log off', runs: offRuns! },
      { minRatio: 0.9 },
    );
  } finally {
    if (off) await stopChild(off.child);
    await stopChild(on.child);
  }
}

/** What each side answers is checked first: the same bytes, verified by openssl as the relying party. */
async function checkAnswers(
  f: Fixture,
  ours: Server,
  ng: Server | undefined,
): Promise<{ presigned: Buffer; head: number[] }> {
  const get = await http(ours.url + f.getPath);
  if (get.status !== 200 || get.type !== 'application/ocsp-response') throw new Error(`ours GET: HTTP ${get.status}`);
  checkResponse(f, get.body, 'rootca serve GET');
  const presigned = get.body;
  const reqBody = readFileSync(f.reqDer);
  const live = await http(`${ours.url}/ocsp`, { method: 'POST', body: readFileSync(f.reqNonceDer) });
  checkResponse(f, live.body, 'rootca serve live', { nonceReq: f.reqNonceDer });
  const head = [(await http(ours.url + f.getPath)).headBytes];
  for (const s of ng ? [ours, ng] : [ours]) {
    const answers = [
      await http(s.url + f.getPath),
      await http(s.httpsUrl! + f.getPath),
      await http(`${s.url}/ocsp`, { method: 'POST', body: reqBody }),
    ];
    if (answers.some((a) => a.status !== 200 || !a.body.equals(presigned)))
      throw new Error(`${s.url}: GET, HTTPS GET and POST must all give the pre-signed bytes`);
    if (s === ng) head.push(answers[0]!.headBytes);
  }
  return { presigned, head };
}

async function main(): Promise<void> {
  const started = Date.now();
  const watchdog = setTimeout(() => {
    process.stderr.write('bench: watchdog: still running after 20 min; stopping\n');
    killAllNow();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  for (const t of ['openssl', 'wrk']) if (!have(t)) throw new Error(`${t} is needed: ${INSTALL_HINT}`);
  const noNginx = ONLY_LIVE || !have('nginx');
  if (noNginx && !ONLY_LIVE)
    notes.push(`nginx is not installed (${INSTALL_HINT}): tests 1-3 have no peer and are NOT JUDGED`);
  const loadAtStart = loadAverage();

  const dir = tempDir('rootca-bench-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  process.stderr.write(
    `bench: setting up in ${dir} (the offline side: ceremonies, sub CAs, responder, presign, publish, import)\n`,
  );
  const t0 = Date.now();
  const f = await setup(dir, notes);
  const setupSeconds = (Date.now() - t0) / 1000;

  const ours = await startOurs(f, 'rootca-serve', logs);
  let ng: Server | undefined;
  const memory: {
    oursIdle: number[];
    oursLoaded?: number[];
    nginxIdle?: number[];
    nginxLoaded?: number[];
    /** What each of our processes' VmRSS is made of: its own memory and the shared pages of node and its libraries. */
    oursIdleResident?: Resident[];
    /** The same 3 s after start, before V8's memory reducer ran (printed, not judged). */
    oursStartResident?: Resident[];
  } = {
    oursIdle: [],
  };
  let presigned: Buffer = Buffer.alloc(0);
  try {
    await sleep(3000);
    memory.oursStartResident = groupResident(ours.child.pid);
    await sleep(IDLE_SETTLE_MS - 3000); // idle: V8's memory reducer has run (memory.ts)
    memory.oursIdleResident = groupResident(ours.child.pid);
    memory.oursIdle = memory.oursIdleResident.map((p) => p.rss);
    const first = await checkAnswers(f, ours, undefined);
    if (!noNginx) ng = await startNginx(f, first.presigned);
    const checked = ng ? await checkAnswers(f, ours, ng) : first;
    presigned = checked.presigned;
    if (ng) memory.nginxIdle = groupRssMb(ng.child.pid);
    const post = postScript(join(dir, 'post.lua'), f.reqDer);
    const tests: [
      string,
      (s: Server) => string,
      string | undefined,
      { minRatio: number; maxCpu?: number; maxP99?: number },
    ][] = [
      ['1 GET pre-signed', (s) => s.url + f.getPath, undefined, { minRatio: 1, maxCpu: 1.2, maxP99: 1.5 }],
      ['2 GET over HTTPS', (s) => s.httpsUrl! + f.getPath, undefined, { minRatio: 0.8 }],
      ['3 POST pre-signed', (s) => `${s.url}/ocsp`, post, { minRatio: 1 }],
    ];
    for (const [test, url, script, target] of ONLY_LIVE ? [] : tests) {
      const sides: Side[] = [{ name: 'ours', url: url(ours), server: ours, script }];
      if (ng) sides.push({ name: 'nginx', url: url(ng), server: ng, script });
      const [o, n] = await alternate(test, sides);
      const name = `rootca serve --workers ${SERVE_WORKERS}`;
      const note =
        test.startsWith('1') && checked.head.length === 2
          ? `header bytes per answer (status line to blank line): ours ${checked.head[0]}, nginx ${checked.head[1]}`
          : undefined;
      if (n)
        compare(
          test,
          { name, runs: o! },
          { name: `nginx ${SERVE_WORKERS} workers (static file)`, runs: n },
          { ...target, note },
        );
      else rows.push(row(test, name, o!, { verdict: 'NOT JUDGED', note }));
    }
    await liveSigning(f, ours);
    memory.oursLoaded = groupRssMb(ours.child.pid);
    if (ng) memory.nginxLoaded = groupRssMb(ng.child.pid);
  } finally {
    if (ng) await stopChild(ng.child);
    await stopChild(ours.child);
  }
  const worstIdle = Math.max(...memory.oursIdle);
  if (!ONLY_LIVE)
    rows.push({
      test: '5 memory (RSS MB)',
      side: `rootca serve --workers ${SERVE_WORKERS}`,
      target: `< ${IDLE_RSS_MB} MB per process idle`,
      verdict: worstIdle < IDLE_RSS_MB ? 'MET' : 'NOT MET',
      note: `each process (the primary and the workers, largest first), idle ${IDLE_SETTLE_MS / 1000} s after start: ${formatResident(memory.oursIdleResident ?? [])} MB (VmRSS, judged; 3 s after start: ${formatResident(memory.oursStartResident ?? [])}; own: RssAnon; files: RssFile, the node binary's and libraries' pages, the same physical pages in every process); after the load of tests 1-4: ${memory.oursLoaded?.join(', ')} MB${memory.nginxIdle ? `; nginx (master and workers) idle ${memory.nginxIdle.join(', ')} MB, after the load ${memory.nginxLoaded?.join(', ')} MB` : ''}; flat under load over time: npm run bench -- --soak SECONDS`,
    });
  if (!ONLY_LIVE) await accessLogCost(f, logs, presigned);

  const loadAtEnd = loadAverage();
  notes.push(
    `load average (1 min) at the start ${loadAtStart}, at the end ${loadAtEnd}; each round's is in its row's notes`,
  );
  notes.push(
    `machine: ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}); wrk and the servers share them, so absolute numbers are lower than on separate hosts`,
  );
  notes.push(
    'no openssl ocsp row: it signs every answer and serves one connection at a time, so it is a peer for neither pre-signed POST (nginx answers it here) nor live signing at keep-alive (openssl speed is the bound)',
  );
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    renderTable(
      `rootca OCSP benchmark (${Math.round(seconds)} s in all, setup ${Math.round(setupSeconds)} s)`,
      rows,
      notes,
    ),
  );
  const outDir = join(REPO, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'latest.json'),
    `${JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        seconds: Math.round(seconds),
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
        parameters: { wrk: WRK, rounds: ROUNDS, seconds: SECONDS, serveWorkers: SERVE_WORKERS },
        rows,
        memory,
        notes,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write('\nwritten: bench/results/latest.json\n');
  if (process.env.BENCH_KEEP) process.stderr.write(`bench: BENCH_KEEP is set; the fixture stays in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

try {
  await main();
} catch (e) {
  process.stderr.write(
    `bench failed: ${(e as Error).stack ?? e}\n(the temp folder named above is left for inspection)\n`,
  );
  process.exitCode = 1;
} finally {
  killAllNow();
}
