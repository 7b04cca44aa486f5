/**
 * What `rootca serve` loads (issue 17: the online process carries only what serving needs): its
 * module graph, traced at run time by test/trace-imports.mjs while it starts and serves from
 * the sources, holds nothing of the offline side (the use-case folders, keys, archive, audit,
 * config; test/layering.test.ts names them) and not the PostgreSQL driver when the store is
 * SQLite. The CommonJS modules each process required (listed at its exit by a preload) hold
 * neither prom-client's default metrics and the OpenTelemetry API they pull in, nor fastify's
 * schema compilers (ajv, fast-json-stringify: no route declares a schema), nor, in a
 * cluster primary (it only forks and watches its workers), fastify or prom-client.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { REPO } from './helpers.ts';
import { OnlineFixture } from './online-fixtures.ts';
import { USE_CASES } from './src-folders.ts';

/** The offline side's folders of src/: the use cases, and the key, archive, audit and config modules. */
const OFFLINE = [...USE_CASES, 'keys', 'archive', 'audit', 'config'];

let f: OnlineFixture;

before(async () => {
  f = new OnlineFixture();
  const store = new SqliteOnlineStore(f.path('online.db'));
  store.importPublication(await f.publication({ version: 1 }), [f.rsa.der, f.ec.der]);
  store.close();
});

after(() => rmSync(f.dir, { recursive: true, force: true }));

/** A preload that lists, at its process's exit, the CommonJS files it required: `required primary|worker FILE`. */
const REQUIRED_CJS = `const cluster = require('node:cluster');
process.on('exit', () => {
  const role = cluster.isPrimary ? 'primary' : 'worker';
  require('node:fs').writeSync(2, Object.keys(require.cache).map((f) => 'required ' + role + ' ' + f + '\\n').join(''));
});
`;

/** What a run of `rootca serve` loaded: ES module URLs (any process), CommonJS files by process role. */
interface Loaded {
  urls: string[];
  required: { role: string; file: string }[];
}

/** What `rootca serve --workers N` (run from src/ through tsx) has loaded once it serves; it is then stopped. */
function modulesOfServe(workers: number, logDir: string): Promise<Loaded> {
  const args = ['serve', '--store', `sqlite:${f.path('online.db')}`, '--port', '0', '--workers', String(workers)];
  args.push('--log-dir', f.path(logDir), '--log-level', 'warn');
  const entry = `const { main } = await import(${JSON.stringify(join(REPO, 'src', 'cli', 'main.ts'))}); process.exitCode = await main(${JSON.stringify(args)}, '0');`;
  const preload = f.path('required-cjs.cjs');
  writeFileSync(preload, REQUIRED_CJS);
  // A file, not -e: cluster workers run the primary's script again.
  const script = f.path('serve-entry.mjs');
  writeFileSync(script, entry);
  const child = spawn(
    process.execPath,
    ['--require', preload, '--import', 'tsx', '--import', join(REPO, 'test', 'trace-imports.mjs'), script],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rootca serve did not start in 120 s:\n${out}\n${err.slice(-2000)}`));
    }, 120_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Serving publication')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (!out.includes('Serving publication'))
        reject(new Error(`rootca serve did not serve:\n${out}\n${err.slice(-2000)}`));
      else {
        const lines = err.split('\n');
        const required = lines
          .filter((l) => l.startsWith('required '))
          .map((l) => {
            const [, role, file] = /^required (\w+) (.*)$/.exec(l)!;
            return { role: role!, file: file! };
          });
        resolve({ urls: lines.filter((l) => l.startsWith('loaded ')).map((l) => l.slice(7)), required });
      }
    });
  });
}

describe('rootca serve loads only what serving needs', () => {
  it('no module of the offline side, no pg driver with a SQLite store; the server, store and publication modules are there', async () => {
    const { urls } = await modulesOfServe(1, 'log');
    const srcPrefix = `file://${join(REPO, 'src')}/`;
    const folders = new Set(
      urls.filter((u) => u.startsWith(srcPrefix)).map((u) => u.slice(srcPrefix.length).split('/')[0]!),
    );
    for (const needed of ['server', 'store', 'publish', 'pki']) assert.ok(folders.has(needed), `${needed}/ is loaded`);
    assert.deepEqual(
      OFFLINE.filter((m) => folders.has(m)),
      [],
      `offline modules loaded: ${urls.filter((u) => OFFLINE.some((m) => u.startsWith(`${srcPrefix}${m}/`))).join(' ')}`,
    );
    assert.ok(!urls.some((u) => u.includes('/node_modules/pg/')), 'the pg driver is not loaded for SQLite');
  });

  it('no OpenTelemetry API, prom-client default metrics nor ajv in any process; no fastify or prom-client in a cluster primary', async () => {
    const { required } = await modulesOfServe(2, 'log-cluster');
    const byRole = (role: string) => required.filter((r) => r.role === role).map((r) => r.file);
    const worker = byRole('worker');
    const primary = byRole('primary');
    assert.ok(
      primary.length > 0 && worker.length > 0,
      `both the primary and the workers listed what they required: ${primary.length} ${worker.length}`,
    );
    assert.ok(
      worker.some((p) => p.includes('/node_modules/fastify/')),
      'a worker serves with fastify (the preload sees it)',
    );
    assert.ok(
      worker.some((p) => p.includes('/node_modules/prom-client/lib/counter.js')),
      'a worker has its metrics',
    );
    assert.deepEqual(
      required.filter((r) =>
        /\/node_modules\/(@opentelemetry\/|prom-client\/(index\.js|lib\/defaultMetrics))/.test(r.file),
      ),
      [],
    );
    // No route declares a JSON schema: fastify's default compilers (ajv, fast-json-stringify) are never loaded.
    assert.deepEqual(
      required.filter((r) =>
        /\/node_modules\/(ajv|ajv-formats|@fastify\/ajv-compiler|@fastify\/fast-json-stringify-compiler|fast-json-stringify\/index\.js)/.test(
          r.file,
        ),
      ),
      [],
    );
    assert.deepEqual(
      primary.filter((p) => /\/node_modules\/(fastify|prom-client)\//.test(p)),
      [],
      'the cluster primary loads neither fastify nor prom-client',
    );
  });
});
