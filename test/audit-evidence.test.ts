/**
 * R-7, R-11.1 (CPS 5.4): the audit log as a verifiable log. The audit key (a service key held
 * by Log Examiners), signed checkpoints of the RFC 9162 tree head, tampering in the SQLite
 * file found at the right position even with a checkpoint, inclusion and consistency proofs
 * (1,000 events between two checkpoints), ingesting other systems' logs, reviews, retention,
 * and the export bundle an auditor verifies offline.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, generateKeyPairSync as genKeys, sign } from 'node:crypto';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { verifyAuditBundle } from '../src/audit/bundle.ts';
import {
  checkpointSignedBytes,
  parseCheckpointFile,
  spkiFingerprint,
  type CheckpointFile,
} from '../src/audit/checkpoint.ts';
import { AuditLog } from '../src/audit/log.ts';
import { eventHash } from '../src/audit/event.ts';
import { verifyConsistency } from '../src/audit/merkle.ts';
import { MerkleTreeLevels } from '../src/audit/tree.ts';
import {
  createCheckpoint,
  initAuditKey,
  listAuditKeys,
  type CheckpointResult,
} from '../src/records/audit-checkpoints.ts';
import { checkConsistency, inclusionProofFor, proveEvent } from '../src/records/audit-proofs.ts';
import {
  exportAuditBundle,
  ingestLog,
  listReviews,
  purgeAuditEvents,
  recordReview,
} from '../src/records/audit-review.ts';
import { CONFIG_FILE, DATABASE_FILE, openInstallation, type Installation } from '../src/installation/installation.ts';
import { fixedClock } from '../src/clock.ts';
import { CaError } from '../src/errors.ts';
import { openDatabase } from '../src/store/db.ts';
import { evidenceInstallation, auditPassphrases } from './audit-fixtures.ts';
import { openssl, rejectsWith, tempDir } from './helpers.ts';

const passphrases = auditPassphrases;

const throwsWith = (code: string, fn: () => unknown, message?: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CaError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });

function addEvents(inst: Installation, n: number, tag = 'e'): void {
  for (let i = 0; i < n; i++)
    inst.audit.append({
      actor: 'alice',
      roles: ['ca-administrator'],
      action: 'test.event',
      target: `${tag}${i}`,
      outcome: 'success',
      details: { i },
    });
}

/** A consistent copy of the installation (config + database) to damage without touching the original. */
function snapshot(inst: Installation, dir = tempDir()): string {
  const home = join(dir, 'home');
  mkdirSync(home);
  copyFileSync(join(inst.home, CONFIG_FILE), join(home, CONFIG_FILE));
  inst.db.exec(`VACUUM INTO '${join(home, DATABASE_FILE).replaceAll("'", "''")}'`);
  return home;
}

/** Edits the database file as an attacker with file access would: append-only triggers dropped first. */
function tamper(home: string, fn: (db: Database.Database) => void): void {
  const raw = new Database(join(home, DATABASE_FILE));
  raw.exec(`DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;
    DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;`);
  fn(raw);
  raw.close();
}

function verifyHome(home: string) {
  const db = openDatabase(join(home, DATABASE_FILE));
  try {
    const log = new AuditLog(db, fixedClock(new Date()));
    const v = log.verify();
    // The Merkle tree built in a worker thread (issue 17.5) gives the same answer, problems in the same order.
    assert.deepEqual(log.verify({ merkleWorkerFrom: 0 }), v);
    return v;
  } finally {
    db.close();
  }
}

