/**
 * The benches' child processes (each in its own process group, stopped together, killed on
 * exit or Ctrl-C), tools run to completion with a hard timeout, and what /proc says about a
 * process group (CPU time, resident memory).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';

/** A process the bench started. */
export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  done: boolean;
}

const children = new Set<Child>();

/** Starts a process in its own process group, so it and its children (cluster workers, nginx workers) are stopped together. */
export function startChild(
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

export function signalGroup(c: Child, sig: NodeJS.Signals): void {
  try {
    process.kill(-c.pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM to the child's group, SIGKILL after `graceMs`. */
export async function stopChild(c: Child, graceMs = 5000): Promise<void> {
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

export function killAllNow(): void {
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

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  seconds: number;
}

/** Runs a tool to completion (in its own process group), killed after `timeoutMs`. */
export async function runTool(
  cmd: string,
  args: string[],
  o: { cwd?: string; timeoutMs: number },
): Promise<ToolResult> {
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

export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HttpAnswer {
  status: number;
  type: string;
  body: Buffer;
  /** Bytes of the status line and header block as received (rawHeaders; CRLFs counted). */
  headBytes: number;
}

/** One HTTP(S) request on its own connection, 10 s at most (HTTPS: the certificate is not checked). */
export function http(url: string, o: { method?: string; body?: Buffer; type?: string } = {}): Promise<HttpAnswer> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? 'GET',
        agent: false,
        timeout: 10_000,
        rejectUnauthorized: false,
        headers: {
          ...(o.body
            ? { 'content-type': o.type ?? 'application/ocsp-request', 'content-length': String(o.body.length) }
            : {}),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        // What a keep-alive answer carries: the status line, each header line, the blank line.
        let headBytes = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`.length + 2;
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          headBytes += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`.length;
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(parts),
            headBytes,
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
export async function waitFor(
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

/** The pids of the processes in process group `pgid`, from /proc. */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      if (Number(f[2]) === pgid) pids.push(Number(d)); // pgrp (field 5)
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU time (user + system, clock ticks of 10 ms) of every process in process group `pgid`. */
export function groupCpuTicks(pgid: number): number {
  let ticks = 0;
  for (const pid of groupPids(pgid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime (14), stime (15)
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** Resident memory (MB, VmRSS) of each process in process group `pgid`, largest first. */
export function groupRssMb(pgid: number): number[] {
  const out: number[] = [];
  for (const pid of groupPids(pgid)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) out.push(Math.round(Number(m[1]) / 102.4) / 10);
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => b - a);
}

/** The 1-minute load average (what else the shared machine is doing). */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
