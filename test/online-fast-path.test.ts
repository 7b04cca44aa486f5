/**
 * The OCSP fast path (src/server/fast-path.ts) against raw HTTP/1.x on real sockets: it must
 * answer repeated pre-signed requests with exactly the bytes the fastify route gives, keep
 * keep-alive and pipelining right, wait for split packets, and hand everything else (misses,
 * other routes, garbage, oversize bodies) to fastify on the same connection. `openssl ocsp`
 * verifies what it answers; metrics and the access log count it (CPS 5.5.1).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { fixedClock } from '../src/clock.ts';
import { parseOcspResponse } from '../src/pki/ocsp.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { fastPathTotals } from '../src/server/fast-path.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import { fastAnswers, getRequest, ocspRequest, postRequest, RawConnection, type Res } from './online-raw-http.ts';

let f: OnlineFixture;
let store: SqliteOnlineStore;
let server: RunningServer;
let port: number;
/** Fixed (max-age does not tick between the two answers compared); set once the fixture exists. */
let clock: ReturnType<typeof fixedClock>;

/** A raw connection to this file's server (or to `toPort`). */
class Conn extends RawConnection {
  constructor(toPort = port) {
    super(toPort);
  }
}

/** The OCSP media type with a parameter: fastify takes it (RFC 6960 A.1.1), the fast path leaves it to fastify. */
const ROUTE_ONLY_TYPE = 'application/ocsp-request; charset=binary';

const getReq = (path: string, extra = '') => getRequest(path, { host: `127.0.0.1:${port}`, extra });
const postReq = (body: Buffer, o: { path?: string; extra?: string; version?: string } = {}) =>
  postRequest(body, { ...o, host: `127.0.0.1:${port}` });

/**
 * Sends `req` on a connection of its own and returns the answer. A miss is handed to fastify
 * with its connection (which then stays fastify's), so tests fill the cache this way first.
 */
async function once(req: Buffer | string): Promise<Res> {
  const c = new Conn();
  c.write(req);
  const r = await c.next();
  c.close();
  return r;
}

let req1: Buffer; // sub1, SHA-1 CertID
let req2: Buffer; // ecsub, SHA-256 CertID

before(async () => {
  f = new OnlineFixture();
  store = new SqliteOnlineStore(f.path('online.db'));
  store.importPublication(await f.publication({ version: 1 }), [f.rsa.der, f.ec.der]);
  clock = fixedClock(new Date());
  server = await startServer({ store, port: 0, logDir: f.path('log'), pollMs: 60_000, clock });
  port = Number(new URL(server.httpUrl).port);
  req1 = ocspRequest(f.rsa.der, f.cert('sub1').serialHex, 0);
  req2 = ocspRequest(f.ec.der, f.cert('ecsub').serialHex, 1);
});

after(async () => {
  await server?.close();
  store?.close();
});

