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
  // Issue 15.6: strings that would mislead a relying party, each with its rule named.
  {
    name: 'a 70,000-character CN',
    edit: (y) => withCn(y, 'x'.repeat(70000)),
    message: /subject\.3\.value CN: is 70000 characters long; at most 64 .*RFC 5280 Appendix A\.1/,
  },
  {
    name: 'a CN holding a NUL (YAML escape)',
    edit: (y) => withCn(y, '"good\\0evil"', 'utf8String'),
    message: /subject\.3\.value CN: holds control character\(s\) U\+0000 \(RFC 4518 2\.2/,
  },
  {
    name: 'a CN holding a right-to-left override',
    edit: (y) => withCn(y, '"RootCA\\u202E2"', 'utf8String'),
    message: /CN: holds bidirectional control\(s\) U\+202E \(RFC 4518 2\.4/,
  },
  {
    name: 'a CN holding a lone surrogate (no UTF-8 can encode it)',
    edit: (y) => withCn(y, '"Root\\uD800CA"', 'utf8String'),
    message: /lone UTF-16 surrogate.*RFC 5280 4\.1\.2\.4 UTF8String/,
  },
  {
    name: "a PrintableString CN with '@'",
    edit: (y) => withCn(y, 'root@example'),
    message: /CN: is a PrintableString with characters outside its set \(X\.680 41\.4/,
  },
  {
    name: 'a three-letter country',
    edit: (y) => y.replace('{ type: C, value: JP }', '{ type: C, value: JPN }'),
    message: /subject\.0\.value C: must be exactly 2 characters/,
  },
];

/** rootca2.yaml with a CN after its OU. */
function withCn(y: string, value: string, encoding = 'printableString'): string {
  return y.replace(
    '{ type: OU, value: Security Communication RootCA2 }',
    `{ type: OU, value: Security Communication RootCA2 }\n  - { type: CN, value: ${value}, encoding: ${encoding} }`,
  );
}

describe('ceremony file validation (CONVENTIONS 4)', () => {
  it('accepts the four shipped files', () => {
    for (const n of ['rootca1', 'rootca2', 'rootca3', 'ecc-rootca1']) {
      const f = join(REPO, 'ceremonies', `${n}.yaml`);
      const c = parseRootCeremony(readFileSync(f), f);
      assert.equal(c.config.ca.name, n);
      assert.match(c.sha256, /^[0-9a-f]{64}$/);
    }
  });
  it('refuses a file that is not well-formed UTF-8 (no decoder repairs what the participants sign)', () => {
    const bytes = Buffer.concat([
      Buffer.from(base.replace('RootCA2 }', 'RootCA')),
      Buffer.from([0xff]),
      Buffer.from('2 }'),
    ]);
    assert.throws(
      () => parseRootCeremony(bytes, 'x.yaml'),
      (e: unknown) =>
        e instanceof CaError && e.code === 'CEREMONY_FILE_INVALID' && /not well-formed UTF-8/.test(e.message),
    );
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
