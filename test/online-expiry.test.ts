/**
 * Issue 16 item 3: the online side never serves an expired answer and warns in time. The
 * servers' clock is driven past each margin and each expiry — the pre-signed OCSP responses'
 * nextUpdate, the live delegated responder's notAfter, the CRL's nextUpdate — and /healthz,
 * /metrics and the OCSP answers are read at each moment: `openssl ocsp` sees the pre-signed
 * answer up to its nextUpdate, then "Responder Error: trylater (3)" without a live responder
 * (fast path and fastify route, GET and POST, HTTP and HTTPS, SQLite and PostgreSQL), or a
 * fresh answer signed live that it verifies.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fixedClock } from '../src/clock.ts';
import { parseOcspResponse } from '../src/pki/ocsp.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { fastPathTotals } from '../src/server/fast-path.ts';
import { SqliteOnlineStore, type ServingStore } from '../src/server/online-store.ts';
import { PgOnlineStore } from '../src/server/pg-online-store.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import { createTestDatabase } from './online-postgres-fixtures.ts';

const DAY = 86_400_000;
const MARGIN_S = 7 * 86_400;
const MARGIN = MARGIN_S * 1000;
const TRYLATER = /Responder Error: trylater \(3\)/;

let f: OnlineFixture;
let store: SqliteOnlineStore;
const clock = fixedClock(new Date());
let plain: RunningServer; // pre-signed responses only
let live: RunningServer; // a delegated responder for rsaroot, and HTTPS
let ocspNext: number; // the pre-signed responses' nextUpdate (ms)
let crlNext: number; // the CRLs' nextUpdate (ms)
let responderEnd: number; // the responder certificate's notAfter (ms)

async function openssl(args: string[]): Promise<string> {
  const r = await runAsync('openssl', args, { cwd: f.dir });
  return r.stdout + r.stderr;
}

/** `openssl ocsp` POSTing for `cert` of `root` to `url`, verifying against the root. */
function ocspPost(url: string, root: 'rsa' | 'ec', cert: string, extra: string[] = []): Promise<string> {
  const issuer = f[root].pem;
  return openssl(['ocsp', '-issuer', issuer, '-cert', f.cert(cert).pem, '-url', url, '-CAfile', issuer, ...extra]);
}

/** The DER request for `cert` (no nonce), written by openssl. */
async function requestFile(root: 'rsa' | 'ec', cert: string): Promise<string> {
  const out = `${cert}.req`;
  await openssl(['ocsp', '-issuer', f[root].pem, '-cert', f.cert(cert).pem, '-no_nonce', '-reqout', out]);
  return out;
}

/** curl sends the request (GET in the URL or POST), openssl reads the answer it saved. */
async function curlOcsp(url: string, root: 'rsa' | 'ec', cert: string, curlArgs: string[]): Promise<string> {
  const resp = `${cert}-${Math.random().toString(36).slice(2)}.resp`;
  const r = await runAsync('curl', ['-sS', '-k', '-o', resp, ...curlArgs, url], { cwd: f.dir });
  assert.equal(r.status, 0, r.stderr);
  const issuer = f[root].pem;
  return openssl(['ocsp', '-respin', resp, '-issuer', issuer, '-cert', f.cert(cert).pem, '-CAfile', issuer]);
}

async function getOcsp(server: string, root: 'rsa' | 'ec', cert: string, headers: string[] = []): Promise<string> {
  const der = readFileSync(f.path(await requestFile(root, cert)));
  return curlOcsp(`${server}/ocsp/${encodeURIComponent(der.toString('base64'))}`, root, cert, headers);
}

async function health(s: RunningServer<ServingStore>): Promise<{ status: string; problems: string[] }> {
  return (await (await fetch(`${s.httpUrl}/healthz`)).json()) as { status: string; problems: string[] };
}

