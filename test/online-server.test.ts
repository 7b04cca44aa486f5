/**
 * the Repository and OCSP server against real peers. `openssl ocsp` is the
 * client (POST, and GET through curl), SHA-1 and SHA-256 CertIDs, pre-signed responses and a
 * delegated responder (with and without a nonce), a newer publication picked up by polling,
 * garbage that must never crash it, and the access log chain (CPS 5.5.1).
 */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { derTlv } from '../src/pki/der.ts';
import {
  certIdOf,
  certIdsFor,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  parseOcspResponse,
  Request,
  TBSRequest,
} from '../src/pki/ocsp.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { verifyAccessLogChain } from '../src/server/access-log.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { storyTests, waitFor } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';

let f: OnlineFixture;
let store: SqliteOnlineStore;
let presigned: RunningServer; // pre-signed responses only
let delegated: RunningServer; // with a delegated responder for rsaroot
const REVOKED_AT = new Date('2026-01-02T03:04:05Z');
const SUB2 = '9b22c0de0002';

async function ocsp(args: string[]): Promise<{ status: number; out: string; stdout: string }> {
  const r = await runAsync('openssl', ['ocsp', ...args], { cwd: f.dir });
  return { status: r.status, out: r.stdout + r.stderr, stdout: r.stdout };
}

function ocspUrl(s: RunningServer): string {
  return `${s.httpUrl}/ocsp`;
}

async function post(
  url: string,
  body: Uint8Array,
  type = 'application/ocsp-request',
): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const r = await fetch(url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': type } });
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), headers: r.headers };
}

function request(certIds: Parameters<typeof certIdOf>[0][], nonce?: Buffer): Buffer {
  const tbs = new TBSRequest({ requestList: certIds.map((id) => new Request({ reqCert: certIdOf(id) })) });
  if (nonce)
    tbs.requestExtensions = [
      new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(derTlv(0x04, nonce)) }),
    ];
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

before(async () => {
  f = new OnlineFixture();
  store = new SqliteOnlineStore(f.path('online.db'));
  store.importPublication(await f.publication({ version: 1 }), [f.rsa.der, f.ec.der]);
  presigned = await startServer({ store, port: 0, logDir: f.path('log-a'), pollMs: 100 });
  delegated = await startServer({
    store,
    port: 0,
    pollMs: 100,
    responders: [
      {
        certificate: readFileSync(f.responder.cert),
        key: readFileSync(f.responder.key),
        passphrase: f.responder.passphrase,
      },
    ],
  });
});

after(async () => {
  await presigned?.close();
  await delegated?.close();
  store?.close();
});

