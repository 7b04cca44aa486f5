/**
 * The online side's records come home (issue 16 item 4; CPS 5.4.1, 5.5.1, 5.5.2): a real
 * SQLite online store with real access-log segments, bundles written by `rootca online
 * export-records`, taken by `rootca audit ingest-online` into the offline audit log and
 * archive; each tampering (wrong signer, altered bundle, replay, overlap, gap, a segment
 * missing or edited on the online disk) is refused and the refusal is an audit event.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../src/clock.ts';
import { openInstallation } from '../src/installation/installation.ts';
import {
  ingestOnlineRecords,
  listOnlineRecordsSources,
  registerOnlineRecordsKey,
} from '../src/records/online-records.ts';
import { initRecordsKey } from '../src/records/online-records-key.ts';
import { PgOnlineStore } from '../src/server/pg-online-store.ts';
import { AccessLog } from '../src/server/access-log.ts';
import { openOnlineStore, type SqliteOnlineStore } from '../src/server/online-store.ts';
import { listOnlineRecordsSegments, onlineRecordsSegmentData } from '../src/store/online-records-segments.ts';
import { auditPass, auditPassphrases, evidenceInstallation } from './audit-fixtures.ts';
import { rejectsWith, rootca, tempDir } from './helpers.ts';
import { createTestDatabase } from './online-postgres-fixtures.ts';

describe('online records: export-records -> ingest-online', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const online = join(dir, 'online');
  const storePath = join(online, 'online.db');
  const logDir = join(online, 'ocsp-access-log');
  const env = { ROOTCA_RECORDS_KEY_PASSPHRASE: 'records key passphrase of the test' };
  let store: SqliteOnlineStore;
  let log: AccessLog;
  let n = 0;
  const r = (...args: string[]) => rootca(['--home', home, ...args], { cwd: dir, env });

  /** One closed segment of `lines` OCSP requests; returns its file name. */
  async function segment(lines: number): Promise<string> {
    for (let i = 0; i < lines; i++)
      log.appendOcsp({
        ip: '127.0.0.1',
        method: 'POST',
        http: 200,
        outcome: 'good',
        source: 'presigned',
        serials: [`0${i}`],
        nonce: false,
        length: 100,
        micros: 50,
      });
    return (await log.closeSegmentNow())!.name;
  }

  /** `rootca online export-records` into bundle-N.json; returns the path. */
  function exportRecords(since: string, keyFile = 'records.key'): string {
    const out = join(dir, `bundle-${++n}.json`);
    const x = r(
      'online',
      'export-records',
      '--store',
      storePath,
      '--key-file',
      keyFile,
      '--since',
      since,
      '--out',
      out,
    );
    assert.equal(x.status, 0, x.stderr + x.stdout);
    return out;
  }

  /** Ingests in-process (the CLI path is the first test) and expects the refusal `code`. */
  async function refused(file: string, code: string, message?: RegExp): Promise<void> {
    const inst = openInstallation(home);
    try {
      const before = inst.audit.head().seq;
      await rejectsWith(
        code,
        () => ingestOnlineRecords(inst, { data: readFileSync(file), examiner: 'leo', passphrases: auditPassphrases }),
        message,
      );
      const events = inst.audit.list(before + 1, inst.audit.head().seq);
      const refusal = events.find((e) => e.action === 'audit.ingest-online' && e.outcome === 'refused');
      assert.ok(refusal, `the refusal ${code} is an audit event`);
      assert.equal(refusal.details.code, code);
    } finally {
      inst.close();
    }
  }

  before(async () => {
    evidenceInstallation(dir, ['paula', 'olivia', 'leo']).close();
    writeFileSync(join(dir, 'leo.pass'), auditPass('leo'));
    writeFileSync(join(dir, 'paula.pass'), auditPass('paula'));
    writeFileSync(join(dir, 'olivia.pass'), auditPass('olivia'));
    store = openOnlineStore(storePath);
    log = new AccessLog({ dir: logDir, store, clock: systemClock });
    store.recordServerEvent('start', { port: 8080 });
    await segment(3);
    await segment(2);
    for (const [file, source] of [
      ['records.key', 'ocsp-test'],
      ['other.key', 'ocsp-test'],
    ]) {
      const k = r('online', 'records-key', 'init', '--key-file', join(dir, file), '--source', source);
      assert.equal(k.status, 0, k.stderr);
      assert.match(k.stdout, /records key for ocsp-test in .*SHA-256 [0-9a-f]{64}/);
    }
    const reg = r(
      'audit',
      'online-key',
      'register',
      '--source',
      'ocsp-test',
      '--public-key',
      join(dir, 'records.key.pub.pem'),
      '--by',
      'paula',
      '--witness',
      'olivia',
      '--credential',
      `paula=@${join(dir, 'paula.pass')}`,
      '--credential',
      `olivia=@${join(dir, 'olivia.pass')}`,
    );
    assert.equal(reg.status, 0, reg.stderr);
  });

  after(async () => {
    await log.close();
    store.close();
  });

  it('a first bundle round-trips into the audit log and the archive; the same bundle again is a replay', async () => {
    const b1 = exportRecords('beginning');
    const ing = r('audit', 'ingest-online', b1, '--examiner', 'leo', '--credential', `leo=@${join(dir, 'leo.pass')}`);
    assert.equal(ing.status, 0, ing.stderr);
    assert.match(ing.stdout, /ingested ocsp-test: 1 server event\(s\), 2 segment\(s\) \(5 requests\)/);
    const inst = openInstallation(home);
    try {
      const e = inst.audit.list(1, inst.audit.head().seq).find((x) => x.action === 'audit.ingest-online')!;
      assert.equal(e.outcome, 'success');
      const segs = listOnlineRecordsSegments(inst.db, 'ocsp-test');
      assert.deepEqual(
        segs.map((s) => s.sha256),
        store.accessLogSegments().map((s) => s.sha256),
      );
      assert.deepEqual(
        (e.details.segments as { sha256: string }[]).map((s) => s.sha256),
        segs.map((s) => s.sha256),
      );
      // CPS 5.5.2 "retained for at least ten (10) years": archive.retentionYears.
      const years = new Date(segs[0]!.retain_until).getUTCFullYear() - new Date(e.at).getUTCFullYear();
      assert.equal(years, 10);
      const first = store.accessLogSegments()[0]!;
      assert.deepEqual(
        onlineRecordsSegmentData(inst.db, 'ocsp-test', first.sha256),
        readFileSync(join(logDir, first.name)),
      );
    } finally {
      inst.close();
    }
    await refused(b1, 'ONLINE_RECORDS_REPLAY', /ingested already/);
    assert.equal(r('audit', 'verify').status, 0);
  });

  it('refuses a bundle signed by an unregistered key, and an altered one', async () => {
    await refused(exportRecords('last', 'other.key'), 'ONLINE_RECORDS_SIGNER_UNKNOWN', /not registered/);
    const b = exportRecords('last');
    const altered = join(dir, 'altered.json');
    writeFileSync(altered, readFileSync(b, 'utf8').replace('"kind": "records-export"', '"kind": "stop"'));
    await refused(altered, 'ONLINE_RECORDS_SIGNATURE_INVALID', /does not verify/);
  });

  it('refuses a gap and an overlap, then takes the bundles in order', async () => {
    const base = join(dir, 'bundle-1.json');
    await segment(4);
    const b2 = exportRecords(base);
    await segment(1);
    const b3 = exportRecords('last');
    await refused(b3, 'ONLINE_RECORDS_GAP', /records are missing/);
    await refused(exportRecords('beginning'), 'ONLINE_RECORDS_OVERLAP', /overlaps/);
    const inst = openInstallation(home);
    try {
      for (const b of [b2, b3])
        await ingestOnlineRecords(inst, { data: readFileSync(b), examiner: 'leo', passphrases: auditPassphrases });
      assert.deepEqual(
        listOnlineRecordsSegments(inst.db, 'ocsp-test').map((s) => s.sha256),
        store.accessLogSegments().map((s) => s.sha256),
        'every segment of the chain is archived once, in order',
      );
    } finally {
      inst.close();
    }
  });

  it('refuses a segment missing from the online disk, then one edited there', async () => {
    const lastIngested = join(dir, `bundle-${n - 1}.json`); // b3 (the overlap export came after it)
    const name = await segment(2);
    renameSync(join(logDir, name), join(dir, name));
    const missing = exportRecords(lastIngested);
    await refused(missing, 'ONLINE_RECORDS_SEGMENT_MISSING', /file was missing at export/);
    renameSync(join(dir, name), join(logDir, name));
    const b = exportRecords(lastIngested);
    const inst = openInstallation(home);
    try {
      await ingestOnlineRecords(inst, { data: readFileSync(b), examiner: 'leo', passphrases: auditPassphrases });
    } finally {
      inst.close();
    }
    const edited = await segment(1);
    appendFileSync(join(logDir, edited), Buffer.from([0]));
    await refused(exportRecords(b), 'ONLINE_RECORDS_SEGMENT_TAMPERED', /the file was changed/);
    const v = r('audit', 'verify');
    assert.equal(v.status, 0, v.stdout);
    const list = r('audit', 'online-key', 'list');
    assert.equal(list.status, 0, list.stderr);
    const head = JSON.parse(readFileSync(b, 'utf8')).body.to as { eventSeq: number; segmentSha256: string };
    assert.match(
      list.stdout,
      new RegExp(
        `^ocsp-test +[0-9a-f]{16}… +registered .* by paula\\+olivia +last bundle .*: up to event ${head.eventSeq}, segment ${head.segmentSha256.slice(0, 16)}$`,
        'm',
      ),
    );
  });
});

