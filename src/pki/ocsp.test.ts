/**
 * OCSP (RFC 6960, RFC 5019 profile, RFC 8954 nonces), with the OpenSSL CLI as the
 * independent client (CONVENTIONS 10): `openssl ocsp` makes the requests this module parses and
 * verifies the responses it builds (signed here with node:crypto, as a Signer would).
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from './algorithms.ts';
import { parseCertificate, toArrayBuffer } from './certificate.ts';
import { DER_NULL } from './der.ts';
import { keyIdentifierFromSpki } from './extensions.ts';
import {
  CertID,
  OCSPRequest,
  Request,
  ResponseData,
  TBSRequest,
  assembleOcspResponse,
  certIdLookupKey,
  certIdOf,
  certIdsFor,
  createTbsResponseData,
  id_pkix_ocsp_nonce,
  ocspErrorResponse,
  parseOcspRequest,
  parseOcspResponse,
  verifyOcspResponseSignature,
  type CertIdKey,
  type CertStatus,
  type TbsResponseDataParams,
} from './ocsp.ts';
import { pemToDer, readDerChildren, readDerElement } from './pem.ts';
import { OPENSSL_CA_CNF, OPENSSL_RESPONDER_EXT, opensslRunner } from '../../test/openssl-runner.ts';

let dir: string;
const { result: opensslResult, run: openssl } = opensslRunner(() => dir);

const LEAF_EXT = `basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
`;

interface Party {
  file: string;
  certDer: Buffer;
  spki: Buffer;
  key: KeyObject;
}

interface TestCa extends Party {
  name: string;
  alg: SignatureAlgorithmName;
  digest: string;
}

function loadParty(file: string): Party {
  const certDer = pemToDer(readFileSync(join(dir, `${file}.pem`), 'utf8'), 'CERTIFICATE');
  const spki = Buffer.from(AsnConvert.serialize(parseCertificate(certDer).tbsCertificate.subjectPublicKeyInfo));
  return { file: `${file}.pem`, certDer, spki, key: createPrivateKey(readFileSync(join(dir, `${file}.key`))) };
}

function makeCa(name: string, keyArgs: string[], alg: SignatureAlgorithmName): TestCa {
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
    `/C=JP/O=Example Trust/CN=Example ${name} Root`,
    '-days',
    '3650',
    digest,
    '-out',
    `${name}.pem`,
  );
  return { ...loadParty(name), name, alg, digest };
}

/** A certificate issued by `ca` with openssl, with serial `serialHex` and the given extension file. */
function issue(ca: TestCa, file: string, serialHex: string, extFile: string): Party {
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${file}.key`);
  openssl('req', '-new', '-key', `${file}.key`, '-subj', `/CN=${file}`, '-out', `${file}.csr`);
  openssl(
    'x509',
    '-req',
    '-in',
    `${file}.csr`,
    '-CA',
    ca.file,
    '-CAkey',
    `${ca.name}.key`,
    '-set_serial',
    `0x${serialHex}`,
    '-days',
    '30',
    ca.digest,
    '-extfile',
    extFile,
    '-out',
    `${file}.pem`,
  );
  return loadParty(file);
}

let rsaCa: TestCa;
let ecCa: TestCa;
let leaf: Party;
let leaf2: Party;
let ecLeaf: Party;
let responder: Party;
let responderNoEku: Party;
const LEAF_SERIAL = '9a3c5e7f0b1d2f4a6c8e'; // high bit set: INTEGER content 00 9a …
const LEAF2_SERIAL = '1234567890abcdef';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rootca-ocsp-'));
  writeFileSync(join(dir, 'ca.cnf'), OPENSSL_CA_CNF);
  writeFileSync(join(dir, 'leaf.ext'), LEAF_EXT);
  writeFileSync(join(dir, 'responder.ext'), OPENSSL_RESPONDER_EXT);
  writeFileSync(join(dir, 'responder-noeku.ext'), LEAF_EXT);
  rsaCa = makeCa('rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'sha256WithRSAEncryption');
  ecCa = makeCa('ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ecdsa-with-SHA384');
  leaf = issue(rsaCa, 'leaf', LEAF_SERIAL, 'leaf.ext');
  leaf2 = issue(rsaCa, 'leaf2', LEAF2_SERIAL, 'leaf.ext');
  ecLeaf = issue(ecCa, 'ecleaf', LEAF_SERIAL, 'leaf.ext');
  responder = issue(rsaCa, 'responder', '0badc0de0001', 'responder.ext');
  responderNoEku = issue(rsaCa, 'responder-noeku', '0badc0de0002', 'responder-noeku.ext');
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `openssl ocsp -reqout` for the given certificates (issuer rsaCa unless told). */
function opensslRequest(
  out: string,
  certs: string[],
  opts: { nonce?: boolean; sha256?: boolean; issuer?: string } = {},
): Buffer {
  const args = ['ocsp', '-issuer', opts.issuer ?? rsaCa.file];
  if (opts.sha256) args.push('-sha256');
  for (const c of certs) args.push('-cert', c);
  if (opts.nonce === false) args.push('-no_nonce');
  openssl(...args, '-reqout', out);
  return readFileSync(join(dir, out));
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
function wholeSecond(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** Builds, signs and assembles a response, as the offline side (or a delegated responder) would. */
function respond(
  signer: Party,
  alg: SignatureAlgorithmName,
  singles: { certId: CertIdKey; status: CertStatus }[],
  opts: { nonce?: Buffer; certs?: Buffer[] } = {},
): { der: Buffer; params: TbsResponseDataParams; tbsDer: Buffer } {
  const now = Date.now();
  const params: TbsResponseDataParams = {
    responderKeyHash: keyIdentifierFromSpki(signer.spki),
    producedAt: wholeSecond(now - MINUTE),
    responses: singles.map((s) => ({
      ...s,
      thisUpdate: wholeSecond(now - 5 * MINUTE),
      nextUpdate: wholeSecond(now + 4 * DAY),
    })),
    nonce: opts.nonce,
  };
  const { der: tbsDer } = createTbsResponseData(params);
  const signature = sign(SIGNATURE_ALGORITHMS[alg].hash, tbsDer, signer.key);
  return { der: assembleOcspResponse(tbsDer, alg, signature, opts.certs), params, tbsDer };
}

function write(file: string, data: Buffer): string {
  writeFileSync(join(dir, file), data);
  return file;
}

/** certIdsFor picks the certID matching what a request asked for. */
function matching(issuerDer: Buffer, serialHex: string, asked: CertIdKey): CertIdKey {
  const found = certIdsFor(issuerDer, serialHex).find((k) => certIdLookupKey(k) === certIdLookupKey(asked));
  assert.ok(found, 'the request asks about this certificate');
  return found;
}

describe('R-2.3 parseOcspRequest on requests made by openssl ocsp', () => {
  it('SHA-1 CertID with a nonce: the certID matches certIdsFor, the nonce is the one openssl printed', () => {
    const der = opensslRequest('req-sha1.der', [leaf.file]);
    const req = parseOcspRequest(der);
    assert.equal(req.certIds.length, 1);
    const id = req.certIds[0]!;
    assert.equal(id.hashAlgorithm, 'sha1');
    assert.equal(id.serialHex, `00${LEAF_SERIAL}`);
    assert.equal(certIdLookupKey(id), certIdLookupKey(certIdsFor(rsaCa.certDer, LEAF_SERIAL)[0]!));
    assert.equal(req.hasUnsupportedCriticalExtension, false);
    assert.ok(req.nonce, 'openssl adds a nonce by default');
    const text = openssl('ocsp', '-reqin', 'req-sha1.der', '-req_text');
    const printed = /OCSP Nonce:\s*\n\s*([0-9A-F]+)/.exec(text)?.[1];
    assert.equal(
      printed,
      `04${req.nonce.length.toString(16).padStart(2, '0')}${req.nonce.toString('hex')}`.toUpperCase(),
    );
  });

  it('-no_nonce: no nonce', () => {
    const req = parseOcspRequest(opensslRequest('req-nononce.der', [leaf.file], { nonce: false }));
    assert.equal(req.nonce, undefined);
    assert.equal(req.certIds.length, 1);
  });

  it('-sha256: a SHA-256 CertID, matching the second key of certIdsFor', () => {
    const req = parseOcspRequest(opensslRequest('req-sha256.der', [leaf.file], { sha256: true }));
    assert.equal(req.certIds[0]!.hashAlgorithm, 'sha256');
    assert.equal(certIdLookupKey(req.certIds[0]!), certIdLookupKey(certIdsFor(rsaCa.certDer, LEAF_SERIAL)[1]!));
  });

  it('two certificates in one request: two certIDs, in order', () => {
    const req = parseOcspRequest(opensslRequest('req-two.der', [leaf.file, leaf2.file], { nonce: false }));
    assert.deepEqual(
      req.certIds.map((c) => c.serialHex),
      [`00${LEAF_SERIAL}`, LEAF2_SERIAL],
    );
  });

  it('certIdsFor: SHA-1 and SHA-256 hashes of the issuer subject DER and public key; serial spellings agree', () => {
    const ids = certIdsFor(rsaCa.certDer, LEAF_SERIAL);
    assert.deepEqual(
      ids.map((i) => i.hashAlgorithm),
      ['sha1', 'sha256'],
    );
    const subject = Buffer.from(AsnConvert.serialize(parseCertificate(rsaCa.certDer).tbsCertificate.subject));
    assert.deepEqual(ids[1]!.issuerNameHash, createHash('sha256').update(subject).digest());
    assert.deepEqual(ids[0]!.issuerKeyHash, keyIdentifierFromSpki(rsaCa.spki));
    const spelled = certIdsFor(rsaCa.certDer, `0x00${LEAF_SERIAL.toUpperCase()}`);
    assert.deepEqual(spelled.map(certIdLookupKey), ids.map(certIdLookupKey));
    assert.match(certIdLookupKey(ids[0]!), /^sha1:[0-9a-f]{40}:[0-9a-f]{40}:009a3c5e7f0b1d2f4a6c8e$/);
    assert.throws(
      () => certIdsFor(Buffer.from('junk'), '01'),
      (e: unknown) => e instanceof CaError && e.code === 'CERTIFICATE_MALFORMED',
    );
  });
});

describe('R-2.3 responses verified by openssl ocsp', () => {
  const cases: { name: string; status: CertStatus; expect: RegExp }[] = [
    { name: 'good', status: { status: 'good' }, expect: /leaf\.pem: good/ },
    {
      name: 'revoked (keyCompromise)',
      status: { status: 'revoked', revocationTime: new Date('2025-03-04T05:06:07Z'), reason: 'keyCompromise' },
      expect: /leaf\.pem: revoked\n(.*\n)*?\s*Reason: keyCompromise\n\s*Revocation Time: Mar {2}4 05:06:07 2025 GMT/,
    },
    {
      name: 'revoked without reason',
      status: { status: 'revoked', revocationTime: new Date('2025-03-04T05:06:07Z') },
      expect: /leaf\.pem: revoked\n/,
    },
    { name: 'unknown', status: { status: 'unknown' }, expect: /leaf\.pem: unknown/ },
  ];
  for (const c of cases) {
    it(`${c.name}, signed by the CA (SHA-1 CertID), Response verify OK`, () => {
      const asked = parseOcspRequest(opensslRequest(`req-${c.name}.der`, [leaf.file], { nonce: false })).certIds[0]!;
      const { der, params, tbsDer } = respond(rsaCa, 'sha256WithRSAEncryption', [
        { certId: matching(rsaCa.certDer, LEAF_SERIAL, asked), status: c.status },
      ]);
      const f = write(`resp-${c.name}.der`, der);
      const r = opensslResult(
        'ocsp',
        '-respin',
        f,
        '-issuer',
        rsaCa.file,
        '-cert',
        leaf.file,
        '-CAfile',
        rsaCa.file,
        '-no_nonce',
      );
      assert.equal(r.status, 0, r.out);
      assert.match(r.stderr, /Response verify OK/);
      assert.match(r.stdout, c.expect);
      assert.doesNotMatch(r.out, /WARNING|Status times invalid|error/i);
      if (c.status.status === 'revoked' && !c.status.reason) assert.doesNotMatch(r.stdout, /Reason:/);

      const parsed = parseOcspResponse(der);
      assert.equal(parsed.status, 'successful');
      assert.deepEqual(parsed.producedAt, params.producedAt);
      assert.deepEqual(parsed.responderKeyHash, keyIdentifierFromSpki(rsaCa.spki));
      assert.deepEqual(parsed.tbsDer, tbsDer, 'the signed ResponseData bytes are embedded unchanged');
      assert.equal(parsed.signatureAlgorithmOid, SIGNATURE_ALGORITHMS.sha256WithRSAEncryption.oid);
      assert.deepEqual(parsed.certs, []);
      assert.equal(parsed.nonce, undefined);
      assert.equal(parsed.responses.length, 1);
      assert.equal(certIdLookupKey(parsed.responses[0]!.certId), certIdLookupKey(asked));
      assert.deepEqual(parsed.responses[0]!.status, c.status);
      assert.deepEqual(parsed.responses[0]!.thisUpdate, params.responses[0]!.thisUpdate);
      assert.deepEqual(parsed.responses[0]!.nextUpdate, params.responses[0]!.nextUpdate);
      assert.equal(verifyOcspResponseSignature(der, rsaCa.spki), true);
      assert.equal(verifyOcspResponseSignature(der, ecCa.spki), false);
    });
  }

  it('SHA-256 CertID (openssl -sha256) answered with the SHA-256 certID', () => {
    const asked = parseOcspRequest(opensslRequest('req256.der', [leaf.file], { sha256: true, nonce: false }))
      .certIds[0]!;
    const { der } = respond(rsaCa, 'sha256WithRSAEncryption', [
      { certId: matching(rsaCa.certDer, LEAF_SERIAL, asked), status: { status: 'good' } },
    ]);
    const r = opensslResult(
      'ocsp',
      '-respin',
      write('resp256.der', der),
      '-issuer',
      rsaCa.file,
      '-sha256',
      '-cert',
      leaf.file,
      '-CAfile',
      rsaCa.file,
      '-no_nonce',
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.stderr, /Response verify OK/);
    assert.match(r.stdout, /leaf\.pem: good/);
  });

  it('ECDSA P-384 CA, ecdsa-with-SHA384', () => {
    const asked = parseOcspRequest(opensslRequest('req-ec.der', [ecLeaf.file], { issuer: ecCa.file, nonce: false }))
      .certIds[0]!;
    const { der } = respond(ecCa, 'ecdsa-with-SHA384', [
      {
        certId: matching(ecCa.certDer, LEAF_SERIAL, asked),
        status: { status: 'revoked', revocationTime: new Date('2025-01-02T03:04:05Z'), reason: 'cessationOfOperation' },
      },
    ]);
    const r = opensslResult(
      'ocsp',
      '-respin',
      write('resp-ec.der', der),
      '-issuer',
      ecCa.file,
      '-cert',
      ecLeaf.file,
      '-CAfile',
      ecCa.file,
      '-no_nonce',
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.stderr, /Response verify OK/);
    assert.match(r.stdout, /ecleaf\.pem: revoked\n(.*\n)*?\s*Reason: cessationOfOperation/);
    assert.equal(verifyOcspResponseSignature(der, ecCa.spki), true);
  });

  it('two SingleResponses in one response (one per certificate asked)', () => {
    const req = parseOcspRequest(opensslRequest('req-two-b.der', [leaf.file, leaf2.file], { nonce: false }));
    const { der } = respond(rsaCa, 'sha256WithRSAEncryption', [
      { certId: matching(rsaCa.certDer, LEAF_SERIAL, req.certIds[0]!), status: { status: 'good' } },
      {
        certId: matching(rsaCa.certDer, LEAF2_SERIAL, req.certIds[1]!),
        status: { status: 'revoked', revocationTime: new Date('2025-01-01T00:00:00Z'), reason: 'superseded' },
      },
    ]);
    const r = opensslResult(
      'ocsp',
      '-respin',
      write('resp-two.der', der),
      '-issuer',
      rsaCa.file,
      '-cert',
      leaf.file,
      '-cert',
      leaf2.file,
      '-CAfile',
      rsaCa.file,
      '-no_nonce',
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.stdout, /leaf\.pem: good/);
    assert.match(r.stdout, /leaf2\.pem: revoked\n(.*\n)*?\s*Reason: superseded/);
  });
});

describe('R-2.3 RFC 8954 nonce echo, checked by openssl ocsp -reqin', () => {
  it("the echoed nonce passes openssl's nonce check", () => {
    const reqDer = opensslRequest('req-nonce.der', [leaf.file]);
    const req = parseOcspRequest(reqDer);
    const { der } = respond(
      rsaCa,
      'sha256WithRSAEncryption',
      [{ certId: matching(rsaCa.certDer, LEAF_SERIAL, req.certIds[0]!), status: { status: 'good' } }],
      { nonce: req.nonce },
    );
    const r = opensslResult(
      'ocsp',
      '-reqin',
      'req-nonce.der',
      '-respin',
      write('resp-nonce.der', der),
      '-issuer',
      rsaCa.file,
      '-CAfile',
      rsaCa.file,
      '-resp_text',
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.stderr, /Response verify OK/);
    assert.doesNotMatch(r.out, /Nonce Verify error|no nonce in response/);
    assert.match(r.stdout, /Cert Status: good/);
    assert.match(r.stdout, new RegExp(`OCSP Nonce:\\s*\\n\\s*0410${req.nonce!.toString('hex').toUpperCase()}`));
    assert.deepEqual(parseOcspResponse(der).nonce, req.nonce);
  });

  it('negative controls: a different nonce is a Nonce Verify error; none is a warning', () => {
    const req = parseOcspRequest(opensslRequest('req-nonce2.der', [leaf.file]));
    const certId = matching(rsaCa.certDer, LEAF_SERIAL, req.certIds[0]!);
    const wrong = respond(rsaCa, 'sha256WithRSAEncryption', [{ certId, status: { status: 'good' } }], {
      nonce: Buffer.alloc(16, 7),
    }).der;
    const r1 = opensslResult(
      'ocsp',
      '-reqin',
      'req-nonce2.der',
      '-respin',
      write('resp-wrong-nonce.der', wrong),
      '-issuer',
      rsaCa.file,
      '-CAfile',
      rsaCa.file,
    );
    assert.match(r1.out, /Nonce Verify error/);
    const none = respond(rsaCa, 'sha256WithRSAEncryption', [{ certId, status: { status: 'good' } }]).der;
    const r2 = opensslResult(
      'ocsp',
      '-reqin',
      'req-nonce2.der',
      '-respin',
      write('resp-no-nonce.der', none),
      '-issuer',
      rsaCa.file,
      '-CAfile',
      rsaCa.file,
    );
    assert.match(r2.out, /WARNING: no nonce in response/);
  });
});

describe('parseOcspResponse reads responses made by openssl ocsp as a responder', () => {
  for (const byKey of [false, true]) {
    it(`responderID ${byKey ? 'byKey' : 'byName'}, revoked with reason, and good`, () => {
      const index = [
        `R\t351231235959Z\t250304050607Z,keyCompromise\t${LEAF_SERIAL.toUpperCase()}\tunknown\t/CN=leaf`,
        `V\t351231235959Z\t\t${LEAF2_SERIAL.toUpperCase()}\tunknown\t/CN=leaf2`,
        '',
      ].join('\n');
      writeFileSync(join(dir, 'index.txt'), index);
      opensslRequest('req-srv.der', [leaf.file, leaf2.file]);
      const args = [
        'ocsp',
        '-index',
        'index.txt',
        '-rsigner',
        rsaCa.file,
        '-rkey',
        'rsa.key',
        '-CA',
        rsaCa.file,
        '-reqin',
        'req-srv.der',
        '-ndays',
        '2',
        '-respout',
        'resp-srv.der',
      ];
      if (byKey) args.push('-resp_key_id');
      openssl(...args);
      const der = readFileSync(join(dir, 'resp-srv.der'));
      const parsed = parseOcspResponse(der);
      const req = parseOcspRequest(readFileSync(join(dir, 'req-srv.der')));
      assert.equal(parsed.status, 'successful');
      assert.deepEqual(parsed.nonce, req.nonce);
      if (byKey) {
        assert.deepEqual(parsed.responderKeyHash, keyIdentifierFromSpki(rsaCa.spki));
        assert.equal(parsed.responderNameDer, undefined);
      } else {
        assert.equal(parsed.responderKeyHash, undefined);
        assert.deepEqual(
          parsed.responderNameDer,
          Buffer.from(AsnConvert.serialize(parseCertificate(rsaCa.certDer).tbsCertificate.subject)),
        );
      }
      assert.deepEqual(
        parsed.responses.map((r) => certIdLookupKey(r.certId)),
        req.certIds.map(certIdLookupKey),
      );
      assert.deepEqual(parsed.responses[0]!.status, {
        status: 'revoked',
        revocationTime: new Date('2025-03-04T05:06:07Z'),
        reason: 'keyCompromise',
      });
      assert.deepEqual(parsed.responses[1]!.status, { status: 'good' });
      assert.ok(parsed.responses[0]!.nextUpdate);
      assert.equal(verifyOcspResponseSignature(der, rsaCa.spki), true);
    });
  }
});

describe('R-3.3 delegated OCSP responder', () => {
  it('signed by the responder key, certs=[responder], verify OK with -CAfile ca.pem', () => {
    const asked = parseOcspRequest(opensslRequest('req-deleg.der', [leaf.file], { nonce: false })).certIds[0]!;
    const { der } = respond(
      responder,
      'ecdsa-with-SHA256',
      [{ certId: matching(rsaCa.certDer, LEAF_SERIAL, asked), status: { status: 'good' } }],
      { certs: [responder.certDer] },
    );
    const r = opensslResult(
      'ocsp',
      '-respin',
      write('resp-deleg.der', der),
      '-issuer',
      rsaCa.file,
      '-cert',
      leaf.file,
      '-CAfile',
      rsaCa.file,
      '-no_nonce',
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.stderr, /Response verify OK/);
    assert.match(r.stdout, /leaf\.pem: good/);
    const parsed = parseOcspResponse(der);
    assert.deepEqual(parsed.certs, [responder.certDer]);
    assert.deepEqual(parsed.responderKeyHash, keyIdentifierFromSpki(responder.spki));
    assert.equal(verifyOcspResponseSignature(der, responder.spki), true);
    assert.equal(verifyOcspResponseSignature(der, rsaCa.spki), false);
  });

  it('negative control: a responder certificate without id-kp-OCSPSigning is refused by openssl', () => {
    const asked = parseOcspRequest(opensslRequest('req-deleg2.der', [leaf.file], { nonce: false })).certIds[0]!;
    const { der } = respond(
      responderNoEku,
      'ecdsa-with-SHA256',
      [{ certId: matching(rsaCa.certDer, LEAF_SERIAL, asked), status: { status: 'good' } }],
      { certs: [responderNoEku.certDer] },
    );
    const r = opensslResult(
      'ocsp',
      '-respin',
      write('resp-deleg-bad.der', der),
      '-issuer',
      rsaCa.file,
      '-cert',
      leaf.file,
      '-CAfile',
      rsaCa.file,
      '-no_nonce',
    );
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.out, /Response verify OK/);
    assert.match(r.out, /Response Verify Failure/);
  });
});

describe('R-2.3 unsigned error responses (RFC 6960 2.3)', () => {
  const statuses = [
    ['malformedRequest', 1, 'malformedrequest'],
    ['internalError', 2, 'internalerror'],
    ['tryLater', 3, 'trylater'],
    ['sigRequired', 5, 'sigrequired'],
    ['unauthorized', 6, 'unauthorized'],
  ] as const;
  for (const [name, code, opensslWord] of statuses) {
    it(`${name} is SEQUENCE { ENUMERATED ${code} } and openssl reads it`, () => {
      const der = ocspErrorResponse(name);
      assert.deepEqual(der, Buffer.from([0x30, 0x03, 0x0a, 0x01, code]));
      const r = opensslResult('ocsp', '-respin', write(`err-${name}.der`, der), '-resp_text');
      assert.match(r.out, new RegExp(`Responder Error: ${opensslWord} \\(${code}\\)`));
      assert.deepEqual(parseOcspResponse(der), { status: name, responses: [], certs: [] });
    });
  }
  it('successful is not an error status', () => {
    assert.throws(
      () => ocspErrorResponse('successful' as never),
      (e: unknown) => e instanceof CaError && e.code === 'OCSP_PARAMS_INVALID',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile requests

function sha1CertId(serialHex = '01'): CertID {
  return certIdOf(certIdsFor(rsaCa.certDer, serialHex)[0]!);
}

/** A request crafted field by field (for structures openssl won't make). */
function craft(
  opts: { certIds?: CertID[]; extensions?: Extension[]; version?: number; singleExtensions?: Extension[] } = {},
): Buffer {
  const tbs = new TBSRequest({
    version: opts.version ?? 0,
    requestList: (opts.certIds ?? [sha1CertId()]).map(
      (reqCert) => new Request({ reqCert, singleRequestExtensions: opts.singleExtensions }),
    ),
    requestExtensions: opts.extensions,
  });
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

function nonceExt(nonce: Buffer, wrap = true): Extension {
  const value = wrap ? Buffer.concat([Buffer.from([0x04, nonce.length]), nonce]) : nonce;
  return new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(value) });
}

const isCode =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof CaError && e.code === code;

describe('parseOcspRequest refuses what is not a well-formed DER OCSPRequest', () => {
  it('a crafted request parses (control)', () => {
    const req = parseOcspRequest(craft());
    assert.equal(req.certIds.length, 1);
    assert.equal(req.certIds[0]!.serialHex, '01');
  });

  it('empty, garbage and random bytes: OCSP_MALFORMED_REQUEST', () => {
    assert.throws(() => parseOcspRequest(Buffer.alloc(0)), isCode('OCSP_MALFORMED_REQUEST'));
    assert.throws(() => parseOcspRequest(Buffer.from('GET / HTTP/1.1\r\n\r\n')), isCode('OCSP_MALFORMED_REQUEST'));
    for (let i = 0; i < 300; i++) {
      const junk = randomBytes(1 + (i % 120));
      if (i % 3 === 0) junk[0] = 0x30;
      if (i % 6 === 0 && junk.length > 1) junk[1] = Math.min(0x7f, junk.length - 2);
      assert.throws(() => parseOcspRequest(junk), isCode('OCSP_MALFORMED_REQUEST'), `random ${junk.toString('hex')}`);
    }
  });

  it('every truncation of a real request: OCSP_MALFORMED_REQUEST', () => {
    const der = opensslRequest('req-trunc.der', [leaf.file]);
    for (let n = 0; n < der.length; n++)
      assert.throws(() => parseOcspRequest(der.subarray(0, n)), isCode('OCSP_MALFORMED_REQUEST'), `truncated to ${n}`);
  });

  it('trailing bytes, BER long-form length, a version other than v1, an empty requestList', () => {
    const der = craft();
    assert.throws(() => parseOcspRequest(Buffer.concat([der, Buffer.from([0x00])])), isCode('OCSP_MALFORMED_REQUEST'));
    assert.throws(() => parseOcspRequest(Buffer.concat([der, der])), isCode('OCSP_MALFORMED_REQUEST'));
    // same content, outer length in a non-minimal long form (BER, not DER)
    const ber = Buffer.concat([Buffer.from([0x30, 0x81, der[1]!]), der.subarray(2)]);
    assert.ok(der[1]! < 0x80);
    assert.throws(() => parseOcspRequest(ber), isCode('OCSP_MALFORMED_REQUEST'));
    assert.throws(() => parseOcspRequest(craft({ version: 1 })), isCode('OCSP_MALFORMED_REQUEST'));
    assert.throws(() => parseOcspRequest(craft({ certIds: [] })), isCode('OCSP_MALFORMED_REQUEST'));
  });

  it('a CertID with wrong hash lengths: OCSP_MALFORMED_REQUEST; with SHA-384: OCSP_UNSUPPORTED_HASH', () => {
    const short = sha1CertId();
    short.issuerNameHash = new OctetString(Buffer.alloc(5));
    assert.throws(() => parseOcspRequest(craft({ certIds: [short] })), isCode('OCSP_MALFORMED_REQUEST'));
    const sha384 = new CertID({
      hashAlgorithm: new AlgorithmIdentifier({
        algorithm: '2.16.840.1.101.3.4.2.2',
        parameters: toArrayBuffer(DER_NULL),
      }),
      issuerNameHash: new OctetString(Buffer.alloc(48, 1)),
      issuerKeyHash: new OctetString(Buffer.alloc(48, 2)),
      serialNumber: new Uint8Array([1]).buffer,
    });
    assert.throws(() => parseOcspRequest(craft({ certIds: [sha384] })), isCode('OCSP_UNSUPPORTED_HASH'));
  });
});

describe('RFC 8954 nonce limits', () => {
  it('1 and 32 octets are accepted', () => {
    for (const n of [1, 16, 32]) {
      const nonce = randomBytes(n);
      assert.deepEqual(parseOcspRequest(craft({ extensions: [nonceExt(nonce)] })).nonce, nonce);
    }
  });
  it('33 octets, 0 octets, or a value not wrapped in its OCTET STRING: OCSP_BAD_NONCE', () => {
    assert.throws(() => parseOcspRequest(craft({ extensions: [nonceExt(randomBytes(33))] })), isCode('OCSP_BAD_NONCE'));
    assert.throws(() => parseOcspRequest(craft({ extensions: [nonceExt(Buffer.alloc(0))] })), isCode('OCSP_BAD_NONCE'));
    assert.throws(
      () => parseOcspRequest(craft({ extensions: [nonceExt(Buffer.from('0123456789abcdef'), false)] })),
      isCode('OCSP_BAD_NONCE'),
    );
  });
  it('the response builder refuses to echo a nonce outside 1..32 octets', () => {
    const certId = certIdsFor(rsaCa.certDer, '01')[0]!;
    assert.throws(
      () =>
        respond(rsaCa, 'sha256WithRSAEncryption', [{ certId, status: { status: 'good' } }], {
          nonce: Buffer.alloc(33),
        }),
      isCode('OCSP_BAD_NONCE'),
    );
  });
});

describe('request extensions', () => {
  it('an unknown critical extension (request or single request) is flagged; unknown non-critical ones are not', () => {
    const unknown = (critical: boolean): Extension =>
      new Extension({ extnID: '1.2.3.4.5', critical, extnValue: new OctetString(Buffer.from([0x05, 0x00])) });
    assert.equal(parseOcspRequest(craft({ extensions: [unknown(true)] })).hasUnsupportedCriticalExtension, true);
    assert.equal(parseOcspRequest(craft({ singleExtensions: [unknown(true)] })).hasUnsupportedCriticalExtension, true);
    assert.equal(parseOcspRequest(craft({ extensions: [unknown(false)] })).hasUnsupportedCriticalExtension, false);
  });
  it('the same extension twice: OCSP_MALFORMED_REQUEST', () => {
    const n = randomBytes(16);
    assert.throws(
      () => parseOcspRequest(craft({ extensions: [nonceExt(n), nonceExt(n)] })),
      isCode('OCSP_MALFORMED_REQUEST'),
    );
  });
});

describe('createTbsResponseData', () => {
  it('GeneralizedTime without fractional seconds, version omitted, responderID byKey', () => {
    const certId = certIdsFor(rsaCa.certDer, '01')[0]!;
    const { der } = createTbsResponseData({
      responderKeyHash: keyIdentifierFromSpki(rsaCa.spki),
      producedAt: new Date('2030-01-02T03:04:05.678Z'),
      responses: [
        {
          certId,
          status: { status: 'good' },
          thisUpdate: new Date('2030-01-02T03:04:05.999Z'),
          nextUpdate: new Date('2030-01-09T03:04:05Z'),
        },
      ],
    });
    assert.ok(der.includes(Buffer.from('\x18\x0f20300102030405Z', 'latin1')));
    assert.ok(!der.includes(Buffer.from('.678')));
    const rd = AsnConvert.parse(der, ResponseData);
    assert.equal(
      readDerChildren(der, readDerElement(der, 0))[0]!.tag,
      0xa2,
      'the first field is responderID [2] byKey (no explicit version)',
    );
    assert.deepEqual(Buffer.from(rd.responderID.byKey!.buffer), keyIdentifierFromSpki(rsaCa.spki));
  });
  it('refuses a KeyHash that is not 20 octets and an empty response list', () => {
    const certId = certIdsFor(rsaCa.certDer, '01')[0]!;
    const base = {
      producedAt: new Date('2030-01-01T00:00:00Z'),
      responses: [
        {
          certId,
          status: { status: 'good' } as CertStatus,
          thisUpdate: new Date('2030-01-01T00:00:00Z'),
          nextUpdate: new Date('2030-01-02T00:00:00Z'),
        },
      ],
    };
    assert.throws(
      () => createTbsResponseData({ ...base, responderKeyHash: Buffer.alloc(32) }),
      isCode('OCSP_PARAMS_INVALID'),
    );
    assert.throws(
      () => createTbsResponseData({ ...base, responderKeyHash: Buffer.alloc(20), responses: [] }),
      isCode('OCSP_PARAMS_INVALID'),
    );
  });
  it('parseOcspResponse refuses garbage with OCSP_MALFORMED_RESPONSE', () => {
    assert.throws(() => parseOcspResponse(Buffer.from('nope')), isCode('OCSP_MALFORMED_RESPONSE'));
    assert.throws(
      () => parseOcspResponse(Buffer.concat([ocspErrorResponse('tryLater'), Buffer.from([0])])),
      isCode('OCSP_MALFORMED_RESPONSE'),
    );
  });
});
