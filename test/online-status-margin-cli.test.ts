/**
 * `rootca serve --status-margin` (issue 16 item 3) as an operator runs it: the margin reaches
 * /healthz and /metrics of the running process, and a margin that is not a duration is a usage
 * error before anything starts. The fixture's CRLs and pre-signed responses run out in 30 days.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { before, describe, it } from 'node:test';
import { REPO, rootca } from './helpers.ts';
import { OnlineFixture } from './online-fixtures.ts';

let f: OnlineFixture;
let v1: string;

before(async () => {
  f = new OnlineFixture();
  v1 = f.write('v1.json', await f.publication({ version: 1 }));
});

/** Runs `rootca serve` on its own store with `margin` until /healthz and /metrics are read. */
async function healthWith(
  margin: string[],
  workers = '1',
): Promise<{ status: string; problems: string[]; metrics: string }> {
  const db = `sqlite:${f.path(`margin-${margin.join('') || 'default'}.db`)}`;
  const args = ['serve', '--store', db, '--import', v1, '--trust', f.rsa.pem, '--trust', f.ec.pem];
  const child = spawn(
    process.execPath,
    [`${REPO}/bin/rootca.mjs`, ...args, '--port', '0', '--workers', workers, ...margin],
    {
      env: { ...process.env, ROOTCA_HOME: f.path('home') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((r) => child.on('exit', r));
  try {
    let url: string | undefined;
    for await (const line of createInterface({ input: child.stdout! })) {
      url ??= /^Repository\s+(http:\/\/\S+)\/$/.exec(line)?.[1];
      if (url && line.startsWith('Serving publication')) break;
    }
    assert.ok(url, 'rootca serve printed its URL');
    const h = (await (await fetch(`${url}/healthz`)).json()) as { status: string; problems: string[] };
    return { ...h, metrics: await (await fetch(`${url}/metrics`)).text() };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

describe('rootca serve --status-margin', () => {
  it('default 14d: ready 30 days ahead (two workers); 40d: degraded, naming the CRLs and responses within it', async () => {
    // Two workers: the cluster's /metrics shows each gauge once (the smallest), not summed.
    const ready = await healthWith([], '2');
    assert.deepEqual([ready.status, ready.problems], ['ready', []]);
    assert.match(ready.metrics, /^rootca_status_margin_seconds 1209600$/m);
    const left = Number(
      /^rootca_ocsp_next_update_remaining_seconds\{issuer="ecroot"\} (\d+)$/m.exec(ready.metrics)?.[1],
    );
    assert.ok(left > 29 * 86_400 && left <= 30 * 86_400, `${left} s: 30 days less the time since the publication`);
    const wide = await healthWith(['--status-margin', '40d']);
    assert.equal(wide.status, 'degraded');
    assert.match(wide.metrics, /^rootca_status_margin_seconds 3456000$/m);
    const within = wide.problems.filter((p) => p.includes('within the status margin (40d)'));
    assert.equal(within.length, 4, wide.problems.join('\n')); // each root: its CRL and its responses
    assert.ok(within.some((p) => /^6 pre-signed OCSP response\(s\) of rsaroot reach their nextUpdate/.test(p)));
  });

  it('a margin that is not a duration is a usage error (exit 2)', () => {
    for (const bad of ['2w', '14', '-1d', '1.5d']) {
      const r = rootca(['serve', '--store', `sqlite:${f.path('none.db')}`, '--status-margin', bad]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--status-margin must be a duration such as 14d, 36h, 90m or 3600s/);
    }
  });
});
