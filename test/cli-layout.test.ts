/**
 * Issue 18: the command line's layout (one file per top-level command, named after it; help in
 * the operator's groups), `--version`, start-up that loads only the command being run, and
 * shell completion generated from the command definitions. Runs the compiled entry point users
 * run (bin/rootca.mjs).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { COMMANDS, GROUPS } from '../src/cli/command-index.ts';
import { REPO, rootca, run, tempDir } from './helpers.ts';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe('rootca command layout', () => {
  it('has one file per top-level command under src/cli/commands/, named after it', () => {
    const files = readdirSync(join(REPO, 'src', 'cli', 'commands'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    assert.deepEqual(files, COMMANDS.map((c) => c.name).sort());
  });

  it('--version prints the package version', () => {
    for (const flag of ['--version', '-V']) {
      const r = rootca([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${VERSION}\n`);
    }
  });

  it('--help lists every command under the groups, in order', () => {
    const r = rootca(['--help']);
    assert.equal(r.status, 0, r.stderr);
    const headings = r.stdout.split('\n').filter((l) => /^[A-Z][a-z ]+:$/.test(l));
    assert.deepEqual(headings, ['Options:', ...Object.values(GROUPS)]);
    for (const c of COMMANDS) {
      const section = r.stdout.slice(r.stdout.indexOf(GROUPS[c.group]));
      assert.match(section, new RegExp(`^  ${c.name} +\\S`, 'm'), `${c.name} under ${GROUPS[c.group]}`);
    }
  });

  it("a command's help shows its own subcommands; `help NAME` the same", () => {
    const direct = rootca(['ca', '--help']);
    assert.equal(direct.status, 0, direct.stderr);
    for (const sub of [
      'list',
      'show',
      'renew',
      'rekey',
      'changeovers',
      'compromise',
      'announce-termination',
      'terminate',
    ])
      assert.match(direct.stdout, new RegExp(`^  ${sub} `, 'm'));
    assert.equal(rootca(['help', 'ca']).stdout, direct.stdout);
  });

  it('an unknown command is a usage error (exit 2) that shows the groups', () => {
    const r = rootca(['frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.match(r.stderr, /Keys and ceremonies:/);
  });
});

describe('start-up loads only the command being run', () => {
  const home = tempDir('rootca-layout-');
  after(() => rmSync(home, { recursive: true, force: true }));

  /** The npm packages a run of bin/rootca.mjs loaded (its module URLs under node_modules/). */
  function packagesLoaded(args: string[]): Set<string> {
    const r = run(process.execPath, [
      '--import',
      join(REPO, 'test', 'trace-imports.mjs'),
      join(REPO, 'bin', 'rootca.mjs'),
      ...args,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const urls = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('loaded '))
      .map((l) => l.slice(7));
    assert.ok(
      urls.some((u) => u.includes('/dist/cli/main.js')),
      'the compiled entry point runs',
    );
    assert.ok(!urls.some((u) => u.includes('/src/')), 'no TypeScript source is loaded');
    return new Set(
      urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => Boolean(p)),
    );
  }

  it('--version and --help load commander only', () => {
    assert.deepEqual([...packagesLoaded(['--version'])], ['commander']);
    assert.deepEqual([...packagesLoaded(['--help'])], ['commander']);
  });

  it('ca list opens the store but loads neither the PKCS#11 binding nor the server', () => {
    assert.equal(rootca(['--home', home, 'init']).status, 0);
    const loaded = packagesLoaded(['--home', home, 'ca', 'list']);
    assert.ok(loaded.has('better-sqlite3'), [...loaded].join(' '));
    for (const heavy of ['pkcs11js', 'fastify', 'pg', 'kysely'])
      assert.ok(!loaded.has(heavy), `${heavy} loaded by ca list`);
  });
});

describe('shell completion', () => {
  const dir = tempDir('rootca-completion-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** What bash offers after the words typed so far (the last one may be partial). */
  function bashOffers(script: string, words: string[]): string[] {
    const file = join(dir, 'rootca.bash');
    writeFileSync(file, script);
    const line = `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _rootca; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = run('bash', ['-c', line]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  it('bash completes commands, subcommands and options from the definitions', () => {
    const r = rootca(['completion', 'bash']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(bashOffers(r.stdout, ['rootca', 'c']), [
      'ca',
      'ceremony',
      'cert',
      'completion',
      'compromise',
      'crl',
      'csr',
    ]);
    assert.deepEqual(bashOffers(r.stdout, ['rootca', '--home', '/srv/x', 'crl', '']), [
      '--help',
      '--home',
      '--json',
      'export',
      'issue',
    ]);
    assert.ok(bashOffers(r.stdout, ['rootca', 'crl', 'issue', '--']).includes('--retired-key'));
    assert.deepEqual(
      bashOffers(r.stdout, ['rootca', 'crl', 'issue', '--out', '']),
      [],
      'a value: left to file-name completion',
    );
  });

  it('zsh gets a compdef script with the same tree', () => {
    const r = rootca(['completion', 'zsh']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^#compdef rootca\n/);
    assert.match(r.stdout, /'crl issue'\)\n\s+commands=\(\)\n\s+options=\(.*'--retired-key:sign with the key retired/);
  });

  it('an unknown shell is a usage error', () => {
    const r = rootca(['completion', 'fish']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /'fish' is invalid for argument 'shell'.*\[ARGUMENT_INVALID\]/);
  });
});
