/** Issue 18 item 5: docs/cli.md is what the generator writes from the command definitions. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildProgram } from '../src/cli/main.ts';
import { cliReference } from '../src/cli/reference.ts';
import { COMMANDS } from '../src/cli/command-index.ts';
import { REPO } from './helpers.ts';

describe('docs/cli.md', () => {
  it('is what `npm run docs` writes from the command definitions', async () => {
    const generated = cliReference(await buildProgram({ version: '0.0.0', load: 'all' }));
    assert.equal(
      readFileSync(join(REPO, 'docs', 'cli.md'), 'utf8'),
      generated,
      'docs/cli.md is out of date: run npm run docs',
    );
  });

  it('has a section for every command and subcommand', async () => {
    const text = readFileSync(join(REPO, 'docs', 'cli.md'), 'utf8');
    for (const c of COMMANDS) assert.match(text, new RegExp(`^## rootca ${c.name}$`, 'm'));
    assert.match(text, /^### rootca crl issue$/m);
    assert.match(text, /^#### rootca audit key init$/m);
  });
});
