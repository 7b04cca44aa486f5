/**
 * Issue 9: responders keep answering while PostgreSQL is down. The machine's PostgreSQL is
 * shared with other tests, so this test runs a PostgreSQL of its own (initdb + pg_ctl on a free
 * loopback port) and stops it with `pg_ctl stop -m fast` while OCSP requests stream to two
 * responders: not one request may fail. /healthz says degraded (still serving the version in
 * memory) while the database is away; once it is back, the responders reconnect and pick up
 * the next import.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, waitFor } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import pgClient from 'pg';
import { PgOnlineStore } from '../src/server/pg-online-store.ts';
import {
  freePort,
  healthz as healthzOf,
  PrivatePostgres,
  startResponder,
  stopResponder,
  withDatabase,
  type ResponderProcess,
} from './online-postgres-fixtures.ts';

let f: OnlineFixture;
let pg: PrivatePostgres | undefined;
let url: string;
const responders: ResponderProcess[] = [];

/** /healthz of a responder; if it does not answer, says why (its exit code and stderr). */
async function health(r: ResponderProcess): Promise<Awaited<ReturnType<typeof healthzOf>>> {
  try {
    return await healthzOf(r.url);
  } catch (e) {
    throw new Error(
      `${r.name} does not answer /healthz (${(e as Error).message}); exit ${r.child.exitCode ?? r.child.signalCode}; stderr:\n${r.stderr()}`,
    );
  }
}

const cli = (args: string[]) => runAsync(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args]);

/** Sends the same OCSP POST to the responders in turn, `concurrency` at a time, until stopped. */
function load(request: Buffer, expected: Buffer, concurrency: number) {
  let running = true;
  const stats = { ok: 0, failed: 0, errors: [] as string[] };
  const worker = async (n: number) => {
    for (let i = n; running; i++) {
      const r = responders[i % responders.length]!;
      try {
        const res = await fetch(`${r.url}/ocsp`, {
          method: 'POST',
          headers: { 'content-type': 'application/ocsp-request' },
          body: new Uint8Array(request),
        });
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status === 200 && body.equals(expected)) stats.ok++;
        else {
          stats.failed++;
          stats.errors.push(`${r.name}: HTTP ${res.status}, ${body.length} bytes`);
        }
      } catch (e) {
        stats.failed++;
        stats.errors.push(`${r.name}: ${(e as Error).message}`);
      }
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, (_, n) => worker(n)));
  return {
    stats,
    stop: async () => {
      running = false;
      await done;
      return stats;
    },
  };
}

/** CREATE DATABASE `name` on the private PostgreSQL; its URL. */
async function createDatabase(name: string): Promise<string> {
  const c = new pgClient.Client({ connectionString: pg!.url });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return withDatabase(pg!.url, name);
}

before(async () => {
  f = new OnlineFixture();
  pg = await PrivatePostgres.create();
  url = await createDatabase('rootca');
});

after(async () => {
  await Promise.all(responders.map((r) => stopResponder(r)));
  await pg?.destroy();
});

