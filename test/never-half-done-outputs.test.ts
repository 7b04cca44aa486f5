/**
 * Issue 14 items 1 and 2: every output is checked before anyone is asked for a passphrase, and
 * work that committed is never reported as failed. Regressions named after what broke:
 * `ceremony run --out-dir /does/not/exist` and a file naming one output twice created the root
 * and then exited CEREMONY_FAILED; `crl issue --out EXISTING` signed, stored, then crashed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resumeCeremony } from '../src/operation/durable-outputs.ts';
import type { Installation } from '../src/installation/installation.ts';
import type { PassphraseSource } from '../src/people/participants.ts';
import { runRootCeremony } from '../src/lifecycle/root-ceremony.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import { exportCrl } from '../src/status/export.ts';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  REPO,
  rejectsWith,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

const count = (inst: Installation, table: string) =>
  (inst.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const authenticated = (inst: Installation) =>
  inst.audit.list().filter((e) => e.action === 'operator.authenticate').length;

/** The shipped ecc-rootca1 file with its outputs replaced. */
function ceremonyWithOutputs(dir: string, pem: string, der?: string) {
  const text = readFileSync(join(REPO, 'ceremonies', 'ecc-rootca1.yaml'), 'utf8')
    .replace(/certificatePem: .*/, `certificatePem: ${JSON.stringify(pem)}`)
    .replace(/certificateDer: .*/, der === undefined ? '' : `certificateDer: ${JSON.stringify(der)}`);
  const file = join(dir, `ceremony-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return parseRootCeremony(readFileSync(file), file);
}

describe('issue 14 item 1: a root ceremony checks its outputs first and never reports committed work as failed', () => {
  const cases = [
    {
      name: '--out-dir that does not exist',
      outDir: (d: string) => join(d, 'does', 'not', 'exist'),
      pem: 'root.pem',
      der: 'root.der',
      code: 'OUTPUT_DIR_MISSING',
    },
    {
      name: 'certificatePem and certificateDer naming the same file',
      outDir: (d: string) => d,
      pem: 'root.pem',
      der: 'root.pem',
      code: 'OUTPUT_NAMES_CLASH',
    },
    {
      name: 'an output escaping --out-dir with ..',
      outDir: (d: string) => join(d, 'out'),
      pem: '../../escaped.pem',
      der: undefined,
      code: 'OUTPUT_OUTSIDE_DIR',
    },
    {
      name: 'an absolute output path outside --out-dir',
      outDir: (d: string) => join(d, 'out'),
      pem: '/tmp/rootca-escaped.pem',
      der: undefined,
      code: 'OUTPUT_OUTSIDE_DIR',
    },
    {
      name: 'a stale .partial from another run',
      outDir: (d: string) => join(d, 'out'),
      pem: 'root.pem',
      der: undefined,
      code: 'CEREMONY_OUTPUT_EXISTS',
      stale: 'root.pem.partial',
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} before anyone authenticates; no key, no CA`, async (t) => {
      const dir = tempDir();
      mkdirSync(join(dir, 'out'));
      if (c.stale) writeFileSync(join(dir, 'out', c.stale), 'someone else');
      const inst = installationWithPeople({ dir });
      t.after(() => inst.close()); // closed whether the test passes or not
      const before = authenticated(inst);
      await rejectsWith(c.code, () =>
        runRootCeremony(inst, {
          ceremony: ceremonyWithOutputs(dir, c.pem, c.der),
          baseDir: c.outDir(dir),
          passphrases: passphraseMap(allPassphrases()),
        }),
      );
      assert.equal(authenticated(inst), before, 'nobody was asked for a passphrase');
      assert.deepEqual([count(inst, 'cas'), count(inst, 'ca_keys'), count(inst, 'ceremonies')], [0, 0, 0]);
      assert.ok(!existsSync('/tmp/rootca-escaped.pem'));
    });
  }

  it('an output that cannot be named after the commit is reported, not a failure; `ceremony resume` writes it; a rerun is not a second key', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    t.after(() => inst.close()); // closed whether the test passes or not
    const pem = join(dir, 'ecc-rootca1.pem');
    // Someone creates the output file while the custodians authenticate (after the preflight).
    const real = passphraseMap(allPassphrases());
    const intruding: PassphraseSource = {
      get: async (who, prompt) => {
        if (!existsSync(pem)) writeFileSync(pem, 'not the certificate');
        return real.get(who, prompt);
      },
    };
    const file = join(REPO, 'ceremonies', 'ecc-rootca1.yaml');
    const r = await runRootCeremony(inst, {
      ceremony: parseRootCeremony(readFileSync(file), file),
      baseDir: dir,
      passphrases: intruding,
    });
    assert.equal(count(inst, 'cas'), 1);
    assert.ok(
      r.warnings.some((w) => /OUTPUT NOT WRITTEN .*ecc-rootca1\.pem/.test(w) && /ceremony resume/.test(w)),
      r.warnings.join('\n'),
    );
    assert.ok(
      !inst.audit.list().some((e) => e.action === 'ceremony.root-ca' && e.outcome === 'failed'),
      'no failure is recorded for a ceremony that created its CA',
    );
    assert.equal(readFileSync(pem, 'utf8'), 'not the certificate', 'the intruding file is left alone');
    assert.ok(existsSync(`${pem}.partial`), 'the certificate waits as .partial');

    unlinkSync(pem);
    const resumed = resumeCeremony(inst, r.ceremonyId);
    assert.equal(resumed.state, 'outputs-finished', resumed.message);
    assert.equal(readFileSync(pem, 'utf8'), r.certificatePem);
    assert.ok(!existsSync(`${pem}.partial`));

    // The same file again: the ceremony that made the CA is named, nothing new is generated.
    await rejectsWith(
      'CA_EXISTS',
      () => runShippedCeremony(inst, 'ecc-rootca1', dir),
      new RegExp(`ceremony #${r.ceremonyId} ran this very file`),
    );
    assert.deepEqual([count(inst, 'cas'), count(inst, 'ca_keys')], [1, 1]);
  });
});

