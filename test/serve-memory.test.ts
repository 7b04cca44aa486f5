/**
 * The memory settings of `rootca serve` processes (issue 17 item 4: a responder process idle
 * under 80 MB, flat under load): the young generation kept at its initial size, the old
 * generation's growth between full collections bounded, the operator's own flags winning.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { workerEnv, workerExecArgv } from '../src/server/cluster.ts';
import { keepOldGenerationTight, keepYoungGenerationSmall } from '../src/server/heap-settings.ts';
import { REPO } from './helpers.ts';
import { OnlineFixture } from './online-fixtures.ts';

/** The young generation's size (MiB) before and after a child allocated 2 M live objects, with or without keepYoungGenerationSmall. */
function youngGenerationAfterAllocating(keepSmall: boolean): { before: number; after: number } {
  const module = JSON.stringify(join(REPO, 'src', 'server', 'heap-settings.ts'));
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8');
    const { keepYoungGenerationSmall } = await import(${module});
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    if (${keepSmall}) keepYoungGenerationSmall([], '');
    const before = young();
    const kept = [];
    for (let i = 0; i < 2e6; i++) kept.push({ i });
    process.stdout.write(before + ' ' + young() + ' ' + kept.length);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  const [before, after, kept] = r.stdout.trim().split(' ').map(Number);
  assert.equal(kept, 2e6);
  return { before: before!, after: after! };
}

/**
 * The old space's largest size (MiB) while a child with 300 k live objects churns 6 M short-lived
 * ones, some living long enough to be promoted (a worker's requests under load, exaggerated),
 * with or without keepOldGenerationTight.
 */
