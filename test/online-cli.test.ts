/**
 * The online side's commands as an operator runs them: `rootca online import` (R-2.4) and
 * `rootca serve --workers 2` (node:cluster) answering `openssl ocsp`, with a refused import
 * reported while the previous publication keeps being served, graceful shutdown on SIGTERM
 * closing the access-log segments, and `rootca online verify-log` checking their chain.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, rootca, waitFor } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';
import { RawConnection } from './online-raw-http.ts';

let f: OnlineFixture;
let v1: string;
let v2: string;
let tampered: string;
let db: string;
const children: ChildProcess[] = [];

before(async () => {
  f = new OnlineFixture();
  v1 = f.write('v1.json', await f.publication({ version: 1 }));
  const v2bytes = await f.publication({
    version: 2,
    revoked: { '9b22c0de0002': { at: new Date('2026-01-02T03:04:05Z'), reason: 'superseded' } },
  });
  v2 = f.write('v2.json', v2bytes);
  const file = JSON.parse(v2bytes.toString()) as { signature: string };
  const sig = Buffer.from(file.signature, 'base64');
  sig[sig.length - 1] ^= 0x01;
  file.signature = sig.toString('base64');
  tampered = f.write('v2-tampered.json', JSON.stringify(file));
  db = `sqlite:${f.path('online.db')}`;
  // The store the serve tests start from (the import test uses a store of its own).
  const imported = rootca(['online', 'import', v1, '--store', db, '--trust', f.rsa.pem, '--trust', f.ec.pem]);
  assert.equal(imported.status, 0, imported.stderr);
});

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts `rootca serve …`; resolves with the OCSP URL it prints. */
function serve(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{
  child: ChildProcess;
  ocspUrl: string;
  repositoryUrl: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), 'serve', ...args], {
    env: { ...process.env, ROOTCA_HOME: f.path('home'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`rootca serve printed no URL in 30 s:\n${stdout}\n${stderr}`)),
      30_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const ocspUrl = /^OCSP\s+(http:\/\/\S+)$/m.exec(stdout)?.[1];
      const repositoryUrl = /^Repository\s+(http:\/\/\S+)$/m.exec(stdout)?.[1];
      if (ocspUrl && repositoryUrl && /^Serving publication/m.test(stdout)) {
        clearTimeout(timer);
        resolve({ child, ocspUrl, repositoryUrl, stdout: () => stdout, stderr: () => stderr, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`rootca serve exited ${code} before listening:\n${stdout}\n${stderr}`));
    });
  });
}

describe('rootca online import', () => {
  it('imports a verified publication; refuses a repeat, a tampered one, and a first import without --trust', () => {
    const db = `sqlite:${f.path('import-test.db')}`;
    const none = rootca(['online', 'import', v1, '--store', `sqlite:${f.path('fresh.db')}`]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /--trust FILE on the first import \[TRUST_ANCHOR_MISSING\]/);
    const ok = rootca(['online', 'import', v1, '--store', db, '--trust', f.rsa.pem, '--trust', f.ec.pem]);
    assert.equal(ok.status, 0, ok.stderr);
    // Five certificates: the fixture's four, and the publication certificate of the root that signed the manifest.
    assert.match(
      ok.stdout,
      /^Imported publication version 1 of online-test \(created .*; 2 CA\(s\), 2 CRL\(s\), 5 certificate\(s\), 8 pre-signed OCSP response\(s\), 3 document\(s\)\)$/m,
    );
    const again = rootca(['online', 'import', v1, '--store', db]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /version 1 is not newer than the current 1 \[PUBLICATION_STALE\]/);
    const bad = rootca(['online', 'import', tampered, '--store', db, '--json']);
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /manifest signature \(ecdsa-with-SHA256\) does not verify with the key of rsaroot's signer certificate issued\/rsaroot\/\S+ \[PUBLICATION_INVALID\]/,
    );
  });
});