describe('R-7.2 the audit log as a verifiable log', () => {
  const dir = tempDir();
  let inst: Installation;
  let cp1: CheckpointResult;
  let cp2: CheckpointResult;

  before(async () => {
    inst = evidenceInstallation(dir);
    await initAuditKey(inst, { holders: ['leo', 'lena'], authoriser: 'paula', witness: 'olivia', passphrases });
    addEvents(inst, 10, 'a');
    cp1 = await createCheckpoint(inst, { examiner: 'leo', passphrases });
    addEvents(inst, 5, 'b');
    cp2 = await createCheckpoint(inst, { examiner: 'lena', passphrases });
    addEvents(inst, 3, 'c');
  });

  it('makes the audit key a service key sealed to the holders, its public key recorded in the log', () => {
    const keys = listAuditKeys(inst);
    assert.equal(keys.length, 1);
    assert.equal(keys[0].status, 'active');
    assert.equal(keys[0].kind, 'ed25519');
    assert.deepEqual(keys[0].holders, ['lena', 'leo']);
    const init = inst.audit.list().find((e) => e.action === 'audit.key-init')!;
    assert.equal(init.outcome, 'success');
    assert.equal(init.details.publicKeySha256, keys[0].publicKeySha256);
    assert.deepEqual(
      (init.details.participants as { operator: string }[]).map((p) => p.operator),
      ['paula', 'olivia'],
    );
    assert.equal(
      (inst.db.prepare('SELECT COUNT(*) AS n FROM ca_keys').get() as { n: number }).n,
      0,
      'no CA key was made or used',
    );
    const v = inst.audit.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBad ?? v.checkpoints.problems));
    assert.equal(v.checkpoints.verified, 2);
    assert.equal(v.checkpoints.uncovered, inst.audit.head().seq - cp2.checkpoint.body.treeSize);
  });

  it('builds the same tree and checks the same checkpoints in a worker thread (issue 17.5)', () => {
    const v = inst.audit.verify({ merkleWorkerFrom: 0 });
    assert.equal(v.ok, true, JSON.stringify(v.firstBad ?? v.checkpoints.problems));
    assert.equal(v.checkpoints.verified, 2);
    assert.deepEqual(v, inst.audit.verify());
  });

  it('writes a self-contained checkpoint file whose signature openssl verifies', () => {
    assert.equal(cp1.file, join(inst.home, 'checkpoints', 'checkpoint-1.json'));
    const text = readFileSync(cp1.file, 'utf8');
    const { checkpoint, key } = parseCheckpointFile(text);
    assert.deepEqual(checkpoint.body, cp1.checkpoint.body);
    assert.equal(checkpoint.body.rootHash, inst.audit.treeHead(checkpoint.body.treeSize).rootHash);
    assert.equal(checkpoint.body.installation, 'evidence');
    const event = inst.audit.list().find((e) => e.action === 'audit.checkpoint' && e.details.number === 1)!;
    assert.equal(event.seq, checkpoint.body.treeSize + 1, 'the checkpoint event follows the tree head it signed');
    assert.equal(event.actor, 'leo');
    // By hand, with OpenSSL alone: the signed bytes are the canonical JSON of the body.
    const file = JSON.parse(text) as CheckpointFile;
    writeFileSync(join(dir, 'body.json'), checkpointSignedBytes(file.body));
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(file.signature, 'base64'));
    writeFileSync(join(dir, 'audit.pem'), file.publicKey);
    assert.match(
      openssl([
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        join(dir, 'audit.pem'),
        '-rawin',
        '-in',
        join(dir, 'body.json'),
        '-sigfile',
        join(dir, 'sig.bin'),
      ]),
      /Signature Verified Successfully/,
    );
    assert.equal(spkiFingerprint(key.publicKeySpki), listAuditKeys(inst)[0].publicKeySha256);
  });

  it('refuses the wrong roles (a CA Administrator cannot checkpoint, export, review or ingest) and records each refusal', async () => {
    await rejectsWith(
      'ROLE_MISSING',
      () => createCheckpoint(inst, { examiner: 'alice', passphrases }),
      /needs the log-examiner role/,
    );
    await rejectsWith(
      'ROLE_MISSING',
      () => exportAuditBundle(inst, { to: join(dir, 'never'), examiner: 'alice', passphrases }),
      /needs the log-examiner role/,
    );
    await rejectsWith('ROLE_MISSING', () =>
      recordReview(inst, { from: 1, to: 2, findings: 'x', examiner: 'alice', passphrases }),
    );
    await rejectsWith('ROLE_MISSING', () =>
      ingestLog(inst, { data: Buffer.from('x\n'), source: 'room-access', examiner: 'alice', passphrases }),
    );
    await rejectsWith('ROLE_MISSING', () => proveEvent(inst, { event: 1, examiner: 'alice', passphrases }));
    await rejectsWith(
      'ROLE_MISSING',
      () => initAuditKey(inst, { holders: ['alice'], authoriser: 'paula', witness: 'olivia', passphrases }),
      /alice cannot act as holder/,
    );
    await rejectsWith(
      'ROLE_MISSING',
      () => initAuditKey(inst, { holders: ['leo'], authoriser: 'leo', witness: 'olivia', passphrases }),
      /leo cannot act as authoriser/,
    );
    await rejectsWith('SAME_PERSON_TWICE', () =>
      initAuditKey(inst, { holders: ['leo'], authoriser: 'olivia', witness: 'olivia', passphrases }),
    );
    assert.ok(!existsSync(join(dir, 'never')), 'nothing was exported');
    const refused = inst.audit
      .list()
      .filter((e) => e.outcome === 'refused')
      .map((e) => e.action);
    for (const a of [
      'audit.checkpoint',
      'audit.export',
      'audit.review',
      'audit.ingest',
      'audit.read',
      'audit.key-init',
    ])
      assert.ok(refused.includes(a), `${a} refusal recorded`);
    assert.equal(inst.audit.verify().ok, true);
  });

  describe('tampering in the SQLite file is found at the right position, with the checkpoints showing it', () => {
    const cases: {
      name: string;
      edit: (db: Database.Database, s1: number) => void;
      position: (s1: number, s2: number) => number;
      problem: RegExp;
      checkpoint: RegExp;
    }[] = [
      {
        name: 'one changed byte',
        position: () => 4,
        problem: /event 4 was changed/,
        checkpoint: /events 1\.\.\d+ no longer match signed checkpoint 1/,
        edit: (db) => db.exec("UPDATE audit_events SET target = 'a2X' WHERE seq = 4"),
      },
      {
        name: 'a deleted event',
        position: () => 5,
        problem: /event 5 is missing/,
        checkpoint: /no longer match signed checkpoint 1/,
        edit: (db) => db.exec('DELETE FROM audit_events WHERE seq = 5'),
      },
      {
        name: 'two events swapped',
        position: () => 6,
        problem: /follow|changed|order/,
        checkpoint: /no longer match signed checkpoint 1/,
        edit: (db) =>
          db.exec(
            'UPDATE audit_events SET seq = -1 WHERE seq = 6; UPDATE audit_events SET seq = 6 WHERE seq = 7; UPDATE audit_events SET seq = 7 WHERE seq = -1;',
          ),
      },
      {
        name: 'a forged event inserted (later ones renumbered)',
        position: () => 4,
        problem: /follow/,
        checkpoint: /no longer match signed checkpoint 1/,
        edit: (db) =>
          db.exec(`UPDATE audit_events SET seq = seq + 100000 WHERE seq >= 4; UPDATE audit_events SET seq = seq - 99999 WHERE seq >= 100000;
          INSERT INTO audit_events (seq, at, actor, roles, action, target, outcome, details, prev_hash, hash) SELECT 4, at, 'mallory', roles, action, target, outcome, details, prev_hash, hash FROM audit_events WHERE seq = 3;`),
      },
      {
        name: 'the log truncated inside the first checkpoint',
        position: () => 8,
        problem: /cut off/,
        checkpoint: /checkpoint 1 covers \d+ events but the log has only 7/,
        edit: (db) => db.exec('DELETE FROM audit_events WHERE seq > 7'),
      },
      {
        name: 'the log truncated and its recorded head rewritten to match (only the checkpoints see it)',
        position: (s1) => s1 + 2,
        problem: /checkpoint 2 covers \d+ events .* were cut off/,
        checkpoint: /checkpoint 2 covers/,
        edit: (db, s1) => {
          const keep = s1 + 1;
          db.exec(`DELETE FROM audit_events WHERE seq > ${keep}`);
          const last = db.prepare('SELECT hash FROM audit_events WHERE seq = ?').get(keep) as { hash: string };
          db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(`${keep}:${last.hash}`);
        },
      },
      {
        name: 'an event changed and the whole chain recomputed (the checkpoints narrow it to the events after the last good one)',
        position: (s1) => s1 + 1,
        problem: /events \d+\.\.\d+ no longer match signed checkpoint 2/,
        checkpoint: /no longer match signed checkpoint 2/,
        edit: (db, s1) => {
          db.prepare("UPDATE audit_events SET outcome = 'refused' WHERE seq = ?").run(s1 + 3);
          rechain(db);
        },
      },
    ];
    for (const c of cases) {
      it(`${c.name}: reported at the right event, and a checkpoint no longer matches`, () => {
        const s1 = cp1.checkpoint.body.treeSize;
        const home = snapshot(inst);
        tamper(home, (db) => c.edit(db, s1));
        const v = verifyHome(home);
        assert.equal(v.ok, false);
        assert.equal(v.firstBad?.position, c.position(s1, cp2.checkpoint.body.treeSize), v.firstBad?.problem);
        assert.match(v.firstBad!.problem, c.problem);
        assert.ok(
          v.checkpoints.problems.some((p) => c.checkpoint.test(p.problem)),
          JSON.stringify(v.checkpoints.problems),
        );
      });
    }

    it('an altered checkpoint fails its signature and does not blame the events', () => {
      const home = snapshot(inst);
      tamper(home, (db) => {
        const row = db.prepare('SELECT body FROM audit_checkpoints WHERE number = 1').get() as { body: string };
        db.prepare('UPDATE audit_checkpoints SET body = ? WHERE number = 1').run(
          row.body.replace(/"treeSize":\d+/, '"treeSize":3'),
        );
      });
      const v = verifyHome(home);
      assert.equal(v.ok, false);
      assert.equal(v.firstBad, undefined);
      assert.match(
        v.checkpoints.problems.map((p) => p.problem).join('\n'),
        /checkpoint 1: the signature does not verify/,
      );
    });

    it('a deleted checkpoint is missed: its audit.checkpoint event still names it', () => {
      const home = snapshot(inst);
      tamper(home, (db) => db.exec('DELETE FROM audit_checkpoints WHERE number = 1'));
      const v = verifyHome(home);
      assert.equal(v.ok, false);
      assert.match(
        v.checkpoints.problems.map((p) => p.problem).join('\n'),
        /checkpoint 1, recorded by event \d+, is missing/,
      );
    });

    it('a replaced audit key is caught by the key-init event the checkpoints cover', () => {
      const home = snapshot(inst);
      const other = genKeys('ed25519').publicKey.export({ format: 'der', type: 'spki' });
      tamper(home, (db) => {
        db.exec('DROP TRIGGER audit_keys_only_retire');
        db.prepare('UPDATE audit_keys SET public_key_spki = ?').run(other);
      });
      const v = verifyHome(home);
      assert.equal(v.ok, false);
      assert.match(v.checkpoints.problems[0].problem, /signature does not verify/);
    });
  });

  it('rotates the audit key: the old one retires, its checkpoints keep verifying, only the new holders sign', async () => {
    const r = await initAuditKey(inst, { holders: ['lena'], authoriser: 'paula', witness: 'olivia', passphrases });
    const keys = listAuditKeys(inst);
    assert.deepEqual(
      keys.map((k) => k.status),
      ['retired', 'active'],
    );
    assert.equal(r.retired, keys[0].keyId);
    assert.equal(inst.audit.list().at(-1)!.details.retires, keys[0].keyId);
    await rejectsWith(
      'SERVICE_KEY_NOT_HOLDER',
      () => createCheckpoint(inst, { examiner: 'leo', passphrases }),
      /leo holds no copy of audit key/,
    );
    const cp3 = await createCheckpoint(inst, { examiner: 'lena', passphrases });
    assert.equal(cp3.checkpoint.keyId, r.keyId);
    const v = inst.audit.verify();
    assert.equal(v.ok, true, JSON.stringify(v.checkpoints.problems));
    assert.equal(v.checkpoints.verified, 3);
    assert.throws(
      () => inst.db.prepare("UPDATE audit_keys SET status = 'active' WHERE status = 'retired'").run(),
      /active to retired/,
    );
  });

  it('proves consistency between checkpoints taken before and after 1,000 events; a rewritten old event breaks it', async () => {
    const before = cp2;
    inst.db.transaction(() => addEvents(inst, 1000, 'bulk'))();
    const after = await createCheckpoint(inst, { examiner: 'lena', passphrases });
    assert.ok(after.checkpoint.body.treeSize > before.checkpoint.body.treeSize + 1000);
    const r = await checkConsistency(inst, {
      checkpointText: readFileSync(before.file, 'utf8'),
      size: after.checkpoint.body.treeSize,
      examiner: 'leo',
      passphrases,
    });
    assert.equal(r.ok, true, r.problem);
    assert.equal(r.to.checkpoint, after.checkpoint.number);
    assert.equal(r.to.rootHash, after.checkpoint.body.rootHash);
    assert.ok(r.proof.length > 0);
    // Checked again independently, against the two signed roots (RFC 9162 2.1.4.2).
    assert.ok(
      verifyConsistency(
        before.checkpoint.body.treeSize,
        after.checkpoint.body.treeSize,
        Buffer.from(before.checkpoint.body.rootHash, 'hex'),
        Buffer.from(after.checkpoint.body.rootHash, 'hex'),
        r.proof.map((h) => Buffer.from(h, 'hex')),
      ),
    );
    const event = inst.audit.list().at(-1)!;
    assert.deepEqual([event.action, event.outcome, event.actor], ['audit.consistency', 'success', 'leo']);

    // Today's whole log also extends the first checkpoint (default size).
    const all = await checkConsistency(inst, {
      checkpointText: readFileSync(cp1.file, 'utf8'),
      examiner: 'leo',
      passphrases,
    });
    assert.equal(all.ok, true, all.problem);

    // A rewritten old event, in a copy of the database.
    const home = snapshot(inst);
    tamper(home, (db) => db.exec('UPDATE audit_events SET details = \'{"i":99}\' WHERE seq = 3'));
    const copy = openInstallation(home);
    try {
      const bad = await checkConsistency(copy, {
        checkpointText: readFileSync(before.file, 'utf8'),
        examiner: 'leo',
        passphrases,
      });
      assert.equal(bad.ok, false);
      assert.match(bad.problem!, /does not start with the \d+ events the checkpoint signed.*audit verify: event 3/);
      assert.equal(copy.audit.list().at(-1)!.outcome, 'failed');
    } finally {
      copy.close();
    }
  });

  it('refuses an edited checkpoint file and fails one signed by a key the installation never had', async () => {
    const edited = JSON.parse(readFileSync(cp1.file, 'utf8')) as CheckpointFile;
    edited.body.treeSize -= 1;
    await rejectsWith(
      'CHECKPOINT_SIGNATURE_INVALID',
      () => checkConsistency(inst, { checkpointText: JSON.stringify(edited), examiner: 'leo', passphrases }),
      /altered/,
    );
    const forged = JSON.parse(readFileSync(cp1.file, 'utf8')) as CheckpointFile;
    const { publicKey, privateKey } = genKeys('ed25519');
    forged.publicKey = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    forged.publicKeySha256 = spkiFingerprint(publicKey.export({ format: 'der', type: 'spki' }));
    forged.signature = sign(null, checkpointSignedBytes(forged.body), privateKey).toString('base64');
    const r = await checkConsistency(inst, { checkpointText: JSON.stringify(forged), examiner: 'leo', passphrases });
    assert.equal(r.ok, false);
    assert.match(r.problem!, /not an audit key of this installation/);
  });

  it("prove: every event's inclusion proof verifies against the latest checkpoint root", async () => {
    const latest = inst.db
      .prepare('SELECT number, tree_size, root_hash FROM audit_checkpoints ORDER BY number DESC LIMIT 1')
      .get() as { number: number; tree_size: number; root_hash: string };
    const leaves = inst.audit.leafHashes();
    const tree = new MerkleTreeLevels(leaves.slice(0, latest.tree_size));
    for (let e = 1; e <= latest.tree_size; e++) {
      const p = inclusionProofFor(tree, leaves, e, latest.root_hash);
      assert.equal(p.verified, true, `event ${e}`);
    }
    const proof = await proveEvent(inst, { event: 5, examiner: 'leo', passphrases });
    assert.equal(proof.verified, true);
    assert.equal(proof.checkpoint, latest.number);
    assert.equal(proof.treeSize, latest.tree_size);
    assert.equal(proof.rootHash, latest.root_hash);
    assert.equal(proof.leafIndex, 4);
    assert.equal(inst.audit.list().at(-1)!.action, 'audit.prove');
    await rejectsWith('AUDIT_EVENT_UNKNOWN', () => proveEvent(inst, { event: 999_999, examiner: 'leo', passphrases }));
    await rejectsWith('AUDIT_SIZE_INVALID', () =>
      proveEvent(inst, { event: 5, size: 4, examiner: 'leo', passphrases }),
    );
  });

  it('ingests syslog lines of another system, one event each, telling counts only', async () => {
    const before = inst.audit.head().seq;
    const log = [
      '<13>1 2026-11-25T09:00:01+09:00 door-ctl-1 access 811 ENTRY [badge@32473 id="0042" door="vault"] granted',
      '',
      '<86>Nov 25 09:12:01 core-sw1 sshd[4242]: Accepted publickey for netops from 10.0.0.5',
      '2026-11-25 09:14:00,door 3,badge 0042,exit',
    ].join('\n');
    const r = await ingestLog(inst, {
      data: Buffer.from(`${log}\n`),
      source: 'room-access',
      examiner: 'leo',
      passphrases,
      fileName: 'access.log',
    });
    assert.deepEqual({ events: r.events, parsed: r.parsed, raw: r.raw }, { events: 3, parsed: 2, raw: 1 });
    assert.deepEqual(Object.keys(r).sort(), ['events', 'parsed', 'raw', 'sha256', 'source'], 'counts, not contents');
    const events = inst.audit.list(before + 1);
    assert.deepEqual(
      events.map((e) => e.action),
      ['ingest.room-access', 'ingest.room-access', 'ingest.room-access', 'audit.ingest'],
    );
    assert.equal(events[0].target, 'door-ctl-1');
    assert.deepEqual(events[1].details.parsed as { app: string; procId: string }, {
      ...(events[1].details.parsed as object),
      app: 'sshd',
      procId: '4242',
    });
    assert.equal(events[1].details.lineNumber, 3);
    assert.equal(events[2].details.parsed, null);
    assert.equal(events[2].details.line, '2026-11-25 09:14:00,door 3,badge 0042,exit');

    const head = inst.audit.head().seq;
    await rejectsWith(
      'LOG_INPUT_MALFORMED',
      () =>
        ingestLog(inst, {
          data: Buffer.from('fine\nSECRET\0LINE\nfine\n'),
          source: 'room-access',
          examiner: 'leo',
          passphrases,
        }),
      /line 2 contains a NUL byte.*nothing was ingested/,
    );
    await rejectsWith(
      'LOG_INPUT_MALFORMED',
      () =>
        ingestLog(inst, {
          data: Buffer.from(`ok\n${'y'.repeat(9000)}\n`),
          source: 'room-access',
          examiner: 'leo',
          passphrases,
        }),
      /line 2 longer than 8192 bytes/,
    );
    await rejectsWith('SOURCE_NAME_INVALID', () =>
      ingestLog(inst, { data: Buffer.from('x\n'), source: 'Room Access', examiner: 'leo', passphrases }),
    );
    await rejectsWith('LOG_INPUT_EMPTY', () =>
      ingestLog(inst, { data: Buffer.from('\n\n'), source: 'room-access', examiner: 'leo', passphrases }),
    );
    const after = inst.audit.list(head + 1);
    assert.deepEqual(
      after.map((e) => `${e.action}:${e.outcome}`),
      Array(4).fill('audit.ingest:refused'),
      'only the refusals, no line of the refused input',
    );
    assert.ok(
      !JSON.stringify(after).includes('SECRET') && !JSON.stringify(after).includes('fine'),
      'the refused content is not recorded',
    );
    assert.equal(inst.audit.verify().ok, true);
  });

  it('records a review of a range with what was found (CPS 5.4.2)', async () => {
    const review = await recordReview(inst, {
      from: 1,
      to: 20,
      findings: 'no exceptions; two refused role checks explained',
      examiner: 'leo',
      passphrases,
    });
    assert.deepEqual([review.from, review.to, review.examiner, review.logVerified], [1, 20, 'leo', true]);
    assert.equal(review.rootHash, inst.audit.treeHead(20).rootHash);
    const event = inst.audit.list(review.auditSeq, review.auditSeq)[0];
    assert.equal(event.action, 'audit.review');
    assert.equal(event.details.findings, review.findings);
    assert.deepEqual(
      listReviews(inst).map((r) => r.id),
      [review.id],
    );
    await rejectsWith('REVIEW_RANGE_INVALID', () =>
      recordReview(inst, { from: 5, to: 4, findings: 'x', examiner: 'leo', passphrases }),
    );
    await rejectsWith('REVIEW_RANGE_INVALID', () =>
      recordReview(inst, { from: 1, to: 10_000_000, findings: 'x', examiner: 'leo', passphrases }),
    );
    await rejectsWith('REVIEW_FINDINGS_MISSING', () =>
      recordReview(inst, { from: 1, to: 2, findings: '  ', examiner: 'leo', passphrases }),
    );
  });

  it('refuses to purge: younger events by CPS 5.4.3, older ones because this version keeps them', () => {
    throwsWith(
      'AUDIT_RETENTION',
      () => purgeAuditEvents(inst, { before: inst.clock.now().toISOString().slice(0, 10) }),
      /younger than 10 years cannot be removed \(CPS 5\.4\.3.*Nothing was removed/,
    );
    throwsWith(
      'AUDIT_PURGE_NOT_SUPPORTED',
      () => purgeAuditEvents(inst, { before: '2000-01-01' }),
      /past the 10-year retention period.*this version of rootca keeps every event.*Nothing was removed/,
    );
    throwsWith('DATE_INVALID', () => purgeAuditEvents(inst, { before: 'last tuesday' }));
    const last = inst.audit.list().slice(-3);
    assert.deepEqual(
      last.map((e) => `${e.action}:${e.outcome}:${e.details.code}`),
      [
        'audit.purge:refused:AUDIT_RETENTION',
        'audit.purge:refused:AUDIT_PURGE_NOT_SUPPORTED',
        'audit.purge:refused:DATE_INVALID',
      ],
    );
  });

  it('exports a bundle that verifies offline, with a kept checkpoint; a tampered bundle is caught', async () => {
    // The four checkpoints the tests before leave, signed here when they did not run.
    const checkpoints = () => Number(inst.db.prepare('SELECT count(*) FROM audit_checkpoints').pluck().get());
    while (checkpoints() < 4) await createCheckpoint(inst, { examiner: 'lena', passphrases });
    const to = join(dir, 'bundle');
    const r = await exportAuditBundle(inst, { to, examiner: 'leo', passphrases });
    assert.equal(r.verification.ok, true, r.verification.problems.join('\n'));
    assert.equal(r.manifest.checkpoints, 4);
    const exported = inst.audit.list().at(-1)!;
    assert.deepEqual(
      [exported.action, exported.details.manifestSha256],
      [
        'audit.export',
        createHash('sha256')
          .update(readFileSync(join(to, 'manifest.json')))
          .digest('hex'),
      ],
    );
    await rejectsWith(
      'OUTPUT_EXISTS',
      () => exportAuditBundle(inst, { to, examiner: 'leo', passphrases }),
      /never overwrites/,
    );

    const kept = { file: 'checkpoint-1.json', text: readFileSync(cp1.file, 'utf8') };
    const ok = verifyAuditBundle(to, { kept: [kept] });
    assert.equal(ok.ok, true, ok.problems.join('\n'));
    assert.deepEqual(ok.kept, [{ file: 'checkpoint-1.json', ok: true }]);

    const copy = (name: string, edit: (d: string) => void) => {
      const d = join(dir, name);
      cpSync(to, d, { recursive: true });
      edit(d);
      return verifyAuditBundle(d, { kept: [kept] });
    };
    const rewriteEvent = (d: string, seq: number, change: (e: Record<string, unknown>) => void) => {
      const lines = readFileSync(join(d, 'events.jsonl'), 'utf8').split('\n');
      const e = JSON.parse(lines[seq - 1]) as Record<string, unknown>;
      change(e);
      lines[seq - 1] = JSON.stringify(e);
      writeFileSync(join(d, 'events.jsonl'), lines.join('\n'));
    };
    const byte = copy('t-byte', (d) =>
      rewriteEvent(d, 4, (e) => {
        e.target = 'a2X';
      }),
    );
    assert.equal(byte.ok, false);
    assert.match(byte.problems.join('\n'), /events\.jsonl does not match its SHA-256 in the manifest/);
    assert.match(byte.problems.join('\n'), /event 4: event 4 was changed/);
    assert.equal(byte.kept[0].ok, false);

    // Even with the manifest rewritten to match, the chain and the signed checkpoints catch it.
    const fixed = copy('t-manifest', (d) => {
      rewriteEvent(d, 4, (e) => {
        e.target = 'a2X';
      });
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as {
        files: { path: string; sha256: string; bytes: number }[];
      };
      const data = readFileSync(join(d, 'events.jsonl'));
      Object.assign(m.files.find((f) => f.path === 'events.jsonl')!, {
        sha256: createHash('sha256').update(data).digest('hex'),
        bytes: data.length,
      });
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    });
    assert.equal(fixed.ok, false);
    assert.doesNotMatch(fixed.problems.join('\n'), /SHA-256 in the manifest/);
    assert.match(fixed.problems.join('\n'), /event 4 was changed[\s\S]*no longer match signed checkpoint 1/);

    const gone = copy('t-gone', (d) => rmSync(join(d, 'checkpoints', 'checkpoint-2.json')));
    assert.match(
      gone.problems.join('\n'),
      /checkpoints\/checkpoint-2\.json is listed in the manifest but missing[\s\S]*checkpoint 2, recorded by event \d+, is missing/,
    );
    const added = copy('t-added', (d) => writeFileSync(join(d, 'note.txt'), 'x'));
    assert.match(added.problems.join('\n'), /note\.txt is not listed in the manifest/);
    const cut = copy('t-cut', (d) => {
      const lines = readFileSync(join(d, 'events.jsonl'), 'utf8').split('\n');
      writeFileSync(join(d, 'events.jsonl'), `${lines.slice(0, 10).join('\n')}\n`);
    });
    assert.match(cut.problems.join('\n'), /event 11: .*cut off/);
  });

  it('time-stamps a checkpoint when given a time-stamper, and stores nothing when stamping fails', async () => {
    let stamped: Buffer | undefined;
    const token = Buffer.from('3003020100', 'hex'); // stands in for the TSA's TimeStampToken DER
    const r = await createCheckpoint(inst, {
      examiner: 'lena',
      passphrases,
      timestamper: {
        stamp: async (data) => {
          stamped = data;
          return token;
        },
      },
    });
    assert.deepEqual(stamped, r.checkpoint.signature, 'the token covers the checkpoint signature');
    assert.equal(r.content.timeStampToken, token.toString('base64'));
    assert.deepEqual(
      (
        inst.db.prepare('SELECT timestamp_token FROM audit_checkpoints WHERE number = ?').get(r.checkpoint.number) as {
          timestamp_token: Buffer;
        }
      ).timestamp_token,
      token,
    );
    const count = () => (inst.db.prepare('SELECT COUNT(*) AS n FROM audit_checkpoints').get() as { n: number }).n;
    const n = count();
    await rejectsWith(
      'TIMESTAMP_FAILED',
      () =>
        createCheckpoint(inst, {
          examiner: 'lena',
          passphrases,
          timestamper: {
            stamp: async () => {
              throw new Error('TSA unreachable');
            },
          },
        }),
      /TSA unreachable; nothing was stored/,
    );
    assert.equal(count(), n);
    assert.equal(inst.audit.list().at(-1)!.outcome, 'failed');
    assert.equal(inst.audit.verify().ok, true);
  });

  it('refuses to sign a checkpoint over a log that does not verify', async () => {
    const home = snapshot(inst);
    tamper(home, (db) => db.exec("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"));
    const copy = openInstallation(home);
    try {
      await rejectsWith(
        'AUDIT_LOG_BROKEN',
        () => createCheckpoint(copy, { examiner: 'lena', passphrases }),
        /event 2 was changed.*no checkpoint is signed/,
      );
    } finally {
      copy.close();
    }
  });
});

/** Recomputes every chain hash and the recorded head, as an attacker covering their tracks would. */
function rechain(db: Database.Database): void {
  const rows = db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as {
    seq: number;
    at: string;
    actor: string;
    roles: string;
    action: string;
    target: string;
    outcome: 'success';
    details: string;
  }[];
  let prev = '0'.repeat(64);
  const update = db.prepare('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?');
  for (const r of rows) {
    const hash = eventHash(prev, {
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      roles: JSON.parse(r.roles),
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      details: JSON.parse(r.details),
    });
    update.run(prev, hash, r.seq);
    prev = hash;
  }
  db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(`${rows.at(-1)!.seq}:${prev}`);
}