/** One sample of /metrics (undefined: not exported) whose labels include `labels` (as Prometheus prints them). */
async function metric(s: RunningServer<ServingStore>, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
  const wanted = labels ? labels.split(/,(?=\w+=")/) : [];
  const line = text.split('\n').find((l) => {
    const m = /^(\w+)(?:\{(.*)\})? /.exec(l);
    const have = m?.[2]?.split(/,(?=\w+=")/) ?? [];
    return m?.[1] === name && wanted.every((w) => have.includes(w));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const problemsMatching = async (s: RunningServer<ServingStore>, re: RegExp) =>
  (await health(s)).problems.filter((p) => re.test(p));

before(async () => {
  f = new OnlineFixture();
  clock.set(new Date()); // after the fixture: its certificates start now
  store = new SqliteOnlineStore(f.path('online.db'));
  store.importPublication(await f.publication({ version: 1, ocspValidityMs: 20 * DAY }), [f.rsa.der, f.ec.der]);
  const responders = [
    {
      certificate: readFileSync(f.responder.cert),
      key: readFileSync(f.responder.key),
      passphrase: f.responder.passphrase,
    },
  ];
  const tls = { ...f.tlsCertificate(), port: 0 };
  const common = { store, port: 0, pollMs: 60_000, clock, statusMarginSeconds: MARGIN_S };
  plain = await startServer(common);
  live = await startServer({ ...common, responders, tls });
  const pub = plain.current()!.publication;
  ocspNext = [...pub.index.values()][0]!.nextUpdate.getTime();
  crlNext = pub.crls.get('rsaroot')!.parsed.nextUpdate!.getTime();
  responderEnd = f.responder.info.notAfter.getTime();
});

after(async () => {
  await plain?.close();
  await live?.close();
  store?.close();
});

describe('pre-signed OCSP responses: degraded at the margin, tryLater past nextUpdate without a live responder', () => {
  it('before the margin: ready, the pre-signed answer, and the seconds left in /metrics', async () => {
    assert.deepEqual(await health(plain).then((h) => [h.status, h.problems]), ['ready', []]);
    clock.set(new Date(ocspNext - MARGIN - 1000));
    assert.equal((await health(plain)).status, 'ready');
    assert.deepEqual((await health(live)).problems, []);
    assert.equal(await metric(plain, 'rootca_ocsp_next_update_remaining_seconds', 'issuer="rsaroot"'), MARGIN_S + 1);
    assert.equal(await metric(plain, 'rootca_ocsp_next_update_remaining_seconds', 'issuer="ecroot"'), MARGIN_S + 1);
    assert.equal(await metric(plain, 'rootca_status_margin_seconds'), MARGIN_S);
    const out = await ocspPost(`${plain.httpUrl}/ocsp`, 'rsa', 'sub1', ['-no_nonce']);
    assert.match(out, /Response verify OK/);
    assert.match(out, /sub1\.pem: good/);
  });

  it('at the margin: degraded, naming each issuer; the pre-signed answer is still served', async () => {
    clock.set(new Date(ocspNext - MARGIN));
    const h = await health(plain);
    assert.equal(h.status, 'degraded');
    const when = new Date(ocspNext).toISOString();
    assert.deepEqual(h.problems, [
      `6 pre-signed OCSP response(s) of rsaroot reach their nextUpdate within the status margin (7d) (earliest ${when})`,
      `2 pre-signed OCSP response(s) of ecroot reach their nextUpdate within the status margin (7d) (earliest ${when})`,
    ]);
    assert.equal(await metric(plain, 'rootca_ocsp_next_update_remaining_seconds', 'issuer="ecroot"'), MARGIN_S);
    const out = await ocspPost(`${plain.httpUrl}/ocsp`, 'ec', 'ecsub', ['-no_nonce']);
    assert.match(out, /Response verify OK/);
    assert.match(out, /ecsub\.pem: good/);
  });

  it('at nextUpdate still the pre-signed answer; one second later tryLater by every door, counted; no-store', async () => {
    clock.set(new Date(ocspNext));
    assert.match(await ocspPost(`${plain.httpUrl}/ocsp`, 'rsa', 'sub1', ['-no_nonce']), /sub1\.pem: good/);
    clock.set(new Date(ocspNext + 1000));
    const fast = fastPathTotals.answered;
    assert.match(await ocspPost(`${plain.httpUrl}/ocsp`, 'rsa', 'sub1', ['-no_nonce']), TRYLATER, 'POST, fast path');
    assert.match(await getOcsp(plain.httpUrl, 'rsa', 'sub1'), TRYLATER, 'GET, fast path');
    assert.equal(fastPathTotals.answered - fast, 2, 'both answered by the fast path');
    const route = fastPathTotals.answered;
    // If-None-Match sends the GET to the fastify route (the fast path leaves conditional requests to it).
    assert.match(await getOcsp(plain.httpUrl, 'ec', 'ecsub', ['-H', 'If-None-Match: "x"']), TRYLATER, 'GET, route');
    assert.equal(fastPathTotals.answered, route, 'answered by the fastify route');
    assert.match(await ocspPost(`${plain.httpUrl}/ocsp`, 'ec', 'ecsub', ['-no_nonce']), TRYLATER, 'nonce or not');
    assert.match(await ocspPost(`${plain.httpUrl}/ocsp`, 'ec', 'ecsub'), TRYLATER, 'nonce or not');
    // The same bytes again: the kept tryLater (ocsp-source.ts), counted like the first.
    assert.match(await ocspPost(`${plain.httpUrl}/ocsp`, 'ec', 'ecsub', ['-no_nonce']), TRYLATER, 'again');
    const r = await fetch(`${plain.httpUrl}/ocsp`, {
      method: 'POST',
      body: readFileSync(f.path(await requestFile('rsa', 'sub2'))),
      headers: { 'content-type': 'application/ocsp-request' },
    });
    assert.equal(parseOcspResponse(Buffer.from(await r.arrayBuffer())).status, 'tryLater');
    assert.equal(r.headers.get('cache-control'), 'no-store', 'no cache keeps a tryLater');
    assert.equal(await metric(plain, 'rootca_ocsp_trylater_total', 'issuer="rsaroot"'), 3);
    assert.equal(await metric(plain, 'rootca_ocsp_trylater_total', 'issuer="ecroot"'), 4);
    assert.equal(await metric(plain, 'rootca_ocsp_next_update_remaining_seconds', 'issuer="rsaroot"'), -1);
    const h = await health(plain);
    assert.equal(h.status, 'degraded');
    assert.deepEqual(h.problems, [
      `6 pre-signed OCSP response(s) of rsaroot are past their nextUpdate (earliest ${new Date(ocspNext).toISOString()}); answered tryLater: no live delegated responder`,
      `2 pre-signed OCSP response(s) of ecroot are past their nextUpdate (earliest ${new Date(ocspNext).toISOString()}); answered tryLater: no live delegated responder`,
    ]);
  });

  it('with a live delegated responder the same request gets a fresh answer signed live, which openssl verifies', async () => {
    const out = await ocspPost(`${live.httpUrl}/ocsp`, 'rsa', 'sub1', ['-no_nonce', '-respout', 'live.der']);
    assert.match(out, /Response verify OK/);
    assert.match(out, /sub1\.pem: good/);
    assert.doesNotMatch(out, /Status times invalid/);
    const resp = parseOcspResponse(readFileSync(f.path('live.der')));
    assert.deepEqual(resp.certs, [f.responder.info.der], 'signed by the delegated responder');
    assert.ok(resp.responses[0]!.nextUpdate!.getTime() > clock.now().getTime(), 'fresh: nextUpdate after now');
    // HTTPS: the issuer with a responder gets a live answer, the other tryLater.
    const post = (cert: string) => ['-H', 'Content-Type: application/ocsp-request', '--data-binary', `@${cert}.req`];
    await requestFile('ec', 'ecsub');
    assert.match(await curlOcsp(`${live.httpsUrl}/ocsp`, 'ec', 'ecsub', post('ecsub')), TRYLATER);
    await requestFile('rsa', 'sub2');
    assert.match(await curlOcsp(`${live.httpsUrl}/ocsp`, 'rsa', 'sub2', post('sub2')), /Response verify OK/);
    assert.equal(await metric(live, 'rootca_ocsp_trylater_total', 'issuer="ecroot"'), 1);
    assert.equal(await metric(live, 'rootca_ocsp_trylater_total', 'issuer="rsaroot"'), undefined);
    const problems = (await health(live)).problems;
    assert.match(
      problems[0]!,
      /^6 pre-signed OCSP response\(s\) of rsaroot are past .*answered live by the delegated responder$/,
    );
    assert.match(problems[1]!, /^2 pre-signed OCSP response\(s\) of ecroot are past .*answered tryLater/);
  });
});

describe('the live delegated responder certificate: degraded at the margin, tryLater once it expired', () => {
  it('margin, expiry, and the answer for its issuer after it', async () => {
    const responderProblems = () => problemsMatching(live, /^delegated responder/);
    const left = () =>
      metric(
        live,
        'rootca_responder_certificate_remaining_seconds',
        `issuer="rsaroot",serial="5e5e0000aa01",role="live"`,
      );
    clock.set(new Date(responderEnd - MARGIN - 1000));
    assert.deepEqual(await responderProblems(), []);
    assert.equal(await left(), MARGIN_S + 1);
    clock.set(new Date(responderEnd - MARGIN));
    const subject = f.responder.info.subject;
    const end = new Date(responderEnd).toISOString();
    assert.deepEqual(await responderProblems(), [
      `delegated responder ${subject} (rsaroot) expires ${end}, within the status margin (7d)`,
    ]);
    assert.equal(await left(), MARGIN_S);
    // Also exported as a certificate in the publication.
    const published = `issuer="rsaroot",serial="5e5e0000aa01",role="published"`;
    assert.equal(await metric(live, 'rootca_responder_certificate_remaining_seconds', published), MARGIN_S);
    clock.set(new Date(responderEnd));
    assert.match(await ocspPost(`${live.httpUrl}/ocsp`, 'rsa', 'sub1', ['-no_nonce']), /Response verify OK/);
    clock.set(new Date(responderEnd + 1000));
    assert.deepEqual(await responderProblems(), [`delegated responder ${subject} (rsaroot) expired ${end}`]);
    assert.equal(await left(), -1);
    assert.match(await ocspPost(`${live.httpUrl}/ocsp`, 'rsa', 'sub1', ['-no_nonce']), TRYLATER);
    assert.equal(await metric(live, 'rootca_ocsp_trylater_total', 'issuer="rsaroot"'), 1);
    assert.match((await problemsMatching(live, /of rsaroot/))[0]!, /answered tryLater: no live delegated responder$/);
  });
});

describe('the CRL: degraded at the margin and past its nextUpdate', () => {
  it('the problem and the seconds left change at crlNext - margin and crlNext', async () => {
    const crl = () => problemsMatching(plain, /^CRL /);
    const left = () => metric(plain, 'rootca_crl_next_update_remaining_seconds', 'issuer="ecroot"');
    const path = plain.current()!.publication.crls.get('ecroot')!.path;
    const at = new Date(crlNext).toISOString();
    clock.set(new Date(crlNext - MARGIN - 1000));
    assert.deepEqual(await crl(), []);
    assert.equal(await left(), MARGIN_S + 1);
    clock.set(new Date(crlNext - MARGIN));
    assert.ok((await crl()).includes(`CRL ${path} reaches its nextUpdate ${at} within the status margin (7d)`));
    assert.equal(await left(), MARGIN_S);
    clock.set(new Date(crlNext + 1000));
    assert.ok((await crl()).includes(`CRL ${path} is past its nextUpdate ${at}`));
    assert.equal(await left(), -1);
  });
});

describe('PostgreSQL store: the same tryLater, count and health', () => {
  it('past nextUpdate without a responder: tryLater by openssl, counted; a re-signed publication brings back ready', async () => {
    const db = await createTestDatabase();
    const pg = await PgOnlineStore.open(db.url);
    const pgClock = fixedClock(new Date());
    let server: RunningServer<PgOnlineStore> | undefined;
    try {
      await pg.importVerified(await f.publication({ version: 1, ocspValidityMs: 20 * DAY }), [f.rsa.der, f.ec.der]);
      const s = await startServer({
        store: pg,
        port: 0,
        pollMs: 60_000,
        clock: pgClock,
        statusMarginSeconds: MARGIN_S,
      });
      server = s;
      const next = [...s.current()!.publication.index.values()][0]!.nextUpdate.getTime();
      pgClock.set(new Date(next + 1000));
      assert.match(await ocspPost(`${s.httpUrl}/ocsp`, 'ec', 'ecsub', ['-no_nonce']), TRYLATER);
      assert.match(await getOcsp(s.httpUrl, 'rsa', 'sub1'), TRYLATER);
      assert.equal(await metric(s, 'rootca_ocsp_trylater_total', 'issuer="ecroot"'), 1);
      assert.equal(await metric(s, 'rootca_ocsp_trylater_total', 'issuer="rsaroot"'), 1);
      assert.equal((await health(s)).status, 'degraded');
      // The status ceremony's new publication: responses valid 20 days from now again.
      await pg.importVerified(await f.publication({ version: 2, createdAt: pgClock.now(), ocspValidityMs: 20 * DAY }), [
        f.rsa.der,
        f.ec.der,
      ]);
      // PostgreSQL's NOTIFY may have switched the server before this poll: whichever poll
      // adopted it, version 2 is what is served now.
      await s.pollNow();
      assert.equal(s.current()!.version, 2);
      assert.deepEqual((await health(s)).problems, []);
      assert.equal(await metric(s, 'rootca_ocsp_next_update_remaining_seconds', 'issuer="ecroot"'), 20 * 86_400);
    } finally {
      await server?.close();
      await pg.close();
      await db.drop();
    }
  });
});