describe('issue 14 item 2: crl issue --out is checked first and written before the backup; crl export writes a stored CRL again', () => {
  const dir = tempDir();
  let inst: Installation;
  const people = () => ({
    caName: 'ecc-rootca1',
    operator: 'alice',
    witness: 'olivia',
    passphrases: passphraseMap(allPassphrases()),
  });
  before(async () => {
    inst = installationWithPeople({ dir });
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
  });
  after(() => inst?.close());

  it('--out naming an existing file is refused before anyone authenticates, and no CRL number is used', async () => {
    const out = join(dir, 'existing.crl');
    writeFileSync(out, 'keep me');
    const before = authenticated(inst);
    await rejectsWith('OUTPUT_EXISTS', () => issueCrl(inst, { ...people(), out }), /existing\.crl already exists/);
    assert.equal(authenticated(inst), before);
    assert.equal(count(inst, 'crls'), 0);
    assert.equal(count(inst, 'crl_numbers'), 0, 'the CRL number was not taken');
    assert.equal(readFileSync(out, 'utf8'), 'keep me');
  });

  it('--out in a missing folder is refused the same way', async () => {
    await rejectsWith('OUTPUT_DIR_MISSING', () => issueCrl(inst, { ...people(), out: join(dir, 'nowhere', 'x.crl') }));
    assert.equal(count(inst, 'crls'), 0);
  });

  it('writes the CRL file, then the backup; `crl export` writes the same bytes from the store without signing', async (t) => {
    // An installation of its own: the refusals above count on no CRL in theirs, whatever the order.
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    t.after(() => inst.close()); // closed whether the test passes or not
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    const out = join(dir, 'root.crl');
    const r = await issueCrl(inst, { ...people(), out });
    assert.deepEqual(r.outputs, [out]);
    assert.ok(readFileSync(out).equals(r.der));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.partial')),
      [],
    );
    const activations = inst.audit.list().filter((e) => e.action === 'key.activate').length;
    const again = exportCrl(inst, { caName: 'ecc-rootca1', out: join(dir, 'again.crl') });
    assert.equal(again.crlNumber, r.crlNumber);
    assert.ok(readFileSync(join(dir, 'again.crl')).equals(r.der));
    assert.equal(inst.audit.list().filter((e) => e.action === 'key.activate').length, activations, 'no new signature');
    assert.throws(() => exportCrl(inst, { caName: 'ecc-rootca1', out: join(dir, 'again.crl') }), /already exists/);
  });
});
