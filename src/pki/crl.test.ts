/**
 * CRLs, checked by the OpenSSL CLI as the independent relying party (CONVENTIONS 10):
 * CA certificates and leaves come from `openssl`, the CRL from createTbsCertList +
 * assembleSignedCrl with the signature made by node:crypto, and `openssl crl` / `openssl verify
 * -crl_check` judge the result.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { type Certificate, CertificateList, TBSCertList } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { lintCrl } from '../lint/crl/index.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from './algorithms.ts';
import { parseCertificate } from './certificate.ts';
import {
  REVOCATION_REASON_CODES,
  assembleSignedCrl,
  createTbsCertList,
  parseCrl,
  verifyCrlSignature,
  type CrlEntry,
  type TbsCertListParams,
} from './crl.ts';
import { bigintToInteger, integerToBigint, normalizeSerialHex } from './integer.ts';
import { keyIdentifierFromSpki } from './extensions.ts';
import { derToPem, pemToDer } from './pem.ts';
import { OPENSSL_CA_CNF, opensslRunner } from '../../test/openssl-runner.ts';

let dir: string;
const { result: opensslResult, run: openssl } = opensslRunner(() => dir);

interface TestCa {
  name: string;
  alg: SignatureAlgorithmName;
  certDer: Buffer;
  cert: Certificate;
  spki: Buffer;
  ski: Buffer;
  key: KeyObject;
  /** Leaf serials issued by this CA: one to revoke, one to keep. */
  revokedLeaf: string;
  goodLeaf: string;
}

const LEAF_EXT = `basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
`;

function makeCa(name: string, keyArgs: string[], alg: SignatureAlgorithmName, subject: string): TestCa {
  const digest = `-${SIGNATURE_ALGORITHMS[alg].hash}`;
  openssl('genpkey', ...keyArgs, '-out', `${name}.key`);
  openssl(
    'req',
    '-x509',
    '-new',
    '-config',
    'ca.cnf',
    '-key',
    `${name}.key`,
    '-subj',
    subject,
    '-days',
    '3650',
    digest,
    '-out',
    `${name}.pem`,
  );
  const leaf = (serial: string): string => {
    const file = `${name}-leaf-${serial}`;
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${file}.key`);
    openssl('req', '-new', '-key', `${file}.key`, '-subj', `/CN=leaf ${serial}`, '-out', `${file}.csr`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${file}.csr`,
      '-CA',
      `${name}.pem`,
      '-CAkey',
      `${name}.key`,
      '-set_serial',
      `0x${serial}`,
      '-days',
      '30',
      digest,
      '-extfile',
      'leaf.ext',
      '-out',
      `${file}.pem`,
    );
    return serial;
  };
  const certDer = pemToDer(readFileSync(join(dir, `${name}.pem`), 'utf8'), 'CERTIFICATE');
  const cert = parseCertificate(certDer);
  const spki = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
  return {
    name,
    alg,
    certDer,
    cert,
    spki,
    ski: keyIdentifierFromSpki(spki),
    key: createPrivateKey(readFileSync(join(dir, `${name}.key`))),
    // A high first bit: the serial's INTEGER needs a leading 00 octet.
    revokedLeaf: leaf('8f3a5c7e9b1d2f4a6c8e0a1b'),
    goodLeaf: leaf('1c2d3e4f5a6b7c8d'),
  };
}

let rsaCa: TestCa;
let ecCa: TestCa;

