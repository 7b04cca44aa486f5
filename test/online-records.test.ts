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
import { bundleEndPoint } from '../src/records/online-records-read.ts';
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
    const out = join(dir, `bundle-${++n}.bundle`);
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
        () => ingestOnlineRecords(inst, { file, examiner: 'leo', passphrases: auditPassphrases }),
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
    // CPS 5.5.4: the ingest is a recorded change, so a backup set follows it and is reported.
    assert.match(ing.stdout, /^ {2}backup {5}\S+ -> \S+ \+ \S+/m);
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
    // From the end of the bundle ingested, so only the alteration is wrong with it.
    const b = exportRecords(join(dir, 'bundle-1.bundle'));
    const bytes = readFileSync(b);
    const head = bytes.indexOf('"createdAt":"') + '"createdAt":"'.length;
    const altered = join(dir, 'altered.bundle');
    writeFileSync(altered, Buffer.concat([bytes.subarray(0, head), Buffer.from('1999'), bytes.subarray(head + 4)]));
    await refused(altered, 'ONLINE_RECORDS_SIGNATURE_INVALID', /does not verify/);
    // The events follow the signed manifest: an edited event no longer has the digest it names.
    const events = join(dir, 'events-edited.bundle');
    const kind = bytes.indexOf('"kind":"records-export"');
    assert.ok(kind > 0);
    writeFileSync(events, Buffer.from(bytes).fill(Buffer.from('"kind":"x-cords-export"'), kind, kind + 23));
    await refused(events, 'ONLINE_RECORDS_EVENTS_TAMPERED', /were changed/);
  });

  it('refuses a bundle cut short, one with bytes after its end, another format version, and the old JSON format', async () => {
    await segment(2);
    const b = readFileSync(exportRecords(join(dir, 'bundle-1.bundle')));
    const cut = join(dir, 'cut.bundle');
    writeFileSync(cut, b.subarray(0, b.length - 7));
    await refused(cut, 'ONLINE_RECORDS_TRUNCATED', /ends 7 byte\(s\) early, inside segment .*cut short/);
    const trailing = join(dir, 'trailing.bundle');
    writeFileSync(trailing, Buffer.concat([b, Buffer.from('extra')]));
    await refused(trailing, 'ONLINE_RECORDS_MALFORMED', /5 byte\(s\) trail the last part/);
    const v3 = join(dir, 'v3.bundle');
    writeFileSync(v3, Buffer.concat([Buffer.from('rootca-online-records/3'), b.subarray(b.indexOf(10))]));
    await refused(v3, 'ONLINE_RECORDS_VERSION_UNSUPPORTED', /format version "3"; this rootca reads version 2 only/);
    const v1 = join(dir, 'v1.json');
    writeFileSync(v1, '{"body":{"format":"rootca-online-records/1"}}\n');
    await refused(v1, 'ONLINE_RECORDS_MALFORMED', /format 1, which this rootca no longer reads/);
  });

  it('refuses a gap and an overlap, then takes the bundles in order', async () => {
    const base = join(dir, 'bundle-1.bundle');
    await segment(4);
    const b2 = exportRecords(base);
    await segment(1);
    const b3 = exportRecords('last');
    await refused(b3, 'ONLINE_RECORDS_GAP', /records are missing/);
    await refused(exportRecords('beginning'), 'ONLINE_RECORDS_OVERLAP', /overlaps/);
    const inst = openInstallation(home);
    try {
      for (const b of [b2, b3]) {
        const done = await ingestOnlineRecords(inst, { file: b, examiner: 'leo', passphrases: auditPassphrases });
        assert.equal(done.backup.ok, true, JSON.stringify(done.backup.error));
        assert.equal(done.backup.reason, 'audit.ingest-online');
      }
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
    const lastIngested = join(dir, `bundle-${n - 1}.bundle`); // b3 (the overlap export came after it)
    const name = await segment(2);
    renameSync(join(logDir, name), join(dir, name));
    const missing = exportRecords(lastIngested);
    await refused(missing, 'ONLINE_RECORDS_SEGMENT_MISSING', /file was missing at export/);
    renameSync(join(dir, name), join(logDir, name));
    const b = exportRecords(lastIngested);
    const inst = openInstallation(home);
    try {
      await ingestOnlineRecords(inst, { file: b, examiner: 'leo', passphrases: auditPassphrases });
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
    const head = bundleEndPoint(b);
    // --since a date after everything selects nothing (in SQL): the bundle starts and ends at the head.
    const future = r(
      'online',
      'export-records',
      '--store',
      storePath,
      '--key-file',
      'records.key',
      '--since',
      '2999-01-01',
      '--out',
      join(dir, 'future.bundle'),
      '--json',
    );
    assert.equal(future.status, 0, future.stderr);
    const nothing = JSON.parse(future.stdout) as { events: number; segments: number; after: unknown; to: unknown };
    assert.deepEqual([nothing.events, nothing.segments], [0, 0]);
    assert.deepEqual(nothing.after, nothing.to);
    assert.equal((nothing.to as { segmentSha256: string }).segmentSha256, store.accessLogSegments().at(-1)!.sha256);
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
          ].concat(['--key-file', key, '--since', since, '--out', join(dir, out), '--json']),
          { cwd: dir, env },
        );
      const x1 = exp('beginning', 'pg-1.json');
      assert.equal(x1.status, 0, x1.stderr);
      const mid = new Date().toISOString();
      await write('02');
      const x2 = exp('last', 'pg-2.json');
      assert.equal(x2.status, 0, x2.stderr);
      // --since TIME is selected in SQL: the segment closed after it, and the one event after it (x2's export).
      type Summary = { segments: number; events: number; after: unknown; to: unknown };
      const byTime = JSON.parse(exp(mid, 'pg-by-time.bundle').stdout) as Summary;
      const x2to = (JSON.parse(x2.stdout) as Summary).to as { eventSeq: number };
      const [seg1, seg2] = await store.accessLogSegments('ocsp-a');
      const events = await store.serverEvents();
      assert.deepEqual(byTime, {
        ...byTime,
        segments: 1,
        events: 1,
        after: { eventSeq: x2to.eventSeq, segmentSha256: seg1!.sha256 },
        to: { eventSeq: events.at(-2)!.seq, segmentSha256: seg2!.sha256 },
      });
      const first = await ingestOnlineRecords(inst, {
        file: join(dir, 'pg-1.json'),
        examiner: 'leo',
        passphrases: auditPassphrases,
      });
      assert.equal(first.backup.ok, true, JSON.stringify(first.backup.error));
      // A backup that fails after the ingest committed is reported, audited, and the ingest stands (CPS 5.5.4).
      const archive = inst.config.archive as { primary: string; secondary: string };
      const secondary = archive.secondary;
      archive.secondary = archive.primary;
      const second = await ingestOnlineRecords(inst, {
        file: join(dir, 'pg-2.json'),
        examiner: 'leo',
        passphrases: auditPassphrases,
      });
      archive.secondary = secondary;
      assert.equal(second.backup.ok, false);
      assert.equal(second.backup.error?.code, 'ARCHIVE_LOCATIONS_SAME');
      const failed = inst.audit.list(second.auditSeq, inst.audit.head().seq).find((e) => e.action === 'archive.backup');
      assert.equal(failed?.outcome, 'failed');
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
