/**
 * The online server under odd clients, on both listeners: HTTP (where the OCSP fast path sits
 * in front of fastify) and HTTPS (fastify alone). An upload announced with
 * `Expect: 100-continue` that will be refused is answered with its final status and no 100
 * (RFC 9110 10.1.1); one that will be read gets its 100 first. A POST of another media type is
 * 415 (RFC 6960 A.1.1). Slow senders (head or body a byte at a time), idle and silent
 * connections are closed at their timeouts, and one address cannot hold more connections than
 * its cap, while valid clients keep being answered. curl and raw sockets are the clients; the
 * slow and greedy ones connect from 127.0.0.2 (loopback too) to be another address.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { certIdOf, certIdsFor, OCSPRequest, parseOcspResponse, Request, TBSRequest } from '../src/pki/ocsp.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { AsnConvert } from '@peculiar/asn1-schema';
import { waitFor } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import { RawConnection } from './online-raw-http.ts';

let f: OnlineFixture;
let store: SqliteOnlineStore;
let server: RunningServer;
/** Short timeouts, no per-address cap. */
let slow: RunningServer;
/** Default timeouts, at most CAP connections per address. */
let capped: RunningServer;
const LIMITS = { headersTimeoutMs: 800, requestTimeoutMs: 1600, idleTimeoutMs: 1000, maxConnectionsPerAddress: 0 };
const CAP = 4;
/** Slack for a timeout to be noticed on a busy machine (node checks its timeouts every 200 ms here). */
const SLACK_MS = 5000;
/** Where the slow and greedy clients connect from. */
const OTHER_CLIENT = '127.0.0.2';
/** A request for sub1 (SHA-1 CertID, no nonce). */
let ocspReq: Buffer;
/** An upload the server refuses from its Content-Length (the OCSP body limit is 10 KiB). */
const TOO_BIG = 2 * 1024 * 1024;

const SCHEMES = ['http', 'https'] as const;
type Scheme = (typeof SCHEMES)[number];
const urlOf = (scheme: Scheme) => (scheme === 'http' ? server.httpUrl : server.httpsUrl!);
const connect = (scheme: Scheme) => new RawConnection(Number(new URL(urlOf(scheme)).port), { tls: scheme === 'https' });

