/**
 * Issue 16 item 4: online events forwarded live to a syslog collector — a real rsyslogd from
 * Debian on 127.0.0.1 with its own config in a temp folder (imtcp; the gtls driver of
 * rsyslog-gnutls for RFC 5425), writing what it parsed to a file. RFC 5424 fields as rsyslog
 * reads them, octet-counted framing (RFC 6587), a collector that is away (bounded queue,
 * dropped count, reconnect), and the server wiring (`startServer({ syslog })`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../src/server/app.ts';
import { openOnlineStore } from '../src/server/online-store.ts';
import { formatSyslog5424, parseSyslogTarget, SyslogForwarder } from '../src/server/syslog-forwarder.ts';
import { parseSyslogLine } from '../src/audit/syslog.ts';
import { OnlineFixture } from './online-fixtures.ts';
import { tempDir, waitFor } from './helpers.ts';

const RSYSLOGD = '/usr/sbin/rsyslogd';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A running rsyslogd writing `app|msgid|structured-data|msg` per message to `out`. */
interface Collector {
  port: number;
  out: string;
  proc: ChildProcess;
  lines(): string[];
  stop(): Promise<void>;
}

async function rsyslogd(dir: string, port: number, tls?: { cert: string; key: string }): Promise<Collector> {
  const out = join(dir, `received-${port}.log`);
  const conf = join(dir, `rsyslog-${port}.conf`);
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}"${tls ? ` DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${tls.cert}" DefaultNetstreamDriverCertFile="${tls.cert}" DefaultNetstreamDriverKeyFile="${tls.key}"` : ''})`,
      tls
        ? 'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")'
        : 'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${port}")`,
      'template(name="fields" type="string" string="%app-name%|%msgid%|%structured-data%|%msg%\\n")',
      `action(type="omfile" file="${out}" template="fields" flushOnTXEnd="on" asyncWriting="off")`,
      '',
    ].join('\n'),
  );
  const proc = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, `rsyslogd-${port}.pid`)], { stdio: 'ignore' });
  const c: Collector = {
    port,
    out,
    proc,
    lines: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []),
    stop: () =>
      new Promise((r) => {
        if (proc.exitCode !== null) return r();
        proc.once('exit', () => r());
        proc.kill('SIGTERM');
      }),
  };
  await waitFor('rsyslogd listens', () => isListening(port), { timeoutMs: 10_000 });
  return c;
}

async function isListening(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((r) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      r(true);
    });
    s.on('error', () => r(false));
  });
}

