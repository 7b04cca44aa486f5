/**
 * The operation runner's protocol (issue 13 item 3, issue 14): a refusal is audited once and
 * asks nobody for anything; a failure after the intent row fails the ceremony and removes the
 * partials; a success commits once, then names the outputs and the transcript files.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import type { PassphraseSource } from '../people/participants.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  runShippedCeremony,
  tempDir,
} from '../../test/helpers.ts';
import { runOperation, type OperationSpec } from './runner.ts';

const CA = 'ecc-rootca1';

function counting(): PassphraseSource & { asked: number } {
  const inner = passphraseMap(allPassphrases());
  const source = {
    asked: 0,
    get: (operator: string, prompt: string) => {
      source.asked++;
      return inner.get(operator, prompt);
    },
  };
  return source;
}

function spec(
  passphrases: PassphraseSource,
  over: Partial<OperationSpec<{ n: number }, string, string>>,
): OperationSpec<{ n: number }, string, string> {
  return {
    action: 'crl.issue',
    target: `${CA}/test`,
    backup: false,
    check: () => ({ n: 1 }),
    people: () => ({ caName: CA, operator: 'alice', witness: 'olivia', passphrases, describe: { test: true } }),
    work: async () => 'done',
    transcript: () => ({ inputs: [], outputs: [], details: { test: true } }),
    finish: (_c, w, a) => `${w} ${a.transcriptFile}`,
    ...over,
  };
}

const ceremonies = (inst: Installation) =>
  inst.db.prepare('SELECT id, status, details FROM ceremonies WHERE kind = ? ORDER BY id').all('crl.issue') as {
    id: number;
    status: string;
    details: string;
  }[];

describe('operation runner', () => {
  const dir = tempDir('rootca-runner-');
  let inst: Installation;
  before(async () => {
    inst = installationWithPeople({ dir });
    mkdirSync(join(dir, 'out'));
    await runShippedCeremony(inst, CA, join(dir, 'out'));
  });
  after(() => inst.close());

  it('refuses in the checks with one audit event, its details, and nobody asked', async () => {
    const source = counting();
    const before = inst.audit.list().length;
    await assert.rejects(
      runOperation(
        inst,
        spec(source, {
          refusalDetails: { requester: 'r' },
          check: ({ refuse }) => refuse('REASON_NOT_ALLOWED', 'no'),
        }),
      ),
      (e: unknown) => e instanceof CaError && e.code === 'REASON_NOT_ALLOWED',
    );
    const events = inst.audit.list().slice(before);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.outcome, 'refused');
    assert.equal(events[0]!.target, `${CA}/test`);
    assert.equal(events[0]!.details.requester, 'r');
    assert.equal(source.asked, 0);
    assert.equal(ceremonies(inst).length, 0);
  });

  it("a failure after the intent row fails the ceremony with the spec's code and removes the partials", async () => {
    const out = join(dir, 'out', 'fails.bin');
    await assert.rejects(
      runOperation(
        inst,
        spec(passphraseMap(allPassphrases()), {
          outputs: () => [{ path: out, what: '--out' }],
          failure: () => ({ code: 'ISSUANCE_FAILED', what: 'test', details: { serial: '01' } }),
          work: async (_c, { files }) => {
            files.stage(out, Buffer.from('x'));
            throw new Error('boom');
          },
        }),
      ),
      (e: unknown) => e instanceof CaError && e.code === 'ISSUANCE_FAILED' && e.message === 'test failed: boom',
    );
    const row = ceremonies(inst).at(-1)!;
    assert.equal(row.status, 'failed');
    assert.equal(JSON.parse(row.details).error, 'ISSUANCE_FAILED');
    assert.ok(!existsSync(out) && !existsSync(`${out}.partial`));
    const failed = inst.audit.list().at(-1)!;
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.details.serial, '01');
  });

  it('commits once, then names the outputs and the transcript files (0600)', async () => {
    const out = join(dir, 'out', 'ok.bin');
    const result = await runOperation(
      inst,
      spec(passphraseMap(allPassphrases()), {
        outputs: () => [{ path: out, what: '--out' }],
        work: async (_c, { files, audit }) => {
          files.stage(out, Buffer.from('ok'));
          inst.db.transaction(() => audit({ test: true })).immediate();
          return 'done';
        },
        finish: (_c, w, a) => `${w} ${a.transcriptFile} ${a.published.written.join(',')} ${a.backup === undefined}`,
      }),
    );
    const row = ceremonies(inst).at(-1)!;
    const transcript = join(inst.home, 'transcripts', `transcript-${row.id}.json`);
    assert.equal(result, `done ${transcript} ${out} true`);
    assert.equal(row.status, 'completed');
    assert.equal(JSON.parse(row.details).outputsPending, false);
    for (const f of [transcript, transcript.replace(/\.json$/, '.md')])
      assert.equal(statSync(f).mode & 0o777, 0o600, f);
    const success = inst.audit.list().at(-1)!;
    assert.equal(success.outcome, 'success');
    assert.equal(success.details.ceremonyId, row.id);
  });
});
