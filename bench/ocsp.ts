/**
 * `npm run bench`: how fast `rootca serve` answers OCSP, against real peers on this machine.
 *
 *  1. GET pre-signed: `rootca serve --workers 2` vs nginx serving the same bytes as a static
 *     file at the same path (wrk -t2 -c32 --latency for both; both run at once and their wrk
 *     runs alternate, so load from elsewhere on a shared machine hits both alike).
 *  2. POST pre-signed: `rootca serve` vs `openssl ocsp -index …` (which signs every answer and
 *     serves one request at a time, one connection per request), both driven by the same
 *     fixed-count `ab -c 1` command (a fresh openssl process); ours also at -c 8 and with
 *     keep-alive (ab -k -c 8), which openssl ocsp cannot take (it spins on a connection closed
 *     unused, which ab leaves at the end of a concurrent run).
 *  3. POST with a nonce, signed live by the delegated P-256 responder, vs `openssl speed ecdsap256`.
 *  4. The OCSP access log: on vs off (through the library entry point; see bench/serve-api.ts).
 *
 * Everything is generated fresh in a temp folder by the offline side (ceremonies, issuance,
 * presign, publish, `rootca online import`); all traffic goes to 127.0.0.1; every run is
 * bounded by count or duration and by a hard timeout; every child process is killed at the
 * end, also on error or Ctrl-C. The temp folder is removed afterwards (kept on failure, or with
 * BENCH_KEEP=1). Not part of `npm test`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { publish } from '../src/status/publication.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  REPO,
  runShippedCeremony,
  tempDir,
} from '../test/helpers.ts';

// --- parameters -------------------------------------------------------------------------------

/** rounds: ours and nginx alternate this many times (the median run of each is compared). */
const WRK = { threads: 2, connections: 32, seconds: 5, warmupSeconds: 2, rounds: 3 };
/** ab: fixed count (openssl ocsp exits after exactly -nrequest requests). */
const AB = {
  n: 5000,
  warmup: 500,
  /** Ours: [concurrency, keep-alive, requests]; the first two are the commands openssl ocsp gets too (keep-alive runs are longer: they are fast). */
  oursRuns: [
    [1, false, 5000],
    [8, false, 5000],
    [8, true, 30000],
  ] as [number, boolean, number][],
  /** openssl ocsp only at -c 1: at -c 8 ab ends with connections it closes unused, and openssl then spins on one (ab times out). */
  opensslConcurrency: [1],
};
const SERVE_WORKERS = 2;
const SPEED_SECONDS = 3;
/** The whole bench stops by itself after this, whatever happens. */
const WATCHDOG_MS = 15 * 60_000;
const INSTALL_HINT = 'apt-get install -y nginx-light wrk apache2-utils';

// --- results ------------------------------------------------------------------------------------

/** One line of the table. */
interface Row {
  test: string;
  peer: string;
  tool: string;
  reqPerSec?: number;
  p50ms?: number;
  p99ms?: number;
  /** ours / the peer it is compared with (or the reverse where said in `ratioOf`). */
  ratio?: number;
  ratioOf?: string;
  target?: string;
  /** SKIPPED: not run (a tool is missing); NOT JUDGED: run, but its peer was not; ERRORS: the load tool saw failures. */
  verdict?: 'MET' | 'NOT MET' | 'SKIPPED' | 'NOT JUDGED' | 'ERRORS';
  note?: string;
  command?: string;
  errors?: Record<string, number>;
}

const rows: Row[] = [];
const notes: string[] = [];
const notMeasured: string[] = [];

// --- child processes ------------------------------------------------------------------------------

interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  done: boolean;
}

const children = new Set<Child>();

/** Starts a process in its own process group, so it and its children (cluster workers, nginx workers) are stopped together. */
function startChild(
  name: string,
  cmd: string,
  args: string[],
  o: { cwd?: string; out?: string; err?: string; env?: NodeJS.ProcessEnv } = {},
): Child {
  const out = o.out ? openSync(o.out, 'w') : 'ignore';
  const err = o.err ? openSync(o.err, 'w') : 'ignore';
  const proc = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, detached: true, stdio: ['ignore', out, err] });
  if (typeof out === 'number') closeSync(out);
  if (typeof err === 'number') closeSync(err);
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const child: Child = { name, proc, pid: proc.pid, done: false, exited: Promise.resolve(null) };
  child.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      child.done = true;
      children.delete(child);
      resolve(code ?? (signal ? -1 : null));
    });
    proc.once('error', () => {
      child.done = true;
      children.delete(child);
      resolve(-1);
    });
  });
  children.add(child);
  return child;
}

