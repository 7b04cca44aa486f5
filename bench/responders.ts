/**
 * Issue 9 bench: OCSP throughput of 1 vs 2 responder processes (`rootca serve --workers 1`
 * each, on ports of their own, as behind a load balancer) with the online store in PostgreSQL
 * against the same with SQLite, on this machine. Run: `node --import tsx bench/responders.ts`.
 *
 * Load: wrk GET /ocsp/{base64url request} for a pre-signed response, always two wrk processes
 * of one thread and BENCH_CONNECTIONS/2 connections each (both on the one responder, or one per
 * responder), so the load tool's share of the 2 cores is the same in every row. The four
 * configurations are interleaved over BENCH_ROUNDS rounds (default 3) of BENCH_SECONDS (4) and
 * the medians printed, since other work on the machine comes and goes. The responders
 * answer from memory: the store only matters for how they start and follow new versions, so
 * PostgreSQL and SQLite should come out alike (ratio ~1), and 2 processes should beat 1 while
 * cores are left over. Every answer is checked first (status, bytes); wrk errors are reported.
 *
 * Needs wrk (apt-get install wrk) and PostgreSQL at $ROOTCA_BENCH_POSTGRES (default
 * postgres://postgres@127.0.0.1:5432/test; a database rootca_test_<random> is created and
 * dropped). Not part of `npm test`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OnlineFixture } from '../test/online-fixtures.ts';
import { createTestDatabase, freePort } from '../test/online-postgres-fixtures.ts';
import { REPO } from '../test/helpers.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 1;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SERVER = process.env.ROOTCA_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Load {
  rps: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  errors: number;
}
interface Row {
  store: 'sqlite' | 'postgres';
  processes: number;
  load: Load;
}

const children = new Set<ChildProcess>();
const rootca = (args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

function parseWrk(out: string): Load {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = non2xx + (socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
  return { rps, p50ms: pct('50'), p99ms: pct('99'), requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0), errors };
}

function wrk(url: string, seconds: number, connections: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`wrk exited ${code}:\n${out}`));
      else {
        try {
          resolve(parseWrk(out));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}

/** Two wrk processes at once, one per URL (the same URL twice for one responder); rates add up, latencies are the worse of the two. */
async function loadAll(urls: [string, string], seconds: number): Promise<Load> {
  const loads = await Promise.all(urls.map((u) => wrk(u, seconds, Math.max(1, CONNECTIONS / 2))));
  return {
    rps: loads.reduce((n, l) => n + l.rps, 0),
    p50ms: Math.max(...loads.map((l) => l.p50ms)),
    p99ms: Math.max(...loads.map((l) => l.p99ms)),
    requests: loads.reduce((n, l) => n + l.requests, 0),
    errors: loads.reduce((n, l) => n + l.errors, 0),
  };
}

