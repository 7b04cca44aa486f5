/**
 * Issue 14 "never half done": each operation that signs and writes — root ceremony, issuance,
 * CRL issue, OCSP presign, publish, and the backup that follows them — is killed (SIGKILL) at
 * every one of its write points in turn. The points are not listed by hand: a first run traces
 * them (ROOTCA_FAULT_TRACE), then a run per point dies there (ROOTCA_FAULT_AT). After each
 * kill the audit log and the state tables verify (`audit verify --state`), and the same
 * operation run again succeeds: a ceremony killed after its commit gets its files written and
 * is named by the refusal of a second run (never a second key); one killed before it is closed
 * as abandoned and the run goes ahead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { verifyStateAgainstLog } from '../src/audit/state-check.ts';
import { openInstallation, type Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { derToPem } from '../src/pki/pem.ts';
import { csr } from './archive-fixtures.ts';
import { compiledChild } from './fixtures/compiled-child.ts';
import { runOp } from './never-half-done-ops.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  REPO,
  rejectsWith,
  runShippedCeremony,
  setUpDelegatedKeys,
  tempDir,
} from './helpers.ts';

const CEREMONY_FILE = join(REPO, 'ceremonies', 'ecc-rootca1.yaml');

interface Child {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function child(home: string, op: string, opts: Record<string, string>, env: Record<string, string>): Child {
  const r = spawnSync(
    process.execPath,
    [compiledChild(join(REPO, 'test', 'never-half-done-child.ts')), home, op, JSON.stringify(opts)],
    {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, ROOTCA_TEST_PASSPHRASES: JSON.stringify(allPassphrases()), ...env },
    },
  );
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The write points an operation passes, in order (each once). */
function tracePoints(
  base: string,
  scratch: string,
  op: string,
  opts: (dir: string) => Record<string, string>,
): string[] {
  cpSync(base, scratch, { recursive: true });
  const trace = join(scratch, 'trace.txt');
  const r = child(join(scratch, 'home'), op, opts(scratch), { ROOTCA_FAULT_TRACE: trace });
  assert.equal(r.status, 0, r.stderr);
  return [...new Set(readFileSync(trace, 'utf8').trim().split('\n'))];
}

/** The log verifies and every state row has its event and every event its row. */
function assertConsistent(inst: Installation, when: string): void {
  const chain = inst.audit.verify();
  assert.ok(chain.ok, `${when}: audit chain ${JSON.stringify(chain.firstBad)}`);
  const state = verifyStateAgainstLog(inst.db);
  assert.ok(state.ok, `${when}: state vs log ${JSON.stringify(state.mismatches)}`);
}

function partialsIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.partial'));
}

const count = (inst: Installation, sql: string, ...args: unknown[]) =>
  (inst.db.prepare(sql).get(...args) as { n: number }).n;

interface Case {
  op: string;
  /** Output options, inside the case folder. */
  opts: (dir: string) => Record<string, string>;
  /** The next run's options: new output names, as the killed run's files are written by then (a ceremony reruns its own file). */
  next?: (dir: string) => Record<string, string>;
  /** Points this operation must have (the trace proves they are reached). */
  expect: string[];
  /** After the kill and the next run: what must hold. `committed`: the killed run got past its commit. */
  check: (inst: Installation, dir: string, committed: boolean) => void;
}

