/**
 * Issue 17.5: the one-pass CRL lint reads the common entry from its bytes (readRawEntry) and asks
 * each entry lint's `clean` before decoding it. These tests hold that path to the findings of
 * the same lints given every entry decoded, message for message, on lists that mix common
 * entries with every odd one a lint reports (and with entries only the long way reads).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectKeyIdentifier, TBSCertList, id_ce_subjectKeyIdentifier } from '@peculiar/asn1-x509';
import { REFERENCE_ROOTS } from '../../../test/helpers.ts';
import { parseCertificate } from '../../pki/certificate.ts';
import { assembleSignedCrl, createTbsCertList } from '../../pki/crl.ts';
import { tbsWithRevoked, tlv } from '../../pki/crl-entries.ts';
import { readDerOrPem } from '../../pki/pem.ts';
import { parseCrlForLint } from './e_crl_der_encoding.ts';
import { ALL_CRL_LINTS, lintParsedCrl } from './index.ts';
import { SerialSet } from './serial-set.ts';
import { lintCrlStreamed } from './stream.ts';
import type { CrlLint, CrlLintContext, EntryCheck, LintFinding } from './types.ts';

const issuer = parseCertificate(
  readDerOrPem(readFileSync(join(REFERENCE_ROOTS, 'Security_Communication_RootCA2.crt')), 'CERTIFICATE'),
);
const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ski = AsnConvert.parse(
  issuer.tbsCertificate.extensions!.find((e) => e.extnID === id_ce_subjectKeyIdentifier)!.extnValue,
  SubjectKeyIdentifier,
);
const THIS_UPDATE = new Date('2030-04-01T00:00:00Z');
const context: CrlLintContext = { issuer, now: THIS_UPDATE, allowLegacySha1: false };

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const utc = (digits: string) => tlv(0x17, Buffer.from(digits, 'latin1'));
const general = (digits: string) => tlv(0x18, Buffer.from(digits, 'latin1'));
/** reasonCode (2.5.29.21) with a CRLReason ENUMERATED, non-critical unless said. */
const reason = (code: number, critical = false) =>
  tlv(
    0x30,
    hex('0603551d15'),
    ...(critical ? [hex('0101ff')] : []),
    tlv(0x04, hex(`0a01${code.toString(16).padStart(2, '0')}`)),
  );
const entry = (serial: Buffer, time: Buffer, exts?: Buffer[]) =>
  tlv(0x30, tlv(0x02, serial), time, ...(exts ? [tlv(0x30, ...exts)] : []));

/** A signed CRL whose revokedCertificates are the given entry encodings, in order. */
function crlOf(entries: Buffer[]): Buffer {
  const head = AsnConvert.parse(
    createTbsCertList({
      signatureAlgorithm: 'sha256WithRSAEncryption',
      issuer: issuer.tbsCertificate.subject,
      thisUpdate: THIS_UPDATE,
      nextUpdate: new Date('2030-07-01T00:00:00Z'),
      crlNumber: 3n,
      authorityKeyIdentifier: Buffer.from(ski.buffer),
      entries: [],
    }).der,
    TBSCertList,
  );
  const tbs = tbsWithRevoked(head, tlv(0x30, ...entries));
  return assembleSignedCrl(tbs, 'sha256WithRSAEncryption', sign('sha256', tbs, key));
}

/** The lints with each entry check's `clean` taken away, so every entry is decoded and checked. */
const decodingEveryEntry: CrlLint[] = ALL_CRL_LINTS.map((l) => ({
  ...l,
  begin: (head, ctx, report) => {
    const each = l.begin(head, ctx, report);
    return each && ((entry) => each(entry));
  },
}));

/** The lints, counting the entries each `clean` passes. */
function countingClean(): { lints: CrlLint[]; passed: () => number } {
  let passed = 0;
  const counted = (each: EntryCheck): EntryCheck => {
    const clean = each.clean;
    if (!clean) return each;
    return Object.assign((e: Parameters<EntryCheck>[0]) => each(e), {
      clean: (raw: Parameters<NonNullable<EntryCheck['clean']>>[0]) => {
        const ok = clean(raw);
        if (ok) passed++;
        return ok;
      },
    });
  };
  const lints = ALL_CRL_LINTS.map(
    (l): CrlLint => ({
      ...l,
      begin: (head, ctx, report) => {
        const each = l.begin(head, ctx, report);
        return each && counted(each);
      },
    }),
  );
  return { lints, passed: () => passed };
}

/** The findings of the whole parsed CRL (the path of a CRL that is not DER throughout). */
function wholeCrlFindings(der: Buffer): LintFinding[] {
  const parsed = parseCrlForLint(der);
  return [...parsed.findings, ...lintParsedCrl(parsed.crl!, context)];
}

const serial = (i: number) => Buffer.from((0x1000 + i).toString(16).padStart(6, '0'), 'hex');
const common = (i: number) => entry(serial(i), utc('300301120000Z'), [reason([1, 2, 3, 4, 5, 9][i % 6]!)]);

