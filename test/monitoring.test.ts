/**
 * Issue 16 item 3: the monitoring the repository ships (deploy/monitoring/) works with the
 * server it watches. The alerting rules pass `promtool check rules` and their unit tests
 * (`promtool test rules`: silent before the margin, warning from it, critical at expiry); the
 * Grafana dashboard is JSON whose every panel query is valid PromQL (checked by promtool as a
 * recording rule) and names only metrics a real `rootca serve` exports, scraped here from one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { fixedClock } from '../src/clock.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { REPO, tempDir } from './helpers.ts';
import { OnlineFixture, runAsync } from './online-fixtures.ts';

const DIR = join(REPO, 'deploy/monitoring');
const RULES = join(DIR, 'rootca-alerts.yml');

interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; expr: string }[];
}

const dashboard = JSON.parse(readFileSync(join(DIR, 'grafana-dashboard.json'), 'utf8')) as {
  title: string;
  uid: string;
  panels: Panel[];
};
const rules = (
  parse(readFileSync(RULES, 'utf8')) as {
    groups: { rules: { alert: string; expr: string; labels: { severity: string } }[] }[];
  }
).groups.flatMap((g) => g.rules);

function promtool(args: string[], cwd = DIR): string {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool (Debian package prometheus) is needed');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout + r.stderr;
}

/** The metric names a PromQL expression reads (the rootca_ ones). */
const metricsIn = (expr: string) => [...expr.matchAll(/\brootca_[a-z0-9_]+/g)].map((m) => m[0]);

describe('deploy/monitoring/rootca-alerts.yml', () => {
  it('promtool check rules: valid, and each issue 16 date has a warning and a critical alert', () => {
    assert.match(promtool(['check', 'rules', RULES]), /SUCCESS: 8 rules found/);
    const bySeverity = (metric: string, severity: string) =>
      rules.filter((r) => r.labels.severity === severity && metricsIn(r.expr).includes(metric)).map((r) => r.alert);
    for (const m of ['rootca_ocsp_next_update_remaining_seconds', 'rootca_crl_next_update_remaining_seconds']) {
      assert.equal(bySeverity(m, 'warning').length, 1, `${m}: one warning`);
      assert.equal(bySeverity(m, 'critical').length, 1, `${m}: one critical`);
    }
    assert.equal(bySeverity('rootca_responder_certificate_remaining_seconds', 'critical').length, 1);
    assert.deepEqual(bySeverity('rootca_ocsp_trylater_total', 'critical'), ['RootcaOcspTryLater']);
  });

  it('promtool test rules: silent before the margin, warning from it, critical once past (rootca-alerts.test.yml)', () => {
    assert.match(promtool(['test', 'rules', 'rootca-alerts.test.yml']), /SUCCESS/);
  });
});

describe('deploy/monitoring/grafana-dashboard.json', () => {
  it('is a dashboard whose panels have unique ids, a place, and queries promtool accepts as PromQL', () => {
    assert.equal(dashboard.uid, 'rootca-online');
    assert.ok(dashboard.panels.length >= 6);
    assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length);
    const recording = dashboard.panels.flatMap((p) => {
      assert.ok(p.title && p.type && p.gridPos.w > 0 && p.gridPos.h > 0, `panel ${p.id}`);
      assert.ok(p.targets.length > 0, `panel ${p.id} "${p.title}" has a query`);
      return p.targets.map((t) => ({ record: `rootca:dashboard:panel${p.id}_${t.refId}`, expr: t.expr }));
    });
    const file = join(tempDir('rootca-dashboard-'), 'dashboard-queries.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
    assert.match(promtool(['check', 'rules', file]), new RegExp(`SUCCESS: ${recording.length} rules found`));
  });
});

describe('the metrics the dashboard and the alerts name are the ones a real server exports', () => {
  let f: OnlineFixture;
  let store: SqliteOnlineStore;
  let server: RunningServer;
  let exported: Set<string>;

  before(async () => {
    f = new OnlineFixture();
    store = new SqliteOnlineStore(f.path('online.db'));
    store.importPublication(await f.publication({ version: 1, ocspValidityMs: 86_400_000 }), [f.rsa.der, f.ec.der]);
    const clock = fixedClock(new Date());
    const responder = { certificate: readFileSync(f.responder.cert), key: readFileSync(f.responder.key) };
    server = await startServer({
      store,
      port: 0,
      pollMs: 60_000,
      clock,
      responders: [{ ...responder, passphrase: f.responder.passphrase }],
    });
    // Past the responses' nextUpdate: ecroot (no responder here) is answered tryLater, so every series has a sample.
    clock.advance(2 * 86_400_000);
    const r = await runAsync(
      'openssl',
      ['ocsp', '-issuer', f.ec.pem, '-cert', f.cert('ecsub').pem, '-url', `${server.httpUrl}/ocsp`, '-no_nonce'],
      { cwd: f.dir },
    );
    assert.match(r.stdout + r.stderr, /Responder Error: trylater \(3\)/);
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    exported = new Set(text.split('\n').flatMap((l) => /^(rootca_[a-z0-9_]+)[{ ]/.exec(l)?.[1] ?? []));
  });

  after(async () => {
    await server?.close();
    store?.close();
  });

  it('every dashboard query and every alert names metrics with samples in a scrape of rootca serve', () => {
    const named = [
      ...dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr))),
      ...rules.flatMap((r) => metricsIn(r.expr)),
    ];
    assert.ok(named.length > 10);
    for (const name of named) assert.ok(exported.has(name), `${name} is exported by rootca serve`);
  });

  it('every seconds-left series the server exports has an alert', () => {
    const alerted = new Set(rules.flatMap((r) => metricsIn(r.expr)));
    const left = [...exported].filter((n) => n.endsWith('_remaining_seconds'));
    assert.equal(left.length, 3);
    for (const n of left) assert.ok(alerted.has(n), `${n} has an alert`);
  });
});