describe('rootca serve', { timeout: 300_000 }, () => {
  it('refuses to start with nothing to serve', () => {
    const r = rootca(['serve', '--store', `sqlite:${f.path('empty.db')}`, '--port', '0', '--workers', '1']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /holds no publication: import one with --import FILE --trust ROOT\.pem \[NOTHING_TO_SERVE\]/,
    );
  });

  it('connection limits are options: --idle-timeout-ms closes an idle connection; a headers timeout over the request timeout is a usage error', async () => {
    const bad = rootca([
      'serve',
      '--store',
      `sqlite:${f.path('limits.db')}`,
      '--headers-timeout-ms',
      '5000',
      '--request-timeout-ms',
      '1000',
    ]);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--headers-timeout-ms \(5000\) cannot be longer than --request-timeout-ms \(1000\)/);
    const s = await serve([
      '--store',
      `sqlite:${f.path('limits.db')}`,
      '--import',
      v1,
      '--trust',
      f.rsa.pem,
      '--trust',
      f.ec.pem,
      '--port',
      '0',
      '--workers',
      '1',
      '--idle-timeout-ms',
      '700',
      '--log-dir',
      f.path('log-limits'),
    ]);
    const c = new RawConnection(Number(new URL(s.ocspUrl).port));
    try {
      c.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
      const r = await c.next();
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('keep-alive'), 'timeout=0', 'node states the idle timeout in whole seconds');
      const answered = performance.now();
      await c.closedWithin(700 + 5000, 'the idle connection is closed');
      assert.ok(
        c.closedAt! - answered >= 650,
        `closed after ${Math.round(c.closedAt! - answered)} ms, not before the idle timeout`,
      );
    } finally {
      c.close();
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('--workers 1 with a delegated responder (passphrase from env:VAR) and HTTPS; a wrong passphrase is refused', async () => {
    const bad = rootca(
      [
        'serve',
        '--store',
        db,
        '--port',
        '0',
        '--workers',
        '1',
        '--responder-cert',
        f.responder.cert,
        '--responder-key',
        f.responder.key,
        '--responder-key-passphrase',
        'env:ROOTCA_TEST_RESPONDER_PASS',
      ],
      { env: { ROOTCA_TEST_RESPONDER_PASS: 'not the passphrase' } },
    );
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /the responder key cannot be read \(wrong passphrase\?\).*\[RESPONDER_INVALID\]/);
    const plain = rootca([
      'serve',
      '--store',
      db,
      '--responder-cert',
      f.responder.cert,
      '--responder-key',
      f.responder.key,
      '--responder-key-passphrase',
      'hunter2hunter2',
    ]);
    assert.equal(plain.status, 2, 'a passphrase on the command line is a usage error');

    const tls = f.tlsCertificate();
    const s = await serve(
      [
        '--store',
        db,
        '--port',
        '0',
        '--https-port',
        '0',
        '--tls-cert',
        tls.certPath,
        '--tls-key',
        tls.keyPath,
        '--workers',
        '1',
        '--log-dir',
        f.path('log-1'),
        '--responder-cert',
        f.responder.cert,
        '--responder-key',
        f.responder.key,
        '--responder-key-passphrase',
        'env:ROOTCA_TEST_RESPONDER_PASS',
      ],
      { ROOTCA_TEST_RESPONDER_PASS: f.responder.passphrase },
    );
    const r = await runAsync('openssl', [
      'ocsp',
      '-issuer',
      f.rsa.pem,
      '-cert',
      f.cert('sub1').pem,
      '-url',
      s.ocspUrl,
      '-CAfile',
      f.rsa.pem,
      '-resp_text',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Response verify OK/);
    assert.doesNotMatch(r.stderr, /WARNING: no nonce/, 'signed live by the delegated responder, nonce echoed');
    assert.match(r.stdout, /Subject: C ?= ?JP, O ?= ?Example Trust, CN ?= ?Example RSA Root OCSP Responder/);
    const httpsUrl = /^Repository\s+(https:\/\/\S+) \(HTTPS\)$/m.exec(s.stdout())?.[1];
    assert.ok(httpsUrl, 'the HTTPS Repository URL is printed');
    const h = await runAsync('curl', ['-sS', '--cacert', tls.certPath, `${httpsUrl}healthz`]);
    assert.equal((JSON.parse(h.stdout) as { responders: string[] }).responders[0], 'rsaroot');
    s.child.kill('SIGINT');
    assert.equal(await s.exited, 0, s.stderr());
  });

  it('--workers 2: a refused --import is reported, version 1 is served, both workers answer OCSP; SIGTERM closes the log; verify-log passes', async () => {
    const logDir = f.path('ocsp-log');
    const s = await serve([
      '--store',
      db,
      '--port',
      '0',
      '--workers',
      '2',
      '--log-dir',
      logDir,
      '--poll-ms',
      '200',
      '--import',
      tampered,
    ]);
    assert.match(
      s.stderr(),
      /import of .*v2-tampered\.json refused: publication refused: manifest signature .* \[PUBLICATION_INVALID\]/,
    );
    const base = s.repositoryUrl.replace(/\/$/, '');
    for (const [cert, issuer] of [
      ['sub1', f.rsa.pem],
      ['sub2', f.rsa.pem],
      ['ecsub', f.ec.pem],
    ] as const) {
      const r = await runAsync('openssl', [
        'ocsp',
        '-issuer',
        issuer,
        '-cert',
        f.cert(cert).pem,
        '-url',
        s.ocspUrl,
        '-CAfile',
        issuer,
        '-no_nonce',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /Response verify OK/);
      assert.match(r.stdout, new RegExp(`${cert}\\.pem: good`));
    }
    // Each request on a new connection: both workers accept connections.
    const pids = new Set<number>();
    let healthz = 0;
    while (pids.size < 2 && healthz < 40) {
      const h = await runAsync('curl', ['-sS', `${base}/healthz`]);
      healthz++;
      const j = JSON.parse(h.stdout) as { version: number; pid: number; status: string };
      assert.equal(j.version, 1);
      pids.add(j.pid);
    }
    assert.equal(pids.size, 2, 'two worker processes answered');
    // /metrics from any worker counts the whole cluster.
    const metrics = (await runAsync('curl', ['-sS', `${base}/metrics`])).stdout;
    assert.match(
      metrics,
      new RegExp(`rootca_http_requests_total\\{route="/healthz",method="GET",status="200"\\} ${healthz}\\b`),
    );
    assert.match(metrics, /rootca_ocsp_responses_total\{cert_status="good",source="presigned"\} 3\b/);

    // A newer publication imported by another process reaches every worker by polling.
    const imp = rootca(['online', 'import', v2, '--store', db]);
    assert.equal(imp.status, 0, imp.stderr);
    const revoked = await waitFor(
      'version 2 served: sub2 revoked',
      async () => {
        const r = await runAsync('openssl', [
          'ocsp',
          '-issuer',
          f.rsa.pem,
          '-cert',
          f.cert('sub2').pem,
          '-url',
          s.ocspUrl,
          '-CAfile',
          f.rsa.pem,
          '-no_nonce',
        ]);
        return /sub2\.pem: revoked/.test(r.stdout) && r.stdout;
      },
      { timeoutMs: 10_000 },
    );
    assert.match(revoked, /Reason: superseded/);

    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0, s.stderr());
    const files = readdirSync(logDir);
    assert.ok(
      files.length >= 1 && files.every((n) => n.endsWith('.log.gz')),
      `closed segments only: ${files.join(', ')}`,
    );
    const v = rootca(['online', 'verify-log', '--store', db, '--log-dir', logDir, '--log-dir', f.path('log-1')]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^OK: \d segment\(s\), \d+ request\(s\), chain intact$/m);
  });
});