describe('OCSP fast path: the same bytes as the fastify route, on one keep-alive connection', () => {
  it('POST and GET: the fast path gives the bytes the fastify route gives (status line, headers, body), on one keep-alive socket', async () => {
    const get = `/ocsp/${req1.toString('base64url')}`;
    let viaFastify: Res[] = [];
    const warm = await fastAnswers(async () => {
      // Requests the fast path leaves to fastify: a Content-Type parameter; an If-None-Match that does not match.
      viaFastify = [
        await once(postReq(req1).toString('latin1').replace('application/ocsp-request', ROUTE_ONLY_TYPE)),
        await once(getReq(get, 'If-None-Match: "not-this-one"\r\n')),
      ];
    });
    assert.equal(warm, 0, 'both answered by fastify');
    const c = new Conn();
    const fast = await fastAnswers(async () => {
      for (let i = 0; i < 3; i++) {
        c.write(postReq(req1));
        const p = await c.next();
        c.write(getReq(get));
        const g = await c.next();
        assert.deepEqual(p.head, viaFastify[0]!.head, 'POST: same status line and headers (Date aside)');
        assert.deepEqual(p.body, viaFastify[0]!.body, 'POST: same body');
        assert.deepEqual(g.head, viaFastify[1]!.head, 'GET: same status line and headers (Date aside)');
        assert.deepEqual(g.body, viaFastify[1]!.body, 'GET: same body');
      }
    });
    assert.equal(fast, 6, 'every request on the keep-alive connection came from the fast path');
    const first = viaFastify[0]!;
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'application/ocsp-response');
    assert.match(first.headers.get('cache-control')!, /^max-age=\d+, public, no-transform, must-revalidate$/);
    assert.equal(first.headers.get('connection'), 'keep-alive');
    assert.equal(parseOcspResponse(first.body).responses[0]!.status.status, 'good');
    assert.ok(!c.ended, 'the connection stays open');
    c.close();
  });

  it('pipelined: three requests in one write, answered in order; then /healthz goes to fastify on the same connection, which answers the rest', async () => {
    const expected2 = (await once(postReq(req2))).body; // fills the cache for req2 through fastify
    const expected1 = (await once(postReq(req1))).body;
    const c = new Conn();
    const fast = await fastAnswers(async () => {
      c.write(Buffer.concat([postReq(req1), postReq(req2), postReq(req1, { path: '/' })]));
      assert.deepEqual((await c.next()).body, expected1);
      assert.deepEqual((await c.next()).body, expected2);
      assert.deepEqual((await c.next()).body, expected1);
    });
    assert.equal(fast, 3);
    // A hit and a miss (a serial never issued: unauthorized, from fastify) and /healthz in one write.
    const miss = ocspRequest(f.rsa.der, '0123456789');
    const mixed = await fastAnswers(async () => {
      c.write(Buffer.concat([postReq(req1), postReq(miss), Buffer.from(getReq('/healthz')), postReq(req1)]));
      assert.deepEqual((await c.next()).body, expected1);
      const m = await c.next();
      assert.equal(m.status, 200);
      assert.equal(parseOcspResponse(m.body).status, 'unauthorized');
      const h = await c.next();
      assert.equal(h.status, 200);
      assert.equal(JSON.parse(h.body.toString()).version, 1);
      assert.deepEqual((await c.next()).body, expected1, 'fastify answers the last one after the hand-over');
    });
    assert.equal(
      mixed,
      2,
      "the hit and the unauthorized answer are the fast path's; from /healthz on the connection belongs to fastify",
    );
    c.close();
  });

  it('split packets: a request in 9 pieces is answered by the fast path; one sent byte by byte is answered correctly too', async () => {
    const whole = postReq(req1);
    const expected = (await once(whole)).body;
    const c = new Conn();
    const pieces = await fastAnswers(async () => {
      const step = Math.ceil(whole.length / 9);
      for (let i = 0; i < whole.length; i += step) {
        c.write(whole.subarray(i, i + step));
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.deepEqual((await c.next()).body, expected);
    });
    assert.equal(pieces, 1);
    for (let i = 0; i < whole.length; i++) {
      c.write(whole.subarray(i, i + 1));
      if (i % 16 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    assert.deepEqual(
      (await c.next()).body,
      expected,
      'byte by byte (handed to fastify after 64 reads, or answered here)',
    );
    c.write(whole);
    assert.deepEqual((await c.next()).body, expected, 'the connection goes on');
    c.close();
  });

  it('GET in url-safe and standard base64, with %2F %2B %3D: the fast path answers each spelling with the bytes fastify gives', async () => {
    // A filler extension chosen so the standard base64 has '+', '/' and '=' in it.
    let req: Buffer | undefined;
    for (let n = 1; n < 200 && !req; n++) {
      const r = ocspRequest(f.rsa.der, f.cert('sub2').serialHex, 0, Buffer.alloc(n, 0xfb));
      const b = r.toString('base64');
      if (b.includes('+') && b.includes('/') && b.endsWith('=')) req = r;
    }
    assert.ok(req, 'a request whose base64 has + / =');
    const std = req.toString('base64');
    const spellings = [
      req.toString('base64url'),
      `${req.toString('base64url')}${'='.repeat((4 - (req.toString('base64url').length % 4)) % 4)}`,
      encodeURIComponent(std),
      std.replace(/=/g, '%3D'),
      std.replace(/\+/g, '%2b').replace(/=/g, '%3d'),
    ];
    const expected = await once(postReq(req));
    assert.equal(
      parseOcspResponse(expected.body).responses[0]?.status.status,
      'good',
      `answer: ${parseOcspResponse(expected.body).status}`,
    );
    for (const s of spellings) {
      const viaFastify = await once(getReq(`/ocsp/${s}`, 'If-None-Match: "x"\r\n'));
      assert.equal(viaFastify.status, 200, s);
      assert.deepEqual(viaFastify.body, expected.body, s);
      const n = await fastAnswers(async () => {
        for (let i = 0; i < 2; i++) {
          const r = await once(getReq(`/ocsp/${s}`));
          assert.deepEqual(r.head, viaFastify.head, s);
          assert.deepEqual(r.body, viaFastify.body, s);
        }
      });
      assert.equal(n, 2, `${s}: from the fast path (decoded, checked and cached there the first time)`);
    }
  });

  it('HTTP/1.0 (ab, openssl ocsp): answered with Connection: close and the connection closed; with keep-alive it stays', async () => {
    await once(postReq(req1));
    const c = new Conn();
    c.write(postReq(req1, { version: '1.0' }));
    const r = await c.next();
    assert.equal(r.headers.get('connection'), 'close');
    await c.closed;
    const k = new Conn();
    const n = await fastAnswers(async () => {
      for (let i = 0; i < 3; i++) {
        k.write(postReq(req1, { version: '1.0', extra: 'Connection: keep-alive\r\n' }));
        const a = await k.next();
        assert.equal(a.headers.get('connection'), 'keep-alive');
        assert.deepEqual(a.body, r.body);
      }
    });
    assert.equal(n, 3);
    k.write(postReq(req1, { extra: 'Connection: close\r\n' }));
    assert.equal((await k.next()).headers.get('connection'), 'close');
    await k.closed;
  });

  it('openssl ocsp (POST, HTTP/1.0) and curl (GET) through the fast path: Response verify OK, good', async () => {
    await runAsync(
      'openssl',
      ['ocsp', '-issuer', f.rsa.pem, '-cert', f.cert('sub1').pem, '-no_nonce', '-reqout', 'o.der'],
      { cwd: f.dir },
    );
    const n = await fastAnswers(async () => {
      for (let i = 0; i < 3; i++) {
        const r = await runAsync(
          'openssl',
          [
            'ocsp',
            '-reqin',
            'o.der',
            '-issuer',
            f.rsa.pem,
            '-cert',
            f.cert('sub1').pem,
            '-url',
            `${server.httpUrl}/ocsp`,
            '-CAfile',
            f.rsa.pem,
            '-no_nonce',
          ],
          { cwd: f.dir },
        );
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stderr + r.stdout, /Response verify OK/);
        assert.match(r.stdout, /sub1\.pem: good/);
      }
      const url = `${server.httpUrl}/ocsp/${encodeURIComponent(readFileSync(f.path('o.der')).toString('base64'))}`;
      for (let i = 0; i < 2; i++) {
        const g = await runAsync('curl', ['-sS', '-o', f.path(`g${i}.der`), url]);
        assert.equal(g.status, 0, g.stderr);
      }
      const v = await runAsync(
        'openssl',
        [
          'ocsp',
          '-respin',
          'g1.der',
          '-issuer',
          f.rsa.pem,
          '-cert',
          f.cert('sub1').pem,
          '-CAfile',
          f.rsa.pem,
          '-no_nonce',
        ],
        { cwd: f.dir },
      );
      assert.match(v.stderr + v.stdout, /Response verify OK/);
      assert.match(v.stdout, /sub1\.pem: good/);
    });
    assert.ok(n >= 3, `at least the repeated requests came from the fast path (${n})`);
  });
});

describe('OCSP fast path: live (nonce) and error answers', () => {
  it("a nonce signed live by the delegated responder, unauthorized and malformedRequest: the route's headers (no-store), openssl verifies the live one", async () => {
    const live = await startServer({
      store,
      port: 0,
      pollMs: 60_000,
      responders: [
        {
          certificate: readFileSync(f.responder.cert),
          key: readFileSync(f.responder.key),
          passphrase: f.responder.passphrase,
        },
      ],
    });
    try {
      const lport = Number(new URL(live.httpUrl).port);
      const send = async (body: Buffer, type = 'application/ocsp-request') => {
        const c = new Conn(lport);
        c.write(
          Buffer.concat([
            Buffer.from(
              `POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`,
              'latin1',
            ),
            body,
          ]),
        );
        const r = await c.next();
        c.close();
        return r;
      };
      await runAsync('openssl', ['ocsp', '-issuer', f.rsa.pem, '-cert', f.cert('sub2').pem, '-reqout', 'nonce.der'], {
        cwd: f.dir,
      });
      const nonceReq = readFileSync(f.path('nonce.der'));
      for (const [label, body] of [
        ['nonce', nonceReq],
        ['unauthorized', ocspRequest(f.ec.der, '0abc')],
        ['malformed', Buffer.from('0\x03\x02\x01', 'latin1')],
      ] as const) {
        const viaFastify = await fastAnswers(async () => {
          const r = await send(body, ROUTE_ONLY_TYPE);
          assert.equal(r.headers.get('cache-control'), 'no-store', label);
        });
        assert.equal(viaFastify, 0, `${label}: answered by fastify`);
        const fromRoute = await send(body, ROUTE_ONLY_TYPE);
        let fast: Res | undefined;
        assert.equal(
          await fastAnswers(async () => {
            fast = await send(body);
          }),
          1,
          `${label}: answered by the fast path`,
        );
        assert.deepEqual(
          fast!.head.filter((h) => !/^content-length/.test(h)),
          fromRoute.head.filter((h) => !/^content-length/.test(h)),
          `${label}: the same headers`,
        );
        const parsed = parseOcspResponse(fast!.body);
        if (label === 'nonce') {
          assert.equal(parsed.status, 'successful');
          assert.ok(parsed.nonce && parsed.nonce.length > 0, 'the nonce is echoed');
          writeFileSync(f.path('live-fast.der'), fast!.body);
          const v = await runAsync(
            'openssl',
            ['ocsp', '-respin', 'live-fast.der', '-reqin', 'nonce.der', '-CAfile', f.rsa.pem, '-resp_text'],
            { cwd: f.dir },
          );
          assert.equal(v.status, 0, v.stdout + v.stderr);
          assert.match(v.stdout + v.stderr, /Response verify OK/);
          assert.doesNotMatch(v.stdout + v.stderr, /Nonce Verify error|WARNING: no nonce/);
          assert.match(v.stdout, /Cert Status: good/);
        } else {
          assert.deepEqual(fast!.body, fromRoute.body, label);
          assert.equal(parsed.status, label === 'malformed' ? 'malformedRequest' : 'unauthorized');
        }
      }
    } finally {
      await live.close();
    }
  });
});

describe("OCSP fast path: everything else is fastify's", () => {
  it('garbage, a header without a colon, a bare LF, a lower-case method: 400 from fastify or closed; the server answers after', async () => {
    const garbage = [
      randomBytes(300),
      Buffer.from(`POST /ocsp HTTP/1.1\r\nHost: x\r\nBad Header\r\nContent-Length: ${req1.length}\r\n\r\n`),
      Buffer.from(`POST /ocsp HTTP/1.1\nHost: x\r\nContent-Length: ${req1.length}\r\n\r\n`),
      Buffer.from('get /ocsp/AAAA HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('GET /ocsp/AAAA HTTP/9.9\r\nHost: x\r\n\r\n'),
      Buffer.from('POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello'),
    ];
    for (const g of garbage) {
      const c = new Conn();
      c.write(g);
      try {
        const r = await c.next();
        assert.ok(r.status >= 400 && r.status < 500, `${g.subarray(0, 20).toString('latin1')}: HTTP ${r.status}`);
      } catch {
        assert.ok(c.ended, 'no answer: the connection was closed');
      }
      c.close();
    }
    const c = new Conn();
    c.write(postReq(req1));
    assert.equal((await c.next()).status, 200);
    c.close();
  });

  it("a body over the limit is 413 from fastify; chunked bodies, Expect and If-None-Match are fastify's too", async () => {
    const c = new Conn();
    const n = await fastAnswers(async () => {
      c.write(postReq(randomBytes(10 * 1024 + 1)));
      assert.equal((await c.next()).status, 413);
    });
    assert.equal(n, 0);
    c.close();
    const first = await once(postReq(req1));
    const d = new Conn();
    const m = await fastAnswers(async () => {
      const hex = req1.length.toString(16);
      d.write(
        Buffer.concat([
          Buffer.from(
            `POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nTransfer-Encoding: chunked\r\n\r\n${hex}\r\n`,
          ),
          req1,
          Buffer.from('\r\n0\r\n\r\n'),
        ]),
      );
      assert.deepEqual((await d.next()).body, first.body);
      const get = `/ocsp/${req1.toString('base64url')}`;
      d.write(getReq(get));
      const g = await d.next();
      d.write(getReq(get, `If-None-Match: ${g.headers.get('etag')}\r\n`));
      assert.equal((await d.next()).status, 304);
    });
    assert.ok(m <= 1, 'only the plain GET may have come from the fast path');
    d.close();
  });

  it('metrics and the access log count fast-path answers (batched)', async () => {
    await once(postReq(req2));
    const c = new Conn();
    const before = fastPathTotals.answered;
    for (let i = 0; i < 20; i++) {
      c.write(postReq(req2));
      await c.next();
    }
    assert.equal(fastPathTotals.answered - before, 20);
    c.close();
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    const posts = Number(
      /^rootca_http_requests_total\{route="\/ocsp",method="POST",status="200"[^}]*\} (\d+)$/m.exec(text)?.[1],
    );
    const presignedGood = Number(
      /^rootca_ocsp_responses_total\{cert_status="good",source="presigned"[^}]*\} (\d+)$/m.exec(text)?.[1],
    );
    assert.ok(posts >= 21, `POST /ocsp 200 counted: ${posts}`);
    assert.ok(presignedGood >= 21, `presigned good counted: ${presignedGood}`);
    assert.match(text, /^rootca_http_request_duration_seconds_count\{route="\/ocsp"[^}]*\} \d+$/m);
    await server.closeSegmentNow();
    const lines = readdirSync(f.path('log'))
      .filter((n) => n.endsWith('.gz'))
      .flatMap((n) =>
        gunzipSync(readFileSync(f.path(`log/${n}`)))
          .toString()
          .trim()
          .split('\n'),
      )
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ecsub = lines.filter((l) => l.m === 'POST' && l.ca === 'ecroot' && l.h === 'sha256');
    assert.ok(ecsub.length >= 21, `every ecsub request logged: ${ecsub.length}`);
    const last = ecsub.at(-1)!;
    assert.deepEqual(Object.keys(last), ['t', 'ip', 'm', 'http', 'r', 'src', 'ca', 'h', 'sn', 'v', 'len', 'us']);
    assert.equal(last.ip, '127.0.0.1');
    assert.equal(last.r, 'good');
    assert.equal(last.src, 'presigned');
    assert.deepEqual(last.sn, [f.cert('ecsub').serialHex]);
  });

  it('a new publication: cached answers are dropped; the next answer comes from the new one (revoked)', async () => {
    assert.equal(parseOcspResponse((await once(postReq(req1))).body).responses[0]!.status.status, 'good');
    const c = new Conn();
    store.importPublication(
      await f.publication({
        version: 2,
        revoked: { [f.cert('sub1').serialHex]: { at: new Date('2026-01-02T03:04:05Z'), reason: 'keyCompromise' } },
      }),
    );
    assert.equal(await server.pollNow(), true);
    const n = await fastAnswers(async () => {
      c.write(postReq(req1));
      assert.equal(parseOcspResponse((await c.next()).body).responses[0]!.status.status, 'revoked');
    });
    assert.equal(n, 1, 'answered by the fast path from the new publication (the old cached answer was dropped)');
    c.close();
  });

  it('shutdown: a server with idle fast-path keep-alive connections closes promptly', async () => {
    const s = await startServer({ store, port: 0, pollMs: 60_000 });
    const url = new URL(s.httpUrl);
    const conns = [0, 1, 2].map(() => {
      const sock = connect({ host: '127.0.0.1', port: Number(url.port) });
      sock.on('error', () => undefined);
      return sock;
    });
    for (let i = 0; i < 2; i++) {
      for (const sock of conns) {
        await new Promise<void>((resolve) => {
          sock.once('data', () => resolve());
          sock.write(postReq(req2).toString('latin1').replace(`127.0.0.1:${port}`, url.host), 'latin1');
        });
      }
    }
    const t = Date.now();
    await s.close();
    assert.ok(Date.now() - t < 3000, `closed in ${Date.now() - t} ms`);
    for (const sock of conns) sock.destroy();
  });
});