function postHead(length: number, extra = ''): string {
  return `POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

before(async () => {
  f = new OnlineFixture();
  store = new SqliteOnlineStore(f.path('online.db'));
  store.importPublication(await f.publication({ version: 1 }), [f.rsa.der, f.ec.der]);
  const { cert, key } = f.tlsCertificate();
  const tls = { cert, key, port: 0 };
  server = await startServer({ store, port: 0, pollMs: 60_000, tls });
  slow = await startServer({ store, port: 0, pollMs: 60_000, tls, limits: LIMITS });
  capped = await startServer({ store, port: 0, pollMs: 60_000, tls, limits: { maxConnectionsPerAddress: CAP } });
  const id = certIdsFor(f.rsa.der, f.cert('sub1').serialHex)[0]!;
  ocspReq = Buffer.from(
    AsnConvert.serialize(
      new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certIdOf(id) })] }) }),
    ),
  );
});

after(async () => {
  await server?.close();
  await slow?.close();
  await capped?.close();
  store?.close();
});

describe('RFC 9110 10.1.1 Expect: 100-continue', () => {
  for (const scheme of SCHEMES) {
    it(`${scheme}: raw socket, a body over the limit announced with Expect is 413 at once (no 100), and the server closes`, async () => {
      const c = connect(scheme);
      try {
        c.write(postHead(TOO_BIG, 'Expect: 100-continue\r\n'));
        const r = await c.next();
        assert.equal(
          r.status,
          413,
          `the first response is the final one: ${r.raw.toString('latin1').split('\r\n')[0]}`,
        );
        assert.equal(r.headers.get('connection'), 'close', 'RFC 9112 9.6: the server says it closes');
        await c.closedWithin(5000);
        assert.equal(c.unread.length, 0, 'nothing after the 413');
      } finally {
        c.close();
      }
    });

    it(`${scheme}: raw socket, a body within the limit announced with Expect gets 100, then its OCSP answer`, async () => {
      const c = connect(scheme);
      try {
        c.write(postHead(ocspReq.length, 'Expect: 100-continue\r\n'));
        assert.equal((await c.next()).status, 100, 'invited to send the body');
        c.write(ocspReq);
        const r = await c.next();
        assert.equal(r.status, 200);
        assert.equal(parseOcspResponse(r.body).responses[0]!.status.status, 'good');
      } finally {
        c.close();
      }
    });

    it(`${scheme}: curl uploading 2 MiB (Expect: 100-continue) gets 413 and never a 100; a small upload with Expect is answered`, async () => {
      const big = f.write('big.bin', Buffer.alloc(TOO_BIG));
      const tls = scheme === 'https' ? ['-k'] : [];
      const refused = await runAsync('curl', [
        '-sS',
        '-v',
        ...tls,
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--data-binary',
        `@${big}`,
        '-H',
        'content-type: application/ocsp-request',
        `${urlOf(scheme)}/ocsp`,
      ]);
      assert.equal(refused.stdout, '413', refused.stderr);
      assert.match(refused.stderr, /^> Expect: 100-continue\r?$/m, 'curl announced the upload');
      assert.doesNotMatch(refused.stderr, /^< HTTP\/1\.1 100/m, 'no 100 Continue');
      const small = f.write('req.der', ocspReq);
      const answered = await runAsync('curl', [
        '-sS',
        '-v',
        ...tls,
        '-o',
        f.path(`resp-${scheme}.der`),
        '-w',
        '%{http_code}',
        '--data-binary',
        `@${small}`,
        '-H',
        'content-type: application/ocsp-request',
        '-H',
        'Expect: 100-continue',
        `${urlOf(scheme)}/ocsp`,
      ]);
      assert.equal(answered.stdout, '200', answered.stderr);
      assert.match(answered.stderr, /^< HTTP\/1\.1 100 Continue\r?$/m);
      assert.equal(parseOcspResponse(readFileSync(f.path(`resp-${scheme}.der`))).responses[0]!.status.status, 'good');
    });
  }
});

describe('RFC 6960 A.1.1 POST requests are application/ocsp-request', () => {
  /** curl POSTs the request with `type` (undefined: no Content-Type header at all). */
  const post = async (url: string, type: string | undefined) => {
    const out = f.path('typed-answer.bin');
    const r = await runAsync('curl', [
      '-sS',
      '-k',
      '-o',
      out,
      '-w',
      '%{http_code}',
      '--data-binary',
      `@${f.write('typed-req.der', ocspReq)}`,
      '-H',
      `content-type:${type ? ` ${type}` : ''}`,
      url,
    ]);
    return { status: Number(r.stdout), body: readFileSync(out) };
  };

  for (const scheme of SCHEMES) {
    it(`${scheme}: text/plain, application/json, application/octet-stream or no Content-Type is 415, on /ocsp and /; the OCSP type (with a parameter too) is answered`, async () => {
      for (const path of ['/ocsp', '/']) {
        for (const type of ['text/plain', 'application/json', 'application/octet-stream', undefined]) {
          const r = await post(`${urlOf(scheme)}${path}`, type);
          assert.equal(r.status, 415, `${path} ${type ?? '(no Content-Type)'}`);
          assert.match(r.body.toString(), /application\/ocsp-request \(RFC 6960 A\.1\.1\)/);
        }
        for (const type of [
          'application/ocsp-request',
          'Application/OCSP-Request',
          'application/ocsp-request; charset=binary',
        ]) {
          const r = await post(`${urlOf(scheme)}${path}`, type);
          assert.equal(r.status, 200, `${path} ${type}`);
          assert.equal(parseOcspResponse(r.body).responses[0]!.status.status, 'good');
        }
      }
    });

    it(`${scheme}: a wrongly typed upload announced with Expect is 415 at once, with no 100`, async () => {
      const c = connect(scheme);
      try {
        c.write(postHead(ocspReq.length, 'Expect: 100-continue\r\n').replace('application/ocsp-request', 'text/plain'));
        assert.equal((await c.next()).status, 415);
        await c.closedWithin(5000);
      } finally {
        c.close();
      }
    });
  }
});

/** The port of `s`'s listener for `scheme`. */
const portOf = (s: RunningServer, scheme: Scheme) => Number(new URL(scheme === 'http' ? s.httpUrl : s.httpsUrl!).port);

/** Sends `bytes` one at a time every `everyMs` until they are all sent or the connection closes. */
function dribble(c: RawConnection, bytes: string, everyMs = 100): void {
  let i = 0;
  const timer = setInterval(() => {
    if (c.ended || i >= bytes.length) return clearInterval(timer);
    c.write(bytes[i++]!);
  }, everyMs);
}

/** Asserts `c` was closed by the server no sooner than `limitMs` after `since` and within SLACK_MS after it. */
async function closedAtTimeout(c: RawConnection, since: number, limitMs: number, what: string): Promise<void> {
  await c.closedWithin(limitMs + SLACK_MS, what);
  const took = c.closedAt! - since;
  assert.ok(took >= limitMs - 50, `${what}: closed after ${Math.round(took)} ms, before its ${limitMs} ms timeout`);
}

/** A GET for sub1 on `s` over `scheme` (curl, certificate not checked): its OCSP cert status. */
async function validAnswer(s: RunningServer, scheme: Scheme): Promise<string> {
  const out = f.path(`valid-${scheme}-${Math.random().toString(36).slice(2)}.der`);
  const r = await runAsync('curl', [
    '-sS',
    '-k',
    '-o',
    out,
    '-w',
    '%{http_code}',
    `${scheme}://127.0.0.1:${portOf(s, scheme)}/ocsp/${ocspReq.toString('base64url')}`,
  ]);
  assert.equal(r.stdout, '200', r.stderr);
  return parseOcspResponse(readFileSync(out)).responses[0]!.status.status;
}