describe('PostgreSQL stopped under load', { timeout: 360_000 }, () => {
  it('a store busy with queries survives PostgreSQL restarts (a dropped checked-out connection does not end the process)', async () => {
    const store = await PgOnlineStore.open(await createDatabase('busy'));
    let running = true;
    const counts = { ok: 0, failed: 0 };
    const loops = Array.from({ length: 8 }, async (_, i) => {
      while (running) {
        try {
          if (i % 2) await store.latestVersion();
          else
            await store.heartbeat({
              name: 'busy',
              pid: i,
              host: 'h',
              status: 'ready',
              problems: [],
              startedAt: new Date(),
            });
          counts.ok++;
        } catch {
          counts.failed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    for (let round = 0; round < 2; round++) {
      const ok = counts.ok;
      await waitFor(`queries succeed before stop ${round + 1}`, () => counts.ok > ok + 10);
      const failed = counts.failed;
      await pg!.stop();
      await waitFor(`queries fail while PostgreSQL is stopped (${round + 1})`, () => counts.failed > failed);
      await pg!.start();
    }
    const before = counts.ok;
    await waitFor('queries succeed again', async () => counts.ok > before + 10, { timeoutMs: 5000 });
    running = false;
    await Promise.all(loops);
    await store.close();
    assert.ok(counts.failed > 0, 'queries did fail while PostgreSQL was down');
  });

  it('zero failed OCSP requests while PostgreSQL is down; degraded, then ready; the next import is picked up after it is back', async () => {
    const imp = await cli([
      'online',
      'import',
      f.write('v1.json', await f.publication({ version: 1 })),
      '--store',
      url,
      '--trust',
      f.rsa.pem,
      '--trust',
      f.ec.pem,
    ]);
    assert.equal(imp.status, 0, imp.stderr);
    for (const i of [1, 2]) {
      responders.push(
        await startResponder({
          store: url,
          name: `o${i}`,
          port: await freePort(),
          logDir: f.path(`log-o${i}`),
          home: f.path('home'),
          extra: ['--poll-ms', '500', '--heartbeat-ms', '1000'],
        }),
      );
    }
    // The request and the answer every responder must keep giving (pre-signed bytes of version 1).
    const req = f.path('sub2.req');
    const first = await runAsync('openssl', [
      'ocsp',
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub2').pem,
      '-no_nonce',
      '-reqout',
      req,
      '-url',
      `${responders[0]!.url}/ocsp`,
      '-CAfile',
      f.rsa.pem,
      '-respout',
      f.path('sub2.resp'),
    ]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /sub2\.pem: good/);

    const l = load(readFileSync(req), readFileSync(f.path('sub2.resp')), 4);
    await waitFor('the load is answered before PostgreSQL stops', () => l.stats.ok >= 20);
    await pg!.stop();
    for (const r of responders) {
      await waitFor(
        `${r.name} notices the database is gone`,
        async () => {
          const h = await health(r);
          return h.status === 'degraded' && h.version === 1 && !h.store.reachable;
        },
        { timeoutMs: 10_000 },
      );
    }
    const h = await health(responders[0]!);
    assert.match(
      h.problems.join('\n'),
      /the online store postgres:\/\/postgres@127\.0\.0\.1:\d+\/rootca is unreachable since .*; serving version 1 from memory/,
    );
    // An import while the database is away is refused with a clear message (and changes nothing).
    const away = await cli([
      'online',
      'import',
      f.write('v2-early.json', await f.publication({ version: 2 })),
      '--store',
      url,
    ]);
    assert.equal(away.status, 1);
    assert.match(
      away.stderr,
      /the online store postgres:\/\/postgres@127\.0\.0\.1:\d+\/rootca cannot be reached: .*\[STORE_UNAVAILABLE\]/,
    );
    const answeredAway = l.stats.ok;
    await waitFor('50 more answers with the database away', () => l.stats.ok >= answeredAway + 50);
    const during = l.stats.ok;
    await pg!.start();
    for (const r of responders)
      await waitFor(`${r.name} reconnects`, async () => (await health(r)).status === 'ready', { timeoutMs: 15_000 });
    const stats = await l.stop();
    assert.equal(stats.failed, 0, stats.errors.slice(0, 5).join('\n'));
    assert.ok(during > 50, `requests answered while the load ran: ${during}`);

    const v2 = f.write(
      'v2.json',
      await f.publication({
        version: 2,
        revoked: { '9b22c0de0002': { at: new Date('2026-03-04T05:06:07Z'), reason: 'superseded' } },
      }),
    );
    const imp2 = await cli(['online', 'import', v2, '--store', url]);
    assert.equal(imp2.status, 0, imp2.stderr);
    for (const r of responders) {
      await waitFor(`${r.name} serves version 2`, async () => (await health(r)).version === 2, { timeoutMs: 5000 });
      const o = await runAsync('openssl', [
        'ocsp',
        '-issuer',
        f.rsa.pem,
        '-cert',
        f.cert('sub2').pem,
        '-no_nonce',
        '-url',
        `${r.url}/ocsp`,
        '-CAfile',
        f.rsa.pem,
      ]);
      assert.match(o.stdout, /sub2\.pem: revoked/, o.stderr);
      assert.match(o.stderr, /Response verify OK/);
    }
    const metrics = await (await fetch(`${responders[0]!.url}/metrics`)).text();
    assert.match(metrics, /rootca_store_errors_total\{responder="o1"\} [1-9]/);
    assert.match(metrics, /rootca_store_up\{responder="o1"\} 1/);
  });

  it('SIGTERM while PostgreSQL is down: the responder stops at once (exit 0); its last access-log segment is kept and recorded at the next start', async () => {
    const db = await createDatabase('sigterm');
    const imp = await cli([
      'online',
      'import',
      f.write('v1-sigterm.json', await f.publication({ version: 1 })),
      '--store',
      db,
      '--trust',
      f.rsa.pem,
      '--trust',
      f.ec.pem,
    ]);
    assert.equal(imp.status, 0, imp.stderr);
    const start = async () =>
      startResponder({
        store: db,
        name: 'term',
        port: await freePort(),
        logDir: f.path('log-term'),
        home: f.path('home'),
        extra: ['--poll-ms', '500', '--heartbeat-ms', '1000'],
      });
    let r = await start();
    let kept: string | undefined;
    try {
      const o = await runAsync('openssl', [
        'ocsp',
        '-issuer',
        f.rsa.pem,
        '-cert',
        f.cert('sub1').pem,
        '-no_nonce',
        '-url',
        `${r.url}/ocsp`,
        '-CAfile',
        f.rsa.pem,
      ]);
      assert.match(o.stdout, /sub1\.pem: good/, o.stderr);
      await pg!.stop();
      await waitFor('the responder notices the database is gone', async () => !(await health(r)).store.reachable, {
        timeoutMs: 10_000,
      });
      const signalled = performance.now();
      r.child.kill('SIGTERM');
      const code = await r.exited;
      const took = performance.now() - signalled;
      assert.equal(code, 0, r.stderr());
      assert.ok(took < 5000, `stopped ${Math.round(took)} ms after SIGTERM (it waited for the database before)`);
      kept = /segment (ocsp-\S+\.log\.gz) is kept on disk and recorded at the next start/.exec(r.stderr())?.[1];
      assert.ok(kept, `the kept segment is named:\n${r.stderr()}`);
      assert.match(r.stderr(), /the stop event is not recorded: the online store is unreachable/);
    } finally {
      await stopResponder(r);
      if (!pg!.isRunning()) await pg!.start();
    }
    // Back with its database: the next start records the kept segment, and the chain checks out.
    r = await start();
    const store = await PgOnlineStore.open(db);
    try {
      await waitFor(
        `${kept} recorded in the chain by the next start`,
        async () => (await store.accessLogSegments('term')).some((x) => x.name === kept),
        { timeoutMs: 30_000 },
      );
    } finally {
      await store.close();
      await stopResponder(r);
    }
    const v = await cli([
      'online',
      'verify-log',
      '--store',
      db,
      '--responder',
      'term',
      '--log-dir',
      f.path('log-term'),
    ]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^OK: [1-9]\d* segment\(s\), [1-9]\d* request\(s\), chain intact$/m);
  });
});
