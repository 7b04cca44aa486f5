/**
 * The online server under odd clients, on both listeners: HTTP (where the OCSP fast path sits
 * in front of fastify) and HTTPS (fastify alone). An upload announced with
 * `Expect: 100-continue` that will be refused is answered with its final status and no 100
 * (RFC 9110 10.1.1); one that will be read gets its 100 first. curl and raw sockets are the
 * clients.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { certIdOf, certIdsFor, OCSPRequest, parseOcspResponse, Request, TBSRequest } from '../src/pki/ocsp.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { AsnConvert } from '@peculiar/asn1-schema';
import { openssl } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import { RawConnection } from './online-raw-http.ts';

let f: OnlineFixture;
let store: SqliteOnlineStore;
let server: RunningServer;
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
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key', '-out', 'tls.pem', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2'], { cwd: f.dir });
  server = await startServer({ store, port: 0, pollMs: 60_000, tls: { cert: readFileSync(f.path('tls.pem')), key: readFileSync(f.path('tls.key')), port: 0 } });
  const id = certIdsFor(f.rsa.der, f.cert('sub1').serialHex)[0]!;
  ocspReq = Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certIdOf(id) })] }) })));
});

after(async () => {
  await server?.close();
  store?.close();
});

describe('RFC 9110 10.1.1 Expect: 100-continue', () => {
  for (const scheme of SCHEMES) {
    it(`${scheme}: raw socket, a body over the limit announced with Expect is 413 at once (no 100), and the server closes`, async () => {
      const c = connect(scheme);
      try {
        c.write(postHead(TOO_BIG, 'Expect: 100-continue\r\n'));
        const r = await c.next();
        assert.equal(r.status, 413, `the first response is the final one: ${r.raw.toString('latin1').split('\r\n')[0]}`);
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
      const refused = await runAsync('curl', ['-sS', '-v', ...tls, '-o', '/dev/null', '-w', '%{http_code}', '--data-binary', `@${big}`, '-H', 'content-type: application/ocsp-request', `${urlOf(scheme)}/ocsp`]);
      assert.equal(refused.stdout, '413', refused.stderr);
      assert.match(refused.stderr, /^> Expect: 100-continue\r?$/m, 'curl announced the upload');
      assert.doesNotMatch(refused.stderr, /^< HTTP\/1\.1 100/m, 'no 100 Continue');
      const small = f.write('req.der', ocspReq);
      const answered = await runAsync('curl', ['-sS', '-v', ...tls, '-o', f.path(`resp-${scheme}.der`), '-w', '%{http_code}', '--data-binary', `@${small}`, '-H', 'content-type: application/ocsp-request', '-H', 'Expect: 100-continue', `${urlOf(scheme)}/ocsp`]);
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
    const r = await runAsync('curl', ['-sS', '-k', '-o', out, '-w', '%{http_code}', '--data-binary', `@${f.write('typed-req.der', ocspReq)}`, '-H', `content-type:${type ? ` ${type}` : ''}`, url]);
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
        for (const type of ['application/ocsp-request', 'Application/OCSP-Request', 'application/ocsp-request; charset=binary']) {
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