/** Entries each lint reports, or that only the long way reads, by what they are. */
const ODD: Record<string, Buffer> = {
  'negative serial': entry(hex('80'), utc('300301120000Z')),
  'zero serial': entry(hex('0000'), utc('300301120000Z')),
  'empty serial': entry(Buffer.alloc(0), utc('300301120000Z')),
  '21-octet serial': entry(Buffer.alloc(21, 1), utc('300301120000Z')),
  'duplicate serial': common(5),
  'duplicate serial, third time': common(5),
  'revocationDate after thisUpdate': entry(serial(900), utc('300401000001Z'), [reason(1)]),
  'GeneralizedTime before 2050': entry(serial(901), general('20300301120000Z')),
  'GeneralizedTime from 2050': entry(serial(902), general('20500301120000Z')),
  'UTCTime 1950 (before thisUpdate)': entry(serial(903), utc('500301120000Z')),
  '29 February of a leap year': entry(serial(904), utc('280229120000Z')),
  'reasonCode unspecified': entry(serial(905), utc('300301120000Z'), [reason(0)]),
  'reasonCode certificateHold': entry(serial(906), utc('300301120000Z'), [reason(6)]),
  'reasonCode critical': entry(serial(907), utc('300301120000Z'), [reason(1, true)]),
  'reasonCode twice': entry(serial(908), utc('300301120000Z'), [reason(1), reason(1)]),
  'reasonCode twice, the first bad': entry(serial(909), utc('300301120000Z'), [reason(8), reason(1)]),
  'unknown entry extension': entry(serial(910), utc('300301120000Z'), [
    tlv(0x30, hex('0603551d1d'), tlv(0x04, hex('3000'))),
  ]),
  'invalidityDate (read the long way)': entry(serial(911), utc('300301120000Z'), [
    reason(1),
    tlv(0x30, hex('0603551d18'), tlv(0x04, general('20300228000000Z'))),
  ]),
  'duplicate of an entry read the long way': entry(serial(911), utc('300301120000Z'), [reason(1)]),
  'a serial of 127 octets (long entry)': entry(Buffer.alloc(127, 0x11), utc('300301120000Z'), [reason(1)]),
  'a serial of 300 octets (read the long way)': entry(Buffer.alloc(300, 0x12), utc('300301120000Z'), [reason(1)]),
};

describe('issue 17.5 CRL entries linted from their bytes', () => {
  it('give the findings of every entry decoded and of the whole parsed CRL, message for message', () => {
    for (const [name, odd] of Object.entries(ODD)) {
      const der = crlOf([...Array.from({ length: 40 }, (_, i) => common(i)), odd, common(40)]);
      const fast = lintCrlStreamed(der, context, ALL_CRL_LINTS);
      assert.ok(fast, name);
      assert.deepEqual(fast, lintCrlStreamed(der, context, decodingEveryEntry), name);
      assert.deepEqual(fast, wholeCrlFindings(der), name);
    }
    const all = crlOf([...Array.from({ length: 40 }, (_, i) => common(i)), ...Object.values(ODD)]);
    const fast = lintCrlStreamed(all, context, ALL_CRL_LINTS)!;
    assert.deepEqual(fast, lintCrlStreamed(all, context, decodingEveryEntry));
    assert.deepEqual(fast, wholeCrlFindings(all));
    // Every lint of an entry reports at least once among the odd entries.
    for (const l of [
      'e_crl_entry_serial_number',
      'e_crl_entry_duplicate_serial',
      'e_crl_time_encoding',
      'w_crl_revocation_date_after_this_update',
      'e_crl_entry_reason_code',
      'e_crl_ext_duplicate',
      'e_crl_entry_extensions',
    ])
      assert.ok(
        fast.some((f) => f.lint === l),
        l,
      );
    assert.equal(fast.filter((f) => f.lint === 'e_crl_entry_duplicate_serial').length, 2);
  });

  it('the common entry is passed by every entry lint from its bytes', () => {
    const { lints, passed } = countingClean();
    const der = crlOf(Array.from({ length: 100 }, (_, i) => common(i)));
    assert.deepEqual(lintCrlStreamed(der, context, lints), []);
    const entryLints = ALL_CRL_LINTS.filter((l) => l.begin(parseCrlForLint(der).crl!, context, quiet)).length;
    assert.equal(entryLints, 7);
    assert.equal(passed(), 100 * entryLints);
  });
});

const quiet = { add() {}, error() {}, warning() {} };

describe('SerialSet', () => {
  it('holds what a Set of the octets holds, through growth and equal hashes', () => {
    const set = new SerialSet();
    const strings = new Set<string>();
    const bytes = Buffer.alloc(64);
    let seed = 1;
    for (let i = 0; i < 50_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const n = seed % 4; // lengths 0..3 and few values: many repeats
      for (let j = 0; j < n; j++) bytes[8 + j] = (seed >>> (8 * j + 4)) & 0x3f;
      const key = bytes.toString('latin1', 8, 8 + n);
      assert.equal(set.add(bytes, 8, 8 + n), !strings.has(key));
      strings.add(key);
    }
    assert.equal(set.size, strings.size);
    const many = new SerialSet();
    for (let i = 0; i < 100_000; i++) assert.equal(many.add(serial(i), 0, 3), true);
    for (let i = 0; i < 100_000; i += 997) assert.equal(many.add(serial(i), 0, 3), false);
    assert.equal(many.size, 100_000);
  });
});
