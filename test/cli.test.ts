/**
 * The `rootca` command as an operator runs it (CONVENTIONS 9): passphrases from files and the
 * environment, exit codes 0/1/2, --json, and refusals that name what is wrong.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { openssl, REPO, rootca, tempDir } from './helpers.ts';
import { openInstallation } from '../src/installation/installation.ts';

describe('rootca CLI', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const pass = (name: string) => `${name} cli passphrase ${process.pid}`;
  const cred = (name: string) => {
    const f = join(dir, `${name}.pass`);
    writeFileSync(f, `${pass(name)}\n`, { mode: 0o600 });
    return `${name}=@${f}`;
  };
  const r = (...args: string[]) => rootca(['--home', home, ...args], { cwd: dir });

  before(() => {
    assert.equal(r('init', '--name', 'cli-test').status, 0);
    const today = new Date().toISOString().slice(0, 10);
    const dates = ['--trained-on', today, '--background-checked-on', today];
    for (const n of ['alice', 'bob', 'carol'])
      assert.equal(r('operator', 'add', n, '--role', 'ca-administrator', ...dates, '--credential', cred(n)).status, 0);
    // The environment-variable form, ROOTCA_PASSPHRASE_<NAME>.
    const add = rootca(
      [
        '--home',
        home,
        'operator',
        'add',
        'olivia',
        '--role',
        'operation-manager',
        ...dates,
        '--credential-kind',
        'p256',
      ],
      { env: { ROOTCA_PASSPHRASE_OLIVIA: pass('olivia') } },
    );
    assert.equal(add.status, 0, add.stderr);
    assert.equal(
      r('operator', 'add', 'leo', '--role', 'log-examiner', ...dates, '--credential', cred('leo')).status,
      0,
    );
  });

  it('init refuses to overwrite an installation (exit 1)', () => {
    const again = r('init');
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds a rootca installation.*\[INSTALLATION_EXISTS\]/);
  });

  it('lists operators as JSON', () => {
    const out = r('--json', 'operator', 'list');
    assert.equal(out.status, 0);
    const ops = JSON.parse(out.stdout) as { name: string; roles: string[]; credentialKind: string }[];
    assert.deepEqual(
      ops.map((o) => o.name),
      ['alice', 'bob', 'carol', 'leo', 'olivia'],
    );
    assert.equal(ops.find((o) => o.name === 'olivia')!.credentialKind, 'p256');
  });

  it('runs the RootCA2 ceremony with passphrases from files and env:VAR, and openssl verifies the result', () => {
    const out = rootca(
      [
        '--home',
        home,
        '--json',
        'ceremony',
        'run',
        join(REPO, 'ceremonies', 'rootca2.yaml'),
        '--out-dir',
        dir,
        '--credential',
        cred('alice'),
        '--credential',
        'carol=env:CAROL_SECRET',
        '--credential',
        cred('olivia'),
      ],
      { env: { CAROL_SECRET: pass('carol') } },
    );
    assert.equal(out.status, 0, out.stderr);
    const result = JSON.parse(out.stdout) as { ca: string; custodians: string[]; witness: string; outputs: string[] };
    assert.deepEqual(result.custodians, ['alice', 'carol']);
    assert.equal(result.witness, 'olivia');
    assert.match(openssl(['verify', '-CAfile', join(dir, 'rootca2.pem'), join(dir, 'rootca2.pem')]), /OK/);
    const shown = r('ca', 'show', 'rootca2', '--pem');
    assert.equal(shown.stdout, readFileSync(join(dir, 'rootca2.pem'), 'utf8'));
    assert.match(r('ca', 'list').stdout, /rootca2\s+active\s+sha256WithRSAEncryption/);
  });

  it('refuses a wrong passphrase with exit 1 and records it', () => {
    const wrong = join(dir, 'wrong.pass');
    writeFileSync(wrong, 'definitely not it\n');
    const out = r(
      'ceremony',
      'run',
      join(REPO, 'ceremonies', 'rootca3.yaml'),
      '--out-dir',
      dir,
      '--credential',
      `alice=@${wrong}`,
      '--credential',
      cred('bob'),
      '--credential',
      cred('olivia'),
    );
    assert.equal(out.status, 1);
    assert.match(out.stderr, /wrong passphrase for operator alice \[WRONG_PASSPHRASE\]/);
    const events = JSON.parse(
      r('--json', 'audit', 'list', '--examiner', 'leo', '--credential', cred('leo')).stdout,
    ) as { action: string; outcome: string; target: string }[];
    assert.ok(
      events.some((e) => e.action === 'operator.authenticate' && e.outcome === 'refused' && e.target === 'alice'),
    );
  });

  it('refuses a ceremony file with an unknown key, naming the dotted path (exit 1)', () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(
      file,
      readFileSync(join(REPO, 'ceremonies', 'rootca3.yaml'), 'utf8')
        .replace('  curve', '  curve')
        .replace('rsaModulusBits: 4096', 'rsaModulusBits: 4096\n  rsaModulusBitz: 2048'),
    );
    const out = r('ceremony', 'run', file);
    assert.equal(out.status, 1);
    assert.match(out.stderr, /unknown key key\.rsaModulusBitz/);
    const events = JSON.parse(
      r('--json', 'audit', 'list', '--examiner', 'leo', '--credential', cred('leo')).stdout,
    ) as { action: string; outcome: string; details: { code?: string } }[];
    assert.ok(
      events.some((e) => e.outcome === 'refused' && e.details.code === 'CEREMONY_FILE_INVALID'),
      'the refused file is audited',
    );
  });

  it('says where a passphrase can come from when none is given and stdin is not a terminal (exit 2)', () => {
    const out = r('operator', 'add', 'dave', '--role', 'ra-officer');
    assert.equal(out.status, 2);
    assert.match(out.stderr, /no passphrase for dave: give --credential dave=@FILE or set ROOTCA_PASSPHRASE_DAVE/);
  });

  it('exits 2 on usage errors', () => {
    assert.equal(r('no-such-command').status, 2);
    const bad = r('ceremony', 'run', 'x.yaml', '--credential', 'alice:secret');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /expected NAME=@FILE or NAME=env:VARIABLE/);
  });

  it('audit verify passes on the log the commands wrote', () => {
    const out = r('audit', 'verify');
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /audit log OK: \d+ events/);
  });
});

describe('CPS 5.4.1 configuration changes are audited', () => {
  it('records an edit of rootca.yaml made outside the program, once', () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    assert.equal(rootca(['--home', home, 'init']).status, 0);
    const file = join(home, 'rootca.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('validityDays: 180', 'validityDays: 90'));
    assert.equal(rootca(['--home', home, 'ca', 'list']).status, 0);
    assert.equal(rootca(['--home', home, 'ca', 'list']).status, 0);
    const inst = openInstallation(home);
    try {
      const changes = inst.audit.list().filter((e) => e.action === 'config.changed');
      assert.equal(changes.length, 1);
      assert.equal((changes[0].details as { config: { crl: { validityDays: number } } }).config.crl.validityDays, 90);
      assert.equal(inst.audit.verify().ok, true);
    } finally {
      inst.close();
    }
  });
});
