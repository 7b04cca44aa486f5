/**
 * The online record bundle is a stream (issue 16 item 4): `rootca online export-records` and
 * `rootca audit ingest-online` move a 200 MB access-log segment with the same peak resident
 * set, within a few MiB, as a 1 MB one (measured by /usr/bin/time: the kernel's maxrss of the
 * child). The baseline is not small: opening the records key runs scrypt at N = 2^17, r = 8,
 * which takes 128 MiB by design (keys/sealed-box.ts). The segment is archived byte-exact.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openInstallation } from '../src/installation/installation.ts';
import { registerOnlineRecordsKey } from '../src/records/online-records.ts';
import { initRecordsKey } from '../src/records/online-records-key.ts';
import { openOnlineStore, type SqliteOnlineStore } from '../src/server/online-store.ts';
import { onlineRecordsSegmentChunks } from '../src/store/online-records-segments.ts';
import { auditPass, auditPassphrases, evidenceInstallation } from './audit-fixtures.ts';
import { REPO, run, tempDir } from './helpers.ts';

const MB = 1 << 20;
const SMALL_MB = 1;
const SEGMENT_MB = 200;
/**
 * How much more the large segment may take than the small one: a whole-file reader takes 200
 * MiB or more. The ingest's growth is bounded by SQLite's page caches, which a large segment
 * fills (better-sqlite3 sets 16 MiB per connection: the store's and the backup snapshot's).
 */
const MAX_GROWTH_MB = 48;

/** Runs the CLI under /usr/bin/time; returns its result and its peak RSS in MiB. */
function measured(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const r = run('/usr/bin/time', ['-f', 'maxrss-kb=%M', process.execPath, join(REPO, 'bin', 'rootca.mjs'), ...args], {
    cwd,
    env: { ...process.env, ...env },
  });
  const kb = Number(/maxrss-kb=(\d+)/.exec(r.stderr)?.[1]);
  assert.ok(kb > 0, r.stderr);
  return { ...r, rssMb: kb / 1024 };
}

describe('online records: a 200 MB segment streams through export and ingest', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const logDir = join(dir, 'online', 'ocsp-access-log');
  const storePath = join(dir, 'online', 'online.db');
  const env = { ROOTCA_RECORDS_KEY_PASSPHRASE: 'records key passphrase of the large test' };
  let store: SqliteOnlineStore;
  let sha256 = '';

  before(async () => {
    const inst = evidenceInstallation(dir, ['paula', 'olivia', 'leo']);
    writeFileSync(join(dir, 'leo.pass'), auditPass('leo'));
    try {
      const made = initRecordsKey(join(dir, 'records.key'), 'ocsp-big', Buffer.from(env.ROOTCA_RECORDS_KEY_PASSPHRASE));
      await registerOnlineRecordsKey(inst, {
        source: 'ocsp-big',
        publicKey: Buffer.from(made.publicKeyPem),
        authoriser: 'paula',
        witness: 'olivia',
        passphrases: auditPassphrases,
      });
    } finally {
      inst.close();
    }
    mkdirSync(logDir, { recursive: true });
    store = openOnlineStore(storePath);
    store.recordServerEvent('start', { port: 8080 });
  });

  /** Writes a segment of `mb` MiB into the log folder and records it in the chain; returns its SHA-256. */
  function segment(name: string, mb: number): string {
    // The bytes need not be gzip for the records flow: they are carried and archived as they are.
    const fd = openSync(join(logDir, name), 'w');
    const hash = createHash('sha256');
    const block = randomBytes(MB);
    for (let i = 0; i < mb; i++) {
      block.writeUInt32BE(i, 0);
      hash.update(block);
      writeSync(fd, block);
    }
    closeSync(fd);
    const sha = hash.digest('hex');
    store.recordAccessLogSegment({ name, sha256: sha, lines: 1, closedAt: new Date() });
    return sha;
  }

  /** Exports from `since` into `out` and ingests it, both under /usr/bin/time; returns their peak RSS. */
  function exportAndIngest(since: string, out: string): { exportMb: number; ingestMb: number } {
    const x = measured(
      ['online', 'export-records', '--store', storePath, '--key-file', 'records.key', '--since', since, '--out', out],
      env,
      dir,
    );
    assert.equal(x.status, 0, x.stderr + x.stdout);
    const i = measured(
      [
        '--home',
        home,
        'audit',
        'ingest-online',
        out,
        '--examiner',
        'leo',
        '--credential',
        `leo=@${join(dir, 'leo.pass')}`,
      ],
      {},
      dir,
    );
    assert.equal(i.status, 0, i.stderr + i.stdout);
    assert.match(i.stdout, /ingested ocsp-big: \d+ server event\(s\), 1 segment\(s\)/);
    return { exportMb: x.rssMb, ingestMb: i.rssMb };
  }

  after(() => store.close());

  it('exports and ingests a 200 MB segment in as much memory as a 1 MB one, and archives it byte-exact', () => {
    segment('ocsp-access-small.log.gz', SMALL_MB);
    const small = exportAndIngest('beginning', join(dir, 'small.bundle'));
    sha256 = segment('ocsp-access-big.log.gz', SEGMENT_MB);
    const out = join(dir, 'big.bundle');
    const big = exportAndIngest('last', out);
    assert.ok(statSync(out).size > SEGMENT_MB * MB, 'the segment is in the bundle');
    process.stdout.write(
      `# peak RSS with a ${SMALL_MB} MiB / ${SEGMENT_MB} MiB segment: export ${small.exportMb.toFixed(0)} / ${big.exportMb.toFixed(0)} MiB, ingest ${small.ingestMb.toFixed(0)} / ${big.ingestMb.toFixed(0)} MiB\n`,
    );
    assert.ok(big.exportMb - small.exportMb < MAX_GROWTH_MB, `export: ${small.exportMb} -> ${big.exportMb} MiB`);
    assert.ok(big.ingestMb - small.ingestMb < MAX_GROWTH_MB, `ingest: ${small.ingestMb} -> ${big.ingestMb} MiB`);
    const inst = openInstallation(home);
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      for (const chunk of onlineRecordsSegmentChunks(inst.db, 'ocsp-big', sha256)) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      assert.equal(bytes, SEGMENT_MB * MB);
      assert.equal(hash.digest('hex'), sha256, 'the archived segment is the exported one');
    } finally {
      inst.close();
    }
  });
});
