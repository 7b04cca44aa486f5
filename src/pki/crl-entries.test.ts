/**
 * Issue 17.5: the CRL entries are encoded and decoded by hand (crl-entries.ts) instead of by
 * asn1-schema. These tests hold the hand encoding to asn1-schema's bytes for the same
 * structure, for every shape an entry can take here: each reason, an invalidityDate, dates
 * before and from 2050, serials with the high bit set, no entries at all. The CRLs of the
 * reference roots' issuer names are the subjects.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/asn1-x509';

const { CRLReason, Extension, InvalidityDate, RevokedCertificate, TBSCertList, Time, Version } = x509;
const { id_ce_cRLNumber, id_ce_cRLReasons, id_ce_invalidityDate } = x509;
import { REFERENCE_ROOTS } from '../../test/helpers.ts';
import { parseCertificate, signatureAlgorithmIdentifier, toArrayBuffer } from './certificate.ts';
import {
  REVOCATION_REASON_CODES,
  assembleSignedCrl,
  createTbsCertList,
  parseCrl,
  type CrlEntry,
  type RevocationReason,
  type TbsCertListParams,
} from './crl.ts';
import { decodeRevokedCertificate, encodeCertificateList, encodeRevokedCertificate, tlv } from './crl-entries.ts';
import { rawEntry, readRawEntry } from './crl-raw-entry.ts';
import { derTlv } from './der.ts';
import { authorityKeyIdentifier } from './extensions.ts';
import { bigintToInteger, serialHexToInteger } from './integer.ts';
import { readDerChildren, readDerElement, readDerOrPem } from './pem.ts';

const issuer = parseCertificate(
  readDerOrPem(readFileSync(join(REFERENCE_ROOTS, 'Security_Communication_RootCA2.crt')), 'CERTIFICATE'),
).tbsCertificate.subject;

const ext = (extnID: string, der: ArrayBuffer | Uint8Array) =>
  new Extension({ extnID, critical: false, extnValue: new OctetString(new Uint8Array(der)) });

/** The TBSCertList as asn1-schema encodes it: how createTbsCertList built it before issue 17.5. */
function asn1SchemaTbs(p: TbsCertListParams, entries: CrlEntry[]): Buffer {
  const revoked = entries.map((e) => {
    const exts: x509.Extension[] = [];
    if (e.reason)
      exts.push(ext(id_ce_cRLReasons, AsnConvert.serialize(new CRLReason(REVOCATION_REASON_CODES[e.reason]))));
    if (e.invalidityDate)
      exts.push(ext(id_ce_invalidityDate, AsnConvert.serialize(new InvalidityDate(e.invalidityDate))));
    return new RevokedCertificate({
      userCertificate: toArrayBuffer(serialHexToInteger(e.serialHex)),
      revocationDate: new Time(e.revocationDate),
      crlEntryExtensions: exts.length > 0 ? exts : undefined,
    });
  });
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: signatureAlgorithmIdentifier(p.signatureAlgorithm),
    issuer: p.issuer,
    thisUpdate: new Time(p.thisUpdate),
    nextUpdate: new Time(p.nextUpdate),
    revokedCertificates: revoked.length > 0 ? revoked : undefined,
    crlExtensions: [
      authorityKeyIdentifier(p.authorityKeyIdentifier),
      ext(id_ce_cRLNumber, derTlv(0x02, bigintToInteger(p.crlNumber))),
    ],
  });
  return Buffer.from(AsnConvert.serialize(tbs));
}

const REASONS = Object.keys(REVOCATION_REASON_CODES) as RevocationReason[];

/** Entries of every shape: each reason and none, with and without invalidityDate, UTCTime and GeneralizedTime dates. */
function entriesOfEveryShape(): CrlEntry[] {
  const out: CrlEntry[] = [];
  const base = Date.UTC(2026, 0, 31, 23, 59, 58);
  for (let i = 0; i < 40; i++) {
    const year = i % 5 === 0 ? 2051 : i % 7 === 0 ? 1999 : 2026;
    const when = new Date(base + i * 3_601_000);
    when.setUTCFullYear(year);
    out.push({
      serialHex: i % 3 === 0 ? `ff${i.toString(16).padStart(38, '0')}` : (i + 1).toString(16),
      revocationDate: when,
      reason: i % 8 === 7 ? undefined : REASONS[i % REASONS.length],
      invalidityDate: i % 4 === 0 ? new Date(when.getTime() - 86_400_000) : undefined,
    });
  }
  return out;
}

function params(entries: CrlEntry[]): TbsCertListParams {
  return {
    signatureAlgorithm: 'sha256WithRSAEncryption',
    issuer,
    thisUpdate: new Date(Date.UTC(2026, 5, 1, 12, 0, 0)),
    nextUpdate: new Date(Date.UTC(2026, 11, 1, 12, 0, 0)),
    crlNumber: 300n,
    authorityKeyIdentifier: Buffer.alloc(20, 7),
    entries,
  };
}

