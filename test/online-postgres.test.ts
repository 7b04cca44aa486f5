/**
 * Issue 9: many stateless responders over PostgreSQL. Three `rootca serve --store postgres://…`
 * processes on their own loopback ports follow one database: an import reaches every one of
 * them (LISTEN/NOTIFY; the poll interval is set to 60 s so only a notice explains a quick
 * switch), all answer `openssl ocsp` with the same bytes, a tampered or older publication
 * changes nothing anywhere, and losing one responder leaves the others answering.
 * Each test uses a database of its own (CREATE DATABASE rootca_test_<random>, dropped after) and
 * starts its own responders, so any one runs alone.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CaError } from '../src/errors.ts';
import { startServer } from '../src/server/app.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { PgOnlineStore } from '../src/server/pg-online-store.ts';
import { PG_ONLINE_MIGRATIONS } from '../src/store/online-postgres.ts';
import { REPO, waitFor } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import {
  createTestDatabase,
  freePort,
  healthz,
  startResponder,
  stopResponder,
  type ResponderProcess,
} from './online-postgres-fixtures.ts';

const SUB2 = '9b22c0de0002';
const REVOKED_AT = new Date('2026-01-02T03:04:05Z');

let f: OnlineFixture;
let files: { v1: string; v2: string; tampered: string };

const cli = (args: string[]) => runAsync(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args]);

/** `openssl ocsp` against one responder; returns its text output and the response bytes. */
async function ocsp(r: ResponderProcess, cert: string): Promise<{ text: string; der: Buffer }> {
  const c = f.cert(cert);
  const issuer = c.ca === 'rsaroot' ? f.rsa.pem : f.ec.pem;
  const out = f.path(`resp-${r.name}-${cert}-${Date.now()}-${randomBytes(4).toString('hex')}.der`);
  const res = await runAsync('openssl', [
    'ocsp',
    '-issuer',
    issuer,
    '-cert',
    c.pem,
    '-url',
    `${r.url}/ocsp`,
    '-CAfile',
    issuer,
    '-no_nonce',
    '-respout',
    out,
  ]);
  assert.equal(res.status, 0, `${r.name}: ${res.stderr}`);
  return { text: res.stdout + res.stderr, der: readFileSync(out) };
}

/** A test's own PostgreSQL database, the responders it started, and their access-log folders. */
interface Cluster {
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  responders: ResponderProcess[];
  logDir(name: string): string;
}

/** Imports a publication file through `rootca online import`; the first import names the roots to trust. */
async function importFile(c: Cluster, file: string, trust = false): Promise<void> {
  const imp = await cli([
    'online',
    'import',
    file,
    '--store',
    c.db.url,
    ...(trust ? ['--trust', f.rsa.pem, '--trust', f.ec.pem] : []),
  ]);
  assert.equal(imp.status, 0, imp.stderr);
}

/** Starts responders r1..r3 on their own ports, following the cluster's database. */
async function startThree(c: Cluster): Promise<void> {
  const ports = [await freePort(), await freePort(), await freePort()];
  c.responders.push(
    ...(await Promise.all(
      ports.map((port, i) =>
        startResponder({
          store: c.db.url,
          name: `r${i + 1}`,
          port,
          logDir: c.logDir(`r${i + 1}`),
          home: f.path('home'),
          extra: ['--poll-ms', '60000', '--heartbeat-ms', '1000'],
        }),
      ),
    )),
  );
}

/**
 * Runs `body` with a database of its own, holding the given versions imported (1, or 1 then 2)
 * and, when asked, three responders following it; stops them and drops the database after.
 */
async function withCluster(
  o: { imported: (1 | 2)[]; responders: boolean },
  body: (c: Cluster) => Promise<void>,
): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const c: Cluster = { db: await createTestDatabase(), responders: [], logDir: (name) => f.path(`log-${tag}-${name}`) };
  try {
    for (const [i, v] of o.imported.entries()) await importFile(c, v === 1 ? files.v1 : files.v2, i === 0);
    if (o.responders) await startThree(c);
    await body(c);
  } finally {
    await Promise.all(c.responders.map((r) => stopResponder(r)));
    await c.db.drop();
  }
}