const CASES: Case[] = [
  {
    op: 'ceremony',
    opts: (d) => ({ file: CEREMONY_FILE, outDir: join(d, 'out') }),
    expect: [
      'ceremony.root-ca:intent',
      'ceremony.root-ca:key-generated',
      'ceremony.root-ca:signed',
      'ceremony.root-ca:staged:0',
      'ceremony.root-ca:staged:1',
      'ceremony.root-ca:committed',
      'ceremony.root-ca:published:0',
      'ceremony.root-ca:published:1',
    ],
    check: (inst, d) => {
      assert.equal(count(inst, 'SELECT count(*) AS n FROM cas'), 1, 'one CA, never a second key');
      assert.equal(count(inst, 'SELECT count(*) AS n FROM ca_keys'), 1, 'one key');
      const der = (
        inst.db.prepare('SELECT x.der FROM cas c JOIN certificates x ON x.id = c.certificate_id').get() as {
          der: Buffer;
        }
      ).der;
      assert.ok(
        readFileSync(join(d, 'out', 'ecc-rootca1.der')).equals(der),
        'the DER output is the stored certificate',
      );
      assert.equal(readFileSync(join(d, 'out', 'ecc-rootca1.pem'), 'utf8'), derToPem(der, 'CERTIFICATE'));
    },
  },
  {
    op: 'issue',
    opts: (d) => ({ out: join(d, 'out', 'responder.pem'), derOut: join(d, 'out', 'responder.der') }),
    expect: [
      'certificate.issue:intent',
      'certificate.issue:signed',
      'certificate.issue:staged:0',
      'certificate.issue:staged:1',
      'certificate.issue:committed',
      'certificate.issue:published:0',
      'certificate.issue:published:1',
      'backup:allocated',
      'backup:registered',
    ],
    next: (d) => ({ out: join(d, 'out', 'responder-2.pem'), derOut: join(d, 'out', 'responder-2.der') }),
    check: (inst, d, committed) => {
      for (const name of committed ? ['responder', 'responder-2'] : ['responder-2']) {
        const der = readFileSync(join(d, 'out', `${name}.der`));
        assert.equal(
          count(inst, 'SELECT count(*) AS n FROM certificates WHERE der = ?', der),
          1,
          `${name}.der is a stored certificate`,
        );
        assert.equal(readFileSync(join(d, 'out', `${name}.pem`), 'utf8'), derToPem(der, 'CERTIFICATE'));
      }
      if (!committed)
        assert.ok(!existsSync(join(d, 'out', 'responder.der')), 'a run killed before its commit leaves no file');
    },
  },
  {
    op: 'crl',
    opts: (d) => ({ out: join(d, 'out', 'root.crl') }),
    expect: [
      'crl.issue:intent',
      'crl.issue:number-reserved',
      'crl.issue:staged:0',
      'crl.issue:committed',
      'crl.issue:published:0',
    ],
    next: (d) => ({ out: join(d, 'out', 'root-2.crl') }),
    check: (inst, d, committed) => {
      for (const name of committed ? ['root.crl', 'root-2.crl'] : ['root-2.crl']) {
        assert.equal(
          count(inst, 'SELECT count(*) AS n FROM crls WHERE der = ?', readFileSync(join(d, 'out', name))),
          1,
          `${name} is a stored CRL`,
        );
      }
      if (!committed)
        assert.ok(!existsSync(join(d, 'out', 'root.crl')), 'a run killed before its commit leaves no file');
    },
  },
  {
    op: 'presign',
    opts: () => ({}),
    expect: ['ocsp.presign:intent', 'ocsp.presign:signed-one', 'ocsp.presign:committed'],
    check: (inst) => {
      // Every stored response belongs to a completed ceremony: none is left from a killed run.
      assert.equal(
        count(
          inst,
          "SELECT count(*) AS n FROM ocsp_responses o JOIN ceremonies c ON c.id = o.ceremony_id WHERE c.status <> 'completed'",
        ),
        0,
      );
      assert.ok(count(inst, 'SELECT count(*) AS n FROM ocsp_responses') > 0);
    },
  },
  {
    op: 'publish',
    opts: (d) => ({ out: join(d, 'out', 'publication.bin') }),
    expect: [
      'publication.sign:intent',
      'publication.sign:staged:0',
      'publication.sign:committed',
      'publication.sign:published:0',
    ],
    next: (d) => ({ out: join(d, 'out', 'publication-2.bin') }),
    check: (inst, d, committed) => {
      for (const f of committed ? ['publication.bin', 'publication-2.bin'] : ['publication-2.bin']) {
        assert.equal(
          count(inst, 'SELECT count(*) AS n FROM publications WHERE sha256 = ?', sha(readFileSync(join(d, 'out', f)))),
          1,
          `${f} is a recorded publication`,
        );
      }
      if (!committed)
        assert.ok(!existsSync(join(d, 'out', 'publication.bin')), 'a run killed before its commit leaves no file');
    },
  },
];

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('issue 14: SIGKILL at every write point, then audit verify --state and the next run', () => {
  const root = tempDir('rootca-kills-');
  const bare = join(root, 'bare'); // people only: for the ceremony
  const withCa = join(root, 'with-ca'); // ecc-rootca1 and one issued certificate

  before(async () => {
    const a = installationWithPeople({ dir: bare });
    a.close();
    const b = installationWithPeople({ dir: withCa });
    await runShippedCeremony(b, 'ecc-rootca1', withCa);
    await setUpDelegatedKeys(b, 'ecc-rootca1');
    await issueCertificate(b, {
      operator: 'alice',
      witness: 'olivia',
      passphrases: passphraseMap(allPassphrases()),
      caName: 'ecc-rootca1',
      profile: 'ocsp',
      csr: csr('first responder'),
    });
    b.close();
    for (const d of [bare, withCa]) mkdirSync(join(d, 'out'));
  });

  for (const c of CASES) {
    it(`${c.op}: killed at each write point, it verifies and the next run finishes`, async () => {
      const base = c.op === 'ceremony' ? bare : withCa;
      const points = tracePoints(base, join(root, `${c.op}-trace`), c.op, c.opts);
      for (const e of c.expect) assert.ok(points.includes(e), `${c.op} passes ${e} (traced: ${points.join(', ')})`);
      for (const point of points) {
        const dir = join(root, `${c.op}-${point.replace(/[^a-z0-9-]/gi, '_')}`);
        cpSync(base, dir, { recursive: true });
        const killed = child(join(dir, 'home'), c.op, c.opts(dir), { ROOTCA_FAULT_AT: point });
        assert.equal(killed.signal, 'SIGKILL', `${c.op} killed at ${point}: ${killed.stderr}${killed.stdout}`);
        const inst = openInstallation(join(dir, 'home'));
        try {
          assertConsistent(inst, `after the kill at ${point}`);
        } finally {
          inst.close();
        }
        const committed = points.indexOf(point) >= points.findIndex((p) => p.endsWith(':committed'));
        const after = openInstallation(join(dir, 'home'));
        try {
          // A ceremony that committed before the kill: the same command writes its outputs and names it; no second key.
          if (c.op === 'ceremony' && committed)
            await rejectsWith('CA_EXISTS', () => runOp(after, c.op, c.opts(dir)), /ran this very file and created it/);
          else await runOp(after, c.op, (c.next ?? c.opts)(dir));
          assertConsistent(after, `after the run that followed the kill at ${point}`);
          assert.equal(
            count(after, "SELECT count(*) AS n FROM ceremonies WHERE status = 'started'"),
            0,
            `no ceremony left 'started' after ${point}`,
          );
          assert.equal(
            count(after, "SELECT count(*) AS n FROM ceremonies WHERE json_extract(details, '$.outputsPending') = 1"),
            0,
            `no outputs left pending after ${point}`,
          );
          assert.deepEqual(partialsIn(join(dir, 'out')), [], `no .partial left after ${point}`);
          c.check(after, dir, committed);
        } finally {
          after.close();
        }
      }
    });
  }
});