describe('issue 17.5 CRL entries encoded by hand, byte for byte as asn1-schema', () => {
  it('createTbsCertList writes the bytes asn1-schema writes, for every entry shape and for none', () => {
    const entries = entriesOfEveryShape();
    for (const list of [entries, entries.slice(0, 1), []]) {
      const built = createTbsCertList(params(list));
      assert.equal(built.entries, list.length);
      assert.equal(
        built.der.toString('hex'),
        asn1SchemaTbs(params(list), list).toString('hex'),
        `${list.length} entries`,
      );
    }
  });

  it('the list writer (crl-list-writer.ts) spells serials and years off the common form as asn1-schema does', () => {
    // Serials not in minimal lower-case form, milliseconds, a list longer than 127 bytes
    // (long-form lengths), and years on either side of UTCTime's 1950..2049 (1950, 2049, 2050, 9999).
    const serials = ['0x0A', '00ff', 'AB:CD', '0001', '7f', '80', '0102030405060708090a0b0c0d0e0f1011121314'];
    const years = [1950, 2049, 2050, 9999, 2026, 2026, 2026];
    const entries: CrlEntry[] = serials.map((serialHex, i) => {
      const when = new Date(Date.UTC(2026, 1, 28, 23, 59, 59, 999));
      when.setUTCFullYear(years[i]!);
      return { serialHex, revocationDate: when, reason: REASONS[i % REASONS.length] };
    });
    const built = createTbsCertList(params(entries));
    assert.equal(built.entries, entries.length);
    assert.equal(built.der.toString('hex'), asn1SchemaTbs(params(entries), entries).toString('hex'));
  });

  it('createTbsCertList reads its entries once, from an iterator as from an array', () => {
    const entries = entriesOfEveryShape();
    const once = function* () {
      yield* entries;
    };
    assert.deepEqual(createTbsCertList({ ...params([]), entries: once() }).der, createTbsCertList(params(entries)).der);
  });

  it('decoding and re-encoding a CRL gives its bytes back, and the entries asn1-schema reads', () => {
    const entries = entriesOfEveryShape();
    const tbs = createTbsCertList(params(entries)).der;
    const crl = assembleSignedCrl(tbs, 'sha256WithRSAEncryption', Buffer.alloc(256, 1));
    const parsed = parseCrl(crl);
    assert.equal(encodeCertificateList(parsed.crl).toString('hex'), crl.toString('hex'));
    assert.equal(Buffer.from(AsnConvert.serialize(parsed.crl.tbsCertList)).toString('hex'), tbs.toString('hex'));
    const bySchema = AsnConvert.parse(tbs, TBSCertList).revokedCertificates!;
    assert.equal(parsed.crl.tbsCertList.revokedCertificates!.length, bySchema.length);
    parsed.crl.tbsCertList.revokedCertificates!.forEach((rc, i) => {
      const theirs = bySchema[i]!;
      assert.deepEqual(Buffer.from(rc.userCertificate), Buffer.from(theirs.userCertificate));
      assert.deepEqual(rc.revocationDate, theirs.revocationDate);
      assert.deepEqual(
        rc.crlEntryExtensions?.map((x) => [x.extnID, x.critical, Buffer.from(x.extnValue.buffer).toString('hex')]),
        theirs.crlEntryExtensions?.map((x) => [x.extnID, x.critical, Buffer.from(x.extnValue.buffer).toString('hex')]),
      );
    });
    assert.deepEqual(
      parsed.entries.map((e) => [
        e.serialHex,
        e.revocationDate.toISOString(),
        e.reason,
        e.invalidityDate?.toISOString(),
      ]),
      entries.map((e) => [
        Buffer.from(serialHexToInteger(e.serialHex)).toString('hex'),
        e.revocationDate.toISOString(),
        e.reason,
        e.invalidityDate?.toISOString(),
      ]),
    );
  });

  it('a list longer than one call takes arguments (200,000 entries) encodes, decodes and re-encodes', () => {
    const when = new Date(Date.UTC(2026, 0, 1));
    const many = function* () {
      for (let i = 1; i <= 200_000; i++)
        yield { serialHex: i.toString(16), revocationDate: when, reason: 'superseded' as const };
    };
    const built = createTbsCertList({ ...params([]), entries: many() });
    assert.equal(built.entries, 200_000);
    const crl = assembleSignedCrl(built.der, 'sha256WithRSAEncryption', Buffer.alloc(256, 1));
    const parsed = parseCrl(crl);
    assert.equal(parsed.entries.length, 200_000);
    assert.equal(parsed.entries.at(-1)!.serialHex, (200_000).toString(16).padStart(6, '0'));
    assert.ok(encodeCertificateList(parsed.crl).equals(crl));
  });
});

