/**
 * Issue 18 item 4: long steps show a progress line on a terminal, and nothing when stderr is
 * not a terminal or with --json. The terminal is a real pseudo-terminal (util-linux script).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, rootca, run, tempDir } from './helpers.ts';

const dir = tempDir('rootca-progress-');
const location = join(dir, 'backups');
mkdirSync(location);

/** Runs rootca on a pseudo-terminal; what the terminal received (stdout and stderr together). */
function onTerminal(args: string[]): string {
  const command = [process.execPath, join(REPO, 'bin', 'rootca.mjs'), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const r = run('script', ['-qec', command, '/dev/null']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

describe('progress of long steps', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the step on a terminal, then clears it before the result', () => {
    const out = onTerminal(['archive', 'inspect', '--location', location]);
    assert.match(out, /verifying every backup set/);
    assert.match(out, /\x1b\[2K/, 'the progress line is erased');
    assert.match(out, /OK: 0 sets verified/);
  });

  it('stays quiet with --json, even on a terminal', () => {
    const out = onTerminal(['--json', 'archive', 'inspect', '--location', location]);
    assert.doesNotMatch(out, /verifying every backup set/);
    assert.match(out, /"ok": true/);
  });

  it('stays quiet when stderr is not a terminal', () => {
    const r = rootca(['archive', 'inspect', '--location', location]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /verifying/);
    assert.match(r.stdout, /OK: 0 sets verified/);
  });
});
