/** CONVENTIONS 4: the ceremony file is strict, and every error names its dotted path. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import { parseRootCeremony } from './ceremony.ts';
import { REPO } from '../../test/helpers.ts';

const base = readFileSync(join(REPO, 'ceremonies', 'rootca2.yaml'), 'utf8');

const cases: { name: string; edit: (y: string) => string; message: RegExp }[] = [
  { name: 'an unknown top-level key', edit: (y) => `${y}\nsubjectt: typo\n`, message: /unknown key subjectt/ },
  {
    name: 'an unknown nested key',
    edit: (y) => y.replace('  rsaModulusBits: 2048', '  rsaModulusBits: 2048\n  exponent: 3'),
    message: /unknown key key\.exponent/,
  },
  {
    name: 'a bad RSA size',
    edit: (y) => y.replace('rsaModulusBits: 2048', 'rsaModulusBits: 3000'),
    message: /key\.rsaModulusBits must be 2048 or 4096/,
  },
  {
    name: 'a bad curve',
    edit: (y) => y.replace(/algorithm: rsa\n {2}rsaModulusBits: 2048/, 'algorithm: ecdsa\n  curve: P-521'),
    message: /key\.curve must be P-256 or P-384/,
  },
  {
    name: 'a threshold of one',
    edit: (y) => y.replace('threshold: 2 ', 'threshold: 1 '),
    message: /custodians\.threshold must be at least 2.*CPS 6\.4\.1/,
  },
  {
    name: 'a threshold above the holders',
    edit: (y) => y.replace('threshold: 2 ', 'threshold: 4 '),
    message: /custodians\.threshold must not exceed the 3 holders/,
  },
  {
    name: 'a single custodian',
    edit: (y) => y.replace('holders: [alice, bob, carol]', 'holders: [alice]'),
    message: /custodians\.holders must name at least two custodians/,
  },
  { name: 'a missing custodians section', edit: (y) => y.replace(/custodians:\n.*\n.*\n/, ''), message: /custodians/ },
  {
    name: 'the witness as a custodian',
    edit: (y) => y.replace('witness: olivia', 'witness: bob'),
    message: /witness bob is also a custodian/,
  },
  {
    name: 'SHA-1 without the legacy flag',
    edit: (y) => y.replace('sha256WithRSAEncryption', 'sha1WithRSAEncryption'),
    message: /legacySha1 must be true.*R-1\.3/,
  },
  {
    name: 'an ECDSA algorithm for an RSA key',
    edit: (y) => y.replace('sha256WithRSAEncryption', 'ecdsa-with-SHA256'),
    message: /signatureAlgorithm ecdsa-with-SHA256 does not fit a rsa key/,
  },
  {
    name: 'a validity beyond 25 years',
    edit: (y) => y.replace('years: 20', 'years: 30'),
    message: /validity\.years must be at most 25/,
  },
  {
    name: 'an invalid time',
    edit: (y) => y.replace('notBefore: now', 'notBefore: tomorrow'),
    message: /validity\.notBefore/,
  },
  { name: 'a duplicate YAML key', edit: (y) => `${y}\nwitness: olivia\n`, message: /not valid YAML/ },
];

describe('ceremony file validation (CONVENTIONS 4)', () => {
  it('accepts the four shipped files', () => {
    for (const n of ['rootca1', 'rootca2', 'rootca3', 'ecc-rootca1']) {
      const f = join(REPO, 'ceremonies', `${n}.yaml`);
      const c = parseRootCeremony(readFileSync(f), f);
      assert.equal(c.config.ca.name, n);
      assert.match(c.sha256, /^[0-9a-f]{64}$/);
    }
  });
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      assert.throws(
        () => parseRootCeremony(Buffer.from(c.edit(base)), 'x.yaml'),
        (e: unknown) => {
          assert.ok(e instanceof CaError);
          assert.equal(e.code, 'CEREMONY_FILE_INVALID');
          assert.match(e.message, c.message);
          assert.match(e.message, /^x\.yaml: /);
          return true;
        },
      );
    });
  }
});
