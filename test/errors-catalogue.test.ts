/**
 * The error catalogue (CONVENTIONS 14, issue 13.5 / 20.2): one list that the code, the CLI,
 * the server and docs/errors.md all read. These tests keep the four in step.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { ERROR_AREAS, ERROR_CATALOGUE, exitCodeOf, httpStatusOf } from '../src/errors/catalogue.ts';
import { renderErrorsMarkdown } from '../src/errors/markdown.ts';
import { installationWithPeople, REPO } from './helpers.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return p.endsWith(join('src', 'errors')) ? [] : sources(p);
    return n.endsWith('.ts') && !n.endsWith('.test.ts') ? [p] : [];
  });
}

/** Runs the CLI in-process and returns its exit code and what it wrote to stderr. */
async function cli(args: string[]): Promise<{ status: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { status: await main(args, 'test'), stderr: chunks.join('') };
  } finally {
    process.stderr.write = write;
  }
}

describe('error catalogue', () => {
  it('docs/errors.md is what the generator writes (run node scripts/gen-docs-errors.mjs)', () => {
    assert.equal(readFileSync(join(REPO, 'docs', 'errors.md'), 'utf8'), renderErrorsMarkdown());
  });

  it('no code is listed in two areas', () => {
    const codes = ERROR_AREAS.flatMap((a) => Object.keys(a.errors));
    assert.deepEqual(
      codes.filter((c, i) => codes.indexOf(c) !== i),
      [],
    );
    assert.equal(codes.length, Object.keys(ERROR_CATALOGUE).length);
  });

  it('every code in the catalogue is used by the code (no dead entries)', () => {
    const text = sources(join(REPO, 'src'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = Object.keys(ERROR_CATALOGUE).filter((c) => !text.includes(`'${c}'`));
    assert.deepEqual(unused, []);
  });

  it('usage codes exit 2, all others exit 1; each has a sentence and an HTTP status', () => {
    for (const { title, errors } of ERROR_AREAS) {
      for (const [code, e] of Object.entries(errors)) {
        assert.equal(e.exit, title.startsWith('Command line') ? 2 : 1, code);
        assert.match(e.summary, /^[A-Z`].*\.$/, `${code}: one sentence, capitalised, with a full stop`);
        assert.ok(e.http >= 400 && e.http < 600, code);
      }
    }
    assert.equal(exitCodeOf('NOT_A_CODE'), 1);
    assert.equal(httpStatusOf('STORE_UNAVAILABLE'), 503);
    assert.equal(httpStatusOf('NOT_A_CODE'), 500);
  });
});

describe('the CLI prints a stable [CODE] with the catalogue exit code', () => {
  it("for the parser's own errors", async () => {
    const unknownCommand = await cli(['no-such-command']);
    assert.equal(unknownCommand.status, 2);
    assert.match(unknownCommand.stderr, /rootca: unknown command 'no-such-command' \[UNKNOWN_COMMAND\]\n$/);
    const unknownOption = await cli(['--no-such-option']);
    assert.equal(unknownOption.status, 2);
    assert.match(unknownOption.stderr, /\[UNKNOWN_OPTION\]\n$/);
  });

  let home = '';
  before(() => {
    const inst = installationWithPeople({ more: true }); // paula closes the bootstrap window
    home = inst.home;
    inst.close();
  });

  it('for a usage error found by a command: operator add after bootstrap without --by', async () => {
    process.env.ROOTCA_PASSPHRASE_DAVE = 'dave passphrase for the test';
    try {
      const r = await cli(['--home', home, 'operator', 'add', 'dave', '--role', 'ra-officer']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--by NAME .* \[PERSONNEL_AUTHORISATION_REQUIRED\]\n$/);
    } finally {
      delete process.env.ROOTCA_PASSPHRASE_DAVE;
    }
  });

  it('for a refusal (exit 1)', async () => {
    const r = await cli(['--home', join(home, 'not-here'), 'ca', 'list']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no rootca installation in .*not-here.* \[INSTALLATION_NOT_FOUND\]\n$/);
  });
});
