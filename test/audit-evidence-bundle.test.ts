/** Audit evidence for a WebTrust auditor (CPS 8, R-11.1): gather a period, verify it offline, detect tampering. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportEvidence } from '../src/records/audit-evidence.ts';
import type { EvidenceManifest } from '../src/records/evidence-format.ts';
import { verifyEvidence } from '../src/records/evidence-verify.ts';
import { createCheckpoint, initAuditKey } from '../src/records/audit-checkpoints.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import { CaError } from '../src/errors.ts';
import { csr } from './archive-fixtures.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  rootca,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

describe('audit evidence (CPS 8, R-11.1)', () => {
  const dir = tempDir();
  const passphrases = passphraseMap(allPassphrases());
  const people = { operator: 'alice', witness: 'olivia', passphrases };
  const out = join(dir, 'evidence');
  let inst: Installation;
  let manifest: EvidenceManifest;

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    inst.config.issuance.requireApplicationFor = [];
    await issueCertificate(inst, { ...people, caName: 'ecc-rootca1', profile: 'ocsp', csr: csr('evidence responder') });
    await issueCrl(inst, { caName: 'ecc-rootca1', ...people });
    await initAuditKey(inst, { holders: ['leo'], authoriser: 'paula', witness: 'olivia', passphrases });
    await createCheckpoint(inst, { examiner: 'leo', passphrases });
    const today = inst.clock.now().toISOString().slice(0, 10);
    const r = await exportEvidence(inst, { from: today, to: today, out, examiner: 'leo', passphrases });
    assert.deepEqual(r.verification.problems, []);
    manifest = r.manifest;
  });
  after(() => inst?.close());

  it('gathers the period: log with proofs, checkpoints, transcripts, roots, certificates, CRLs, summary', () => {
    assert.ok(manifest.auditLog.events > 0 && manifest.auditLog.checkpoints === 1);
    assert.ok(manifest.transcripts.length >= 2, 'root ceremony, issuance and CRL transcripts');
    assert.equal(manifest.roots.length, 1);
    assert.equal(manifest.certificates.length, 1);
    assert.equal(manifest.crls.length, 1);
    assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /# Audit evidence: test[\s\S]*CRL #/);
    const v = verifyEvidence(out);
    assert.equal(v.ok, true, v.problems.join('\n'));
    const cli = rootca(['audit', 'verify-evidence', out]);
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /evidence OK/);
    assert.equal(inst.audit.list().at(-1)!.action, 'audit.evidence');
  });

  it('refuses an existing non-empty folder and a person who is not an authenticated Log Examiner', async () => {
    await assert.rejects(
      () => exportEvidence(inst, { from: '2000-01-01', to: '2100-01-01', out, examiner: 'leo', passphrases }),
      (e: unknown) => e instanceof CaError && e.code === 'OUTPUT_EXISTS',
    );
    await assert.rejects(
      () =>
        exportEvidence(inst, {
          from: '2000-01-01',
          to: '2100-01-01',
          out: join(dir, 'e2'),
          examiner: 'alice',
          passphrases,
        }),
      (e: unknown) => e instanceof CaError,
    );
  });

  const tampered = (name: string, change: (d: string) => void) => {
    const d = join(dir, `t-${name}`);
    cpSync(out, d, { recursive: true });
    change(d);
    return d;
  };

  it('reports a changed transcript, certificate, summary or manifest (exit 1)', () => {
    const t = manifest.transcripts[0]!.file;
    const c = manifest.certificates[0]!.file;
    const cases: [string, (d: string) => void, RegExp][] = [
      [
        'transcript',
        (d) => writeFileSync(join(d, t), readFileSync(join(d, t), 'utf8').replace('"target": "', '"target": "X')),
        /transcript-\d+\.json does not match its SHA-256/,
      ],
      [
        'certificate',
        (d) => {
          const b = readFileSync(join(d, c));
          b[b.length - 5] ^= 1;
          writeFileSync(join(d, c), b);
        },
        /certificates\/.* does not match/,
      ],
      [
        'summary',
        (d) => writeFileSync(join(d, 'summary.md'), `${readFileSync(join(d, 'summary.md'), 'utf8')}\nall good\n`),
        /summary\.md does not match/,
      ],
      [
        'manifest',
        (d) => {
          const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
          m.examiner = 'mallory';
          writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
        },
        /summary\.md does not match the manifest/,
      ],
      [
        'added',
        (d) => {
          mkdirSync(join(d, 'certificates'), { recursive: true });
          writeFileSync(join(d, 'certificates', 'extra.der'), 'x');
        },
        /extra\.der is not listed/,
      ],
    ];
    for (const [name, change, expected] of cases) {
      const d = tampered(name, change);
      const v = verifyEvidence(d);
      assert.equal(v.ok, false, name);
      assert.match(v.problems.join('\n'), expected, name);
    }
    // A transcript re-hashed into the manifest is still caught by its signatures.
    const d = tampered('resigned', (x) => {
      const text = readFileSync(join(x, t), 'utf8').replace('"target": "', '"target": "X');
      writeFileSync(join(x, t), text);
      const m = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as EvidenceManifest;
      const f = m.files.find((e) => e.path === t)!;
      f.sha256 = createHash('sha256').update(text).digest('hex');
      f.bytes = Buffer.byteLength(text);
      writeFileSync(join(x, 'manifest.json'), JSON.stringify(m));
    });
    assert.match(verifyEvidence(d).problems.join('\n'), /transcript signature does not verify/);
    const cli = rootca(['audit', 'verify-evidence', d]);
    assert.equal(cli.status, 1);
    assert.match(cli.stdout, /evidence NOT OK[\s\S]*FAIL/);
  });
});