describe('R-2.3 OCSP over HTTP POST (openssl ocsp -url)', () => {
  it('good, pre-signed, SHA-1 CertID: Response verify OK (RSA root)', async () => {
    const r = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-url',
      ocspUrl(presigned),
      '-CAfile',
      f.rsa.pem,
      '-resp_text',
    ]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Response verify OK/);
    assert.match(r.stdout, /sub1\.pem: good/);
    assert.match(r.stdout, /Hash Algorithm: sha1/);
    assert.match(r.out, /WARNING: no nonce in response/, 'pre-signed responses ignore the nonce (RFC 5019)');
  });

  it('good, SHA-256 CertID (-sha256), ECDSA P-384 root', async () => {
    const r = await ocsp([
      '-issuer',
      f.ec.pem,
      '-sha256',
      '-cert',
      f.cert('ecsub').pem,
      '-url',
      ocspUrl(presigned),
      '-CAfile',
      f.ec.pem,
      '-no_nonce',
      '-resp_text',
    ]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Response verify OK/);
    assert.match(r.stdout, /ecsub\.pem: good/);
    assert.match(r.stdout, /Hash Algorithm: sha256/);
  });

  it('POST to / answers as well', async () => {
    const r = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub2').pem,
      '-url',
      `${presigned.httpUrl}/`,
      '-CAfile',
      f.rsa.pem,
      '-no_nonce',
    ]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.stdout, /sub2\.pem: good/);
  });

  it('a serial the CA never issued: unauthorized without a responder, unknown (signed live) with one; never good', async () => {
    const a = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-serial',
      '0x0123456789',
      '-url',
      ocspUrl(presigned),
      '-CAfile',
      f.rsa.pem,
      '-no_nonce',
    ]);
    assert.match(a.out, /Responder Error: unauthorized \(6\)/);
    const b = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-sha256',
      '-serial',
      '0x0123456789',
      '-url',
      ocspUrl(delegated),
      '-CAfile',
      f.rsa.pem,
      '-no_nonce',
    ]);
    assert.equal(b.status, 0, b.out);
    assert.match(b.out, /Response verify OK/);
    assert.match(b.stdout, /0x0123456789: unknown/);
    // No responder for the EC root, and an issuer nobody publishes: unauthorized.
    assert.match(
      (await ocsp(['-issuer', f.ec.pem, '-serial', '0x01', '-url', ocspUrl(delegated), '-no_nonce', '-noverify'])).out,
      /unauthorized \(6\)/,
    );
    assert.match(
      (
        await ocsp([
          '-issuer',
          f.stranger.pem,
          '-serial',
          '0x7a11c0de0001',
          '-url',
          ocspUrl(delegated),
          '-no_nonce',
          '-noverify',
        ])
      ).out,
      /unauthorized \(6\)/,
    );
  });

  it('delegated responder: with a nonce it signs live and echoes the nonce; -no_nonce gets the pre-signed response', async () => {
    const live = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-url',
      ocspUrl(delegated),
      '-CAfile',
      f.rsa.pem,
      '-respout',
      'live.der',
      '-resp_text',
    ]);
    assert.equal(live.status, 0, live.out);
    assert.match(live.out, /Response verify OK/);
    assert.doesNotMatch(live.out, /WARNING: no nonce|Nonce Verify error/);
    assert.match(live.stdout, /sub1\.pem: good/);
    const p = parseOcspResponse(readFileSync(f.path('live.der')));
    assert.deepEqual(p.certs, [f.responder.info.der], 'the responder certificate is included');
    assert.ok(p.nonce && p.nonce.length === 16);
    const pre = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-url',
      ocspUrl(delegated),
      '-CAfile',
      f.rsa.pem,
      '-no_nonce',
      '-respout',
      'pre.der',
    ]);
    assert.equal(pre.status, 0, pre.out);
    assert.match(pre.out, /Response verify OK/);
    const q = parseOcspResponse(readFileSync(f.path('pre.der')));
    // Pre-signed offline by the root's delegated responder key (issue 15.1), never by the root key.
    const offline = f.delegated.get('rsaroot')!.ocsp;
    assert.deepEqual(q.certs, [offline.der]);
    assert.deepEqual(
      q.responderKeyHash,
      createHash('sha1').update(offline.info.publicKey).digest(),
      "signed offline by the root's responder key",
    );
  });

  it('RFC 8954: a nonce of 32 octets is echoed; 33 octets is malformedRequest', async () => {
    const [id] = certIdsFor(f.rsa.der, '7a11c0de0001');
    const ok = await post(ocspUrl(delegated), request([id!], Buffer.alloc(32, 7)));
    assert.deepEqual(parseOcspResponse(ok.body).nonce, Buffer.alloc(32, 7));
    assert.equal(ok.headers.get('cache-control'), 'no-store', 'a response to a nonce is not for caches');
    const bad = await post(ocspUrl(delegated), request([id!], Buffer.alloc(33, 7)));
    assert.equal(bad.status, 200);
    assert.equal(parseOcspResponse(bad.body).status, 'malformedRequest');
  });

  it('two CertIDs: one live response from the delegated responder; malformedRequest when only pre-signed ones exist (RFC 5019 2.1.1)', async () => {
    const args = [
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-cert',
      f.cert('sub2').pem,
      '-no_nonce',
      '-CAfile',
      f.rsa.pem,
    ];
    const b = await ocsp([...args, '-url', ocspUrl(delegated)]);
    assert.equal(b.status, 0, b.out);
    assert.match(b.stdout, /sub1\.pem: good/);
    assert.match(b.stdout, /sub2\.pem: good/);
    assert.match((await ocsp([...args, '-url', ocspUrl(presigned)])).out, /Responder Error: malformedrequest \(1\)/);
  });
});