function signalGroup(c: Child, sig: NodeJS.Signals): void {
  try {
    process.kill(-c.pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM to the child's group, SIGKILL after `graceMs`. */
async function stopChild(c: Child, graceMs = 5000): Promise<void> {
  if (c.done) {
    signalGroup(c, 'SIGKILL'); // stray grandchildren of a leader that already exited
    return;
  }
  signalGroup(c, 'SIGTERM');
  const t = setTimeout(() => signalGroup(c, 'SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(t);
  signalGroup(c, 'SIGKILL');
}

function killAllNow(): void {
  for (const c of children) signalGroup(c, 'SIGKILL');
}

process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping every child process\n`);
    killAllNow();
    process.exit(130);
  });
}

interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  seconds: number;
}

/** Runs a tool to completion (in its own process group), killed after `timeoutMs`. */
async function runTool(cmd: string, args: string[], o: { cwd?: string; timeoutMs: number }): Promise<ToolResult> {
  const started = Date.now();
  const proc = spawn(cmd, args, { cwd: o.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = { name: cmd, proc, pid: proc.pid ?? -1, done: false, exited: Promise.resolve(null) };
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let timedOut = false;
  const code = await new Promise<number | null>((resolve) => {
    if (proc.pid !== undefined) children.add(child);
    const t = setTimeout(() => {
      timedOut = true;
      signalGroup(child, 'SIGKILL');
    }, o.timeoutMs);
    proc.once('close', (c) => {
      clearTimeout(t);
      resolve(c);
    });
    proc.once('error', (e) => {
      clearTimeout(t);
      stderr += String(e);
      resolve(-1);
    });
  });
  child.done = true;
  children.delete(child);
  return { code, stdout, stderr, timedOut, seconds: (Date.now() - started) / 1000 };
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface HttpAnswer {
  status: number;
  type: string;
  body: Buffer;
}

/** One HTTP request on its own connection (Connection: close), 10 s at most. */
function http(url: string, o: { method?: string; body?: Buffer; type?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: o.method ?? 'GET',
        agent: false,
        timeout: 10_000,
        headers: {
          connection: 'close',
          ...(o.body
            ? { 'content-type': o.type ?? 'application/ocsp-request', 'content-length': String(o.body.length) }
            : {}),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(parts),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Polls `check` every 100 ms until it is true; fails when `child` exits or after `ms`. */
async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  child: Child | undefined,
  ms: number,
  log?: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child?.done)
      throw new Error(
        `${what}: the process exited before it was ready${log && existsSync(log) ? `:\n${readFileSync(log, 'utf8').slice(-2000)}` : ''}`,
      );
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(
    `${what}: not ready after ${ms} ms${log && existsSync(log) ? `:\n${readFileSync(log, 'utf8').slice(-2000)}` : ''}`,
  );
}

// --- load tools: run and parse ----------------------------------------------------------------------

interface Load {
  reqPerSec: number;
  p50ms?: number;
  p99ms?: number;
  errors: Record<string, number>;
  raw: string;
  requests?: number;
  cpuUsPerReq?: number;
}

/** CPU time (user + system, clock ticks of 10 ms) of every process in process group `pgid`, from /proc. */
function groupCpuTicks(pgid: number): number {
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]); // pgrp (5), utime (14), stime (15)
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case 'us':
      return v / 1000;
    case 'ms':
      return v;
    case 's':
      return v * 1000;
    case 'm':
      return v * 60_000;
    default:
      throw new Error(`unknown wrk time unit ${unit}`);
  }
}

function parseWrk(out: string): Load {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1]!, m[2]!) : undefined;
  };
  const errors: Record<string, number> = {};
  const non = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non) errors.non2xx = Number(non[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock)
    Object.assign(errors, {
      connect: Number(sock[1]),
      read: Number(sock[2]),
      write: Number(sock[3]),
      timeout: Number(sock[4]),
    });
  const total = /(\d+) requests in/.exec(out);
  return {
    reqPerSec: Number(rps[1]),
    p50ms: pct('50'),
    p99ms: pct('99'),
    errors,
    raw: out,
    requests: total ? Number(total[1]) : undefined,
  };
}

/** wrk against `url`; with `server`, also the server's CPU time per request (its whole process group). */
async function wrk(url: string, seconds: number, server?: Server): Promise<Load> {
  const args = [`-t${WRK.threads}`, `-c${WRK.connections}`, `-d${seconds}s`, '--latency', url];
  const before = server ? groupCpuTicks(server.child.pid) : 0;
  const r = await runTool('wrk', args, { timeoutMs: (seconds + 30) * 1000 });
  if (r.code !== 0 || r.timedOut)
    throw new Error(`wrk ${args.join(' ')} ${r.timedOut ? 'timed out' : `exited ${r.code}`}:\n${r.stderr}${r.stdout}`);
  const load = parseWrk(r.stdout);
  if (server && load.requests) load.cpuUsPerReq = ((groupCpuTicks(server.child.pid) - before) * 10_000) / load.requests;
  return load;
}

/** ab's text output, plus the percentile table at 1% steps with sub-millisecond values (-e CSV). */
function parseAb(out: string, csv: string | undefined): Load {
  const rps = /Requests per second:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`ab printed no "Requests per second":\n${out}`);
  const errors: Record<string, number> = {};
  const failed = /Failed requests:\s+(\d+)/.exec(out);
  if (failed && Number(failed[1]) > 0) {
    const d = /\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/.exec(out);
    if (d)
      Object.assign(errors, {
        connect: Number(d[1]),
        receive: Number(d[2]),
        length: Number(d[3]),
        exceptions: Number(d[4]),
      });
    else errors.failed = Number(failed[1]);
  }
  const non = /Non-2xx responses:\s+(\d+)/.exec(out);
  if (non) errors.non2xx = Number(non[1]);
  const complete = /Complete requests:\s+(\d+)/.exec(out);
  if (complete) errors.complete = Number(complete[1]);
  let p50: number | undefined;
  let p99: number | undefined;
  if (csv) {
    for (const line of csv.split('\n')) {
      const [p, t] = line.split(',');
      if (p === '50') p50 = Number(t);
      if (p === '99') p99 = Number(t);
    }
  }
  const text = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\d+)`, 'm').exec(out);
    return m ? Number(m[1]) : undefined;
  };
  return { reqPerSec: Number(rps[1]), p50ms: p50 ?? text('50'), p99ms: p99 ?? text('99'), errors, raw: out };
}

/** `ab -n N -c C -p body -T application/ocsp-request URL`, optionally inside another network namespace. */
async function ab(
  url: string,
  body: string | undefined,
  n: number,
  c: number,
  csvPath: string,
  netnsPid?: number,
  keepAlive = false,
): Promise<Load> {
  const abArgs = [
    '-q',
    ...(keepAlive ? ['-k'] : []),
    '-n',
    String(n),
    '-c',
    String(c),
    ...(body ? ['-p', body, '-T', 'application/ocsp-request'] : []),
    '-e',
    csvPath,
    url,
  ];
  const [cmd, args] = netnsPid ? ['nsenter', ['-t', String(netnsPid), '-n', 'ab', ...abArgs]] : ['ab', abArgs];
  rmSync(csvPath, { force: true });
  const r = await runTool(cmd, args as string[], { timeoutMs: 180_000 });
  if (r.code !== 0 || r.timedOut)
    throw new Error(`ab ${abArgs.join(' ')} ${r.timedOut ? 'timed out' : `exited ${r.code}`}:\n${r.stderr}${r.stdout}`);
  return parseAb(r.stdout, existsSync(csvPath) ? readFileSync(csvPath, 'utf8') : undefined);
}

/** Errors that mean the run did not measure what it claims (length differences are expected for per-request signatures). */
function realErrors(e: Record<string, number>, lengthIsError: boolean, expected?: number): number {
  let n = 0;
  for (const [k, v] of Object.entries(e)) {
    if (k === 'complete') continue;
    if (k === 'length' && !lengthIsError) continue;
    n += v;
  }
  if (expected !== undefined && e.complete !== undefined && e.complete !== expected)
    n += Math.abs(expected - e.complete);
  return n;
}

// --- setup: the offline side makes a publication, the online store imports it ----------------------

interface Fixture {
  dir: string;
  root: string;
  root2: string;
  sub: string;
  sub2: string;
  responderPem: string;
  responderKey: string;
  store: string;
  reqDer: string;
  reqNonceDer: string;
  indexTxt: string;
  getPath: string;
}

const rootcaCli = (args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  });

/** Index line for `openssl ocsp -index` (the format of `openssl ca`'s database): V, expiry, -, serial, unknown, subject. */
function indexLine(pem: string): string {
  const out = openssl(['x509', '-in', pem, '-noout', '-serial', '-enddate', '-subject', '-nameopt', 'compat']);
  const serial = /serial=([0-9A-F]+)/.exec(out)![1]!;
  const notAfter = new Date(/notAfter=(.+)/.exec(out)![1]!.trim());
  const subject = /subject=(.+)/.exec(out)![1]!.trim();
  const iso = notAfter.toISOString();
  const y = notAfter.getUTCFullYear();
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  const time = `${y >= 2050 ? String(y) : iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return `V\t${time}\t\t${serial}\tunknown\t${subject}\n`;
}

async function setup(dir: string): Promise<Fixture> {
  const inst: Installation = installationWithPeople({ dir, more: true });
  inst.config.issuance.requireApplicationFor = []; // the bench issues sub CAs directly, without the RA workflow
  const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
  const path = (f: string) => join(dir, f);

  for (const r of ['ecc-rootca1', 'rootca2']) await runShippedCeremony(inst, r, dir);
  const issueFromCsr = async (caName: string, profile: 'subca' | 'ocsp', name: string, keyArgs: string[]) => {
    openssl(['req', '-new', ...keyArgs, '-out', path(`${name}.csr`), '-subj', `/C=JP/O=Bench Trust/CN=${name}`]);
    // A TLS sub-CA (Mozilla 5.3 EKU, BR 7.1.2.10.5 reserved policy); the responder certificate takes neither.
    const tls = profile === 'subca' ? { purpose: 'tls-server' as const, extraPolicyOids: ['2.23.140.1.2.2'] } : {};
    const r = await issueCertificate(inst, {
      ...people,
      caName,
      profile,
      csr: readFileSync(path(`${name}.csr`)),
      ...tls,
    });
    writeFileSync(path(`${name}.pem`), r.certificatePem);
    return path(`${name}.pem`);
  };
  const sub = await issueFromCsr('ecc-rootca1', 'subca', 'ecc-sub', [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path('ecc-sub.key'),
  ]);
  const sub2 = await issueFromCsr('rootca2', 'subca', 'rsa-sub', [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path('rsa-sub.key'),
  ]);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path('responder.key')]);
  const responderPem = await issueFromCsr('ecc-rootca1', 'ocsp', 'responder', ['-key', path('responder.key')]);
  for (const ca of ['ecc-rootca1', 'rootca2']) {
    await issueCrl(inst, { ...people, caName: ca });
    await presignOcsp(inst, { ...people, caName: ca });
  }
  const pub = await publish(inst, { ...people, signerCa: 'ecc-rootca1', out: path('publication-1.json') });
  if (pub.warnings.length) notes.push(`publication warnings: ${pub.warnings.join('; ')}`);
  inst.close();

  const store = `sqlite:${path('online.db')}`;
  const imp = rootcaCli([
    'online',
    'import',
    pub.path,
    '--store',
    store,
    '--trust',
    path('ecc-rootca1.pem'),
    '--trust',
    path('rootca2.pem'),
  ]);
  if (imp.status !== 0) throw new Error(`rootca online import failed (${imp.status}):\n${imp.stderr}${imp.stdout}`);

  const root = path('ecc-rootca1.pem');
  openssl(['ocsp', '-issuer', root, '-cert', sub, '-no_nonce', '-reqout', path('req.der')]);
  openssl(['ocsp', '-issuer', root, '-cert', sub, '-reqout', path('req-nonce.der')]);
  writeFileSync(path('index.txt'), indexLine(sub));
  const b64url = readFileSync(path('req.der')).toString('base64url');
  return {
    dir,
    root,
    root2: path('rootca2.pem'),
    sub,
    sub2,
    responderPem,
    responderKey: path('responder.key'),
    store,
    reqDer: path('req.der'),
    reqNonceDer: path('req-nonce.der'),
    indexTxt: path('index.txt'),
    getPath: `/ocsp/${b64url}`,
  };
}

/** `openssl ocsp -respin` as the relying party: the answer verifies against the root and says good. */
function checkResponse(f: Fixture, body: Buffer, label: string, o: { nonceReq?: string } = {}): void {
  const file = join(f.dir, `check-${label.replace(/[^a-z0-9]+/gi, '-')}.der`);
  writeFileSync(file, body);
  const args = [
    'ocsp',
    '-respin',
    file,
    '-CAfile',
    f.root,
    ...(o.nonceReq ? ['-reqin', o.nonceReq] : ['-issuer', f.root, '-cert', f.sub, '-no_nonce']),
  ];
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
  const out = r.stdout + r.stderr;
  if (r.status !== 0 || !/Response verify OK/.test(out))
    throw new Error(`${label}: openssl ${args.join(' ')} does not accept the answer:\n${out}`);
  if (!o.nonceReq && !/: good/.test(out)) throw new Error(`${label}: the answer does not say good:\n${out}`);
  if (o.nonceReq && /nonce/i.test(out)) throw new Error(`${label}: nonce problem:\n${out}`);
}

// --- the servers under test ------------------------------------------------------------------------

interface Server {
  child: Child;
  url: string;
}

async function startOurs(f: Fixture, name: string, logs: string): Promise<Server> {
  const port = await freePort();
  const out = join(logs, `${name}.out`);
  const err = join(logs, `${name}.err`);
  const child = startChild(
    name,
    process.execPath,
    [
      join(REPO, 'bin', 'rootca.mjs'),
      'serve',
      '--store',
      f.store,
      '--port',
      String(port),
      '--workers',
      String(SERVE_WORKERS),
      '--responder-cert',
      f.responderPem,
      '--responder-key',
      f.responderKey,
      '--log-level',
      'warn',
      '--poll-ms',
      '60000',
    ],
    { cwd: REPO, out, err },
  ); // cwd: tsx finds tsconfig.json (legacy decorators) only from there
  await waitFor('rootca serve', () => readFileSync(out, 'utf8').includes('Serving publication'), child, 60_000, err);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function startApi(f: Fixture, name: string, logs: string, accessLog: boolean): Promise<Server> {
  const port = await freePort();
  const out = join(logs, `${name}.out`);
  const err = join(logs, `${name}.err`);
  const child = startChild(
    name,
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'bench', 'serve-api.ts'),
      '--store',
      f.store,
      '--port',
      String(port),
      '--workers',
      String(SERVE_WORKERS),
      ...(accessLog ? ['--log-dir', join(f.dir, `access-log-${name}`)] : ['--no-access-log']),
    ],
    { cwd: REPO, out, err },
  );
  await waitFor(name, () => readFileSync(out, 'utf8').includes('LISTENING'), child, 60_000, err);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function startNginx(f: Fixture, presigned: Buffer): Promise<Server> {
  const prefix = join(f.dir, 'nginx');
  const file = join(prefix, 'www', f.getPath);
  for (const d of ['www/ocsp', 'logs', 'tmp']) mkdirSync(join(prefix, d), { recursive: true });
  writeFileSync(file, presigned);
  // nginx workers run as nobody when started by root: they must be able to read the file.
  for (const d of [f.dir, prefix, join(prefix, 'www'), join(prefix, 'www', 'ocsp')]) chmodSync(d, 0o755);
  chmodSync(file, 0o644);
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `# bench/ocsp.ts: the same pre-signed bytes as a static file at the same path.
worker_processes ${SERVE_WORKERS};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  # "open_file_cache on" in nginx syntax:
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  sendfile on;
  tcp_nodelay on;
  # Not below wrk's request count per connection, so nginx is not made to reconnect (Node's server has no such limit).
  keepalive_requests 10000000;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  types { }
  default_type application/ocsp-response;
  server {
    listen 127.0.0.1:${port};
    root ${prefix}/www;
    location /ocsp/ { }
  }
}
`,
  );
  const base = ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs', 'error.log')];
  const t = spawnSync('nginx', ['-t', ...base], { encoding: 'utf8', timeout: 15_000 });
  if (t.status !== 0) throw new Error(`nginx -t refuses the bench configuration:\n${t.stderr}`);
  const child = startChild('nginx', 'nginx', base, { cwd: prefix, err: join(prefix, 'logs', 'stderr.log') });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'nginx',
    async () => (await http(url + f.getPath)).status === 200,
    child,
    20_000,
    join(prefix, 'logs', 'error.log'),
  );
  return { child, url };
}

/** Whether something listens on TCP `port` (in the network namespace of `nsPid`), from /proc/net/tcp{,6}: no connection is made. */
function listening(port: number, nsPid?: number): boolean {
  const files = ['/proc/net/tcp', '/proc/net/tcp6'];
  const text = nsPid
    ? (spawnSync('nsenter', ['-t', String(nsPid), '-n', 'cat', ...files], { encoding: 'utf8', timeout: 5000 }).stdout ??
      '')
    : files.map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n');
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  // sl local_address rem_address st …; st 0A is LISTEN.
  return text.split('\n').some((l) => {
    const c = l.trim().split(/\s+/);
    return c[1]?.endsWith(`:${hex}`) && c[3] === '0A';
  });
}

/** Whether `unshare -n` gives a private network namespace with a working loopback here. */
function netnsWorks(): boolean {
  if (!have('unshare') || !have('nsenter') || !have('ip')) return false;
  return (
    spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && ip -o addr show lo | grep -q 127.0.0.1'], {
      stdio: 'ignore',
      timeout: 10_000,
    }).status === 0
  );
}

// --- the runs ---------------------------------------------------------------------------------------

const r2 = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 100) / 100);

function rowFrom(test: string, peer: string, tool: string, l: Load, extra: Partial<Row> = {}): Row {
  const errs = Object.fromEntries(Object.entries(l.errors).filter(([k, v]) => k !== 'complete' && v > 0));
  return {
    test,
    peer,
    tool,
    reqPerSec: Math.round(l.reqPerSec * 10) / 10,
    p50ms: r2(l.p50ms),
    p99ms: r2(l.p99ms),
    ...(Object.keys(errs).length ? { errors: errs } : {}),
    ...extra,
  };
}

function skip(test: string, peer: string, tool: string, why: string): void {
  rows.push({ test, peer, tool, verdict: 'SKIPPED', note: why });
}

function missing(tools: string[]): string[] {
  const m = tools.filter((t) => !have(t));
  for (const t of m) process.stderr.write(`bench: ${t} is not installed; install it with: ${INSTALL_HINT}\n`);
  return m;
}

/** One `openssl ocsp -index` responder process for one fixed-count ab run at concurrency `c`; its answer is checked first. */
async function runOpensslOcsp(f: Fixture, logs: string, csv: string, c: number, netns: boolean): Promise<Load> {
  const port = await freePort();
  const nrequest = AB.n + AB.warmup + 1; // + 1: the answer checked with openssl below
  const osslArgs = [
    'ocsp',
    '-index',
    f.indexTxt,
    '-port',
    String(port),
    '-rsigner',
    f.responderPem,
    '-rkey',
    f.responderKey,
    '-CA',
    f.root,
    '-nrequest',
    String(nrequest),
  ];
  const err = join(logs, `openssl-ocsp-c${c}.err`);
  // openssl ocsp -port listens on every address; in a private network namespace that is only its own loopback.
  const child = netns
    ? startChild(
        'openssl ocsp',
        'unshare',
        ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', 'openssl', ...osslArgs],
        { cwd: f.dir, err },
      )
    : startChild('openssl ocsp', 'openssl', osslArgs, { cwd: f.dir, err });
  try {
    const nsPid = netns ? child.pid : undefined;
    // Readiness from the socket table, not by connecting: openssl spins on a connection closed without a request.
    await waitFor('openssl ocsp', () => listening(port, nsPid), child, 20_000, err);
    const url = `http://127.0.0.1:${port}/`;
    // The answer checked once, with openssl's own client sending req.der (it closes the connection after the answer).
    const respFile = join(f.dir, 'openssl-ocsp-answer.der');
    const clientArgs = ['ocsp', '-reqin', f.reqDer, '-url', url, '-respout', respFile, '-noverify', '-timeout', '10'];
    const client = nsPid
      ? spawnSync('nsenter', ['-t', String(nsPid), '-n', 'openssl', ...clientArgs], { timeout: 15_000 })
      : spawnSync('openssl', clientArgs, { timeout: 15_000 });
    if (client.status !== 0 || !existsSync(respFile))
      throw new Error(`openssl ocsp client against openssl ocsp -index failed:\n${client.stderr}`);
    checkResponse(f, readFileSync(respFile), 'openssl ocsp');
    await ab(url, f.reqDer, AB.warmup, c, csv, nsPid);
    const load = await ab(url, f.reqDer, AB.n, c, csv, nsPid);
    await Promise.race([child.exited, sleep(5000)]);
    if (!child.done) notes.push(`openssl ocsp (ab -c ${c}) did not exit by itself after -nrequest; it was killed`);
    return load;
  } finally {
    await stopChild(child, 2000);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: watchdog: still running after ${WATCHDOG_MS / 60_000} min; stopping\n`);
    killAllNow();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();

  if (missing(['openssl']).length) throw new Error('openssl is needed to make the requests and the CSRs');
  const noWrk = !have('wrk');
  const noAb = !have('ab');
  const noNginx = !have('nginx');
  missing(['wrk', 'ab', 'nginx']);

  const dir = tempDir('rootca-bench-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  process.stderr.write(
    `bench: setting up in ${dir} (installation, ecc-rootca1 + rootca2 ceremonies, sub CAs, responder, presign, publish, import)\n`,
  );
  const t0 = Date.now();
  const f = await setup(dir);
  const setupSeconds = (Date.now() - t0) / 1000;
  process.stderr.write(`bench: setup done in ${setupSeconds.toFixed(1)} s\n`);
  const reqBody = readFileSync(f.reqDer);
  const csv = join(logs, 'ab.csv');

  // --- ours: rootca serve --workers 2 (tests 1-3) and nginx (test 1), both running; the GET runs alternate ---
  let presigned: Buffer = Buffer.alloc(0);
  const oursGet: Load[] = [];
  const nginxGet: Load[] = [];
  const oursPost: { label: string; c: number; keepAlive: boolean; n: number; load: Load }[] = [];
  let nginxAbC1: Load | undefined;
  {
    process.stderr.write('bench: starting rootca serve --workers 2\n');
    const ours = await startOurs(f, 'rootca-serve', logs);
    let ng: Server | undefined;
    try {
      const get = await http(ours.url + f.getPath);
      if (get.status !== 200 || get.type !== 'application/ocsp-response')
        throw new Error(`rootca serve GET: HTTP ${get.status} ${get.type}`);
      checkResponse(f, get.body, 'rootca serve GET');
      presigned = get.body;
      const post = await http(`${ours.url}/ocsp`, { method: 'POST', body: reqBody });
      if (!post.body.equals(presigned))
        throw new Error('rootca serve: the POST answer is not the pre-signed bytes the GET returned');
      const live = await http(`${ours.url}/ocsp`, { method: 'POST', body: readFileSync(f.reqNonceDer) });
      if (live.body.equals(presigned))
        throw new Error('rootca serve: a request with a nonce got the pre-signed answer (no live signing)');
      checkResponse(f, live.body, 'rootca serve live', { nonceReq: f.reqNonceDer });

      // 1. GET: ours and nginx alternate (the machine is shared: load that comes and goes hits both alike)
      if (noWrk) {
        skip('1 GET pre-signed', 'rootca serve --workers 2', 'wrk', `wrk missing: ${INSTALL_HINT}`);
        skip('1 GET pre-signed', 'nginx (static file)', 'wrk', `wrk missing: ${INSTALL_HINT}`);
      } else {
        if (noNginx)
          skip(
            '1 GET pre-signed',
            'nginx (static file)',
            'wrk',
            `nginx missing: ${INSTALL_HINT}; the target is not judged`,
          );
        else {
          ng = await startNginx(f, presigned);
          const g = await http(ng.url + f.getPath);
          if (!g.body.equals(presigned) || g.type !== 'application/ocsp-response')
            throw new Error(`nginx does not serve the same bytes (${g.status} ${g.type}, ${g.body.length} bytes)`);
        }
        await wrk(ours.url + f.getPath, WRK.warmupSeconds);
        if (ng) await wrk(ng.url + f.getPath, WRK.warmupSeconds);
        for (let round = 1; round <= WRK.rounds; round++) {
          process.stderr.write(
            `bench: 1 GET round ${round}/${WRK.rounds}: ours${ng ? ', nginx' : ''} (wrk ${WRK.seconds} s each)\n`,
          );
          oursGet.push(await wrk(ours.url + f.getPath, WRK.seconds, ours));
          if (ng) nginxGet.push(await wrk(ng.url + f.getPath, WRK.seconds, ng));
        }
        if (ng && !noAb) {
          // What one connection per request allows here at all: nginx serving the file, ab -c 1 (GET, no body).
          process.stderr.write(`bench: 2 reference: nginx, ab -n ${AB.n} -c 1 GET\n`);
          await ab(ng.url + f.getPath, undefined, AB.warmup, 1, csv);
          nginxAbC1 = await ab(ng.url + f.getPath, undefined, AB.n, 1, csv);
        }
      }
      // 2. POST, the same ab commands as against openssl (new connection per request), and with keep-alive (-k)
      if (noAb) {
        skip('2 POST pre-signed', 'rootca serve --workers 2', 'ab', `ab missing: ${INSTALL_HINT}`);
        skip('2 POST pre-signed', 'openssl ocsp -index', 'ab', `ab missing: ${INSTALL_HINT}`);
        skip('3 POST live (nonce)', 'rootca serve --workers 2', 'ab', `ab missing: ${INSTALL_HINT}`);
      } else {
        for (const [c, keepAlive, n] of AB.oursRuns) {
          process.stderr.write(
            `bench: 2 POST ours: ab${keepAlive ? ' -k' : ''} -n ${n} -c ${c} (warm-up ${AB.warmup})\n`,
          );
          await ab(`${ours.url}/ocsp`, f.reqDer, AB.warmup, c, csv, undefined, keepAlive);
          oursPost.push({
            label: `rootca serve --workers 2 (ab${keepAlive ? ' -k' : ''} -c ${c})`,
            c,
            keepAlive,
            n,
            load: await ab(`${ours.url}/ocsp`, f.reqDer, n, c, csv, undefined, keepAlive),
          });
        }
        // 3. live signing with a nonce
        process.stderr.write(`bench: 3 POST live ours: ab -n ${AB.n} -c 8 (warm-up ${AB.warmup})\n`);
        await ab(`${ours.url}/ocsp`, f.reqNonceDer, AB.warmup, 8, csv);
        const liveLoad = await ab(`${ours.url}/ocsp`, f.reqNonceDer, AB.n, 8, csv);
        const errs = realErrors(liveLoad.errors, false, AB.n);
        rows.push(
          rowFrom('3 POST live (nonce)', 'rootca serve --workers 2 (ab -c 8)', 'ab', liveLoad, {
            verdict: errs ? 'ERRORS' : undefined,
            command: `ab -n ${AB.n} -c 8 -p req-nonce.der -T application/ocsp-request -e ab.csv URL/ocsp`,
            note: 'every answer signed live by the P-256 delegated responder (ab repeats one body, so one nonce; it is echoed and signed each time); ab "Length" failures are expected (ECDSA signature length varies)',
          }),
        );
      }
    } finally {
      if (ng) await stopChild(ng.child);
      await stopChild(ours.child);
    }
  }

  const wrkCmd = `wrk -t${WRK.threads} -c${WRK.connections} -d${WRK.seconds}s --latency URL/ocsp/<base64url(req)>`;
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  /** The run with the median req/s stands for the series; every run is listed in the note. */
  const medianLoad = (ls: Load[]) => ls.find((l) => l.reqPerSec === median(ls.map((x) => x.reqPerSec)))!;
  const runsNote = (ls: Load[]) => {
    const cpu = ls.filter((l) => l.cpuUsPerReq !== undefined).map((l) => l.cpuUsPerReq!);
    return `runs: ${ls.map((l) => Math.round(l.reqPerSec)).join(', ')} req/s${cpu.length ? `; server CPU per request (all its processes): median ${median(cpu).toFixed(1)} us (${cpu.map((c) => c.toFixed(1)).join(', ')})` : ''}`;
  };
  if (oursGet.length) {
    const o = medianLoad(oursGet);
    const errs = oursGet.reduce((n, l) => n + realErrors(l.errors, true), 0);
    // Each round's two runs are back to back, so their ratio is what load from elsewhere disturbs least.
    const rounds = nginxGet.length ? oursGet.map((l, i) => l.reqPerSec / nginxGet[i]!.reqPerSec) : [];
    const ratio = rounds.length ? median(rounds) : undefined;
    const judged = nginxGet.length && !errs && !nginxGet.some((l) => realErrors(l.errors, true));
    const perRound = rounds.length
      ? `; per round ours/nginx: ${rounds.map((x) => r2(x)).join(', ')}; medians' ratio ${r2(o.reqPerSec / medianLoad(nginxGet).reqPerSec)}`
      : '';
    rows.push(
      rowFrom('1 GET pre-signed', 'rootca serve --workers 2', 'wrk', o, {
        ratio: r2(ratio),
        ratioOf: 'median over rounds of ours / nginx req/s (each round: ours, then nginx, back to back)',
        target: '>= nginx req/s',
        verdict: errs ? 'ERRORS' : judged ? (ratio! >= 1 ? 'MET' : 'NOT MET') : 'NOT JUDGED',
        command: wrkCmd,
        note: `${runsNote(oursGet)}${perRound}${nginxGet.length ? '' : '; no nginx to compare with'}`,
      }),
    );
  }
  if (nginxGet.length)
    rows.push(
      rowFrom('1 GET pre-signed', 'nginx 2 workers (static file)', 'wrk', medianLoad(nginxGet), {
        command: wrkCmd,
        note: runsNote(nginxGet),
        verdict: nginxGet.some((l) => realErrors(l.errors, true)) ? 'ERRORS' : undefined,
      }),
    );

  // --- 2. openssl ocsp: a fresh process per ab run (it exits after -nrequest) ---
  const opensslPost = new Map<number, Load>();
  let opensslNote = '';
  if (!noAb) {
    const netns = netnsWorks();
    opensslNote = netns
      ? 'openssl ocsp ran in its own network namespace (unshare -n, loopback up); ab ran in it through nsenter'
      : 'unshare -n not usable here: openssl ocsp listened on 0.0.0.0 for the length of this run';
    for (const c of AB.opensslConcurrency) {
      process.stderr.write(
        `bench: 2 POST openssl ocsp: ab -n ${AB.n} -c ${c} (warm-up ${AB.warmup}), fresh process, -nrequest ${AB.n + AB.warmup + 1}\n`,
      );
      opensslPost.set(c, await runOpensslOcsp(f, logs, csv, c, netns));
    }
  }
  const abCmd = (c: number, k = false, n = AB.n) =>
    `ab${k ? ' -k' : ''} -n ${n} -c ${c} -p req.der -T application/ocsp-request -e ab.csv URL`;
  const opensslBest = [...opensslPost.values()].reduce<Load | undefined>(
    (b, l) => (!b || l.reqPerSec > b.reqPerSec ? l : b),
    undefined,
  );
  for (const run of oursPost) {
    // The same command against both where openssl can take it; otherwise against its best run.
    const same = !run.keepAlive && opensslPost.has(run.c);
    const peer = same ? opensslPost.get(run.c) : opensslBest;
    const errs = realErrors(run.load.errors, true, run.n);
    const ratio = peer ? run.load.reqPerSec / peer.reqPerSec : undefined;
    const peerName = same ? `the same ab -c ${run.c}` : 'its best run: it serves one request at a time';
    rows.push(
      rowFrom('2 POST pre-signed', run.label, 'ab', run.load, {
        ratio: r2(ratio),
        ratioOf: `ours / openssl ocsp (${peerName}) req/s`,
        target: '>= 4x openssl ocsp',
        verdict: errs ? 'ERRORS' : peer ? (ratio! >= 4 ? 'MET' : 'NOT MET') : 'NOT JUDGED',
        command: abCmd(run.c, run.keepAlive, run.n),
        ...(peer ? {} : { note: 'no openssl ocsp run to compare with' }),
      }),
    );
  }
  if (nginxAbC1) {
    rows.push(
      rowFrom('2 POST pre-signed', 'reference: nginx static file (ab -c 1, GET)', 'ab', nginxAbC1, {
        command: `ab -n ${AB.n} -c 1 -e ab.csv URL/ocsp/<base64url(req)>`,
        verdict: realErrors(nginxAbC1.errors, true, AB.n) ? 'ERRORS' : undefined,
        ratio: opensslBest ? r2(nginxAbC1.reqPerSec / opensslBest.reqPerSec) : undefined,
        ratioOf: 'nginx / openssl ocsp req/s',
        note: 'not a target: what one TCP connection per request allows on this machine for a server that only sends a file; the 4x target needs connections kept open',
      }),
    );
  }
  for (const [c, l] of opensslPost) {
    rows.push(
      rowFrom('2 POST pre-signed', `openssl ocsp -index (ab -c ${c})`, 'ab', l, {
        command: abCmd(c),
        verdict: realErrors(l.errors, false, AB.n) ? 'ERRORS' : undefined,
        note: `signs every answer with the P-256 responder key, one request at a time, one connection per request (it cannot keep a connection open: ab -k stalls on it); ab "Length" failures are expected (ECDSA signature length varies). ${opensslNote}`,
      }),
    );
  }

  // --- 3. openssl speed ---
  process.stderr.write(`bench: 3 openssl speed -seconds ${SPEED_SECONDS} ecdsap256 (1 core, then -multi 2)\n`);
  const speed = async (multi: boolean) => {
    const args = ['speed', '-seconds', String(SPEED_SECONDS), ...(multi ? ['-multi', '2'] : []), 'ecdsap256'];
    const r = await runTool('openssl', args, { timeoutMs: (SPEED_SECONDS * 2 + 30) * 1000 });
    const m = /256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout);
    if (r.code !== 0 || !m) {
      notMeasured.push(`openssl ${args.join(' ')}: ${r.timedOut ? 'timed out' : `no result (exit ${r.code})`}`);
      return undefined;
    }
    return Number(m[1]);
  };
  const live = rows.find((r) => r.test.startsWith('3'));
  for (const multi of [false, true]) {
    const signs = await speed(multi);
    if (signs === undefined) continue;
    rows.push({
      test: '3 POST live (nonce)',
      peer: `openssl speed ecdsap256${multi ? ' -multi 2' : ' (1 core)'}`,
      tool: 'openssl speed',
      reqPerSec: signs,
      note: 'signatures/s, no HTTP, no OCSP encoding',
      command: `openssl speed -seconds ${SPEED_SECONDS}${multi ? ' -multi 2' : ''} ecdsap256`,
    });
    if (live?.reqPerSec && !multi)
      Object.assign(live, { ratio: r2(live.reqPerSec / signs), ratioOf: 'ours live req/s / openssl signs/s (1 core)' });
  }
  if (live?.reqPerSec) {
    const multiRow = rows.find((r) => r.peer.includes('-multi 2'));
    if (multiRow?.reqPerSec)
      live.note = `${live.note}; vs -multi 2 signs/s: ${r2(live.reqPerSec / multiRow.reqPerSec)}`;
  }

  // --- 4. access log on / off ---
  notes.push(
    'rootca serve has no flag to turn the OCSP access log off (it always logs, default folder next to the store); test 4 starts the same cluster code through runServer() (bench/serve-api.ts) with and without logDir',
  );
  if (noWrk) skip('4 GET access log', 'runServer() 2 workers, log on / off', 'wrk', `wrk missing: ${INSTALL_HINT}`);
  else {
    // Both running at once, their wrk runs alternating (as in test 1).
    const on = await startApi(f, 'api-log-on', logs, true);
    let off: Server | undefined;
    const onRuns: Load[] = [];
    const offRuns: Load[] = [];
    try {
      off = await startApi(f, 'api-log-off', logs, false);
      for (const s of [on, off]) {
        const g = await http(s.url + f.getPath);
        if (!g.body.equals(presigned)) throw new Error(`${s.url}: not the pre-signed bytes`);
        await wrk(s.url + f.getPath, WRK.warmupSeconds);
      }
      for (let round = 1; round <= WRK.rounds; round++) {
        process.stderr.write(
          `bench: 4 GET access log round ${round}/${WRK.rounds}: on, off (wrk ${WRK.seconds} s each)\n`,
        );
        onRuns.push(await wrk(on.url + f.getPath, WRK.seconds, on));
        offRuns.push(await wrk(off.url + f.getPath, WRK.seconds, off));
      }
    } finally {
      if (off) await stopChild(off.child);
      await stopChild(on.child);
    }
    const mOn = medianLoad(onRuns);
    const mOff = medianLoad(offRuns);
    const logRatio = median(onRuns.map((l, i) => l.reqPerSec / offRuns[i]!.reqPerSec));
    rows.push(
      rowFrom('4 GET access log', 'runServer() 2 workers, log on', 'wrk', mOn, {
        ratio: r2(logRatio),
        ratioOf: 'median over rounds of log on / log off req/s',
        target: '>= 0.9 (cost <= ~10%)',
        command: wrkCmd,
        note: runsNote(onRuns),
        verdict: logRatio >= 0.9 ? 'MET' : 'NOT MET',
      }),
    );
    rows.push(
      rowFrom('4 GET access log', 'runServer() 2 workers, log off', 'wrk', mOff, {
        command: wrkCmd,
        note: runsNote(offRuns),
      }),
    );
  }

  // --- report ---
  rows.sort((a, b) => a.test.localeCompare(b.test)); // stable: each test's rows keep their order
  const seconds = (Date.now() - started) / 1000;
  notes.push(
    `machine: ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}); load tool and server share them, so absolute numbers are lower than on separate hosts`,
  );
  notes.push('ab percentiles come from its -e CSV (1% steps, sub-millisecond); wrk percentiles from --latency');
  printTable(seconds, setupSeconds);
  const outDir = join(REPO, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'latest.json'),
    `${JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        seconds: Math.round(seconds),
        setupSeconds: Math.round(setupSeconds),
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model,
          node: process.version,
          openssl: spawnSync('openssl', ['version'], { encoding: 'utf8', timeout: 5000 }).stdout.trim(),
        },
        parameters: { wrk: WRK, ab: AB, serveWorkers: SERVE_WORKERS, speedSeconds: SPEED_SECONDS },
        rows,
        notMeasured,
        notes,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nwritten: bench/results/latest.json\n`);
  if (process.env.BENCH_KEEP) process.stderr.write(`bench: BENCH_KEEP is set; the fixture stays in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

function printTable(seconds: number, setupSeconds: number): void {
  const fmt = (x: number | undefined, d: number) => (x === undefined ? '-' : x.toFixed(d));
  const head = ['test', 'peer', 'tool', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'target', 'verdict'];
  const body = rows.map((r) => [
    r.test,
    r.peer,
    r.tool,
    fmt(r.reqPerSec, 0),
    fmt(r.p50ms, 2),
    fmt(r.p99ms, 2),
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
    r.target ?? '-',
    r.verdict ?? '-',
  ]);
  const numeric = new Set([3, 4, 5, 6]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  process.stdout.write(
    `\nrootca OCSP benchmark (${Math.round(seconds)} s in all, setup ${Math.round(setupSeconds)} s)\n\n${out.join('\n')}\n`,
  );
  const withNotes = rows.filter((r) => r.note || r.errors || r.ratioOf);
  if (withNotes.length) {
    process.stdout.write('\nper row:\n');
    for (const r of withNotes) {
      const bits = [
        r.ratioOf ? `ratio = ${r.ratioOf}` : '',
        r.errors ? `errors ${JSON.stringify(r.errors)}` : '',
        r.note ?? '',
      ].filter(Boolean);
      process.stdout.write(`  ${r.test} / ${r.peer}: ${bits.join('; ')}\n`);
    }
  }
  if (notMeasured.length) process.stdout.write(`\nnot measured:\n${notMeasured.map((n) => `  - ${n}`).join('\n')}\n`);
  if (notes.length) process.stdout.write(`\nnotes:\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
}

try {
  await main();
} catch (e) {
  process.stderr.write(
    `bench failed: ${(e as Error).stack ?? e}\n(the temp folder named above is left for inspection)\n`,
  );
  process.exitCode = 1;
} finally {
  await Promise.all([...children].map((c) => stopChild(c, 2000)));
}
