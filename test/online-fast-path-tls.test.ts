/**
 * The OCSP fast path on the HTTPS listener (src/server/listeners.ts installs it on the TLS
 * sockets once the handshake is done): the same bytes the fastify route gives over TLS,
 * keep-alive, pipelining with a hand-over to fastify on the same TLS connection, requests in
 * pieces, malformed requests, and answers `openssl ocsp` verifies.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fixedClock } from '../src/clock.ts';
import { parseOcspResponse } from '../src/pki/ocsp.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import { fastAnswers, getRequest, ocspRequest, postRequest, RawConnection, type Res } from './online-raw-http.ts';

let f: OnlineFixture;
let store: SqliteOnlineStore;
let server: RunningServer;
let httpsPort: number;
let req1: Buffer;
let req2: Buffer;

/** A raw TLS connection to the HTTPS listener. */
const tlsConn = () => new RawConnection(httpsPort, { tls: true });

const postReq = (body: Buffer, path = '/ocsp') => postRequest(body, { host: '127.0.0.1', path });
const getReq = (path: string, extra = '') => getRequest(path, { host: '127.0.0.1', extra });

/** One request on a TLS connection of its own. */
async function once(req: Buffer | string): Promise<Res> {
  const c = tlsConn();
  c.write(req);
  try {
    return await c.next();
  } finally {
    c.close();
  }
}

before(async () => {
  f = new OnlineFixture();
  store = new SqliteOnlineStore(f.path('online.db'));
  store.importPublication(await f.publication({ version: 1 }), [f.rsa.der, f.ec.der]);
  const tls = f.tlsCertificate();
  server = await startServer({
    store,
    port: 0,
    tls: { cert: tls.cert, key: tls.key, port: 0 },
    logDir: f.path('log'),
    pollMs: 60_000,
    clock: fixedClock(new Date()), // max-age does not tick between the answers compared
  });
  httpsPort = Number(new URL(server.httpsUrl!).port);
  req1 = ocspRequest(f.rsa.der, f.cert('sub1').serialHex, 0);
  req2 = ocspRequest(f.ec.der, f.cert('ecsub').serialHex, 1);
});

after(async () => {
  await server?.close();
  store?.close();
});