before(async () => {
  f = new OnlineFixture();
  const v2 = await f.publication({ version: 2, revoked: { [SUB2]: { at: REVOKED_AT, reason: 'keyCompromise' } } });
  const file = JSON.parse(v2.toString()) as { signature: string };
  const sig = Buffer.from(file.signature, 'base64');
  sig[sig.length - 1] ^= 0x01;
  file.signature = sig.toString('base64');
  files = {
    v1: f.write('v1.json', await f.publication({ version: 1 })),
    v2: f.write('v2.json', v2),
    tampered: f.write('v2-tampered.json', JSON.stringify(file)),
  };
});

describe('PostgreSQL online store: schema', () => {
  it('five stores opening a fresh database at once apply each migration exactly once; a newer schema is refused', async () => {
    const fresh = await createTestDatabase();
    try {
      const stores = await Promise.all(
        [1, 2, 3, 4, 5].map((i) => PgOnlineStore.open(fresh.url, { responder: `m${i}` })),
      );
      assert.deepEqual(
        await stores[0]!.schemaVersions(),
        PG_ONLINE_MIGRATIONS.map((m) => m.version),
      );
      await Promise.all(stores.map((s) => s.close()));
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: fresh.url });
      await c.connect();
      await c.query(
        "INSERT INTO rootca_online_schema (version, description, applied_at) VALUES (99, 'from the future', now())",
      );
      await c.end();
      await assert.rejects(
        PgOnlineStore.open(fresh.url),
        (e: unknown) =>
          e instanceof CaError &&
          e.code === 'STORE_TOO_NEW' &&
          /schema version 99, newer than this rootca knows/.test(e.message),
      );
      await assert.rejects(
        PgOnlineStore.open('postgres://postgres@127.0.0.1:1/nothing'),
        (e: unknown) => e instanceof CaError && e.code === 'STORE_UNAVAILABLE',
      );
    } finally {
      await fresh.drop();
    }
  });
});

