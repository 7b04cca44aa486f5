/**
 * Issue 14 item 5: messages that do not mislead. Regressions: a ceremony file's NUL and
 * newlines reached the terminal raw; `--credential alice=<literal>` echoed the literal on
 * stderr; `audit verify` after a re-chained log said "the log ends at event 46 but its
 * recorded head is event 46".
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventHash, type AuditEvent } from '../src/audit/event.ts';
import { printable, printableMessage } from '../src/util/printable.ts';
import { installationWithPeople, rootca, tempDir } from './helpers.ts';

describe('issue 14 item 5: messages that do not mislead', () => {
  it('control characters from a file or CSR are escaped; a message keeps its own line breaks', () => {
    assert.equal(printable('CN=a\u0000b\nc\u001b[31m'), 'CN=a\\x00b\\nc\\x1b[31m');
    assert.equal(printable('right\u202eto-left'), 'right\\u202eto-left');
    assert.equal(printableMessage('line one\nname\u0007'), 'line one\nname\\x07');
  });

  it('audit verify after a re-chained log names what happened, not "ends at event N but its head is event N"', (t) => {
    const inst = installationWithPeople();
    t.after(() => inst.close()); // closed whether the test passes or not
    const events = inst.audit.list();
    const n = events.length;
    // Someone edits event 2 and recomputes every later hash, but cannot move the recorded head consistently.
    inst.db.exec('DROP TRIGGER audit_events_no_update');
    let prev = events[0]!.hash;
    for (const e of events.slice(1)) {
      const changed: AuditEvent = e.seq === 2 ? { ...e, details: { ...e.details, forged: true } } : e;
      const hash = eventHash(prev, changed);
      inst.db
        .prepare('UPDATE audit_events SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?')
        .run(JSON.stringify(changed.details), prev, hash, e.seq);
      prev = hash;
    }
    const v = inst.audit.verify();
    assert.equal(v.ok, false);
    assert.doesNotMatch(v.firstBad!.problem, new RegExp(`ends at event ${n} but its recorded head is event ${n}`));
    assert.match(v.firstBad!.problem, /re-chained/);
    assert.match(v.firstBad!.problem, new RegExp(`chain of ${n} events`));
  });

  it('a usage error about --credential never repeats the passphrase given in it', () => {
    const secret = 'Tr0ub4dor&3-literal-passphrase';
    const r = rootca(['--home', join(tempDir(), 'h'), 'ceremony', 'run', 'x.yaml', '--credential', `alice=${secret}`]);
    assert.equal(r.status, 2, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(secret));
    assert.match(r.stderr, /--credential alice=…/);
  });

  it('an error built from a ceremony file shows its control characters escaped', () => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    inst.close();
    const file = join(dir, 'evil.yaml');
    writeFileSync(file, 'ceremony: root-ca\n"bad\\u001b[2J\\u0000key": 1\n');
    const r = rootca(['--home', inst.home, 'ceremony', 'run', file]);
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /[\u0000\u001b]/, 'no raw control character reaches the terminal');
    assert.match(r.stderr, /\\x1b\[2J\\x00key/);
  });
});