function oldGenerationUnderChurn(tight: boolean): number {
  const module = JSON.stringify(join(REPO, 'src', 'server', 'heap-settings.ts'));
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8');
    const { keepOldGenerationTight } = await import(${module});
    if (${tight}) keepOldGenerationTight([], '');
    const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size / 1048576;
    const live = [];
    for (let i = 0; i < 3e5; i++) live.push({ i, s: 'x' + i });
    const ring = new Array(20000);
    let max = 0;
    for (let i = 0; i < 6e6; i++) {
      ring[i % ring.length] = { i, a: [i, i + 1, i + 2] };
      if (i % 10000 === 0) max = Math.max(max, old());
    }
    process.stdout.write(max + ' ' + live.length);`;
  const r = spawnSync(
    process.execPath,
    ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const [max, live] = r.stdout.trim().split(' ').map(Number);
  assert.equal(live, 3e5);
  return max!;
}

describe('serve processes keep their young generation small', () => {
  it('the young generation keeps its size under start-up-like allocation (else V8 grows it to 16 MiB or more)', () => {
    const grown = youngGenerationAfterAllocating(false);
    const kept = youngGenerationAfterAllocating(true);
    assert.ok(grown.after >= 16, `without it V8 grows the young generation: ${JSON.stringify(grown)} MiB`);
    assert.ok(kept.before <= 4, `small when called: ${kept.before} MiB`);
    assert.equal(kept.after, kept.before, 'with it the young generation does not grow');
  });

  it("an operator's --max-semi-space-size or --semi-space-growth-factor wins", () => {
    assert.equal(keepYoungGenerationSmall(['--max-semi-space-size=64'], ''), false);
    assert.equal(keepYoungGenerationSmall([], '--semi-space-growth-factor=4'), false);
    assert.equal(keepYoungGenerationSmall([], '--max-old-space-size=512 --max-semi-space-size=8'), false);
  });
});

describe('serve processes keep their old generation within 1.5x of what survives', () => {
  it('the old space stays near what is live under churn (else V8 lets it grow to about 3x)', () => {
    const grown = oldGenerationUnderChurn(false);
    const tight = oldGenerationUnderChurn(true);
    // Measured: 107-108 MiB without, 34-36 MiB with (about 24 MiB live).
    assert.ok(grown >= 70, `without it V8 lets the old space grow: ${grown} MiB`);
    assert.ok(tight <= 50, `with it the old space stays near the live data: ${tight} MiB`);
  });

  it("an operator's --heap-growing-percent wins", () => {
    assert.equal(keepOldGenerationTight(['--heap-growing-percent=100'], ''), false);
    assert.equal(keepOldGenerationTight([], '--max-old-space-size=512 --heap-growing-percent=30'), false);
  });
});

describe('cluster workers start with small-memory V8 flags and malloc settings', () => {
  it('a 1 MiB semi-space, 2 V8 threads and the old generation kept tight, after the primary flags, unless the operator gave them', () => {
    assert.deepEqual(workerExecArgv(['--enable-source-maps']), [
      '--enable-source-maps',
      '--max-semi-space-size=1',
      '--v8-pool-size=2',
      '--heap-growing-percent=50',
    ]);
    assert.deepEqual(workerExecArgv(['--max-semi-space-size=16']), [
      '--max-semi-space-size=16',
      '--v8-pool-size=2',
      '--heap-growing-percent=50',
    ]);
    assert.deepEqual(workerExecArgv([], '--v8-pool-size=8 --heap-growing-percent=100'), ['--max-semi-space-size=1']);
  });

  it("two malloc arenas and glibc's initial 128 KiB mmap and trim thresholds held fixed, unless set", () => {
    assert.deepEqual(workerEnv({}), {
      MALLOC_ARENA_MAX: '2',
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_TRIM_THRESHOLD_: '131072',
    });
    assert.deepEqual(workerEnv({ MALLOC_ARENA_MAX: '4', MALLOC_TRIM_THRESHOLD_: '0' }), {
      MALLOC_ARENA_MAX: '4',
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_TRIM_THRESHOLD_: '0',
    });
  });
});

/** This environment without NODE_OPTIONS and MALLOC_ settings (the operator's would win). */
function withoutMallocSettings(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('MALLOC_')),
  );
}

/** The command line and MALLOC_ variables of each worker of a running `rootca serve --workers 2` (the built CLI). */
async function workersOfServe(db: string): Promise<{ argv: string[]; malloc: string[] }[]> {
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin', 'rootca.mjs'), 'serve', '--store', `sqlite:${db}`, '--port', '0', '--workers', '2'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: withoutMallocSettings() },
  );
  const exited = new Promise((r) => child.once('exit', r));
  child.stderr.resume();
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rootca serve did not start in 60 s: ${out}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Serving publication')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`rootca serve exited (${code}): ${out}`)));
    });
    // node:cluster workers are the primary's children.
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
    return children.map((pid) => ({
      argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
      malloc: readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter((v) => v.startsWith('MALLOC_'))
        .sort(),
    }));
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

describe('rootca serve --workers 2', () => {
  it('starts each worker with those flags and that malloc environment', async () => {
    const f = new OnlineFixture();
    try {
      const db = f.path('online.db');
      const store = new SqliteOnlineStore(db);
      store.importPublication(await f.publication({ version: 1 }), [f.rsa.der, f.ec.der]);
      store.close();
      const workers = await workersOfServe(db);
      assert.equal(workers.length, 2, JSON.stringify(workers));
      for (const w of workers) {
        assert.ok(w.argv.includes('--max-semi-space-size=1'), w.argv.join(' '));
        assert.ok(w.argv.includes('--v8-pool-size=2'), w.argv.join(' '));
        assert.ok(w.argv.includes('--heap-growing-percent=50'), w.argv.join(' '));
        assert.deepEqual(w.malloc, [
          'MALLOC_ARENA_MAX=2',
          'MALLOC_MMAP_THRESHOLD_=131072',
          'MALLOC_TRIM_THRESHOLD_=131072',
        ]);
      }
    } finally {
      rmSync(f.dir, { recursive: true, force: true });
    }
  });
});