describe('three responders over one PostgreSQL database', { timeout: 360_000 }, () => {
  it('rootca online import writes version 1; three responders start on their own ports and answer identically', () =>
    withCluster({ imported: [], responders: false }, async (c) => {
      const imp = await cli([
        'online',
        'import',
        files.v1,
        '--store',
        c.db.url,
        '--trust',
        f.rsa.pem,
        '--trust',
        f.ec.pem,
      ]);
      assert.equal(imp.status, 0, imp.stderr);
      assert.match(imp.stdout, /^Imported publication version 1 of online-test/m);
      await startThree(c);
      const { responders } = c;
      const answers = await Promise.all(responders.map((r) => ocsp(r, 'sub2')));
      for (const [i, a] of answers.entries()) {
        assert.match(a.text, /Response verify OK/);
        assert.match(a.text, /sub2\.pem: good/);
        assert.ok(a.der.equals(answers[0]!.der), `responder r${i + 1} sends the same bytes as r1`);
      }
      const ec = await Promise.all(responders.map((r) => ocsp(r, 'ecsub')));
      for (const a of ec) assert.ok(a.der.equals(ec[0]!.der) && /ecsub\.pem: good/.test(a.text));
      for (const r of responders) {
        const h = await healthz(r.url);
        assert.equal(h.status, 'ready');
        assert.equal(h.version, 1);
        assert.equal(h.responder, r.name);
        assert.equal(h.store.notifications, 'listening');
      }
    }));

  it('a newer import with a revocation: all three say revoked within 5 s, each answer wholly from one version', () =>
    withCluster({ imported: [1], responders: true }, async (c) => {
      const { responders } = c;
      /** sub2's answer in version 1 (good), as every responder sends it. */
      const sub2Good = (await ocsp(responders[0]!, 'sub2')).der;
      // While the import happens, each responder is asked about sub2 again and again (one request
      // at a time per responder, so the order is the order of answers).
      const req = f.path('sub2.req');
      const mk = await runAsync('openssl', [
        'ocsp',
        '-issuer',
        f.rsa.pem,
        '-cert',
        f.cert('sub2').pem,
        '-no_nonce',
        '-reqout',
        req,
      ]);
      assert.equal(mk.status, 0, mk.stderr);
      const body = new Uint8Array(readFileSync(req));
      let asking = true;
      const seen = responders.map(() => [] as Buffer[]);
      const askers = responders.map(async (r, i) => {
        while (asking) {
          const res = await fetch(`${r.url}/ocsp`, {
            method: 'POST',
            headers: { 'content-type': 'application/ocsp-request' },
            body,
          });
          assert.equal(res.status, 200);
          seen[i]!.push(Buffer.from(await res.arrayBuffer()));
        }
      });
      const imp = await cli(['online', 'import', files.v2, '--store', c.db.url]);
      assert.equal(imp.status, 0, imp.stderr);
      const started = Date.now();
      await Promise.all(
        responders.map((r) =>
          waitFor(`${r.name} serves version 2`, async () => (await healthz(r.url)).version === 2, { timeoutMs: 5000 }),
        ),
      );
      const took = Date.now() - started;
      assert.ok(took < 5000, `all switched in ${took} ms`);
      // A few answers more from each responder after the switch, then stop asking.
      const counted = seen.map((l) => l.length);
      await waitFor('two more answers from each responder after the switch', () =>
        seen.every((l, i) => l.length >= counted[i]! + 2),
      );
      asking = false;
      await Promise.all(askers);
      const answers = await Promise.all(responders.map((r) => ocsp(r, 'sub2')));
      const sub2Revoked = answers[0]!.der;
      for (const [i, list] of seen.entries()) {
        // Every answer is the version-1 bytes or the version-2 bytes, and once a responder sent version 2 it never sends version 1 again.
        const kinds = list.map((b) => (b.equals(sub2Good) ? '1' : b.equals(sub2Revoked) ? '2' : '?')).join('');
        assert.match(
          kinds,
          /^1+2+$/,
          `responder r${i + 1}: ${kinds.length} answers, pattern ${kinds.replace(/(.)\1+/g, '$1…')}`,
        );
      }
      for (const a of answers) {
        assert.match(a.text, /Response verify OK/);
        assert.match(a.text, /sub2\.pem: revoked/);
        assert.match(a.text, /Reason: keyCompromise/);
        assert.match(a.text, /Revocation Time: Jan {2}2 03:04:05 2026 GMT/);
        assert.ok(a.der.equals(answers[0]!.der));
      }
    }));

  it('a tampered and an older publication are refused with clear messages and change nothing anywhere', () =>
    withCluster({ imported: [1, 2], responders: true }, async (c) => {
      const { db, responders } = c;
      const bad = await cli(['online', 'import', files.tampered, '--store', db.url]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /manifest signature .* does not verify .*\[PUBLICATION_INVALID\]/);
      const old = await cli(['online', 'import', files.v1, '--store', db.url]);
      assert.equal(old.status, 1);
      assert.match(old.stderr, /version 1 is not newer than the current 2 \[PUBLICATION_STALE\]/);
      // Each responder has been alive (a heartbeat) since the refusals, and still serves version 2.
      const refusedAt = new Date();
      await waitFor('a heartbeat from every responder after the refused imports', async () => {
        const st = JSON.parse((await cli(['online', 'status', '--store', db.url, '--json'])).stdout) as {
          responders: { name: string; seenAt: string }[];
        };
        return responders.every((r) => st.responders.some((x) => x.name === r.name && new Date(x.seenAt) > refusedAt));
      });
      for (const r of responders) {
        const h = await healthz(r.url);
        assert.equal(h.version, 2, `${r.name} still serves version 2`);
        assert.equal(h.status, 'ready', `${r.name}: ${h.problems.join('; ')}`);
        assert.match((await ocsp(r, 'sub2')).text, /sub2\.pem: revoked/);
      }
      const store = await PgOnlineStore.open(db.url);
      try {
        assert.equal(await store.latestVersion(), 2);
        const kinds = (await store.serverEvents())
          .filter((e) => e.kind.startsWith('import'))
          .map((e) => `${e.kind}:${(e.detail.code as string | undefined) ?? e.detail.version}`);
        assert.deepEqual(kinds, [
          'import:1',
          'import:2',
          'import-refused:PUBLICATION_INVALID',
          'import-refused:PUBLICATION_STALE',
        ]);
      } finally {
        await store.close();
      }
    }));

  it('rootca online status lists the three responders with their version and the last import; metrics are labelled per responder', () =>
    withCluster({ imported: [1, 2], responders: true }, async (c) => {
      const { db, responders } = c;
      // r2 has answered for the revoked sub2 once, so its metrics count a presigned revoked answer.
      await ocsp(responders[1]!, 'sub2');
      // Every responder's heartbeat carries version 2.
      const st = await waitFor('every responder reports version 2 ready in its heartbeat', async () => {
        const s = await cli(['online', 'status', '--store', db.url, '--json']);
        const j = JSON.parse(s.stdout) as { responders: { version: number; status: string }[] };
        return (
          j.responders.length === responders.length &&
          j.responders.every((r) => r.version === 2 && r.status === 'ready') &&
          s
        );
      });
      assert.equal(st.status, 0, st.stderr);
      const j = JSON.parse(st.stdout) as {
        lastImport: { version: number };
        responders: { name: string; version: number; status: string; url: string }[];
      };
      assert.equal(j.lastImport.version, 2);
      assert.deepEqual(
        j.responders.map((r) => `${r.name} v${r.version} ${r.status}`),
        ['r1 v2 ready', 'r2 v2 ready', 'r3 v2 ready'],
      );
      assert.deepEqual(
        j.responders.map((r) => r.url),
        responders.map((r) => r.url),
      );
      const text = await cli(['online', 'status', '--store', db.url]);
      assert.match(text.stdout, /^Last import {2}version 2 at /m);
      assert.match(text.stdout, /^Responders {3}3 seen in the last 30 s$/m);
      const metrics = await (await fetch(`${responders[1]!.url}/metrics`)).text();
      assert.match(metrics, /rootca_publication_version\{responder="r2"\} 2/);
      assert.match(
        metrics,
        /rootca_ocsp_responses_total\{cert_status="revoked",source="presigned",responder="r2"\} [1-9]/,
      );
      assert.match(metrics, /rootca_store_up\{responder="r2"\} 1/);
    }));

  it('one responder killed: the others keep answering; a stopped one has its access-log chain recorded centrally', () =>
    withCluster({ imported: [1, 2], responders: true }, async (c) => {
      const { db } = c;
      const [r1, r2, r3] = c.responders as [ResponderProcess, ResponderProcess, ResponderProcess];
      r3.child.kill('SIGKILL');
      await r3.exited;
      for (const r of [r1, r2]) assert.match((await ocsp(r, 'sub1')).text, /sub1\.pem: good/);
      await stopResponder(r1); // SIGTERM: closes its open access-log segment and records its digest
      assert.match((await ocsp(r2, 'sub2')).text, /sub2\.pem: revoked/);
      const st = JSON.parse((await cli(['online', 'status', '--store', db.url, '--json'])).stdout) as {
        responders: { name: string; status: string }[];
      };
      assert.equal(st.responders.find((r) => r.name === 'r1')?.status, 'stopped', 'a responder that shut down says so');
      assert.equal(st.responders.find((r) => r.name === 'r2')?.status, 'ready');
      const v = await cli([
        'online',
        'verify-log',
        '--store',
        db.url,
        '--responder',
        'r1',
        '--log-dir',
        c.logDir('r1'),
      ]);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /^OK: [1-9]\d* segment\(s\), [1-9]\d* request\(s\), chain intact$/m);
      const noName = await cli(['online', 'verify-log', '--store', db.url, '--log-dir', c.logDir('r1')]);
      assert.equal(noName.status, 2);
      assert.match(noName.stderr, /--responder NAME is needed with a PostgreSQL store/);
    }));
});

describe('rootca online status on the SQLite store', () => {
  it('lists the responder serving from the SQLite file (heartbeats are not a PostgreSQL-only feature)', async () => {
    const store = new SqliteOnlineStore(f.path('status.db'));
    store.importPublication(readFileSync(files.v1), [f.rsa.der, f.ec.der]);
    const server = await startServer({ store, port: 0, name: 'solo', heartbeatMs: 0 });
    try {
      const st = await cli(['online', 'status', '--store', `sqlite:${f.path('status.db')}`, '--json']);
      assert.equal(st.status, 0, st.stderr);
      const j = JSON.parse(st.stdout) as {
        lastImport: { version: number };
        responders: { name: string; version: number; status: string; url: string; pid: number }[];
      };
      assert.equal(j.lastImport.version, 1);
      assert.deepEqual(
        j.responders.map((r) => [r.name, r.version, r.status, r.url, r.pid]),
        [['solo', 1, 'ready', server.httpUrl, process.pid]],
      );
    } finally {
      await server.close();
      store.close();
    }
  });
});