describe('R-2.3 OCSP over HTTP GET (RFC 6960 A.1, RFC 5019 caching)', () => {
  let reqB64: string;
  before(async () => {
    await ocsp(['-issuer', f.rsa.pem, '-cert', f.cert('sub1').pem, '-no_nonce', '-reqout', 'get-req.der']);
    reqB64 = readFileSync(f.path('get-req.der')).toString('base64');
  });

  for (const [name, enc] of [
    ['url-safe base64', (b: string) => b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
    ['standard base64, URL-encoded', encodeURIComponent],
  ] as const) {
    it(`${name}: curl fetches, openssl ocsp -respin verifies; caching headers match thisUpdate/nextUpdate`, async () => {
      const url = `${ocspUrl(presigned)}/${enc(reqB64)}`;
      const r = await runAsync('curl', ['-sS', '-D', f.path('get-headers.txt'), '-o', f.path('get-resp.der'), url]);
      assert.equal(r.status, 0, r.stderr);
      const v = await ocsp([
        '-respin',
        'get-resp.der',
        '-issuer',
        f.rsa.pem,
        '-cert',
        f.cert('sub1').pem,
        '-CAfile',
        f.rsa.pem,
        '-no_nonce',
      ]);
      assert.equal(v.status, 0, v.out);
      assert.match(v.out, /Response verify OK/);
      assert.match(v.stdout, /sub1\.pem: good/);
      const headers = readFileSync(f.path('get-headers.txt'), 'utf8').toLowerCase();
      const single = parseOcspResponse(readFileSync(f.path('get-resp.der'))).responses[0]!;
      assert.match(headers, /^content-type: application\/ocsp-response\r$/m);
      const maxAge = Number(/cache-control: max-age=(\d+), public, no-transform, must-revalidate/.exec(headers)?.[1]);
      const expected = (single.nextUpdate!.getTime() - Date.now()) / 1000;
      assert.ok(Math.abs(maxAge - expected) < 10, `max-age ${maxAge} ~ nextUpdate - now ${expected}`);
      assert.match(headers, new RegExp(`^last-modified: ${single.thisUpdate.toUTCString().toLowerCase()}\\r$`, 'm'));
      assert.match(headers, new RegExp(`^expires: ${single.nextUpdate!.toUTCString().toLowerCase()}\\r$`, 'm'));
      assert.match(headers, /^etag: "[0-9a-f]{64}"\r$/m);
    });
  }

  it('If-None-Match with the ETag: 304', async () => {
    const url = `${ocspUrl(presigned)}/${encodeURIComponent(reqB64)}`;
    const first = await fetch(url);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });
});

describe('R-2.3 robustness: garbage never crashes the responder', () => {
  it('200 random and truncated requests: each malformedRequest (HTTP 200) or 4xx; the server still answers', async () => {
    await ocsp(['-issuer', f.rsa.pem, '-cert', f.cert('sub1').pem, '-no_nonce', '-reqout', 'fuzz-req.der']);
    const valid = readFileSync(f.path('fuzz-req.der'));
    const inputs: Buffer[] = [];
    for (let n = 0; n < valid.length; n++) inputs.push(valid.subarray(0, n));
    while (inputs.length < 200) {
      const r = randomBytes(1 + Math.floor(Math.random() * 300));
      if (inputs.length % 3 === 0) r[0] = 0x30; // looks like a SEQUENCE
      inputs.push(r);
    }
    const bad: string[] = [];
    for (let i = 0; i < inputs.length; i += 25) {
      await Promise.all(
        inputs.slice(i, i + 25).map(async (body, j) => {
          const r = await post(
            ocspUrl(presigned),
            body,
            j % 5 === 0 ? 'application/octet-stream' : 'application/ocsp-request',
          );
          if (r.status === 200 && parseOcspResponse(r.body).status === 'malformedRequest') return;
          if (r.status >= 400 && r.status < 500) return;
          bad.push(`#${i + j} (${body.length} bytes ${body.subarray(0, 8).toString('hex')}): HTTP ${r.status}`);
        }),
      );
    }
    // GET with garbage in the URL, too.
    for (const junk of [
      '!!!',
      'AAAA',
      '%zz',
      randomBytes(40).toString('base64url'),
      'MEUwQzBBMD8wPTAJBgUrDgMCGgUABBQ',
    ]) {
      const r = await fetch(`${ocspUrl(presigned)}/${junk}`);
      const body = Buffer.from(await r.arrayBuffer());
      if (
        !(r.status === 200 && parseOcspResponse(body).status === 'malformedRequest') &&
        !(r.status >= 400 && r.status < 500)
      )
        bad.push(`GET ${junk}: HTTP ${r.status}`);
    }
    assert.deepEqual(bad, []);
    const after = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-url',
      ocspUrl(presigned),
      '-CAfile',
      f.rsa.pem,
      '-no_nonce',
    ]);
    assert.match(after.stdout, /sub1\.pem: good/);
  });

  it('a body over 10 KiB is HTTP 413, a 2 MiB one too, and the server goes on', async () => {
    assert.equal((await post(ocspUrl(presigned), randomBytes(10 * 1024 + 1))).status, 413);
    const big = await runAsync('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--data-binary',
      `@${f.write('big.bin', randomBytes(2 * 1024 * 1024))}`,
      '-H',
      'content-type: application/ocsp-request',
      ocspUrl(presigned),
    ]);
    assert.equal(big.stdout, '413');
    assert.equal((await fetch(`${presigned.httpUrl}/healthz`)).status, 200);
  });
});

