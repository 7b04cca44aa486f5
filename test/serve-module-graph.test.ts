/**
 * What `rootca serve` loads (issue 17: the online process carries only what serving needs): its
 * module graph, traced at run time by test/trace-imports.mjs while it starts and serves from
 * the sources, holds nothing of the offline side (the use-case folders, keys, archive, audit,
 * config; test/layering.test.ts names them) and not the PostgreSQL driver when the store is
 * SQLite.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
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

/** The module URLs `rootca serve` (run from src/ through tsx) has loaded once it serves; it is then stopped. */
function modulesOfServe(args: string[]): Promise<string[]> {
  const entry = `const { main } = await import(${JSON.stringify(join(REPO, 'src', 'cli', 'main.ts'))}); process.exitCode = await main(${JSON.stringify(args)}, '0');`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', join(REPO, 'test', 'trace-imports.mjs'), '--input-type=module', '-e', entry],
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
      else
        resolve(
          err
            .split('\n')
            .filter((l) => l.startsWith('loaded '))
            .map((l) => l.slice(7)),
        );
    });
  });
}

describe('rootca serve loads only what serving needs', () => {
  it('no module of the offline side, no pg driver with a SQLite store; the server, store and publication modules are there', async () => {
    const urls = await modulesOfServe([
      'serve',
      '--store',
      `sqlite:${f.path('online.db')}`,
      '--port',
      '0',
      '--workers',
      '1',
      '--log-dir',
      f.path('log'),
      '--log-level',
      'warn',
    ]);
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
});