/** readRawEntry's promise for the entry buf[0..]: when it reads it, decoding re-encodes to the bytes and holds what it read. */
function rawAgrees(buf: Buffer): boolean {
  const raw = rawEntry(buf);
  if (!readRawEntry(buf, 0, buf.length, raw)) return false;
  const el = readDerElement(buf, 0);
  assert.equal(raw.end, el.end);
  const rc = decodeRevokedCertificate(buf, el);
  assert.equal(encodeRevokedCertificate(rc).toString('hex'), buf.subarray(0, el.end).toString('hex'));
  assert.equal(
    buf.subarray(raw.serialStart, raw.serialEnd).toString('hex'),
    Buffer.from(rc.userCertificate).toString('hex'),
  );
  const d = rc.revocationDate.utcTime ?? rc.revocationDate.generalTime!;
  assert.equal(raw.timeTag, rc.revocationDate.utcTime ? 0x17 : 0x18);
  assert.equal(raw.time, d.getTime());
  assert.equal(raw.year, d.getUTCFullYear());
  assert.deepEqual(raw.extensions, rc.crlEntryExtensions ?? []);
  raw.extensions.forEach((x, i) => assert.equal(x, rc.crlEntryExtensions![i]), 'the shared Extension objects');
  return true;
}

describe('issue 17.5 CRL entries read from their bytes (readRawEntry)', () => {
  it('reads the common entries, and whatever it reads decodes and re-encodes to its bytes', () => {
    const tbs = createTbsCertList(params(entriesOfEveryShape())).der;
    const top = readDerChildren(tbs, readDerElement(tbs, 0));
    const list = top.find((el, i) => i > 2 && el.tag === 0x30)!;
    const entries = readDerChildren(tbs, list).map((el) => Buffer.from(tbs.subarray(el.start, el.end)));
    // Every entry without invalidityDate (a 26-byte extension, read the long way) is read from its bytes.
    assert.equal(entries.filter(rawAgrees).length, entriesOfEveryShape().filter((e) => !e.invalidityDate).length);
    // Each byte of each entry changed to odd values: what is still read must still keep the promise.
    let read = 0;
    let tried = 0;
    for (const good of entries)
      for (let i = 0; i < good.length; i++)
        for (const v of [0x00, 0x01, 0x0d, 0x0f, 0x17, 0x18, 0x30, 0x32, 0x39, 0x3a, 0x5a, 0x7f, 0x80, 0x81, 0xff]) {
          const bad = Buffer.concat([good, Buffer.alloc(8, 0x30)]);
          bad[i] = v;
          tried++;
          if (rawAgrees(bad)) read++;
        }
    assert.ok(read > 100 && read < tried, `${read} of ${tried} read`);
    // Lengths in long form where the short one would do are not DER.
    const short = entries.find((e) => e[1]! < 0x80 && rawAgrees(e))!;
    assert.equal(rawAgrees(Buffer.concat([Buffer.from([0x30, 0x81]), short.subarray(1)])), false);
    const [serialTag, serialLength] = [short[2]!, short[3]!];
    const longSerial = Buffer.concat([Buffer.from([serialTag, 0x81, serialLength]), short.subarray(4)]);
    assert.equal(rawAgrees(Buffer.concat([Buffer.from([0x30, longSerial.length]), longSerial])), false);
  });

  it('reads a date only when its fields re-encode as they are', () => {
    const at = (time: Buffer) => {
      const e = tlv(0x30, tlv(0x02, Buffer.from([1])), time);
      return readRawEntry(e, 0, e.length, rawEntry(e)) && rawAgrees(e);
    };
    const utc = (s: string) => tlv(0x17, Buffer.from(s, 'latin1'));
    const gen = (s: string) => tlv(0x18, Buffer.from(s, 'latin1'));
    for (const s of ['240229000000Z', '491231235959Z', '500101000000Z', '000229000000Z', '260131120000Z'])
      assert.equal(at(utc(s)), true, s);
    for (const s of ['250229000000Z', '261301000000Z', '260431000000Z', '260100000000Z', '260101240000Z'])
      assert.equal(at(utc(s)), false, s);
    for (const s of ['260101006000Z', '260101000060Z', '2601010000000', '26010100000Z', '2601010000001Z'])
      assert.equal(at(utc(s)), false, s);
    for (const s of ['20500101000000Z', '99991231235959Z', '19000228000000Z', '01000101000000Z'])
      assert.equal(at(gen(s)), true, s);
    for (const s of ['00990101000000Z', '19000229000000Z', '2050010100000.Z', '20500101000000'])
      assert.equal(at(gen(s)), false, s);
  });
});