/** The publications the server switches between: the Repository files test counts on the switch to version 2. */
const story = storyTests();

describe('R-2.4 switching publications', () => {
  story(
    'a newer publication imported into the store is picked up by polling: revoked with reason and time',
    async () => {
      store.importPublication(
        await f.publication({ version: 2, revoked: { [SUB2]: { at: REVOKED_AT, reason: 'keyCompromise' } } }),
      );
      await waitFor(
        'both servers switch to version 2',
        () => presigned.current()!.version === 2 && delegated.current()!.version === 2,
        { timeoutMs: 5000 },
      );
      for (const s of [presigned, delegated]) {
        const r = await ocsp([
          '-issuer',
          f.rsa.pem,
          '-cert',
          f.cert('sub2').pem,
          '-url',
          ocspUrl(s),
          '-CAfile',
          f.rsa.pem,
          '-no_nonce',
        ]);
        assert.equal(r.status, 0, r.out);
        assert.match(r.out, /Response verify OK/);
        assert.match(
          r.stdout,
          /sub2\.pem: revoked\n(.*\n)*?\s*Reason: keyCompromise\n\s*Revocation Time: Jan {2}2 03:04:05 2026 GMT/,
        );
      }
      // Live answers (nonce) take the status from the publication's certificate meta.
      const live = await ocsp([
        '-issuer',
        f.rsa.pem,
        '-cert',
        f.cert('sub2').pem,
        '-url',
        ocspUrl(delegated),
        '-CAfile',
        f.rsa.pem,
      ]);
      assert.match(live.stdout, /sub2\.pem: revoked\n(.*\n)*?\s*Reason: keyCompromise/);
      assert.doesNotMatch(live.out, /WARNING: no nonce/);
    },
  );

  story('a tampered publication is refused at import; the servers keep serving the version they served', async () => {
    const served = presigned.current()!.version;
    const sub2Before = (
      await ocsp([
        '-issuer',
        f.rsa.pem,
        '-cert',
        f.cert('sub2').pem,
        '-url',
        ocspUrl(presigned),
        '-CAfile',
        f.rsa.pem,
        '-no_nonce',
      ])
    ).stdout;
    const v3 = await f.publication({ version: 3 }); // would un-revoke sub2 if accepted
    const file = JSON.parse(v3.toString()) as { files: Record<string, string> };
    const crl = Buffer.from(file.files['crl/rsaroot.crl']!, 'base64');
    crl[crl.length - 3] ^= 1;
    file.files['crl/rsaroot.crl'] = crl.toString('base64');
    assert.throws(() => store.importPublication(Buffer.from(JSON.stringify(file))), /item crl\/rsaroot\.crl SHA-256/);
    assert.equal(presigned.pollNow(), false);
    assert.equal(presigned.current()!.version, served);
    const r = await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub2').pem,
      '-url',
      ocspUrl(presigned),
      '-CAfile',
      f.rsa.pem,
      '-no_nonce',
    ]);
    assert.equal(
      r.stdout.replace(/\s+(This|Next) Update: .*/g, ''),
      sub2Before.replace(/\s+(This|Next) Update: .*/g, ''),
      'sub2 answered as before',
    );
  });
});