function startResponder(store: string, name: string, port: number, logDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'bin', 'rootca.mjs'),
      'serve',
      '--store',
      store,
      '--name',
      name,
      '--port',
      String(port),
      '--workers',
      '1',
      '--log-dir',
      logDir,
      '--log-level',
      'warn',
      '--poll-ms',
      '2000',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 60_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/^Serving publication/m.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`${name} exited ${code}:\n${out}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
  children.delete(child);
}

/** The median of each figure over the rounds (load from other processes on the machine comes and goes). */
function median(loads: Load[]): Load {
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    rps: mid(loads.map((l) => l.rps)),
    p50ms: mid(loads.map((l) => l.p50ms)),
    p99ms: mid(loads.map((l) => l.p99ms)),
    requests: loads.reduce((n, l) => n + l.requests, 0),
    errors: loads.reduce((n, l) => n + l.errors, 0),
  };
}

function printTable(rows: Row[]): void {
  const find = (s: string, n: number) => rows.find((r) => r.store === s && r.processes === n)!;
  const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const lines = [
    `OCSP GET, pre-signed; wrk 2x1 thread, ${CONNECTIONS} connections, ${SECONDS} s, median of ${ROUNDS} rounds; ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores`,
    '',
    '| store      | responder processes | req/s   | p50 ms | p99 ms | errors | vs 1 process | postgres / sqlite |',
    '|------------|---------------------|---------|--------|--------|--------|--------------|-------------------|',
    ...rows.map((r) => {
      const one = find(r.store, 1).load.rps;
      const other = find(r.store === 'postgres' ? 'sqlite' : 'postgres', r.processes).load.rps;
      const pgOverSqlite = r.store === 'postgres' ? r.load.rps / other : other / r.load.rps;
      return `| ${r.store.padEnd(10)} | ${String(r.processes).padEnd(19)} | ${fmt(r.load.rps).padStart(7)} | ${fmt(r.load.p50ms, 2).padStart(6)} | ${fmt(r.load.p99ms, 2).padStart(6)} | ${String(r.load.errors).padStart(6)} | ${`${fmt(r.load.rps / one, 2)}x`.padStart(12)} | ${`${fmt(pgOverSqlite, 2)}x`.padStart(17)} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
    process.stdout.write('responders bench SKIPPED: wrk is not installed (apt-get install wrk)\n');
    return;
  }
  const f = new OnlineFixture();
  const db = await createTestDatabase(SERVER);
  try {
    const pub = f.write('v1.json', await f.publication({ version: 1 }));
    const sqlite = `sqlite:${f.path('online.db')}`;
    for (const spec of [sqlite, db.url]) {
      const r = rootca(['online', 'import', pub, '--store', spec, '--trust', f.rsa.pem, '--trust', f.ec.pem]);
      if (r.status !== 0) throw new Error(`import into ${spec}: ${r.stderr}`);
    }
    const req = spawnSync(
      'openssl',
      ['ocsp', '-issuer', f.rsa.pem, '-cert', f.cert('sub1').pem, '-no_nonce', '-reqout', f.path('sub1.req')],
      { encoding: 'utf8' },
    );
    if (req.status !== 0) throw new Error(req.stderr);
    const der = readFileSync(f.path('sub1.req'));
    const path = `/ocsp/${der.toString('base64url')}`;
    // The bytes every responder must send: the pre-signed response, as the first responder gives it.
    const port = await freePort();
    const probe = await startResponder(sqlite, 'probe', port, f.path('log-probe'));
    const expected = Buffer.from(await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer());
    await stop(probe);
    // Two responders per store, started once; "1 process" loads only the first of them (an idle
    // process costs nothing). Configurations are interleaved over ROUNDS rounds; medians are shown.
    const urls = new Map<string, string[]>();
    for (const [store, spec] of [
      ['sqlite', sqlite],
      ['postgres', db.url],
    ] as const) {
      const list: string[] = [];
      for (const i of [1, 2]) {
        const p = await freePort();
        await startResponder(spec, `${store}-${i}`, p, f.path(`log-${store}-${i}`));
        const u = `http://127.0.0.1:${p}${path}`;
        const res = await fetch(u);
        if (res.status !== 200 || !Buffer.from(await res.arrayBuffer()).equals(expected))
          throw new Error(`${u}: HTTP ${res.status}, not the pre-signed response`);
        list.push(u);
      }
      urls.set(store, list);
    }
    const configs = (['sqlite', 'postgres'] as const).flatMap((store) =>
      [1, 2].map((processes) => ({ store, processes })),
    );
    const samples = new Map<string, Load[]>(configs.map((c) => [`${c.store}${c.processes}`, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of configs) {
        const [a, b] = urls.get(c.store)!;
        const pair: [string, string] = c.processes === 1 ? [a!, a!] : [a!, b!];
        await loadAll(pair, WARMUP_SECONDS);
        const l = await loadAll(pair, SECONDS);
        samples.get(`${c.store}${c.processes}`)!.push(l);
        process.stderr.write(`  round ${round}: ${c.store} x${c.processes}: ${l.rps.toFixed(0)} req/s\n`);
      }
    }
    const rows: Row[] = configs.map((c) => ({ ...c, load: median(samples.get(`${c.store}${c.processes}`)!) }));
    printTable(rows);
  } finally {
    await Promise.all([...children].map(stop));
    await db.drop();
    if (!process.env.BENCH_KEEP) rmSync(f.dir, { recursive: true, force: true });
  }
}

await main();