describe("online records from a PostgreSQL store: one responder's chain", () => {
  const dir = tempDir();
  const env = { ROOTCA_RECORDS_KEY_PASSPHRASE: 'records key passphrase of the pg test' };
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PgOnlineStore;
  let log: AccessLog;

  before(async () => {
    db = await createTestDatabase();
    store = await PgOnlineStore.open(db.url, { responder: 'ocsp-a' });
    log = new AccessLog({ dir: join(dir, 'log-a'), store, clock: systemClock });
  });

  after(async () => {
    await log.close();
    await store.close();
    await db.drop();
  });

  it('exports with --responder and --log-dir, and the next bundle follows the last', async () => {
    const inst = evidenceInstallation(dir, ['paula', 'olivia', 'leo']);
    try {
      const key = join(dir, 'pg.key');
      const made = initRecordsKey(key, 'ocsp-pg', Buffer.from(env.ROOTCA_RECORDS_KEY_PASSPHRASE));
      await registerOnlineRecordsKey(inst, {
        source: 'ocsp-pg',
        publicKey: Buffer.from(made.publicKeyPem),
        authoriser: 'paula',
        witness: 'olivia',
        passphrases: auditPassphrases,
      });
      await store.recordServerEvent('start', { responder: 'ocsp-a' });
      const write = async (serial: string) => {
        log.appendOcsp({
          ip: '127.0.0.1',
          method: 'GET',
          http: 200,
          outcome: 'good',
          source: 'presigned',
          serials: [serial],
          nonce: false,
          length: 90,
          micros: 40,
        });
        return (await log.closeSegmentNow())!;
      };
      await write('01');
      const exp = (since: string, out: string) =>
        rootca(
          [
            'online',
            'export-records',
            '--store',
            db.url,
            '--responder',
            'ocsp-a',
            '--log-dir',
            join(dir, 'log-a'),
          ].concat(['--key-file', key, '--since', since, '--out', join(dir, out)]),
          { cwd: dir, env },
        );
      const x1 = exp('beginning', 'pg-1.json');
      assert.equal(x1.status, 0, x1.stderr);
      await write('02');
      const x2 = exp('last', 'pg-2.json');
      assert.equal(x2.status, 0, x2.stderr);
      for (const f of ['pg-1.json', 'pg-2.json'])
        await ingestOnlineRecords(inst, {
          data: readFileSync(join(dir, f)),
          examiner: 'leo',
          passphrases: auditPassphrases,
        });
      assert.deepEqual(
        listOnlineRecordsSegments(inst.db, 'ocsp-pg').map((s) => s.sha256),
        (await store.accessLogSegments('ocsp-a')).map((s) => s.sha256),
      );
      const chain = await store.accessLogSegments('ocsp-a');
      const [src] = listOnlineRecordsSources(inst);
      assert.equal(src!.source, 'ocsp-pg');
      assert.equal(src!.lastBundle!.to.segmentSha256, chain.at(-1)!.sha256, 'where the next bundle must start');
      assert.equal(inst.audit.verify().ok, true);
    } finally {
      inst.close();
    }
  });
});