describe('R-2.1 Repository files', () => {
  story(
    'certificates, CRLs, issued certificates and documents with their media types and caching headers',
    async () => {
      const get = async (p: string, headers: Record<string, string> = {}) => {
        const r = await fetch(`${presigned.httpUrl}${p}`, { headers });
        return {
          status: r.status,
          type: r.headers.get('content-type'),
          etag: r.headers.get('etag'),
          cache: r.headers.get('cache-control'),
          body: Buffer.from(await r.arrayBuffer()),
        };
      };
      const crt = await get('/certs/rsaroot.crt');
      assert.equal(crt.type, 'application/pkix-cert');
      assert.deepEqual(crt.body, f.rsa.der);
      assert.equal(crt.cache, 'public, max-age=86400');
      assert.equal((await get('/certs/rsaroot.crt', { 'if-none-match': crt.etag! })).status, 304);
      const pem = await get('/certs/ecroot.pem');
      assert.equal(pem.body.toString(), readFileSync(f.ec.pem, 'utf8'));
      const crl = await get('/crl/rsaroot.crl');
      assert.equal(crl.type, 'application/pkix-crl');
      assert.match(crl.cache!, /^public, max-age=\d+, must-revalidate$/);
      writeFileSync(f.path('got.crl'), crl.body);
      const v = await runAsync('openssl', [
        'crl',
        '-inform',
        'DER',
        '-in',
        f.path('got.crl'),
        '-CAfile',
        f.rsa.pem,
        '-verify',
        '-noout',
        '-text',
      ]);
      assert.match(v.stdout + v.stderr, /verify OK/);
      assert.match(v.stdout, /Serial Number: 9B22C0DE0002/);
      const issued = await get('/issued/rsaroot/9b22c0de0002.crt');
      assert.deepEqual(issued.body, f.cert('sub2').der);
      assert.deepEqual(
        (await get('/issued/rsaroot/0x009B22C0DE0002.crt')).body,
        f.cert('sub2').der,
        'any spelling of the serial',
      );
      const doc = await get('/docs/cps-v5.12.md');
      assert.equal(doc.type, 'text/markdown; charset=utf-8');
      assert.match(doc.body.toString(), /Version 5\.12/);
      assert.equal((await get('/nothing-here')).status, 404);
      assert.equal((await get('/certs/nobody.pem')).status, 404);
    },
  );
});

