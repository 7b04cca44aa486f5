/**
 * the audit chain detects a changed, deleted, reordered or truncated event, each at the
 * right position, when the SQLite file is edited behind the program's back.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { fixedClock } from '../clock.ts';
import { openDatabase } from '../store/db.ts';
import { AuditLog } from './log.ts';
import { tempDir } from '../../test/helpers.ts';

function logWith(n: number): { path: string; log: AuditLog; close: () => void } {
  const path = join(tempDir(), 'audit.db');
  const db = openDatabase(path, { create: true });
  const log = new AuditLog(db, fixedClock(new Date('2026-11-25T00:00:00Z')));
  for (let i = 1; i <= n; i++)
    log.append({
      actor: 'alice',
      roles: ['ca-administrator'],
      action: 'test.event',
      target: `t${i}`,
      outcome: 'success',
      details: { i },
    });
  return { path, log, close: () => db.close() };
}

/** Edits the database file as an attacker with file access would: triggers dropped first. */
function tamper(path: string, sql: string): void {
  const raw = new Database(path);
  raw.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
  raw.exec(sql);
  raw.close();
}

function verifyFile(path: string) {
  const db = openDatabase(path);
  try {
    const log = new AuditLog(db, fixedClock(new Date()));
    const v = log.verify();
    // The Merkle tree built in a worker thread (issue 17.5) gives the same answer.
    assert.deepEqual(log.verify({ merkleWorkerFrom: 0 }), v);
    return v;
  } finally {
    db.close();
  }
}

describe('R-7.2 hash-chained audit log', () => {
  it('verifies an untouched log and chains each event to the one before', () => {
    const { log, close } = logWith(5);
    const v = log.verify();
    assert.equal(v.ok, true);
    assert.equal(v.events, 5);
    const events = log.list();
    for (let i = 1; i < events.length; i++) assert.equal(events[i].prevHash, events[i - 1].hash);
    assert.equal(log.head().hash, events[4].hash);
    close();
  });

  it('refuses UPDATE and DELETE through SQL while the triggers stand', () => {
    const { log, close, path } = logWith(2);
    close();
    const raw = new Database(path);
    assert.throws(() => raw.exec("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1"), /append-only/);
    assert.throws(() => raw.exec('DELETE FROM audit_events WHERE seq = 1'), /append-only/);
    raw.close();
    void log;
  });

  const cases: { name: string; sql: string; position: number; problem: RegExp }[] = [
    {
      name: 'one changed byte in an event',
      sql: "UPDATE audit_events SET target = 't4X' WHERE seq = 4",
      position: 4,
      problem: /changed/,
    },
    {
      name: 'a changed outcome (refused made to look successful)',
      sql: "UPDATE audit_events SET outcome = 'refused' WHERE seq = 2",
      position: 2,
      problem: /changed/,
    },
    { name: 'a deleted event', sql: 'DELETE FROM audit_events WHERE seq = 3', position: 3, problem: /missing/ },
    { name: 'the first event deleted', sql: 'DELETE FROM audit_events WHERE seq = 1', position: 1, problem: /missing/ },
    {
      name: 'two events swapped',
      sql: `UPDATE audit_events SET seq = -1 WHERE seq = 5; UPDATE audit_events SET seq = 5 WHERE seq = 6; UPDATE audit_events SET seq = 6 WHERE seq = -1;`,
      position: 5,
      problem: /changed|follow|order/,
    },
    { name: 'the last events cut off', sql: 'DELETE FROM audit_events WHERE seq > 6', position: 7, problem: /cut off/ },
    {
      name: 'a forged event inserted in the middle (later ones renumbered)',
      sql: `UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4; UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000;
            INSERT INTO audit_events (seq, at, actor, roles, action, target, outcome, details, prev_hash, hash)
              SELECT 4, at, 'mallory', roles, action, target, outcome, details, prev_hash, hash FROM audit_events WHERE seq = 3;`,
      position: 4,
      problem: /follow/,
    },
  ];
  for (const c of cases) {
    it(`detects ${c.name} and reports event ${c.position}`, () => {
      const { path, close } = logWith(8);
      close();
      tamper(path, c.sql);
      const v = verifyFile(path);
      assert.equal(v.ok, false);
      assert.equal(v.firstBad?.position, c.position, v.firstBad?.problem);
      assert.match(v.firstBad!.problem, c.problem);
    });
  }
});

