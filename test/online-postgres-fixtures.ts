/**
 * Fixtures for the PostgreSQL online store (issue 9): a fresh database per test run on the
 * machine's PostgreSQL (127.0.0.1:5432, trust auth), a private PostgreSQL cluster that a test
 * may stop and start (the shared one is never stopped: other tests use it), and `rootca serve`
 * responder processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { REPO, tempDir } from './helpers.ts';

/** The machine's PostgreSQL, database `test` (where CREATE DATABASE is issued from). */
export const SHARED_POSTGRES = process.env.ROOTCA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Swaps the database name in a PostgreSQL URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** CREATE DATABASE rootca_test_<random>; `drop()` removes it (closing any connection left). */
export async function createTestDatabase(
  server: string = SHARED_POSTGRES,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `rootca_test_${randomBytes(6).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(server, name),
    name,
    drop: () => admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const PG_BIN = process.env.ROOTCA_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl in a temp folder, loopback only,
 * trust auth), run as the `postgres` user when the test runs as root (initdb refuses root).
 */
export class PrivatePostgres {
  readonly dir: string;
  readonly port: number;
  private readonly asPostgres: boolean;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
    this.asPostgres = process.getuid?.() === 0;
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = tempDir('rootca-pg-');
    const p = new PrivatePostgres(dir, await freePort());
    mkdirSync(p.data, { recursive: true });
    if (p.asPostgres) {
      const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      chmodSync(dir, 0o755);
      chownSync(dir, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
      chownSync(p.data, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
    }
    p.run(join(PG_BIN, 'initdb'), ['-D', p.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await p.start();
    return p;
  }

  get data(): string {
    return join(this.dir, 'data');
  }

  /** URL of database `postgres` on this cluster. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(cmd: string, args: string[]): string {
    const [c, a] = this.asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    const r = spawnSync(c, a, { encoding: 'utf8', timeout: 60_000, cwd: this.dir });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off -c max_connections=60`;
    this.run(join(PG_BIN, 'pg_ctl'), [
      '-D',
      this.data,
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      opts,
      '-w',
      '-t',
      '30',
      'start',
    ]);
  }

  /** Whether the cluster runs (pg_ctl status). */
  isRunning(): boolean {
    const args = ['-D', this.data, 'status'];
    const r = spawnSync(
      this.asPostgres ? 'runuser' : join(PG_BIN, 'pg_ctl'),
      this.asPostgres ? ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), ...args] : args,
      { stdio: 'ignore', timeout: 30_000, cwd: this.dir },
    );
    return r.status === 0;
  }

  /** pg_ctl stop -m fast: connections are closed, as in a restart of the database host's service. */
  async stop(): Promise<void> {
    this.run(join(PG_BIN, 'pg_ctl'), ['-D', this.data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  }

  /** Stops the cluster (if it runs) and removes its folder. */
  async destroy(): Promise<void> {
    const args = ['-D', this.data, '-m', 'immediate', 'stop'];
    spawnSync(
      this.asPostgres ? 'runuser' : join(PG_BIN, 'pg_ctl'),
      this.asPostgres ? ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), ...args] : args,
      { stdio: 'ignore', timeout: 30_000 },
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ResponderProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `rootca serve --store URL --port P --workers 1`; resolves once it prints its URLs. */
export function startResponder(o: {
  store: string;
  name: string;
  port: number;
  logDir: string;
  home: string;
  extra?: string[];
}): Promise<ResponderProcess> {
  const args = [
    'serve',
    '--store',
    o.store,
    '--name',
    o.name,
    '--port',
    String(o.port),
    '--workers',
    '1',
    '--log-dir',
    o.logDir,
    '--log-level',
    'warn',
    ...(o.extra ?? []),
  ];
  const child = spawn(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args], {
    env: { ...process.env, ROOTCA_HOME: o.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`responder ${o.name} did not start in 60 s:\n${stdout}\n${stderr}`)),
      60_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (/^Serving publication/m.test(stdout)) {
        clearTimeout(timer);
        resolve({
          name: o.name,
          port: o.port,
          url: `http://127.0.0.1:${o.port}`,
          child,
          stdout: () => stdout,
          stderr: () => stderr,
          exited,
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`responder ${o.name} exited ${code} before listening:\n${stdout}\n${stderr}`));
    });
  });
}

/** Stops a responder (SIGTERM, then SIGKILL after 10 s). */
export async function stopResponder(r: ResponderProcess): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGTERM');
  const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
  await r.exited;
  clearTimeout(t);
}

/** GET /healthz as JSON. */
export async function healthz(url: string): Promise<{
  status: string;
  version: number | null;
  responder: string;
  store: { reachable: boolean; notifications: string };
  problems: string[];
}> {
  const r = await fetch(`${url}/healthz`);
  return (await r.json()) as never;
}