describe('operations: /healthz, /metrics, the OCSP access log', () => {
  it('/healthz says ready with the version; an empty store is 503 and OCSP says tryLater', async () => {
    const h = (await (await fetch(`${presigned.httpUrl}/healthz`)).json()) as {
      status: string;
      version: number;
      createdAt: string;
      problems: string[];
    };
    assert.equal(h.status, 'ready');
    assert.equal(h.version, presigned.current()!.version);
    assert.equal(h.createdAt, presigned.current()!.publication.manifest.createdAt);
    assert.deepEqual(h.problems, []);
    const empty = await startServer({ store: `sqlite:${f.path('empty.db')}`, port: 0 });
    try {
      const r = await fetch(`${empty.httpUrl}/healthz`);
      assert.equal(r.status, 503);
      assert.equal(((await r.json()) as { status: string }).status, 'unavailable');
      const [id] = certIdsFor(f.rsa.der, '01');
      assert.equal(parseOcspResponse((await post(`${empty.httpUrl}/ocsp`, request([id!]))).body).status, 'tryLater');
      assert.equal((await fetch(`${empty.httpUrl}/`)).status, 503);
    } finally {
      await empty.close();
    }
  });

  it('pre-signed responses past their nextUpdate: /healthz says degraded; the delegated responder answers live instead, tryLater without one', async () => {
    const old = new SqliteOnlineStore(f.path('stale.db'));
    old.importPublication(
      await f.publication({ version: 1, createdAt: new Date(Date.now() - 3 * 86_400_000), ocspValidityMs: 86_400_000 }),
      [f.rsa.der, f.ec.der],
    );
    const s = await startServer({
      store: old,
      port: 0,
      responders: [
        {
          certificate: readFileSync(f.responder.cert),
          key: readFileSync(f.responder.key),
          passphrase: f.responder.passphrase,
        },
      ],
    });
    try {
      const h = (await (await fetch(`${s.httpUrl}/healthz`)).json()) as { status: string; problems: string[] };
      assert.equal(h.status, 'degraded');
      assert.equal(h.problems.length, 2);
      assert.match(
        h.problems[0]!,
        /^6 pre-signed OCSP response\(s\) of rsaroot are past their nextUpdate .*answered live/,
      );
      assert.match(h.problems[1]!, /^2 pre-signed OCSP response\(s\) of ecroot are past their nextUpdate .*tryLater/);
      const r = await ocsp([
        '-issuer',
        f.rsa.pem,
        '-cert',
        f.cert('sub1').pem,
        '-url',
        ocspUrl(s),
        '-CAfile',
        f.rsa.pem,
        '-no_nonce',
        '-respout',
        'stale-live.der',
      ]);
      assert.equal(r.status, 0, r.out);
      assert.doesNotMatch(r.out, /Status times invalid/);
      assert.deepEqual(
        parseOcspResponse(readFileSync(f.path('stale-live.der'))).certs,
        [f.responder.info.der],
        'signed live by the responder',
      );
      // Without a responder the stale pre-signed response is never served: tryLater (RFC 6960 2.3).
      const e = await ocsp([
        '-issuer',
        f.ec.pem,
        '-cert',
        f.cert('ecsub').pem,
        '-url',
        ocspUrl(s),
        '-CAfile',
        f.ec.pem,
        '-no_nonce',
      ]);
      assert.match(e.out, /Responder Error: trylater \(3\)/);
      assert.doesNotMatch(e.out, /Status times invalid/);
    } finally {
      await s.close();
      old.close();
    }
  });

  it('/metrics: requests by route and status, OCSP responses by status and source, latency histogram, version', async () => {
    // This test's own requests: a good pre-signed answer, a body over the limit, a malformed one, an unknown serial answered live.
    const [id] = certIdsFor(f.rsa.der, '7a11c0de0001');
    assert.equal((await post(ocspUrl(presigned), request([id!]))).status, 200);
    assert.equal((await post(ocspUrl(presigned), randomBytes(10 * 1024 + 1))).status, 413);
    await post(ocspUrl(presigned), Buffer.from('not DER'));
    await post(ocspUrl(delegated), request([certIdsFor(f.rsa.der, '0123456789')[0]!]));
    const text = await (await fetch(`${presigned.httpUrl}/metrics`)).text();
    assert.match(text, /rootca_http_requests_total\{route="\/ocsp",method="POST",status="200"\} \d+/);
    assert.match(text, /rootca_http_requests_total\{route="\/ocsp",method="POST",status="413"\} [1-9]/);
    assert.match(text, /rootca_ocsp_responses_total\{cert_status="good",source="presigned"\} [1-9]/);
    assert.match(text, /rootca_ocsp_responses_total\{cert_status="malformedRequest",source="error"\} [1-9]/);
    assert.match(text, /rootca_http_request_duration_seconds_bucket\{le="0.005",route="\/ocsp"\} \d+/);
    assert.match(text, new RegExp(`rootca_publication_version ${presigned.current()!.version}\\b`));
    const live = await (await fetch(`${delegated.httpUrl}/metrics`)).text();
    assert.match(live, /rootca_ocsp_responses_total\{cert_status="unknown",source="live"\} [1-9]/);
  });

  it('segments are closed, gzip-compressed, SHA-256 chained and recorded; tampering is found', async () => {
    const dir = f.path('log-a');
    // Requests of this test's own (the segment also holds whatever other tests sent before).
    await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-url',
      ocspUrl(presigned),
      '-no_nonce',
      '-noverify',
    ]);
    await post(ocspUrl(presigned), Buffer.from('not DER'));
    const [id] = certIdsFor(f.rsa.der, '7a11c0de0001');
    await (await fetch(`${ocspUrl(presigned)}/${request([id!]).toString('base64url')}`)).arrayBuffer();
    const first = await presigned.closeSegmentNow();
    assert.ok(first && first.lines >= 3, `a segment with every request so far (${first?.lines})`);
    await ocsp([
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-url',
      ocspUrl(presigned),
      '-no_nonce',
      '-noverify',
    ]);
    const second = await presigned.closeSegmentNow();
    assert.equal(second!.lines, 1);
    assert.equal(second!.prevSha256, first.sha256);
    const records = store.accessLogSegments();
    assert.deepEqual(
      records.slice(-2).map((r) => r.name),
      [first.name, second!.name],
    );
    assert.deepEqual(verifyAccessLogChain(dir, records), []);
    assert.deepEqual(
      readdirSync(dir).filter((n) => !n.endsWith('.log.gz')),
      [],
      'only closed, compressed segments remain',
    );
    const lines = gunzipSync(readFileSync(join(dir, second!.name)))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].r, 'good');
    assert.equal(lines[0].src, 'presigned');
    assert.equal(lines[0].ca, 'rsaroot');
    assert.deepEqual(lines[0].sn, ['7a11c0de0001']);
    assert.equal(lines[0].v, presigned.current()!.version);
    const all = gunzipSync(readFileSync(join(dir, first.name)))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(all.some((l) => l.r === 'malformedRequest'));
    assert.ok(all.some((l) => l.m === 'GET'));
    // Tampering with a closed segment breaks the chain check.
    const gz = readFileSync(join(dir, first.name));
    gz[gz.length - 5] ^= 1;
    writeFileSync(join(dir, first.name), gz);
    assert.match(
      verifyAccessLogChain(dir, records).join('\n'),
      new RegExp(`${first.name.replace(/\./g, '\\.')}: SHA-256 [0-9a-f]+ does not match the record`),
    );
    assert.ok(!existsSync(join(dir, first.name.replace(/\.gz$/, ''))));
  });
});
