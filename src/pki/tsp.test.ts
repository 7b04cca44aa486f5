/**
 * time-stamping (RFC 3161, RFC 5816 ESSCertIDv2, RFC 5652 SignedData), with the OpenSSL
 * CLI as the independent peer (CONVENTIONS 10): `openssl ts -query` makes the requests this
 * module parses, and `openssl ts -verify` / `openssl ts -reply -text` check the tokens and
 * responses it builds (signed here with node:crypto, as a one-shot Signer would).
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension, Extensions } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from './algorithms.ts';
import { parseCertificate, toArrayBuffer } from './certificate.ts';
import { pemToDer } from './pem.ts';
import {
  MessageImprint,
  TimeStampReq,
  assembleTimeStampToken,
  createTimeStampReq,
  createTimeStampToBeSigned,
  id_md5,
  id_sha1,
  id_sha256,
  parseTimeStampReq,
  parseTimeStampResp,
  parseTimeStampToken,
  timeStampRejection,
  timeStampResponse,
  verifyTimeStampToken,
  type PkiFailureInfo,
  type TspHashAlgorithm,
} from './tsp.ts';
import { OPENSSL_CA_CNF, opensslRunner } from '../../test/openssl-runner.ts';

let dir: string;
const { result: opensslResult, run: openssl } = opensslRunner(() => dir);

/** RFC 3161 2.3: "The corresponding certificate MUST contain only one instance of the extended key usage field extension ... with KeyPurposeID having value id-kp-timeStamping. This extension MUST be critical." */
const TSA_EXT = `basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
`;

interface Tsa {
  name: string;
  certFile: string;
  certDer: Buffer;
  spki: Buffer;
  key: KeyObject;
  alg: SignatureAlgorithmName;
  digest: 'sha256' | 'sha384';
}

const TSA_KINDS: { name: string; keyArgs: string[]; alg: SignatureAlgorithmName }[] = [
  { name: 'rsa', keyArgs: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], alg: 'sha256WithRSAEncryption' },
  { name: 'p256', keyArgs: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], alg: 'ecdsa-with-SHA256' },
  { name: 'p384', keyArgs: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], alg: 'ecdsa-with-SHA384' },
];

const tsas: Record<string, Tsa> = {};
let rootDer: Buffer;
const POLICY = '1.3.6.1.4.1.55555.1.8.3';
const DATA = Buffer.from('CPS 5.5.5: critical records are time-stamped\n');
const GEN_TIME = new Date('2025-03-04T05:06:07.890Z');

function makeTsa(kind: (typeof TSA_KINDS)[number], serialHex: string): Tsa {
  const n = kind.name;
  openssl('genpkey', ...kind.keyArgs, '-out', `tsa-${n}.key`);
  openssl(
    'req',
    '-new',
    '-key',
    `tsa-${n}.key`,
    '-subj',
    `/C=JP/O=Example Trust/CN=Example TSA ${n}`,
    '-out',
    `tsa-${n}.csr`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `tsa-${n}.csr`,
    '-CA',
    'root.pem',
    '-CAkey',
    'root.key',
    '-set_serial',
    `0x${serialHex}`,
    '-days',
    '365',
    '-sha256',
    '-extfile',
    'tsa.ext',
    '-out',
    `tsa-${n}.pem`,
  );
  const certDer = pemToDer(readFileSync(join(dir, `tsa-${n}.pem`), 'utf8'), 'CERTIFICATE');
  const spki = Buffer.from(AsnConvert.serialize(parseCertificate(certDer).tbsCertificate.subjectPublicKeyInfo));
  const digest = SIGNATURE_ALGORITHMS[kind.alg].hash as 'sha256' | 'sha384';
  return {
    name: n,
    certFile: `tsa-${n}.pem`,
    certDer,
    spki,
    key: createPrivateKey(readFileSync(join(dir, `tsa-${n}.key`))),
    alg: kind.alg,
    digest,
  };
}

interface StampParams {
  hashAlgorithm: TspHashAlgorithm;
  messageImprint: Buffer;
  hashAlgorithmNullParameters?: boolean;
  nonce?: bigint;
  serialHex?: string;
  accuracySeconds?: number;
  genTime?: Date;
  extraCertificates?: Uint8Array[];
}

