/**
 * `--json` for scripts (issue 20.3, docs/json.md): small and stable, blobs only on request.
 * The regression: `application submit --json` printed the whole CSR in base64.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { forScripts } from '../src/cli/json-output.ts';
import { pemToDer } from '../src/pki/pem.ts';
import { installationWithPeople, MORE_PEOPLE, openssl, runShippedCeremony, tempDir } from './helpers.ts';

/** Runs the CLI in-process and returns its exit code and what it wrote to stdout. */
async function cli(args: string[]): Promise<{ status: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // Strings are the command's output; bytes are the test runner's own reports (pass them on).
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => {
    if (typeof s !== 'string') return write(s, ...rest);
    chunks.push(s);
    return true;
  }) as typeof process.stdout.write;
  try {
    return { status: await main(args, 'test'), stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

describe('forScripts', () => {
  const der = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
  const pem = '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n';

  it('leaves out bytes, PEM text and *Der/*Pem fields unless blobs are asked for', () => {
    const value = {
      id: 7,
      state: 'submitted',
      csrDer: der,
      certificatePem: pem,
      note: pem,
      list: [{ der, serial: '01' }],
      at: new Date(0),
    };
    assert.deepEqual(JSON.parse(JSON.stringify(forScripts(value, false))), {
      id: 7,
      state: 'submitted',
      list: [{ serial: '01' }],
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('prints bytes as base64 and keeps PEM with blobs', () => {
    assert.deepEqual(forScripts({ csrDer: der, certificatePem: pem }, true), {
      csrDer: der.toString('base64'),
      certificatePem: pem,
    });
  });
});

describe('application submit --json', () => {
  const dir = tempDir();
  let home = '';
  const csrFile = join(dir, 'sub.csr');
  before(async () => {
    const inst = installationWithPeople({ more: true });
    home = inst.home;
    try {
      await runShippedCeremony(inst, 'ecc-rootca1', dir);
    } finally {
      inst.close();
    }
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'sub.key'),
      '-subj',
      '/C=JP/O=Example/CN=Example Sub CA',
      '-out',
      csrFile,
    ]);
    process.env.ROOTCA_PASSPHRASE_RITA = MORE_PEOPLE.rita.passphrase;
  });

  const submit = (...extra: string[]) =>
    cli([
      '--home',
      home,
      '--json',
      ...extra,
      'application',
      'submit',
      '--by',
      'rita',
      '--ca',
      'ecc-rootca1',
      '--profile',
      'subca',
      '--purpose',
      'tls-server',
      '--policy',
      '2.23.140.1.2.2',
      '--csr',
      csrFile,
      '--organisation',
      'Example',
      '--contact',
      'pki@example.jp',
    ]);

  it("carries the id, the state and the CSR's digest, not the CSR", async () => {
    const r = await submit();
    assert.equal(r.status, 0);
    const a = JSON.parse(r.stdout) as Record<string, unknown>;
    const der = pemToDer(readFileSync(csrFile, 'utf8'), 'CERTIFICATE REQUEST');
    assert.equal(typeof a.id, 'number');
    assert.equal(a.state, 'submitted');
    assert.equal(a.csrSha256, createHash('sha256').update(der).digest('hex'));
    assert.equal(a.csrDer, undefined);
    assert.ok(r.stdout.length < 1500, `small: ${r.stdout.length} characters`);
  });

  it('carries the CSR with --with-blobs', async () => {
    const a = JSON.parse((await submit('--with-blobs')).stdout) as { csrDer: string };
    assert.deepEqual(Buffer.from(a.csrDer, 'base64'), pemToDer(readFileSync(csrFile, 'utf8'), 'CERTIFICATE REQUEST'));
  });
});