describe('syslog forwarding (RFC 5424 over TCP and TLS) to a real rsyslogd', () => {
  const dir = tempDir('rootca-syslog-');
  const collectors: Collector[] = [];

  after(async () => {
    for (const c of collectors) await c.stop();
  });

  it('writes RFC 5424 that our own parser and rsyslog read the same way', () => {
    const line = formatSyslog5424({
      facility: 16,
      severity: 5,
      at: new Date('2026-12-02T10:00:00.123Z'),
      hostname: 'ocsp-1',
      app: 'rootca',
      procId: '42',
      msgId: 'import-refused',
      params: { code: 'PUBLICATION_STALE', odd: 'a "quoted" \\ value]' },
      message: 'two\nlines',
    });
    assert.equal(
      line,
      '<133>1 2026-12-02T10:00:00.123Z ocsp-1 rootca 42 import-refused [rootca@32473 code="PUBLICATION_STALE" odd="a \\"quoted\\" \\\\ value\\]"] two lines',
    );
    const p = parseSyslogLine(line)!;
    assert.equal(p.format, 'rfc5424');
    assert.deepEqual(
      [p.facility, p.severity, p.app, p.msgId, p.message],
      [16, 5, 'rootca', 'import-refused', 'two lines'],
    );
    assert.throws(() => parseSyslogTarget('udp://127.0.0.1:514'), /tcp:\/\/HOST:PORT/);
  });

  it('over TCP: each message arrives whole, octet-counted, with its fields', async () => {
    const c = await rsyslogd(dir, await freePort());
    collectors.push(c);
    const fwd = new SyslogForwarder({ target: parseSyslogTarget(`tcp://127.0.0.1:${c.port}`), hostname: 'ocsp-1' });
    fwd.send({ msgId: 'start', severity: 5, message: 'rootca serve started', params: { version: 3 } });
    fwd.send({ msgId: 'import', severity: 5, message: 'line one\nline two', params: { sha256: 'ab'.repeat(32) } });
    fwd.send({ msgId: 'odd', severity: 4, message: 'x', params: { v: 'has ] and " and \\' } });
    await waitFor('rsyslogd wrote 3 messages', () => c.lines().length >= 3, { timeoutMs: 10_000 });
    await fwd.close();
    assert.deepEqual(c.lines(), [
      'rootca|start|[rootca@32473 version="3"]|rootca serve started',
      `rootca|import|[rootca@32473 sha256="${'ab'.repeat(32)}"]|line one line two`,
      'rootca|odd|[rootca@32473 v="has \\] and \\" and \\\\"]|x',
    ]);
    assert.deepEqual(fwd.stats(), { queued: 0, sent: 3, dropped: 0, connected: false });
  });

  it('a collector that is away: send never waits, the queue is bounded, drops are counted, delivery resumes', async () => {
    const port = await freePort();
    const errors: string[] = [];
    const fwd = new SyslogForwarder({
      target: parseSyslogTarget(`tcp://127.0.0.1:${port}`),
      maxQueue: 5,
      minBackoffMs: 50,
      maxBackoffMs: 200,
      onError: (e) => errors.push(e.message),
    });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) fwd.send({ msgId: 'n', severity: 6, message: `event ${i}` });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 50, `20 sends took ${ms} ms`);
    await waitFor('the failed connection is reported', () => errors.length > 0, { timeoutMs: 5000 });
    assert.equal(errors.length, 1, 'one report per outage, not per attempt');
    assert.deepEqual(fwd.stats(), { queued: 5, sent: 0, dropped: 15, connected: false });
    const c = await rsyslogd(dir, port);
    collectors.push(c);
    await waitFor('the queued 5 arrive after the reconnect', () => c.lines().length >= 5, { timeoutMs: 10_000 });
    assert.deepEqual(
      c.lines().map((l) => l.split('|')[3]),
      ['event 15', 'event 16', 'event 17', 'event 18', 'event 19'],
    );
    await fwd.close();
  });

  describe('the server', () => {
    let f: OnlineFixture;
    before(() => {
      f = new OnlineFixture();
    });

    it('forwards its start, each closed access-log segment and its stop; the drop count is a metric', async () => {
      const c = await rsyslogd(dir, await freePort());
      collectors.push(c);
      const store = openOnlineStore(f.path('online.db'));
      store.importPublication(await f.publication({ version: 1 }), [f.rsa.der, f.ec.der]);
      const server = await startServer({
        store,
        port: 0,
        name: 'ocsp-test',
        logDir: f.path('log'),
        syslog: { target: parseSyslogTarget(`tcp://127.0.0.1:${c.port}`) },
      });
      await fetch(`${server.httpUrl}/ocsp/MAMwAQ==`).catch(() => undefined);
      const seg = await server.closeSegmentNow();
      const metrics = await server.metrics.text();
      assert.match(metrics, /rootca_syslog_dropped_total\{responder="ocsp-test"\} 0/);
      await server.close();
      store.close();
      await waitFor('start, segment and stop arrive', () => c.lines().length >= 3, { timeoutMs: 10_000 });
      const [start, segment, stop] = c.lines();
      assert.match(
        start!,
        /^rootca\|start\|\[rootca@32473 httpUrl="http:\/\/127\.0\.0\.1:\d+".* version="1" responder="ocsp-test"\]\|start /,
      );
      assert.ok(seg, 'a segment was closed');
      assert.match(
        segment!,
        new RegExp(
          `^rootca\\|segment\\|\\[rootca@32473 name="${seg.name.replaceAll('.', '\\.')}" sha256="${seg.sha256}"`,
        ),
      );
      assert.match(stop!, /^rootca\|stop\|/);
    });

    it('over TLS (RFC 5425, rsyslog gtls): delivered when the collector chains to --syslog-ca, never otherwise', async () => {
      const tls = f.tlsCertificate();
      const c = await rsyslogd(dir, await freePort(), { cert: tls.certPath, key: tls.keyPath });
      collectors.push(c);
      const good = new SyslogForwarder({ target: parseSyslogTarget(`tls://127.0.0.1:${c.port}`, tls.cert) });
      good.send({ msgId: 'start', severity: 5, message: 'over TLS' });
      await waitFor('the message arrives over TLS', () => c.lines().length >= 1, { timeoutMs: 10_000 });
      assert.deepEqual(c.lines(), ['rootca|start|-|over TLS']);
      await good.close();
      const errors: string[] = [];
      const wrong = new SyslogForwarder({
        target: parseSyslogTarget(`tls://127.0.0.1:${c.port}`, Buffer.from(f.rsa.pem)),
        onError: (e) => errors.push(e.message),
      });
      wrong.send({ msgId: 'start', severity: 5, message: 'must not arrive' });
      await waitFor('the untrusted collector is reported', () => errors.length > 0, { timeoutMs: 5000 });
      assert.match(errors[0]!, /certificate/i);
      await wrong.close(100);
      assert.equal(c.lines().length, 1);
      assert.equal(wrong.stats().sent, 0);
    });
  });
});