/** What the TSA use case will do: build, have the key sign signedAttrs once, assemble. */
function stamp(tsa: Tsa, p: StampParams): Buffer {
  const { tstInfoDer, signedAttrsDer } = createTimeStampToBeSigned({
    policy: POLICY,
    hashAlgorithm: p.hashAlgorithm,
    messageImprint: p.messageImprint,
    hashAlgorithmNullParameters: p.hashAlgorithmNullParameters,
    serialNumber: Buffer.from(p.serialHex ?? '2a0b0c0d0e0f', 'hex'),
    genTime: p.genTime ?? GEN_TIME,
    accuracySeconds: p.accuracySeconds,
    nonce: p.nonce,
    tsaCertificateDer: tsa.certDer,
    digestAlgorithm: tsa.digest,
  });
  assert.equal(signedAttrsDer[0], 0x31, 'the signed bytes are the DER SET OF (RFC 5652 5.4)');
  const signature = sign(tsa.digest, signedAttrsDer, tsa.key);
  return assembleTimeStampToken({
    tstInfoDer,
    signedAttrsDer,
    signature,
    signatureAlgorithm: tsa.alg,
    digestAlgorithm: tsa.digest,
    tsaCertificateDer: tsa.certDer,
    extraCertificates: p.extraCertificates,
  });
}

function tsVerify(...args: string[]): { ok: boolean; out: string } {
  const r = opensslResult('ts', '-verify', ...args, '-CAfile', 'root.pem');
  return { ok: r.status === 0 && r.out.includes('Verification: OK'), out: r.out };
}