/** Signs a TBSCertList with the CA key the way a Signer would. */
function signCrl(ca: TestCa, tbsDer: Buffer, alg: SignatureAlgorithmName = ca.alg): Buffer {
  return assembleSignedCrl(tbsDer, alg, sign(SIGNATURE_ALGORITHMS[alg].hash, tbsDer, ca.key));
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** A time on a whole second, so round trips compare exactly. */
function wholeSecond(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function params(ca: TestCa, entries: CrlEntry[], over: Partial<TbsCertListParams> = {}): TbsCertListParams {
  const now = Date.now();
  return {
    signatureAlgorithm: ca.alg,
    issuer: ca.cert.tbsCertificate.subject,
    thisUpdate: wholeSecond(now - HOUR),
    nextUpdate: wholeSecond(now + 7 * DAY),
    crlNumber: 42n,
    authorityKeyIdentifier: ca.ski,
    entries,
    ...over,
  };
}

function threeEntries(ca: TestCa): CrlEntry[] {
  const now = Date.now();
  return [
    {
      serialHex: ca.revokedLeaf,
      revocationDate: wholeSecond(now - 2 * HOUR),
      reason: 'keyCompromise',
      invalidityDate: wholeSecond(now - 3 * DAY),
    },
    { serialHex: '0a0b0c0d0e0f1011', revocationDate: wholeSecond(now - 3 * HOUR), reason: 'superseded' },
    { serialHex: '7fffffffffffffffff', revocationDate: wholeSecond(now - 4 * HOUR) },
  ];
}

function write(file: string, data: Buffer | string): string {
  writeFileSync(join(dir, file), data);
  return file;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rootca-crl-'));
  writeFileSync(join(dir, 'ca.cnf'), OPENSSL_CA_CNF);
  writeFileSync(join(dir, 'leaf.ext'), LEAF_EXT);
  rsaCa = makeCa(
    'rsa',
    ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    'sha256WithRSAEncryption',
    '/C=JP/O=Example Trust/CN=Example RSA Root',
  );
  ecCa = makeCa(
    'ec',
    ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    'ecdsa-with-SHA384',
    '/C=JP/O=Example Trust/CN=Example ECC Root',
  );
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('R-4.2 REVOCATION_REASON_CODES', () => {
  it('has the RFC 5280 5.3.1 values and never unspecified (0)', () => {
    assert.deepEqual(REVOCATION_REASON_CODES, {
      keyCompromise: 1,
      cACompromise: 2,
      affiliationChanged: 3,
      superseded: 4,
      cessationOfOperation: 5,
      privilegeWithdrawn: 9,
    });
  });
});

for (const which of ['RSA sha256WithRSAEncryption', 'ECDSA P-384 ecdsa-with-SHA384'] as const) {
  describe(`R-4.2 CRL signed with ${which}, checked by openssl`, () => {
    const ca = (): TestCa => (which.startsWith('RSA') ? rsaCa : ecCa);

    it('0 entries: verify OK, v2 with AKI and CRL number, no revokedCertificates, lints clean', () => {
      const { der: tbs } = createTbsCertList(params(ca(), []));
      const crl = signCrl(ca(), tbs);
      const f = write(`${ca().name}-empty.crl`, crl);
      assert.match(
        openssl('crl', '-in', f, '-inform', 'DER', '-CAfile', `${ca().name}.pem`, '-noout', '-verify'),
        /verify OK/,
      );
      const text = openssl('crl', '-in', f, '-inform', 'DER', '-noout', '-text');
      assert.match(text, /Version 2 \(0x1\)/);
      assert.match(text, /X509v3 CRL Number:\s*\n\s*42\b/);
      assert.match(text, new RegExp(`X509v3 Authority Key Identifier:\\s*\\n\\s*(keyid:)?${hexColons(ca().ski)}`));
      assert.match(text, /No Revoked Certificates\./);
      const parsed = parseCrl(crl);
      assert.equal(parsed.crl.tbsCertList.revokedCertificates, undefined, 'RFC 5280 5.1.2.6: absent, not empty');
      assert.deepEqual(parsed.entries, []);
      assert.deepEqual(lintCrl(crl, { issuer: ca().cert, now: new Date(), allowLegacySha1: false }), []);
    });

    it('3 entries: verify OK, text shows reason codes and invalidity date, parseCrl round-trips', () => {
      const p = params(ca(), threeEntries(ca()));
      const { der: tbs } = createTbsCertList(p);
      const crl = signCrl(ca(), tbs);
      const f = write(`${ca().name}-three.crl`, crl);
      assert.match(
        openssl('crl', '-in', f, '-inform', 'DER', '-CAfile', `${ca().name}.pem`, '-noout', '-verify'),
        /verify OK/,
      );
      const text = openssl('crl', '-in', f, '-inform', 'DER', '-noout', '-text');
      assert.match(text, /X509v3 CRL Number:\s*\n\s*42\b/);
      assert.match(text, /X509v3 Authority Key Identifier/);
      assert.match(text, new RegExp(`Serial Number: ${ca().revokedLeaf.toUpperCase()}\\s*\\n\\s*Revocation Date`));
      assert.match(text, /X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);
      assert.match(text, /X509v3 CRL Reason Code:\s*\n\s*Superseded/);
      assert.match(text, /Invalidity Date:\s*\n\s*\w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT/);
      assert.equal(
        (text.match(/X509v3 CRL Reason Code/g) ?? []).length,
        2,
        'the entry without a reason has no reasonCode (never unspecified)',
      );
      assert.doesNotMatch(text, /Unspecified/);

      const parsed = parseCrl(crl);
      assert.deepEqual(parsed.issuerDer, Buffer.from(AsnConvert.serialize(ca().cert.tbsCertificate.subject)));
      assert.deepEqual(parsed.thisUpdate, p.thisUpdate);
      assert.deepEqual(parsed.nextUpdate, p.nextUpdate);
      assert.equal(parsed.crlNumber, 42n);
      assert.deepEqual(parsed.akid, ca().ski);
      assert.equal(parsed.signatureAlgorithmOid, SIGNATURE_ALGORITHMS[ca().alg].oid);
      assert.deepEqual(parsed.tbsDer, tbs, 'the signed TBS bytes are embedded unchanged');
      assert.deepEqual(
        parsed.entries.map(({ reasonCode: _code, ...e }) => ({ ...e, serialHex: normalizeSerialHex(e.serialHex) })),
        [...p.entries].map((e) => ({ ...e, serialHex: normalizeSerialHex(e.serialHex) })),
      );
      assert.equal(
        parsed.entries[0]!.serialHex,
        `00${ca().revokedLeaf}`,
        'positive serial with high bit: leading 00 octet',
      );
      assert.equal(parsed.entries[0]!.reasonCode, 1);
      assert.deepEqual(lintCrl(crl, { issuer: ca().cert, now: new Date(), allowLegacySha1: false }), []);
    });

    it('the DER round-trips unchanged through openssl crl -outform DER', () => {
      const crl = signCrl(ca(), createTbsCertList(params(ca(), threeEntries(ca()))).der);
      const f = write(`${ca().name}-rt.crl`, crl);
      const out = execFileSync('openssl', ['crl', '-in', f, '-inform', 'DER', '-outform', 'DER'], { cwd: dir });
      assert.deepEqual(out, crl);
      // and PEM -> DER as well
      write(`${ca().name}-rt.pem`, derToPem(crl, 'X509 CRL'));
      assert.deepEqual(
        execFileSync('openssl', ['crl', '-in', `${ca().name}-rt.pem`, '-outform', 'DER'], { cwd: dir }),
        crl,
      );
    });

    it('openssl verify -crl_check: the revoked leaf is revoked, the other one OK', () => {
      const crl = signCrl(ca(), createTbsCertList(params(ca(), threeEntries(ca()))).der);
      write(`${ca().name}-check.pem`, derToPem(crl, 'X509 CRL'));
      const revoked = opensslResult(
        'verify',
        '-crl_check',
        '-CRLfile',
        `${ca().name}-check.pem`,
        '-CAfile',
        `${ca().name}.pem`,
        `${ca().name}-leaf-${ca().revokedLeaf}.pem`,
      );
      assert.notEqual(revoked.status, 0);
      assert.match(revoked.out, /certificate revoked/);
      const good = opensslResult(
        'verify',
        '-crl_check',
        '-CRLfile',
        `${ca().name}-check.pem`,
        '-CAfile',
        `${ca().name}.pem`,
        `${ca().name}-leaf-${ca().goodLeaf}.pem`,
      );
      assert.equal(good.status, 0, good.out);
      assert.match(good.out, /: OK/);
    });

    it('verifyCrlSignature: true with the issuer key, false with another key or a changed byte', () => {
      const crl = signCrl(ca(), createTbsCertList(params(ca(), threeEntries(ca()))).der);
      assert.equal(verifyCrlSignature(crl, ca().spki), true);
      const other = ca() === rsaCa ? ecCa : rsaCa;
      assert.equal(verifyCrlSignature(crl, other.spki), false);
      const tampered = Buffer.from(crl);
      const at = tampered.indexOf(Buffer.from('Example'));
      tampered[at] ^= 0x01;
      assert.equal(verifyCrlSignature(tampered, ca().spki), false);
    });
  });
}

describe('R-4.2 CRL encoding details', () => {
  it('UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 5.1.2.4); fractional seconds dropped', () => {
    const p = params(rsaCa, [{ serialHex: '01', revocationDate: new Date('2049-12-31T23:59:59.750Z') }], {
      thisUpdate: new Date('2049-12-31T23:59:59.500Z'),
      nextUpdate: new Date('2050-01-01T00:00:00Z'),
    });
    const { der } = createTbsCertList(p);
    assert.ok(der.includes(Buffer.from('\x17\x0d491231235959Z', 'latin1')), 'thisUpdate as UTCTime');
    assert.ok(der.includes(Buffer.from('\x18\x0f20500101000000Z', 'latin1')), 'nextUpdate as GeneralizedTime');
    const crl = signCrl(rsaCa, der);
    const text = openssl('crl', '-in', write('y2050.crl', crl), '-inform', 'DER', '-noout', '-text');
    assert.match(text, /Last Update: Dec 31 23:59:59 2049 GMT/);
    assert.match(text, /Next Update: Jan {2}1 00:00:00 2050 GMT/);
    const parsed = parseCrl(crl);
    assert.deepEqual(parsed.thisUpdate, new Date('2049-12-31T23:59:59Z'));
    assert.deepEqual(parsed.entries[0]!.revocationDate, new Date('2049-12-31T23:59:59Z'));
  });

  it('CRL numbers up to 20 octets (2^159 - 1) encode, and openssl reads them', () => {
    const n = (1n << 159n) - 1n;
    const crl = signCrl(rsaCa, createTbsCertList(params(rsaCa, [], { crlNumber: n })).der);
    assert.equal(parseCrl(crl).crlNumber, n);
    const text = openssl('crl', '-in', write('big.crl', crl), '-inform', 'DER', '-noout', '-text');
    assert.match(text, new RegExp(`X509v3 CRL Number:\\s*\\n\\s*0x${n.toString(16)}`, 'i'));
    assert.deepEqual(lintCrl(crl, { issuer: rsaCa.cert, now: new Date(), allowLegacySha1: false }), []);
  });

  it("INTEGER helpers are two's complement and minimal", () => {
    for (const n of [0n, 1n, 127n, 128n, 255n, 256n, -1n, -128n, -129n, (1n << 159n) - 1n, -(1n << 64n)]) {
      const c = bigintToInteger(n);
      assert.equal(integerToBigint(c), n, `round trip ${n}`);
      if (c.length > 1) assert.ok(!(c[0] === 0 && c[1]! < 0x80) && !(c[0] === 0xff && c[1]! >= 0x80), `minimal ${n}`);
    }
    assert.deepEqual(bigintToInteger(128n), Buffer.from([0x00, 0x80]));
    assert.deepEqual(bigintToInteger(-128n), Buffer.from([0x80]));
  });

  it('normalizeSerialHex: case, 0x, colons, odd length and leading zeros all name the same serial', () => {
    for (const s of ['ABC', '0x0abc', '0abc', '00000abc', '0a:bc']) assert.equal(normalizeSerialHex(s), '0abc');
    assert.equal(normalizeSerialHex('8f'), '008f');
    assert.equal(normalizeSerialHex('008f'), '008f');
    assert.throws(
      () => normalizeSerialHex('xyz'),
      (e: unknown) => e instanceof CaError && e.code === 'SERIAL_INVALID',
    );
    assert.throws(
      () => normalizeSerialHex(''),
      (e: unknown) => e instanceof CaError && e.code === 'SERIAL_INVALID',
    );
  });

  it('SHA-1 (RootCA1 legacy, R-1.3) CRLs verify too', () => {
    const crl = signCrl(
      rsaCa,
      createTbsCertList(params(rsaCa, threeEntries(rsaCa), { signatureAlgorithm: 'sha1WithRSAEncryption' })).der,
      'sha1WithRSAEncryption',
    );
    assert.equal(verifyCrlSignature(crl, rsaCa.spki), true);
    const r = opensslResult(
      'crl',
      '-in',
      write('sha1.crl', crl),
      '-inform',
      'DER',
      '-CAfile',
      'rsa.pem',
      '-noout',
      '-verify',
    );
    assert.match(r.out, /verify OK/);
  });

  it('createTbsCertList refuses unencodable input: an unknown reason, a non-hex serial, an invalid date', () => {
    const bad =
      (e: Partial<CrlEntry>): (() => unknown) =>
      () =>
        createTbsCertList(params(rsaCa, [{ serialHex: '01', revocationDate: new Date(Date.now() - HOUR), ...e }]));
    assert.throws(
      bad({ reason: 'unspecified' as never }),
      (e: unknown) => e instanceof CaError && e.code === 'CRL_PARAMS_INVALID',
    );
    assert.throws(
      bad({ reason: 'certificateHold' as never }),
      (e: unknown) => e instanceof CaError && e.code === 'CRL_PARAMS_INVALID',
    );
    assert.throws(bad({ serialHex: 'not hex' }), (e: unknown) => e instanceof CaError && e.code === 'SERIAL_INVALID');
    assert.throws(
      bad({ revocationDate: new Date(Number.NaN) }),
      (e: unknown) => e instanceof CaError && e.code === 'CRL_PARAMS_INVALID',
    );
  });

  it('the TBS is v2 and its extensions are non-critical AKI then CRL number', () => {
    const tbs = AsnConvert.parse(createTbsCertList(params(rsaCa, [])).der, TBSCertList);
    assert.equal(tbs.version, 1);
    assert.deepEqual(
      tbs.crlExtensions?.map((e) => [e.extnID, e.critical]),
      [
        ['2.5.29.35', false],
        ['2.5.29.20', false],
      ],
    );
  });
});

describe('regression: asn1-x509 TBSCertList loses revokedCertificates when nextUpdate is absent', () => {
  it('parseCrl keeps every entry of a CRL without nextUpdate (openssl lists the same serials)', () => {
    const tbs = AsnConvert.parse(createTbsCertList(params(rsaCa, threeEntries(rsaCa))).der, TBSCertList);
    tbs.nextUpdate = undefined;
    const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
    const crl = signCrl(rsaCa, tbsDer);
    assert.equal(
      AsnConvert.parse(crl, CertificateList).tbsCertList.revokedCertificates,
      undefined,
      'the library bug this guards against',
    );
    const parsed = parseCrl(crl);
    assert.equal(parsed.nextUpdate, undefined);
    assert.deepEqual(
      parsed.entries.map((e) => normalizeSerialHex(e.serialHex)),
      threeEntries(rsaCa).map((e) => normalizeSerialHex(e.serialHex)),
    );
    const text = openssl('crl', '-in', write('no-next.crl', crl), '-inform', 'DER', '-noout', '-text');
    assert.equal((text.match(/Serial Number:/g) ?? []).length, 3);
  });

  it('an empty revokedCertificates SEQUENCE is kept as [] (not read as absent)', () => {
    const tbs = AsnConvert.parse(createTbsCertList(params(rsaCa, [])).der, TBSCertList);
    tbs.revokedCertificates = [];
    const crl = signCrl(rsaCa, Buffer.from(AsnConvert.serialize(tbs)));
    assert.deepEqual(parseCrl(crl).crl.tbsCertList.revokedCertificates, []);
  });
});

describe('parseCrl refuses garbage with CRL_MALFORMED', () => {
  const isMalformed = (e: unknown): boolean => e instanceof CaError && e.code === 'CRL_MALFORMED';
  it('empty, random, truncated, trailing bytes, a certificate', () => {
    const crl = signCrl(rsaCa, createTbsCertList(params(rsaCa, threeEntries(rsaCa))).der);
    assert.throws(() => parseCrl(Buffer.alloc(0)), isMalformed);
    for (let i = 0; i < 50; i++) {
      const junk = randomBytes(1 + ((i * 7) % 300));
      if (i % 2 === 0) junk[0] = 0x30;
      assert.throws(() => parseCrl(junk), isMalformed, `random ${junk.toString('hex')}`);
    }
    for (const cut of [1, 2, 10, crl.length >> 1, crl.length - 1])
      assert.throws(() => parseCrl(crl.subarray(0, cut)), isMalformed, `truncated at ${cut}`);
    assert.throws(() => parseCrl(Buffer.concat([crl, Buffer.from([0])])), isMalformed);
    assert.throws(() => parseCrl(rsaCa.certDer), isMalformed);
  });

  it('verifyCrlSignature refuses garbage the same way, and a public key of the wrong format', () => {
    assert.throws(
      () => verifyCrlSignature(Buffer.from('not a crl'), rsaCa.spki),
      (e: unknown) => e instanceof CaError && e.code === 'CRL_MALFORMED',
    );
    const crl = signCrl(rsaCa, createTbsCertList(params(rsaCa, [])).der);
    assert.throws(
      () => verifyCrlSignature(crl, Buffer.from('junk')),
      (e: unknown) => e instanceof CaError && e.code === 'PUBLIC_KEY_INVALID',
    );
    assert.equal(verifyCrlSignature(crl, createPublicKey(rsaCa.key).export({ format: 'der', type: 'spki' })), true);
  });
});

function hexColons(b: Buffer): string {
  return b.toString('hex').toUpperCase().match(/../g)!.join(':');
}