describe('OCSP fast path over HTTPS', () => {
  it('GET and POST: the same status line, headers and body as the fastify route, on one keep-alive TLS connection', async () => {
    const get = `/ocsp/${req1.toString('base64url')}`;
    let viaFastify: Res[] = [];
    const warm = await fastAnswers(async () => {
      // Left to fastify: a Content-Type parameter; an If-None-Match that does not match.
      const typed = postReq(req1).toString('latin1').replace('ocsp-request', 'ocsp-request; charset=binary');
      viaFastify = [await once(typed), await once(getReq(get, 'If-None-Match: "other"\r\n'))];
    });
    assert.equal(warm, 0, 'both answered by fastify');
    const c = tlsConn();
    const fast = await fastAnswers(async () => {
      for (let i = 0; i < 3; i++) {
        c.write(postReq(req1));
        const p = await c.next();
        c.write(getReq(get));
        const g = await c.next();
        assert.deepEqual(p.head, viaFastify[0]!.head, 'POST: same status line and headers (Date aside)');
        assert.deepEqual(p.body, viaFastify[0]!.body);
        assert.deepEqual(g.head, viaFastify[1]!.head, 'GET: same status line and headers (Date aside)');
        assert.deepEqual(g.body, viaFastify[1]!.body);
      }
    });
    assert.equal(fast, 6, 'every request on the kept-alive TLS connection came from the fast path');
    assert.ok(!c.ended);
    c.close();
    const g = viaFastify[1]!;
    assert.equal(g.headers.get('connection'), 'keep-alive');
    assert.equal(g.headers.get('keep-alive'), undefined, 'no Keep-Alive line (RFC 9112: not needed in 1.1)');
    assert.equal(g.headers.get('x-content-type-options'), undefined, 'no nosniff on an OCSP response');
    assert.deepEqual(
      g.head.map((l) => l.slice(0, l.indexOf(':'))).slice(1),
      ['content-type', 'cache-control', 'last-modified', 'expires', 'etag', 'connection', 'content-length'],
      'RFC 5019 6.2 caching headers, Connection and Content-Length (and Date), nothing else',
    );
    assert.equal(parseOcspResponse(g.body).responses[0]!.status.status, 'good');
  });

  it('pipelined over TLS: answered in order; /healthz then goes to fastify on the same connection, which answers the rest', async () => {
    const expected1 = (await once(postReq(req1))).body;
    const expected2 = (await once(postReq(req2))).body;
    const c = tlsConn();
    const n = await fastAnswers(async () => {
      c.write(Buffer.concat([postReq(req1), postReq(req2), postReq(req1, '/')]));
      assert.deepEqual((await c.next()).body, expected1);
      assert.deepEqual((await c.next()).body, expected2);
      assert.deepEqual((await c.next()).body, expected1);
      c.write(Buffer.concat([Buffer.from(getReq('/healthz')), postReq(req2)]));
      const h = await c.next();
      assert.equal(h.status, 200);
      assert.equal(JSON.parse(h.body.toString()).version, 1);
      assert.deepEqual((await c.next()).body, expected2, 'fastify answers after the hand-over');
    });
    assert.equal(n, 3, 'the first three from the fast path; after /healthz the connection is fastify’s');
    c.close();
  });

  it('a request in pieces is answered; Connection: close closes after the answer', async () => {
    const expected = (await once(postReq(req1))).body;
    const c = tlsConn();
    const whole = postReq(req1);
    const n = await fastAnswers(async () => {
      for (let i = 0; i < whole.length; i += 40) {
        c.write(whole.subarray(i, i + 40));
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.deepEqual((await c.next()).body, expected);
      c.write(getReq(`/ocsp/${req1.toString('base64url')}`, 'Connection: close\r\n'));
      const last = await c.next();
      assert.equal(last.headers.get('connection'), 'close');
      await c.closedWithin(5000);
    });
    assert.equal(n, 2);
  });

  it('malformed requests over TLS: 400 or closed, and the listener answers after', async () => {
    const bad = [
      randomBytes(200),
      Buffer.from(`POST /ocsp HTTP/1.1\r\nHost: x\r\nBad Header\r\nContent-Length: ${req1.length}\r\n\r\n`),
      Buffer.from('GET /ocsp/AAAA HTTP/9.9\r\nHost: x\r\n\r\n'),
      Buffer.from('POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello'),
    ];
    for (const b of bad) {
      const c = tlsConn();
      c.write(b);
      try {
        const r = await c.next();
        assert.ok(r.status >= 400 && r.status < 500, `${b.subarray(0, 20).toString('latin1')}: HTTP ${r.status}`);
      } catch {
        assert.ok(c.ended, 'no answer: the connection was closed');
      }
      c.close();
    }
    assert.equal((await once(postReq(req1))).status, 200);
  });

  it('curl over HTTPS gets what openssl ocsp verifies (Response verify OK, good), from the fast path', async () => {
    const url = `${server.httpsUrl}/ocsp/${encodeURIComponent(req1.toString('base64'))}`;
    const n = await fastAnswers(async () => {
      for (let i = 0; i < 2; i++) {
        const g = await runAsync('curl', ['-sS', '-k', '-o', f.path(`tls${i}.der`), url]);
        assert.equal(g.status, 0, g.stderr);
      }
    });
    assert.ok(n >= 1, `the repeated GET came from the fast path (${n})`);
    const v = await runAsync(
      'openssl',
      ['ocsp', '-respin', 'tls1.der', '-issuer', f.rsa.pem, '-cert', f.cert('sub1').pem, '-CAfile', f.rsa.pem],
      { cwd: f.dir },
    );
    assert.match(v.stderr + v.stdout, /Response verify OK/);
    assert.match(v.stdout, /sub1\.pem: good/);
  });
});