function expectCaError(fn: () => unknown, code: string): CaError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CaError, `expected CaError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rootca-tsp-'));
  writeFileSync(join(dir, 'root.cnf'), OPENSSL_CA_CNF);
  writeFileSync(join(dir, 'tsa.ext'), TSA_EXT);
  writeFileSync(join(dir, 'data.txt'), DATA);
  writeFileSync(join(dir, 'other.txt'), 'some other record\n');
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'root.key');
  openssl(
    'req',
    '-x509',
    '-new',
    '-config',
    'root.cnf',
    '-key',
    'root.key',
    '-subj',
    '/C=JP/O=Example Trust/CN=Example Root',
    '-days',
    '3650',
    '-sha256',
    '-out',
    'root.pem',
  );
  rootDer = pemToDer(readFileSync(join(dir, 'root.pem'), 'utf8'), 'CERTIFICATE');
  TSA_KINDS.forEach((k, i) => (tsas[k.name] = makeTsa(k, `7${i}11`)));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TSP: answering openssl ts -query requests', () => {
  for (const kind of TSA_KINDS) {
    it(`${kind.name} TSA (${kind.alg}): openssl ts -verify accepts the response with -data and -queryfile`, () => {
      const tsa = tsas[kind.name]!;
      openssl('ts', '-query', '-data', 'data.txt', '-sha256', '-cert', '-out', `req-${kind.name}.tsq`);
      const req = parseTimeStampReq(readFileSync(join(dir, `req-${kind.name}.tsq`)));
      assert.equal(req.version, 1);
      assert.equal(req.hashAlgorithm, 'sha256');
      assert.deepEqual(req.messageImprint, createHash('sha256').update(DATA).digest());
      assert.equal(req.certReq, true);
      assert.equal(req.hashAlgorithmNullParameters, true, 'OpenSSL writes NULL parameters');
      assert.equal(typeof req.nonce, 'bigint');

      const token = stamp(tsa, { ...req, accuracySeconds: 1 });
      const resp = timeStampResponse(token);
      writeFileSync(join(dir, `resp-${kind.name}.tsr`), resp);

      const byData = tsVerify('-data', 'data.txt', '-in', `resp-${kind.name}.tsr`, '-untrusted', tsa.certFile);
      assert.ok(byData.ok, byData.out);
      const byQuery = tsVerify(
        '-queryfile',
        `req-${kind.name}.tsq`,
        '-in',
        `resp-${kind.name}.tsr`,
        '-untrusted',
        tsa.certFile,
      );
      assert.ok(byQuery.ok, byQuery.out);
      // The TSA certificate is in the token, so no -untrusted is needed either.
      assert.ok(tsVerify('-data', 'data.txt', '-in', `resp-${kind.name}.tsr`).ok);

      const text = openssl('ts', '-reply', '-in', `resp-${kind.name}.tsr`, '-text');
      assert.match(text, /Status: Granted\./);
      assert.match(text, new RegExp(`Policy OID: ${POLICY.replace(/\./g, '\\.')}`));
      assert.match(text, /Hash Algorithm: sha256/);
      assert.match(text, /Serial number: 0x2A0B0C0D0E0F/);
      assert.match(text, /Time stamp: Mar {2}4 05:06:07\.89 2025 GMT/);
      assert.match(text, /Accuracy: 0x01 seconds, unspecified millis, unspecified micros/);
      assert.match(text, /Ordering: no/);
      assert.equal(BigInt(/Nonce: (0x[0-9A-F]+)/.exec(text)?.[1] ?? 'missing'), req.nonce);
      assert.match(text, /TSA: unspecified/);

      assert.equal(verifyTimeStampToken(resp, DATA, tsa.spki), true);
      assert.equal(verifyTimeStampToken(token, DATA, tsa.spki), true);
    });
  }

  it('a token for other data fails verifyTimeStampToken and openssl ts -verify', () => {
    const tsa = tsas.p256!;
    const token = stamp(tsa, { hashAlgorithm: 'sha256', messageImprint: createHash('sha256').update(DATA).digest() });
    writeFileSync(join(dir, 'for-data.tsr'), timeStampResponse(token));
    assert.equal(verifyTimeStampToken(token, Buffer.from('some other record\n'), tsa.spki), false);
    const r = tsVerify('-data', 'other.txt', '-in', 'for-data.tsr');
    assert.equal(r.ok, false, r.out);
    assert.match(r.out, /Verification: FAILED/);
    assert.match(r.out, /message imprint mismatch/);
  });

  for (const kind of TSA_KINDS) {
    it(`${kind.name}: a flipped byte in the signature fails both verifiers`, () => {
      const tsa = tsas[kind.name]!;
      const token = stamp(tsa, { hashAlgorithm: 'sha256', messageImprint: createHash('sha256').update(DATA).digest() });
      const bad = Buffer.from(token);
      bad[bad.length - 1]! ^= 0x01; // the signature OCTET STRING is the last element of the token
      assert.equal(verifyTimeStampToken(bad, DATA, tsa.spki), false);
      writeFileSync(join(dir, `flipped-${kind.name}.tsr`), timeStampResponse(bad));
      const r = tsVerify('-data', 'data.txt', '-in', `flipped-${kind.name}.tsr`);
      assert.equal(r.ok, false, r.out);
      assert.match(r.out, /Verification: FAILED/);
    });
  }

  it('a changed TSTInfo (genTime moved) breaks messageDigest; another key does not verify', () => {
    const tsa = tsas.rsa!;
    const token = stamp(tsa, { hashAlgorithm: 'sha256', messageImprint: createHash('sha256').update(DATA).digest() });
    const at = token.indexOf(Buffer.from('20250304050607.89Z', 'latin1'));
    assert.ok(at > 0);
    const moved = Buffer.from(token);
    moved[at + 3] = 0x36; // 2025 -> 2026
    assert.equal(verifyTimeStampToken(moved, DATA, tsa.spki), false);
    writeFileSync(join(dir, 'moved.tsr'), timeStampResponse(moved));
    assert.equal(tsVerify('-data', 'data.txt', '-in', 'moved.tsr').ok, false);
    assert.equal(verifyTimeStampToken(token, DATA, tsas.p256!.spki), false);
  });
});

describe('TSP: stamping a record digest directly (the system stamping its own manifests)', () => {
  const manifest = Buffer.from(
    JSON.stringify({ archive: 'issuance-2025-03', files: { 'certs.der': 'ab'.repeat(32) } }, null, 2),
  );

  for (const [kindName, hash] of [
    ['p384', 'sha384'],
    ['rsa', 'sha512'],
    ['p256', 'sha256'],
  ] as const) {
    it(`${kindName} TSA, ${hash} imprint, no nonce: openssl verifies the response (-in) and the bare token (-token_in)`, () => {
      const tsa = tsas[kindName]!;
      writeFileSync(join(dir, 'manifest.json'), manifest);
      const token = stamp(tsa, {
        hashAlgorithm: hash,
        messageImprint: createHash(hash).update(manifest).digest(),
        serialHex: '01',
        extraCertificates: [rootDer],
      });
      writeFileSync(join(dir, `manifest-${kindName}.tsr`), timeStampResponse(token));
      writeFileSync(join(dir, `manifest-${kindName}.tst`), token);

      const resp = tsVerify('-data', 'manifest.json', '-in', `manifest-${kindName}.tsr`, '-untrusted', tsa.certFile);
      assert.ok(resp.ok, resp.out);
      const bare = tsVerify(
        '-data',
        'manifest.json',
        '-in',
        `manifest-${kindName}.tst`,
        '-token_in',
        '-untrusted',
        tsa.certFile,
      );
      assert.ok(bare.ok, bare.out);
      const byDigest = tsVerify(
        '-digest',
        createHash(hash).update(manifest).digest('hex'),
        '-in',
        `manifest-${kindName}.tst`,
        '-token_in',
      );
      assert.ok(byDigest.ok, byDigest.out);

      const text = openssl('ts', '-reply', '-in', `manifest-${kindName}.tst`, '-token_in', '-text');
      assert.match(text, new RegExp(`Hash Algorithm: ${hash}`));
      assert.match(text, /Nonce: unspecified/);
      assert.match(text, /Accuracy: unspecified/);

      assert.equal(verifyTimeStampToken(token, manifest, tsa.spki), true);
      assert.equal(verifyTimeStampToken(token, Buffer.concat([manifest, Buffer.from(' ')]), tsa.spki), false);
      writeFileSync(join(dir, 'manifest-edited.json'), Buffer.concat([manifest, Buffer.from(' ')]));
      assert.equal(tsVerify('-data', 'manifest-edited.json', '-in', `manifest-${kindName}.tst`, '-token_in').ok, false);
    });
  }
});

describe('TSP: parseTimeStampToken', () => {
  it('round-trips what was stamped, from the response and from the bare token', () => {
    const tsa = tsas.p256!;
    const imprint = createHash('sha512').update(DATA).digest();
    const token = stamp(tsa, {
      hashAlgorithm: 'sha512',
      messageImprint: imprint,
      nonce: 0x00c0ffee_12345678n,
      serialHex: '00ff01',
      accuracySeconds: 2,
      extraCertificates: [rootDer],
    });
    for (const input of [token, timeStampResponse(token)]) {
      const p = parseTimeStampToken(input);
      assert.equal(p.genTime.toISOString(), GEN_TIME.toISOString());
      assert.equal(p.policy, POLICY);
      assert.equal(p.serialHex, '00ff01');
      assert.equal(p.hashAlgorithm, 'sha512');
      assert.deepEqual(p.messageImprint, imprint);
      assert.equal(p.nonce, 0x00c0ffee_12345678n);
      assert.deepEqual(p.accuracy, { seconds: 2, millis: undefined, micros: undefined });
      assert.equal(p.ordering, false);
      assert.deepEqual(p.signerCertificate, tsa.certDer);
      assert.equal(p.certificates.length, 2);
      assert.deepEqual(p.token, token);
    }
  });

  it('whole-second genTime is written without a fraction; a large nonce round-trips', () => {
    const tsa = tsas.rsa!;
    const nonce = (1n << 160n) + 12345n;
    const token = stamp(tsa, {
      hashAlgorithm: 'sha256',
      messageImprint: createHash('sha256').update(DATA).digest(),
      genTime: new Date('2051-01-01T00:00:00Z'),
      nonce,
    });
    assert.ok(token.includes(Buffer.from('20510101000000Z', 'latin1')));
    const p = parseTimeStampToken(token);
    assert.equal(p.genTime.toISOString(), '2051-01-01T00:00:00.000Z');
    assert.equal(p.nonce, nonce);
    writeFileSync(join(dir, 'y2051.tst'), token);
    assert.ok(tsVerify('-data', 'data.txt', '-in', 'y2051.tst', '-token_in').ok);
  });

  it('a rejection response throws TSP_REJECTED; garbage throws TSP_MALFORMED_TOKEN', () => {
    const e = expectCaError(
      () => parseTimeStampToken(timeStampRejection('badAlg', 'SHA-1 is not accepted')),
      'TSP_REJECTED',
    );
    assert.deepEqual(e.details.failInfo, ['badAlg']);
    expectCaError(() => parseTimeStampToken(Buffer.from('not a token')), 'TSP_MALFORMED_TOKEN');
    expectCaError(
      () =>
        parseTimeStampToken(
          Buffer.concat([
            stamp(tsas.p256!, { hashAlgorithm: 'sha256', messageImprint: Buffer.alloc(32) }),
            Buffer.from([0]),
          ]),
        ),
      'TSP_MALFORMED_TOKEN',
    );
    expectCaError(() => timeStampResponse(Buffer.from([0x30, 0x00])), 'TSP_MALFORMED_TOKEN');
  });
});

describe('TSP: requests', () => {
  it('SHA-1 and MD5 requests from openssl -> TSP_UNSUPPORTED_HASH (badAlg)', () => {
    for (const h of ['sha1', 'md5']) {
      openssl('ts', '-query', '-data', 'data.txt', `-${h}`, '-no_nonce', '-out', `req-${h}.tsq`);
      const e = expectCaError(() => parseTimeStampReq(readFileSync(join(dir, `req-${h}.tsq`))), 'TSP_UNSUPPORTED_HASH');
      assert.equal(e.details.failInfo, 'badAlg');
      assert.equal(e.details.oid, h === 'sha1' ? id_sha1 : id_md5);
    }
  });

  it('openssl -sha384 -no_nonce without -cert parses as such', () => {
    openssl('ts', '-query', '-data', 'data.txt', '-sha384', '-no_nonce', '-tspolicy', POLICY, '-out', 'req-384.tsq');
    const req = parseTimeStampReq(readFileSync(join(dir, 'req-384.tsq')));
    assert.equal(req.hashAlgorithm, 'sha384');
    assert.equal(req.nonce, undefined);
    assert.equal(req.certReq, false);
    assert.equal(req.reqPolicy, POLICY);
  });

  it('createTimeStampReq round-trips, openssl reads it, and -queryfile checks our token against it', () => {
    const imprint = createHash('sha512').update(DATA).digest();
    const der = createTimeStampReq({
      hashAlgorithm: 'sha512',
      messageImprint: imprint,
      nonce: 0x1234567890abcdefn,
      certReq: true,
      reqPolicy: POLICY,
    });
    assert.deepEqual(parseTimeStampReq(der), {
      version: 1,
      hashAlgorithm: 'sha512',
      messageImprint: imprint,
      hashAlgorithmNullParameters: false,
      reqPolicy: POLICY,
      nonce: 0x1234567890abcdefn,
      certReq: true,
    });
    writeFileSync(join(dir, 'ours.tsq'), der);
    const text = openssl('ts', '-query', '-in', 'ours.tsq', '-text');
    assert.match(text, /Hash Algorithm: sha512/);
    assert.match(text, /Nonce: 0x1234567890ABCDEF/);
    assert.match(text, /Certificate required: yes/);
    const req = parseTimeStampReq(der);
    writeFileSync(join(dir, 'ours.tsr'), timeStampResponse(stamp(tsas.p384!, req)));
    const r = tsVerify('-queryfile', 'ours.tsq', '-in', 'ours.tsr');
    assert.ok(r.ok, r.out);
    // A token whose nonce differs from the request's fails -queryfile.
    writeFileSync(join(dir, 'wrong-nonce.tsr'), timeStampResponse(stamp(tsas.p384!, { ...req, nonce: 1n })));
    const w = tsVerify('-queryfile', 'ours.tsq', '-in', 'wrong-nonce.tsr');
    assert.equal(w.ok, false, w.out);
    assert.match(w.out, /nonce mismatch/);
    // Minimal request: absent hash parameters (RFC 5754 2), no nonce, certReq FALSE left out as its DEFAULT.
    assert.deepEqual(
      createTimeStampReq({ hashAlgorithm: 'sha256', messageImprint: Buffer.alloc(32) }).subarray(0, 9),
      Buffer.from([0x30, 0x34, 0x02, 0x01, 0x01, 0x30, 0x2f, 0x30, 0x0b]),
    );
  });

  const okReq = (): Buffer => readFileSync(join(dir, 'req-rsa.tsq'));
  const imprintOf = (
    oid: string,
    params: Buffer | undefined,
    hashed: Buffer,
    extra: Partial<TimeStampReq> = {},
  ): Buffer =>
    Buffer.from(
      AsnConvert.serialize(
        new TimeStampReq({
          messageImprint: new MessageImprint({
            hashAlgorithm: new AlgorithmIdentifier({
              algorithm: oid,
              parameters: params ? toArrayBuffer(params) : undefined,
            }),
            hashedMessage: new OctetString(hashed),
          }),
          ...extra,
        }),
      ),
    );
  const MALFORMED: [string, () => Buffer, PkiFailureInfo][] = [
    ['empty input', () => Buffer.alloc(0), 'badDataFormat'],
    ['text', () => Buffer.from('GET /tsa HTTP/1.1\r\n'), 'badDataFormat'],
    ['a bare INTEGER', () => Buffer.from([0x02, 0x01, 0x01]), 'badDataFormat'],
    ['truncated', () => okReq().subarray(0, okReq().length - 3), 'badDataFormat'],
    ['trailing byte', () => Buffer.concat([okReq(), Buffer.from([0x00])]), 'badDataFormat'],
    [
      'indefinite length (BER)',
      () => Buffer.concat([Buffer.from([0x30, 0x80]), okReq().subarray(2), Buffer.from([0, 0])]),
      'badDataFormat',
    ],
    [
      'certReq FALSE written out (not DER)',
      () => {
        const r = Buffer.from(okReq());
        r[r.length - 1] = 0x00;
        return r;
      },
      'badDataFormat',
    ],
    [
      'version 2',
      () => imprintOf(id_sha256, undefined, Buffer.alloc(32), { version: 2 as TimeStampReq['version'] }),
      'badRequest',
    ],
    ['31-octet SHA-256 imprint', () => imprintOf(id_sha256, undefined, Buffer.alloc(31)), 'badDataFormat'],
    ['a SEQUENCE of nothing', () => Buffer.from([0x30, 0x00]), 'badDataFormat'],
  ];
  for (const [name, make, failInfo] of MALFORMED) {
    it(`garbage request (${name}) -> TSP_MALFORMED_REQUEST (${failInfo})`, () => {
      const e = expectCaError(() => parseTimeStampReq(make()), 'TSP_MALFORMED_REQUEST');
      assert.equal(e.details.failInfo, failInfo);
    });
  }

  it('unknown hash OID or odd parameters -> TSP_UNSUPPORTED_HASH; any extension -> TSP_UNACCEPTED_EXTENSION', () => {
    expectCaError(
      () => parseTimeStampReq(imprintOf('2.16.840.1.101.3.4.2.8', undefined, Buffer.alloc(32))),
      'TSP_UNSUPPORTED_HASH',
    ); // SHA3-256
    expectCaError(
      () => parseTimeStampReq(imprintOf(id_sha256, Buffer.from([0x04, 0x00]), Buffer.alloc(32))),
      'TSP_UNSUPPORTED_HASH',
    );
    const ext = new Extension({
      extnID: '1.2.3.4',
      critical: false,
      extnValue: new OctetString(Buffer.from([0x05, 0x00])),
    });
    const e = expectCaError(
      () => parseTimeStampReq(imprintOf(id_sha256, undefined, Buffer.alloc(32), { extensions: new Extensions([ext]) })),
      'TSP_UNACCEPTED_EXTENSION',
    );
    assert.equal(e.details.failInfo, 'unacceptedExtension');
  });
});

describe('TSP: rejections', () => {
  for (const [failInfo, text] of [
    ['badAlg', 'unrecognized or unsupported algorithm identifier'],
    ['badDataFormat', 'the data submitted has the wrong format'],
    ['unacceptedExtension', 'the requested extension is not supported by the TSA'],
    ['systemFailure', 'the request cannot be handled due to system failure'],
  ] as const) {
    it(`${failInfo}: openssl ts -reply -text reads it, parseTimeStampResp too`, () => {
      const der = timeStampRejection(failInfo, `refused: ${failInfo}`);
      writeFileSync(join(dir, `rej-${failInfo}.tsr`), der);
      const out = openssl('ts', '-reply', '-in', `rej-${failInfo}.tsr`, '-text');
      assert.match(out, /Status: Rejected\./);
      assert.match(out, new RegExp(`refused: ${failInfo}`));
      assert.match(out, new RegExp(text));
      assert.match(out, /TST info:\s*\n?\s*Not included\./);
      assert.deepEqual(parseTimeStampResp(der), {
        status: 'rejection',
        statusString: [`refused: ${failInfo}`],
        failInfo: [failInfo],
        token: undefined,
      });
    });
  }

  it('without text: no statusString', () => {
    assert.deepEqual(parseTimeStampResp(timeStampRejection('timeNotAvailable')), {
      status: 'rejection',
      statusString: undefined,
      failInfo: ['timeNotAvailable'],
      token: undefined,
    });
  });
});

describe('TSP: assembly guards', () => {
  const base = () => {
    const tsa = tsas.p256!;
    const tbs = createTimeStampToBeSigned({
      policy: POLICY,
      hashAlgorithm: 'sha256',
      messageImprint: Buffer.alloc(32, 1),
      serialNumber: Buffer.from([1]),
      genTime: GEN_TIME,
      tsaCertificateDer: tsa.certDer,
      digestAlgorithm: 'sha256',
    });
    return { tsa, ...tbs, signature: sign('sha256', tbs.signedAttrsDer, tsa.key) };
  };

  it('refuses a signature algorithm whose hash is not digestAlgorithm, SHA-1, or mismatched parts', () => {
    const b = base();
    const common = {
      tstInfoDer: b.tstInfoDer,
      signedAttrsDer: b.signedAttrsDer,
      signature: b.signature,
      tsaCertificateDer: b.tsa.certDer,
    };
    expectCaError(
      () => assembleTimeStampToken({ ...common, signatureAlgorithm: 'ecdsa-with-SHA384', digestAlgorithm: 'sha256' }),
      'TSP_PARAMS_INVALID',
    );
    expectCaError(
      () =>
        assembleTimeStampToken({ ...common, signatureAlgorithm: 'sha1WithRSAEncryption', digestAlgorithm: 'sha256' }),
      'TSP_PARAMS_INVALID',
    );
    const otherTst = createTimeStampToBeSigned({
      policy: POLICY,
      hashAlgorithm: 'sha256',
      messageImprint: Buffer.alloc(32, 2),
      serialNumber: Buffer.from([1]),
      genTime: GEN_TIME,
      tsaCertificateDer: b.tsa.certDer,
      digestAlgorithm: 'sha256',
    }).tstInfoDer;
    expectCaError(
      () =>
        assembleTimeStampToken({
          ...common,
          tstInfoDer: otherTst,
          signatureAlgorithm: 'ecdsa-with-SHA256',
          digestAlgorithm: 'sha256',
        }),
      'TSP_PARAMS_INVALID',
    );
    expectCaError(
      () =>
        assembleTimeStampToken({
          ...common,
          tsaCertificateDer: tsas.rsa!.certDer,
          signatureAlgorithm: 'ecdsa-with-SHA256',
          digestAlgorithm: 'sha256',
        }),
      'TSP_PARAMS_INVALID',
    );
  });

  it('refuses bad TSTInfo parameters', () => {
    const tsa = tsas.p256!;
    const ok = {
      policy: POLICY,
      hashAlgorithm: 'sha256' as const,
      messageImprint: Buffer.alloc(32),
      serialNumber: Buffer.from([1]),
      genTime: GEN_TIME,
      tsaCertificateDer: tsa.certDer,
      digestAlgorithm: 'sha256' as const,
    };
    for (const bad of [
      { messageImprint: Buffer.alloc(20) },
      { serialNumber: Buffer.from([0x80]) },
      { serialNumber: Buffer.from([0x00, 0x01]) },
      { serialNumber: Buffer.alloc(21, 1) },
      { policy: 'not.an.oid' },
      { genTime: new Date(Number.NaN) },
      { accuracySeconds: 0 },
    ]) {
      expectCaError(() => createTimeStampToBeSigned({ ...ok, ...bad }), 'TSP_PARAMS_INVALID');
    }
  });
});
