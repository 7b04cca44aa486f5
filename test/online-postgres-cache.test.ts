/**
 * Issue 9, CPS 2.1 (Repository 24x7): a responder that (re)starts while PostgreSQL is
 * unreachable serves the local copy of the last publication it verified and switched to
 * (`<log-dir>/last-publication/publication.json`), after verifying it again, reports degraded,
 * and follows the store once it is back. A tampered copy is refused and the responder does not
 * start. A store that holds only older versions than the copy is not followed backwards.
 * Runs a PostgreSQL of its own (initdb + pg_ctl), since it stops it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pgClient from 'pg';
import { REPO, storyTests, waitFor } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import {
  freePort,
  healthz,
  PrivatePostgres,
  startResponder,
  stopResponder,
  withDatabase,
  type ResponderProcess,
} from './online-postgres-fixtures.ts';

let f: OnlineFixture;
let pg: PrivatePostgres | undefined;
let url: string;
let port: number;
let running: ResponderProcess | undefined;

const cli = (args: string[]) => runAsync(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args]);
const logDir = () => f.path('log-r1');
const copyFile = () => join(logDir(), 'last-publication', 'publication.json');
const serveArgs = (store: string) => [
  'serve',
  '--store',
  store,
  '--name',
  'r1',
  '--port',
  String(port),
  '--workers',
  '1',
  '--log-dir',
  logDir(),
  '--log-level',
  'warn',
  '--poll-ms',
  '500',
  '--heartbeat-ms',
  '1000',
];

async function start(store = url, workers = 1): Promise<ResponderProcess> {
  running = await startResponder({
    store,
    name: 'r1',
    port,
    logDir: logDir(),
    home: f.path('home'),
    extra: ['--poll-ms', '500', '--heartbeat-ms', '1000', '--workers', String(workers)],
  });
  return running;
}

async function createDatabase(name: string): Promise<string> {
  const c = new pgClient.Client({ connectionString: pg!.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  return withDatabase(pg!.url, name);
}

/** `openssl ocsp` for sub2 against the responder, verified against the RSA root. */
async function ocspSub2(r: ResponderProcess): Promise<string> {
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
  assert.equal(o.status, 0, o.stderr);
  assert.match(o.stderr, /Response verify OK/);
  return o.stdout;
}

const copyVersion = () =>
  existsSync(copyFile()) ? (JSON.parse(readFileSync(copyFile(), 'utf8')) as { version: number }).version : undefined;

before(async () => {
  f = new OnlineFixture();
  pg = await PrivatePostgres.create();
  url = await createDatabase('rootca');
  port = await freePort();
});

after(async () => {
  if (running) await stopResponder(running);
  await pg?.destroy();
});

