/**
 * R-8 crash safety (issue 6): a child process issues certificates and makes backups in a loop
 * and is killed with SIGKILL many times — right after each step of a backup, inside the signing
 * window of an issuance (between the serial reservation and the stored certificate), and at
 * random moments. Afterwards the audit log and the archive verify, no serial is reused, and
 * every certificate the store says was issued is in the log and, after the next successful
 * backup, in a complete backup set.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSnapshot, withTemporaryCopy } from '../src/archive/snapshot.ts';
import { inspectArchive } from '../src/records/archive-inspection.ts';
import { archiveLocations, backupNow } from '../src/records/backups.ts';
import { openInstallation } from '../src/installation/installation.ts';
import { allPassphrases, passphraseMap, REPO, rootca, tempDir } from './helpers.ts';
import { archiveInstallation } from './archive-fixtures.ts';
import { compiledChild } from './fixtures/compiled-child.ts';

type Kill = { step: string } | { signing: true } | { randomMs: number };

/** Runs the child until the kill point, then SIGKILLs it; returns the last line it printed. */
async function runAndKill(home: string, kill: Kill): Promise<string> {
  const child = spawn(process.execPath, [compiledChild(join(REPO, 'test', 'archive-crash-child.ts')), home], {
    cwd: REPO,
    env: {
      ...process.env,
      ROOTCA_TEST_PASSPHRASES: JSON.stringify(allPassphrases()),
      ROOTCA_TEST_PAUSE_AT: 'step' in kill ? kill.step : '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let poll: NodeJS.Timeout | undefined;
  const watcher =
    'signing' in kill ? new Database(join(home, 'rootca.db'), { readonly: true, fileMustExist: true }) : undefined;
  try {
    await new Promise<void>((res, rej) => {
      // A child that never reaches its kill point is killed anyway: it would issue forever and hold the run open.
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        rej(new Error(`the child never reached its kill point ${JSON.stringify(kill)}: ${err}\n${out.slice(-2000)}`));
      }, 30_000);
      const doKill = () => {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        child.kill('SIGKILL');
        res();
      };
      child.stdout.on('data', (d) => {
        const seen = out;
        out += d;
        const ready = !seen.includes('ready\n') && out.includes('ready\n');
        if (
          'step' in kill &&
          out
            .split('\n')
            .slice(seen.split('\n').length - 1)
            .includes(`step ${kill.step}`)
        )
          doKill();
        else if ('randomMs' in kill && ready) setTimeout(doKill, kill.randomMs);
        else if ('signing' in kill && ready) {
          // Inside the signing window: the ceremony row and the serial reservation exist, the certificate does not yet.
          // A row newer than any at start: the child first closes rows an earlier kill left 'started'
          // (durable-outputs.ts), so a count of started rows can stand still while a new one opens.
          const base = (watcher!.prepare('SELECT coalesce(max(id), 0) AS id FROM ceremonies').get() as { id: number })
            .id;
          const opened = () =>
            (
              watcher!
                .prepare(
                  "SELECT count(*) AS n FROM ceremonies WHERE kind = 'certificate.issue' AND status = 'started' AND id > ?",
                )
                .get(base) as { n: number }
            ).n;
          poll = setInterval(() => {
            if (opened() > 0) doKill();
          }, 2);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        if (code !== null) rej(new Error(`child exited ${code}: ${err}`));
      });
    });
    await exited;
  } finally {
    if (poll) clearInterval(poll);
    watcher?.close();
  }
  assert.doesNotMatch(err, /Error/, err);
  return out.trimEnd().split('\n').at(-1) ?? '';
}

describe('R-8 crash safety: SIGKILL in the middle of issuance and backup, many times', () => {
  const dir = tempDir();
  let home: string;

  before(async () => {
    const { inst } = await archiveInstallation(dir);
    home = inst.home;
    inst.close();
  });

  it('afterwards the audit log and the archive verify, no serial is reused, and every issued certificate is logged and archived', async (t) => {
    // Right after each step of a backup (the one an issuance triggers), inside the signing window
    // of an issuance, and at random moments (mostly while the quorum authenticates).
    const steps = ['allocated', 'snapshot', 'stamped', 'manifest', 'copied:1', 'renamed:0', 'renamed:1', 'registered'];
    const plan: Kill[] = [
      ...steps.map((step) => ({ step })),
      { signing: true },
      { signing: true },
      ...Array.from({ length: 3 }, () => ({ randomMs: 100 + Math.floor(Math.random() * 3500) })),
    ];
    const killedAt: string[] = [];
    for (const kill of plan) {
      const last = await runAndKill(home, kill);
      killedAt.push(
        'step' in kill
          ? `step ${kill.step}`
          : 'signing' in kill
            ? 'signing'
            : `${kill.randomMs} ms (after "${last.split(' ')[0]}")`,
      );
      if ('step' in kill && (kill.step === 'manifest' || kill.step === 'renamed:0')) {
        // Straight after the crash, before anything repairs it: an interrupted set is not a loss.
        const inst = openInstallation(home);
        try {
          const r = inspectArchive(inst);
          assert.ok(r.ok, r.problems.join('\n'));
          assert.ok(
            r.warnings.some((w) =>
              kill.step === 'manifest'
                ? /incomplete set \(interrupted before it was finished\)/.test(w)
                : /the copy was interrupted before it was complete/.test(w),
            ),
            r.warnings.join('\n'),
          );
        } finally {
          inst.close();
        }
      }
    }

    const inst = openInstallation(home);
    try {
      const v = inst.audit.verify();
      assert.ok(v.ok, JSON.stringify(v.firstBad));
      const report = inspectArchive(inst);
      assert.ok(report.ok, report.problems.join('\n'));
      const cli = rootca(['archive', 'inspect', '--home', home]);
      assert.equal(cli.status, 0, cli.stdout);
      const verified = rootca(['audit', 'verify', '--home', home]);
      assert.equal(verified.status, 0, verified.stdout + verified.stderr);

      // No serial reused: unique per issuer, each certificate's serial was reserved by its own ceremony,
      // and the serials reserved by interrupted issuances were never given to another certificate.
      const certs = inst.db
        .prepare(`SELECT x.serial_hex, json_extract(x.details, '$.ceremonyId') AS ceremony, r.ceremony_id AS reservedBy
        FROM certificates x LEFT JOIN serial_reservations r ON r.issuer_ca_id = x.issuer_ca_id AND r.serial_hex = x.serial_hex WHERE x.profile = 'ocsp'`)
        .all() as { serial_hex: string; ceremony: number; reservedBy: number | null }[];
      assert.ok(certs.length >= 3, `the children issued ${certs.length} certificates`);
      assert.equal(new Set(certs.map((c) => c.serial_hex)).size, certs.length, 'no serial used twice');
      for (const c of certs)
        assert.equal(c.reservedBy, c.ceremony, `serial ${c.serial_hex} was reserved by the ceremony that signed it`);
      // Interrupted issuances: still 'started', or closed as abandoned by the next run (durable-outputs.ts).
      const interrupted = inst.db
        .prepare(`SELECT c.id, r.serial_hex FROM ceremonies c JOIN serial_reservations r ON r.ceremony_id = c.id
        WHERE c.kind = 'certificate.issue' AND (c.status = 'started' OR json_extract(c.details, '$.abandoned') IS NOT NULL)`)
        .all() as { id: number; serial_hex: string }[];
      assert.ok(interrupted.length >= 2, 'the signing-window kills left their reservations');
      for (const r of interrupted)
        assert.ok(
          !certs.some((c) => c.serial_hex === r.serial_hex),
          `the serial ${r.serial_hex} of interrupted ceremony #${r.id} was never used`,
        );

      const logged = new Set(
        inst.audit
          .list()
          .filter((e) => e.action === 'certificate.issue' && e.outcome === 'success')
          .map((e) => e.details.serial as string),
      );
      for (const c of certs) assert.ok(logged.has(c.serial_hex), `certificate ${c.serial_hex} is in the audit log`);

      // The next successful backup holds every certificate the store says was issued.
      const all = (inst.db.prepare('SELECT serial_hex FROM certificates').all() as { serial_hex: string }[]).map(
        (r) => r.serial_hex,
      );
      const b = await backupNow(inst, { operator: 'alice', passphrases: passphraseMap(allPassphrases()) });
      assert.ok(b.ok);
      const archived = withTemporaryCopy(join(archiveLocations(inst)[1]!.dir, b.set!, 'rootca.db'), (copy) => {
        const db = openSnapshot(copy);
        try {
          return new Set(
            (db.prepare('SELECT serial_hex FROM certificates').all() as { serial_hex: string }[]).map(
              (r) => r.serial_hex,
            ),
          );
        } finally {
          db.close();
        }
      });
      for (const s of all) assert.ok(archived.has(s), `certificate ${s} is in the archive`);
      const after = inspectArchive(inst);
      assert.ok(after.ok, after.problems.join('\n'));
      assert.deepEqual(
        after.warnings.filter((w) => /incomplete|interrupted/.test(w)),
        [],
        'interrupted backups were completed or removed by the next backup',
      );
      const states = inst.db.prepare('SELECT status, count(*) AS n FROM backups GROUP BY status').all();
      t.diagnostic(
        `killed at: ${killedAt.join(', ')}; backups ${JSON.stringify(states)}; issuances interrupted while signing: ${interrupted.length}; ${report.warnings.length} warnings before the final backup`,
      );
    } finally {
      inst.close();
    }
  });
});