describe('issue 17.5 verifying the stored bytes as they are', () => {
  /** 1,000 events whose details have nesting, unicode, escapes and numbers, as operations record them. */
  function thousand(): { path: string; log: AuditLog; close: () => void } {
    const { path, log, close } = logWith(0);
    for (let i = 1; i <= 1000; i++)
      log.append({
        actor: i % 2 ? 'alice' : 'bob "the" custodian',
        roles: ['operation-manager', 'ca-administrator'],
        action: i % 3 ? 'test.event' : 'ocsp.presigned',
        target: `t${i}\u00e9\u2603`,
        outcome: i % 5 ? 'success' : 'refused',
        details: { i, z: { b: [1, 'x\n', null], a: true }, half: i / 2, hex: Buffer.from([i & 0xff]) },
      });
    return { path, log, close };
  }

  it('gives the chain and the Merkle root the re-canonicalised events give', () => {
    const { log, close } = thousand();
    const v = log.verify();
    assert.equal(v.ok, true, v.firstBad?.problem);
    assert.equal(v.events, 1000);
    assert.equal(v.headHash, log.head().hash);
    assert.equal(v.rootHash, log.treeHead().rootHash, 'the leaves hashed as stored are the canonical leaves');
    close();
  });

  it('still finds one changed event among 1,000, at that event', () => {
    const { path, close } = thousand();
    close();
    tamper(path, `UPDATE audit_events SET details = replace(details, '"i":612,', '"i":613,') WHERE seq = 612`);
    const v = verifyFile(path);
    assert.equal(v.ok, false);
    assert.equal(v.firstBad?.position, 612, v.firstBad?.problem);
    assert.match(v.firstBad!.problem, /event 612 was changed/);
  });

  it('verifies events whose strings SQLite may spell otherwise than JSON.stringify (leaf-text path, issue 17.5)', () => {
    const path = join(tempDir(), 'audit.db');
    const db = openDatabase(path, { create: true });
    const log = new AuditLog(db, fixedClock(new Date('2026-11-25T00:00:00Z')));
    const odd = [
      'tab\there',
      'nul\u0000 bell\u0007 esc\u001b del\u007f',
      'quote " backslash \\ slash /',
      'line\u2028sep',
      'é ü 日本 🙂',
    ];
    for (const [i, target] of [...odd, 'plain', ...odd].entries())
      log.append({
        actor: `a${i}`,
        roles: ['ca-administrator'],
        action: 'test.event',
        target,
        outcome: 'success',
        details: { target },
      });
    const v = log.verify();
    assert.equal(v.ok, true, v.firstBad?.problem);
    assert.equal(v.events, 2 * odd.length + 1);
    assert.equal(v.headHash, log.head().hash);
    assert.equal(v.rootHash, log.treeHead().rootHash);
    db.close();
  });

  it('reads stored text that is not canonical but says the same as before: parsed, and accepted', () => {
    const { path, close } = thousand();
    close();
    tamper(path, `UPDATE audit_events SET details = replace(details, '"i":300,', '"i": 300,') WHERE seq = 300`);
    const raw = new Database(path, { readonly: true });
    const stored = raw.prepare('SELECT details FROM audit_events WHERE seq = 300').get() as { details: string };
    raw.close();
    assert.match(stored.details, /"i": 300,/);
    const v = verifyFile(path);
    assert.equal(v.ok, true, v.firstBad?.problem);
    assert.equal(v.events, 1000);
  });

  it('reports a hash moved into prev_hash (a text that splits another way) as the slow path does', () => {
    // hash '' and prev_hash = (the hash of the event) + (the real prev_hash): hash || prev_hash
    // is the text of an intact event, so only the stored lengths tell it apart.
    const { path, log, close } = logWith(8);
    const e4 = log.list(4, 4)[0]!;
    close();
    const raw = new Database(path, { readonly: true });
    const row = raw.prepare('SELECT prev_hash FROM audit_events WHERE seq = 4').get() as { prev_hash: string };
    raw.close();
    assert.equal(row.prev_hash, e4.prevHash);
    tamper(path, `UPDATE audit_events SET hash = '', prev_hash = '${e4.hash}' || prev_hash WHERE seq = 4`);
    const v = verifyFile(path);
    assert.equal(v.ok, false);
    assert.equal(v.firstBad?.position, 4, v.firstBad?.problem);
    assert.match(v.firstBad!.problem, /event 4 does not follow event 3/);
  });

  it('reads a log longer than a page, and finds a change or a gap in a later page at its event', () => {
    const { path, close } = logWith(4200);
    close();
    const copy = (sql: string) => {
      const p = join(tempDir(), 'audit.db');
      const raw = new Database(path, { readonly: true });
      raw.exec(`VACUUM INTO '${p}'`);
      raw.close();
      if (sql) tamper(p, sql);
      return verifyFile(p);
    };
    const good = copy('');
    assert.equal(good.ok, true, good.firstBad?.problem);
    assert.equal(good.events, 4200);
    const changed = copy(`UPDATE audit_events SET target = 't4150X' WHERE seq = 4150`);
    assert.equal(changed.firstBad?.position, 4150, changed.firstBad?.problem);
    assert.match(changed.firstBad!.problem, /event 4150 was changed/);
    const gap = copy('DELETE FROM audit_events WHERE seq = 4100');
    assert.equal(gap.firstBad?.position, 4100, gap.firstBad?.problem);
    assert.match(gap.firstBad!.problem, /event 4100 is missing/);
  });
});
