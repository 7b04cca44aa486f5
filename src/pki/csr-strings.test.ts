/**
 * Issue 15.6: strings that would mislead a relying party are refused in CSRs, each with its
 * rule named — real CSRs from `openssl req`, and DER-built ones for the bytes openssl will not
 * produce (invalid UTF-8, a PrintableString with '@', a non-ASCII IA5String, a NUL, a 70-character CN).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import { assembleCertificationRequest } from './csr-build.ts';
import { acceptCsr } from './csr.ts';
import { createName } from './name.ts';
import { acceptSubject, PROFILES } from './profiles.ts';
import { derSequence, derTlv } from './der.ts';
import {
  checkNameDer,
  RULE_BIDI_CONTROL,
  RULE_CONTROL_CHARACTER,
  RULE_COUNTRY,
  RULE_IA5,
  RULE_PRINTABLE,
  RULE_UPPER_BOUND,
  RULE_UTF8,
} from './name-strings.ts';

const dir = mkdtempSync(join(tmpdir(), 'rootca-csr-strings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function opensslCsr(subject: string, ...extra: string[]): Buffer {
  const args = 'req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -outform DER'.split(' ');
  return execFileSync('openssl', [...args, '-keyout', join(dir, 'k.pem'), '-subj', subject, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A DER OBJECT IDENTIFIER for a short 2.5.4.x or a given content. */
const OIDS: Record<string, Buffer> = {
  C: Buffer.from('0603550406', 'hex'),
  O: Buffer.from('060355040a', 'hex'),
  CN: Buffer.from('0603550403', 'hex'),
  emailAddress: Buffer.from('06092a864886f70d010901', 'hex'),
};

/** A Name with one attribute per RDN, each value given as (DER tag, exact bytes). */
function rawName(...attrs: [keyof typeof OIDS, number, Buffer][]): Buffer {
  return derSequence(...attrs.map(([t, tag, bytes]) => derTlv(0x31, derSequence(OIDS[t]!, derTlv(tag, bytes)))));
}

/** A correctly signed PKCS#10 with that exact subject (P-256, ecdsa-with-SHA256): only the strings are wrong. */
function derBuiltCsr(name: Buffer): Buffer {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const info = derSequence(Buffer.from('020100', 'hex'), name, spki, Buffer.from('a000', 'hex'));
  return assembleCertificationRequest(info, 'ecdsa-with-SHA256', sign('sha256', info, privateKey));
}

const UTF8 = 0x0c;
const PRINTABLE = 0x13;
const IA5 = 0x16;
const ok = (s: string) => Buffer.from(s, 'utf8');

function refused(csr: Buffer, rule: string, message: RegExp): void {
  assert.throws(
    () => acceptCsr(csr),
    (e: unknown) => {
      assert.ok(e instanceof CaError, String(e));
      assert.equal(e.code, 'CSR_REJECTED');
      assert.ok(e.message.includes(`[${rule}]`), e.message);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('issue 15.6: misleading strings in CSRs are refused with the rule named', () => {
  it('accepts a plain openssl CSR (the check does not refuse ordinary names)', () => {
    const i = acceptCsr(opensslCsr('/C=JP/O=Example Trust/CN=Example Sub CA'));
    assert.deepEqual(i.problems, []);
    assert.deepEqual(checkNameDer(i.requested.subjectDer), []);
  });

  it('accepts a UTF-8 Japanese name from openssl -utf8', () => {
    assert.deepEqual(acceptCsr(opensslCsr('/C=JP/O=セコム/CN=セコム Sub CA', '-utf8')).problems, []);
  });

  it('refuses an openssl CSR whose CN holds a right-to-left override (U+202E)', () => {
    refused(opensslCsr('/C=JP/O=Example/CN=moc.\u202eexample.com', '-utf8'), RULE_BIDI_CONTROL, /CN: .*U\+202E/);
  });

  it('refuses an openssl CSR whose O holds a left-to-right mark and an isolate (U+200E, U+2066)', () => {
    refused(opensslCsr('/C=JP/O=Ex\u200eam\u2066ple/CN=Sub', '-utf8'), RULE_BIDI_CONTROL, /U\+200E U\+2066/);
  });

  it('refuses an openssl CSR whose CN holds an escape control character (U+001B)', () => {
    refused(opensslCsr('/C=JP/O=Example/CN=Sub\u001b[31mCA', '-utf8'), RULE_CONTROL_CHARACTER, /CN: .*U\+001B/);
  });

  it('refuses a CN holding a NUL (DER-built: openssl cannot pass one)', () => {
    const csr = derBuiltCsr(rawName(['C', PRINTABLE, ok('JP')], ['CN', UTF8, ok('good.example\0.evil.example')]));
    refused(csr, RULE_CONTROL_CHARACTER, /U\+0000/);
  });

  it('refuses invalid UTF-8 in a UTF8String, read from the raw bytes (not re-encoded)', () => {
    for (const bytes of ['41ff42', 'c0af', 'eda080', 'e282']) {
      const csr = derBuiltCsr(rawName(['C', PRINTABLE, ok('JP')], ['CN', UTF8, Buffer.from(bytes, 'hex')]));
      refused(csr, RULE_UTF8, new RegExp(`bytes ${bytes} are not well-formed UTF-8`));
    }
  });

  it("refuses a PrintableString with '@' and an IA5String with non-ASCII", () => {
    refused(
      derBuiltCsr(rawName(['C', PRINTABLE, ok('JP')], ['CN', PRINTABLE, ok('ca@example')])),
      RULE_PRINTABLE,
      /CN: is a PrintableString/,
    );
    refused(
      derBuiltCsr(rawName(['C', PRINTABLE, ok('JP')], ['emailAddress', IA5, Buffer.from('ca\xe9@example', 'latin1')])),
      RULE_IA5,
      /emailAddress: is an IA5String with non-ASCII/,
    );
  });

  it('refuses a 70-character CN, a 65-character O and a 3-letter country (X.520 upper bounds)', () => {
    refused(
      derBuiltCsr(rawName(['C', PRINTABLE, ok('JP')], ['CN', UTF8, ok('x'.repeat(70))])),
      RULE_UPPER_BOUND,
      /CN: is 70 characters long; at most 64/,
    );
    refused(
      derBuiltCsr(rawName(['C', PRINTABLE, ok('JP')], ['O', UTF8, ok('セ'.repeat(65))])),
      RULE_UPPER_BOUND,
      /O: is 65 characters long/,
    );
    refused(derBuiltCsr(rawName(['C', PRINTABLE, ok('JPN')])), RULE_COUNTRY, /exactly 2 characters/);
  });

  it('counts characters, not bytes: 64 three-byte characters pass', () => {
    assert.deepEqual(checkNameDer(rawName(['CN', UTF8, ok('セ'.repeat(64))])), []);
  });

  it("the profile's acceptSubject refuses the same strings in a parsed name (SUBJECT_NOT_ALLOWED, rule named)", () => {
    const name = createName([
      { type: 'C', value: 'JP', encoding: 'printableString' },
      { type: 'O', value: 'Example', encoding: 'printableString' },
      { type: 'CN', value: 'Sub\u202eAC', encoding: 'utf8String' },
    ]);
    assert.throws(
      () => acceptSubject(PROFILES.subca, name),
      (e: unknown) =>
        e instanceof CaError && e.code === 'SUBJECT_NOT_ALLOWED' && e.message.includes(`[${RULE_BIDI_CONTROL}]`),
    );
  });
});