describe('slow clients: header, body and idle timeouts (408, then closed); valid clients still answered', () => {
  for (const scheme of SCHEMES) {
    it(`${scheme}: request heads sent a byte at a time are cut off at the headers timeout while valid clients are answered`, async () => {
      const since = performance.now();
      // An OCSP POST (held by the fast path on HTTP) and a HEAD of the Repository (the HTTP server's).
      const heads = [
        'POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n',
        'HEAD / HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n',
      ];
      const conns = Array.from(
        { length: 20 },
        (_, i) => new RawConnection(portOf(slow, scheme), { tls: scheme === 'https', localAddress: OTHER_CLIENT }),
      );
      try {
        conns.forEach((c, i) => dribble(c, heads[i % 2]!));
        assert.equal(await validAnswer(slow, scheme), 'good', 'a valid client meanwhile');
        for (const c of conns) await closedAtTimeout(c, since, LIMITS.headersTimeoutMs, 'a head sent a byte at a time');
        for (const c of conns)
          assert.match(c.unread.toString('latin1'), /^(HTTP\/1\.1 408 Request Timeout\r\n|$)/, 'a 408 or nothing');
        assert.equal(await validAnswer(slow, scheme), 'good', 'a valid client afterwards');
      } finally {
        for (const c of conns) c.close();
      }
    });

    it(`${scheme}: a body sent a byte at a time is cut off at the request timeout, not the headers timeout`, async () => {
      const c = new RawConnection(portOf(slow, scheme), { tls: scheme === 'https', localAddress: OTHER_CLIENT });
      try {
        const since = performance.now();
        c.write(postHead(300));
        dribble(c, 'x'.repeat(300));
        await closedAtTimeout(c, since, LIMITS.requestTimeoutMs, 'a body sent a byte at a time');
      } finally {
        c.close();
      }
    });

    it(`${scheme}: an idle keep-alive connection is closed at the idle timeout; a silent one too`, async () => {
      const idle = new RawConnection(portOf(slow, scheme), { tls: scheme === 'https' });
      // Plain TCP, no TLS handshake on the HTTPS port: the handshake is due within the headers timeout.
      const silent = new RawConnection(portOf(slow, scheme));
      try {
        const since = performance.now();
        idle.write(`GET /ocsp/${ocspReq.toString('base64url')} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.equal((await idle.next()).status, 200);
        const answeredAt = performance.now();
        await closedAtTimeout(idle, answeredAt, LIMITS.idleTimeoutMs, 'an idle keep-alive connection');
        await closedAtTimeout(
          silent,
          since,
          Math.min(LIMITS.headersTimeoutMs, LIMITS.idleTimeoutMs),
          'a connection that never sends',
        );
      } finally {
        idle.close();
        silent.close();
      }
    });
  }
});

describe('a cap on open connections per client address', () => {
  for (const scheme of SCHEMES) {
    it(`${scheme}: connections over the cap from one address are closed at once; those within it and other addresses are answered`, async () => {
      const port = portOf(capped, scheme);
      const open = (localAddress = OTHER_CLIENT) => new RawConnection(port, { tls: scheme === 'https', localAddress });
      const refusedBefore = await refusedCount();
      const within = Array.from({ length: CAP }, () => open());
      const over: RawConnection[] = [];
      try {
        await Promise.all(
          within.map(
            (c) => new Promise((resolve) => c.socket.once(scheme === 'https' ? 'secureConnect' : 'connect', resolve)),
          ),
        );
        over.push(...Array.from({ length: 3 }, () => open()));
        for (const c of over) await c.closedWithin(SLACK_MS, 'a connection over the cap is closed at once');
        assert.ok(
          within.every((c) => !c.ended),
          'the connections within the cap stay open',
        );
        within[0]!.write(`GET /ocsp/${ocspReq.toString('base64url')} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.equal((await within[0]!.next()).status, 200, 'a connection within the cap is answered');
        assert.equal(await validAnswer(capped, scheme), 'good', 'another address is answered');
        assert.equal((await refusedCount()) - refusedBefore, 3, 'rootca_connections_refused_total counts them');
        // A connection given up makes room for another from the same address.
        within.shift()!.close();
        const again = await waitFor('a new connection from the capped address once one closed', async () => {
          const c = open();
          c.write(`GET /ocsp/${ocspReq.toString('base64url')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
          const r = await c.next().catch(() => undefined);
          c.close();
          return r?.status;
        });
        assert.equal(again, 200);
      } finally {
        for (const c of [...within, ...over]) c.close();
      }
    });
  }
});

async function refusedCount(): Promise<number> {
  const text = await (await fetch(`${capped.httpUrl}/metrics`)).text();
  return Number(/^rootca_connections_refused_total (\d+)$/m.exec(text)?.[1] ?? NaN);
}