describe('a responder started while PostgreSQL is unreachable', { timeout: 300_000 }, () => {
  /** One responder's local copy: each test builds on the ones before it (storyTests runs them first when alone). */
  const story = storyTests();

  story('serves its verified local copy (degraded), then follows the store once it is back', async () => {
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
    let r = await start();
    await waitFor('the local copy of version 1 is written', async () => copyVersion() === 1, { timeoutMs: 5000 });
    assert.match(await ocspSub2(r), /sub2\.pem: good/);
    await stopResponder(r);

    await pg!.stop();
    // Two workers (node:cluster, as in production): each verifies the copy and follows the store on its own.
    r = await start(url, 2);
    assert.match(
      r.stdout(),
      /Serving publication version 1 from the local copy in .*last-publication \(the online store postgres:\/\/postgres@127\.0\.0\.1:\d+\/rootca cannot be reached: .*; following the store once it can\) as responder r1 with 2 worker\(s\)/,
    );
    for (let i = 0; i < 4; i++) assert.match(await ocspSub2(r), /sub2\.pem: good/);
    const h = await healthz(r.url);
    assert.equal(h.status, 'degraded');
    assert.equal(h.version, 1);
    assert.equal(h.store.reachable, false);
    assert.match(
      h.problems.join('\n'),
      /the online store postgres:\/\/postgres@127\.0\.0\.1:\d+\/rootca is unreachable since .*; serving version 1 from the local copy/,
    );
    const page = await fetch(`${r.url}/`);
    assert.equal(page.status, 200);

    await pg!.start();
    await waitFor('ready again once PostgreSQL is back', async () => (await healthz(r.url)).status === 'ready', {
      timeoutMs: 15_000,
    });
    const v2 = f.write(
      'v2.json',
      await f.publication({
        version: 2,
        revoked: { '9b22c0de0002': { at: new Date('2026-03-04T05:06:07Z'), reason: 'superseded' } },
      }),
    );
    const imp2 = await cli(['online', 'import', v2, '--store', url]);
    assert.equal(imp2.status, 0, imp2.stderr);
    await waitFor('version 2 is served', async () => (await healthz(r.url)).version === 2, { timeoutMs: 10_000 });
    // Either worker may answer: both must have switched.
    await waitFor(
      'every worker serves version 2',
      async () =>
        (await Promise.all([1, 2, 3, 4].map(() => healthz(r.url)))).every(
          (x) => x.version === 2 && x.status === 'ready',
        ),
      { timeoutMs: 10_000 },
    );
    for (let i = 0; i < 4; i++) assert.match(await ocspSub2(r), /sub2\.pem: revoked/);
    await waitFor('the local copy follows to version 2', async () => copyVersion() === 2, { timeoutMs: 5000 });
    const events = await runAsync(process.execPath, [
      join(REPO, 'bin', 'rootca.mjs'),
      'online',
      'status',
      '--store',
      url,
      '--json',
    ]);
    assert.match(events.stdout, /"name": ?"r1"/);
    await stopResponder(r);
    running = undefined;
  });

  story('a store that holds only older versions than the copy is not followed backwards', async () => {
    // E.g. a database restored from an old backup: going back could show a revoked certificate as good.
    const empty = await createDatabase('restored');
    const imp = await cli([
      'online',
      'import',
      f.path('v1.json'),
      '--store',
      empty,
      '--trust',
      f.rsa.pem,
      '--trust',
      f.ec.pem,
    ]);
    assert.equal(imp.status, 0, imp.stderr);
    const r = await start(empty);
    assert.match(
      r.stdout(),
      /Serving publication version 2 from the local copy .*the online store holds only older versions/,
    );
    assert.match(await ocspSub2(r), /sub2\.pem: revoked/);
    const h = await healthz(r.url);
    assert.equal(h.status, 'degraded');
    assert.equal(h.version, 2);
    assert.match(
      h.problems.join('\n'),
      /the online store postgres:\/\/.*\/restored holds version 1 only, older than version 2 served from the local copy; not going back: import version 2 or a newer one/,
    );
    assert.equal(copyVersion(), 2, 'the copy is not overwritten with the older version');
    await stopResponder(r);
    running = undefined;
  });

  story('a tampered local copy is refused and the responder does not start', async () => {
    await pg!.stop();
    const good = readFileSync(copyFile(), 'utf8');
    const copy = JSON.parse(good) as { sha256: string; publication: string };
    // Claim a higher version in the signed manifest (and fix the recorded digest, as a tamperer would).
    const pub = JSON.parse(Buffer.from(copy.publication, 'base64').toString('utf8')) as { manifest: string };
    assert.match(pub.manifest, /"version":2/);
    pub.manifest = pub.manifest.replace('"version":2', '"version":9');
    const bytes = Buffer.from(JSON.stringify(pub));
    writeFileSync(
      copyFile(),
      JSON.stringify({
        ...copy,
        version: 9,
        publication: bytes.toString('base64'),
        sha256: createHash('sha256').update(bytes).digest('hex'),
      }),
    );
    const r = await cli(serveArgs(url));
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      /the local copy of the publication .*last-publication\/publication\.json \(version 9\) fails verification: publication refused: .*; it is not served, and the online store postgres:\/\/.*\/rootca cannot be reached: .*: nothing to serve \[PUBLICATION_CACHE_INVALID\]/,
    );

    // A damaged file (bytes changed, digest not) is refused as well.
    writeFileSync(
      copyFile(),
      good.replace(/"publication":"(.)/, (_m, c: string) => `"publication":"${c === 'A' ? 'B' : 'A'}`),
    );
    const d = await cli(serveArgs(url));
    assert.equal(d.status, 1, d.stdout);
    assert.match(
      d.stderr,
      /\(version 2\) is damaged: its SHA-256 does not match the one recorded; it is not served, .*cannot be reached.*\[PUBLICATION_CACHE_INVALID\]/,
    );
    await pg!.start();
  });
});
