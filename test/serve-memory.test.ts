/**
 * The memory settings of `rootca serve` processes (issue 17 item 4: a responder process idle
 * under 80 MB): the young generation kept at its initial size, the operator's own flags winning.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keepYoungGenerationSmall } from '../src/server/young-generation.ts';
import { REPO } from './helpers.ts';

/** The young generation's size (MiB) before and after a child allocated 2 M live objects, with or without keepYoungGenerationSmall. */
function youngGenerationAfterAllocating(keepSmall: boolean): { before: number; after: number } {
  const module = JSON.stringify(join(REPO, 'src', 'server', 'young-generation.ts'));
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8');
    const { keepYoungGenerationSmall } = await import(${module});
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    if (${keepSmall}) keepYoungGenerationSmall([], '');
    const before = young();
    const kept = [];
    for (let i = 0; i < 2e6; i++) kept.push({ i });
    process.stdout.write(before + ' ' + young() + ' ' + kept.length);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  const [before, after, kept] = r.stdout.trim().split(' ').map(Number);
  assert.equal(kept, 2e6);
  return { before: before!, after: after! };
}

describe('serve processes keep their young generation small', () => {
  it('the young generation keeps its size under start-up-like allocation (else V8 grows it to 16 MiB or more)', () => {
    const grown = youngGenerationAfterAllocating(false);
    const kept = youngGenerationAfterAllocating(true);
    assert.ok(grown.after >= 16, `without it V8 grows the young generation: ${JSON.stringify(grown)} MiB`);
    assert.ok(kept.before <= 4, `small when called: ${kept.before} MiB`);
    assert.equal(kept.after, kept.before, 'with it the young generation does not grow');
  });

  it("an operator's --max-semi-space-size or --semi-space-growth-factor wins", () => {
    assert.equal(keepYoungGenerationSmall(['--max-semi-space-size=64'], ''), false);
    assert.equal(keepYoungGenerationSmall([], '--semi-space-growth-factor=4'), false);
    assert.equal(keepYoungGenerationSmall([], '--max-old-space-size=512 --max-semi-space-size=8'), false);
  });
});
