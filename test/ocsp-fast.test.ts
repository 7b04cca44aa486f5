/**
 * src/pki/ocsp-fast.ts never decides differently from src/pki/ocsp.ts: the hand-written
 * request reader either declines or gives exactly what parseOcspRequest gives (for requests
 * openssl makes, built ones, and thousands of truncated and mutated ones), and the hand-written
 * ResponseData / OCSPResponse encoders give the schema library's bytes, and so does the live
 * responder's LiveResponseWriter (it signs exactly encodeTbsResponseData's bytes); `openssl
 * ocsp` verifies responses assembled by them.
 */
import assert from 'node:assert/strict';
import { randomBytes, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { derTlv } from '../src/pki/der.ts';
import { keyIdentifierFromSpki } from '../src/pki/extensions.ts';
import {
  assembleOcspResponse,
  certIdOf,
  certIdsFor,
  createTbsResponseData,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  parseOcspRequest,
  Request,
  TBSRequest,
  type CertStatus,
  type ParsedOcspRequest,
  type TbsResponseDataParams,
} from '../src/pki/ocsp.ts';
import { assembleOcspResponseFast, encodeTbsResponseData, parseOcspRequestFast } from '../src/pki/ocsp-fast.ts';
import { LiveResponseWriter } from '../src/pki/ocsp-live-response.ts';
import { pemToDer } from '../src/pki/pem.ts';
import { openssl, tempDir } from './helpers.ts';

const dir = tempDir('rootca-ocsp-fast-');
const path = (f: string) => join(dir, f);
openssl([
  'req',
  '-x509',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  path('ca.key'),
  '-subj',
  '/CN=Fast CA',
  '-days',
  '30',
  '-out',
  path('ca.pem'),
]);
const caDer = pemToDer(readFileSync(path('ca.pem'), 'utf8'), 'CERTIFICATE');
const SERIALS = ['01', '7a11c0de0001', '9b22c0de0002', '00ff', '0102030405060708090a0b0c0d0e0f101112131415'];

function built(serials: string[], hash: 0 | 1, nonce?: Buffer, extra?: Extension): Buffer {
  const tbs = new TBSRequest({
    requestList: serials.map((s) => new Request({ reqCert: certIdOf(certIdsFor(caDer, s)[hash]!) })),
  });
  const exts: Extension[] = [];
  if (nonce)
    exts.push(
      new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(derTlv(0x04, nonce)) }),
    );
  if (extra) exts.push(extra);
  if (exts.length) tbs.requestExtensions = exts;
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

function full(der: Buffer): ParsedOcspRequest | Error {
  try {
    return parseOcspRequest(der);
  } catch (e) {
    return e as Error;
  }
}

/** The fast reader declines, or agrees with the full parser (which then accepts). */
function agrees(der: Buffer, label: string): 'declined' | 'same' {
  const fast = parseOcspRequestFast(der);
  if (fast === undefined) return 'declined';
  const f = full(der);
  assert.ok(
    !(f instanceof Error),
    `${label}: the fast reader accepted what parseOcspRequest refuses (${f instanceof Error ? f.message : ''})`,
  );
  assert.deepEqual(fast, f, label);
  return 'same';
}

describe('parseOcspRequestFast', () => {
  it('requests openssl ocsp makes (SHA-1, SHA-256, with and without a nonce, several serials): read, and equal to parseOcspRequest', () => {
    let n = 0;
    for (const hash of [[], ['-sha256']]) {
      for (const nonce of [['-no_nonce'], []]) {
        const serials = SERIALS.slice(0, 3).flatMap((s) => ['-serial', `0x${s}`]);
        openssl(['ocsp', '-issuer', path('ca.pem'), ...hash, ...serials, ...nonce, '-reqout', path('r.der')]);
        const der = readFileSync(path('r.der'));
        assert.equal(agrees(der, `openssl ${hash} ${nonce}`), 'same');
        n++;
      }
    }
    assert.equal(n, 4);
  });

  it('built requests: every serial shape, 1..3 CertIDs, nonces of 1, 16 and 32 octets are read; other extensions and a 33-octet nonce are declined', () => {
    for (const hash of [0, 1] as const) {
      for (let k = 1; k <= 3; k++) {
        for (const nonce of [undefined, randomBytes(1), randomBytes(16), randomBytes(32)]) {
          assert.equal(
            agrees(built(SERIALS.slice(0, k), hash, nonce), `hash ${hash} k ${k} nonce ${nonce?.length}`),
            'same',
          );
        }
      }
      for (const s of SERIALS) assert.equal(agrees(built([s], hash), s), 'same');
    }
    const other = new Extension({
      extnID: '1.3.6.1.5.5.7.48.1.4',
      critical: false,
      extnValue: new OctetString(Buffer.from([0x30, 0x00])),
    });
    assert.equal(
      parseOcspRequestFast(built(['01'], 0, undefined, other)),
      undefined,
      'AcceptableResponses: the full parser',
    );
    assert.equal(
      parseOcspRequestFast(built(['01'], 0, randomBytes(33))),
      undefined,
      'a 33-octet nonce: the full parser (OCSP_BAD_NONCE)',
    );
  });

  it('every truncation and 3000 random mutations: declined, or the same as parseOcspRequest', () => {
    const seeds = [built(['7a11c0de0001'], 0), built(['9b22c0de0002', '01'], 1, randomBytes(16))];
    let same = 0;
    let declined = 0;
    for (const seed of seeds) {
      for (let n = 0; n < seed.length; n++) assert.equal(agrees(seed.subarray(0, n), `truncated to ${n}`), 'declined');
      for (let i = 0; i < 1500; i++) {
        const m = Buffer.from(seed);
        for (let j = 0; j < 1 + (i % 3); j++) m[Math.floor(Math.random() * m.length)] = Math.floor(Math.random() * 256);
        if (agrees(m, `mutation ${m.toString('hex')}`) === 'same') same++;
        else declined++;
      }
    }
    assert.ok(same > 0 && declined > 0, `both outcomes seen (same ${same}, declined ${declined})`);
  });
});

/** Every certStatus shape: good, unknown, revoked without and with reasons. */
const STATUSES: CertStatus[] = [
  { status: 'good' },
  { status: 'unknown' },
  { status: 'revoked', revocationTime: new Date('2026-01-02T03:04:05.678Z') },
  { status: 'revoked', revocationTime: new Date('2049-12-31T23:59:59Z'), reason: 'keyCompromise' },
  { status: 'revoked', revocationTime: new Date('2051-06-01T00:00:00Z'), reason: 'privilegeWithdrawn' },
];

/** ResponseData parameters for `serials` (alternating SHA-1 and SHA-256 CertIDs), all with `status`. */
const responseParams = (
  responderKeyHash: Buffer,
  status: CertStatus,
  serials: string[],
  nonce?: Buffer,
): TbsResponseDataParams => ({
  responderKeyHash,
  producedAt: new Date('2026-11-25T12:34:56.789Z'),
  nonce,
  responses: serials.map((s, i) => ({
    certId: certIdsFor(caDer, s)[i % 2]!,
    status,
    thisUpdate: new Date('2026-11-25T00:00:00Z'),
    nextUpdate: new Date('2027-02-23T00:00:00Z'),
  })),
});

/**
 * `openssl ocsp` as the relying party: the response verifies against the CA (which signs itself
 * here: responderID by its key hash) and, with -reqin, echoes the nonce of the request it made.
 */
function verifiedByOpenssl(response: string, request: string): string {
  const out = openssl([
    'ocsp',
    '-respin',
    path(response),
    '-reqin',
    path(request),
    '-CAfile',
    path('ca.pem'),
    '-resp_text',
  ]);
  assert.match(out, /Response verify OK/);
  assert.doesNotMatch(out, /WARNING: no nonce|Nonce Verify error/);
  return out;
}

describe('encodeTbsResponseData / assembleOcspResponseFast', () => {
  it('the same bytes as createTbsResponseData and assembleOcspResponse (statuses, hashes, serials, nonces, several responses, RSA and ECDSA)', () => {
    const keyHash = randomBytes(20);
    let n = 0;
    for (const status of STATUSES) {
      for (const nonce of [undefined, randomBytes(1), randomBytes(32)]) {
        for (const serials of [['01'], ['9b22c0de0002', '0102030405060708090a0b0c0d0e0f101112131415']]) {
          const p = responseParams(keyHash, status, serials, nonce);
          const tbs = encodeTbsResponseData(p);
          assert.deepEqual(tbs, createTbsResponseData(p).der, JSON.stringify(status));
          const sig = randomBytes(64);
          for (const alg of ['ecdsa-with-SHA256', 'sha256WithRSAEncryption'] as const) {
            assert.deepEqual(
              assembleOcspResponseFast(tbs, alg, sig, [caDer]),
              assembleOcspResponse(tbs, alg, sig, [caDer]),
            );
            assert.deepEqual(assembleOcspResponseFast(tbs, alg, sig), assembleOcspResponse(tbs, alg, sig));
          }
          n++;
        }
      }
    }
    assert.equal(n, 30);
  });

  it('openssl ocsp verifies a response signed over encodeTbsResponseData and assembled fast', () => {
    // The CA signs itself here (responderID by its key hash), so -CAfile is enough.
    const caKey = readFileSync(path('ca.key'));
    const caSpki = pemToDer(openssl(['x509', '-in', path('ca.pem'), '-pubkey', '-noout']), 'PUBLIC KEY');
    openssl(['ocsp', '-issuer', path('ca.pem'), '-serial', '0x7a11c0de0001', '-reqout', path('n.der')]);
    const req = parseOcspRequestFast(readFileSync(path('n.der')))!;
    const tbs = encodeTbsResponseData({
      responderKeyHash: keyIdentifierFromSpki(caSpki),
      producedAt: new Date(),
      nonce: req.nonce,
      responses: [
        {
          certId: req.certIds[0]!,
          status: { status: 'good' },
          thisUpdate: new Date(Date.now() - 60_000),
          nextUpdate: new Date(Date.now() + 3_600_000),
        },
      ],
    });
    const sig = sign('sha256', tbs, { key: caKey, format: 'pem' });
    writeFileSync(path('resp.der'), assembleOcspResponseFast(tbs, 'ecdsa-with-SHA256', sig, [caDer]));
    const out = verifiedByOpenssl('resp.der', 'n.der');
    assert.match(out, /Serial Number: 7A11C0DE0001\n\s*Cert Status: good/);
  });
});

describe('LiveResponseWriter', () => {
  const keyHash = randomBytes(20);
  const params = (status: CertStatus, serials: string[], nonce?: Buffer) =>
    responseParams(keyHash, status, serials, nonce);

  it('signs exactly encodeTbsResponseData and writes the bytes of assembleOcspResponse (statuses, nonces, CertIDs, ECDSA and RSA signature lengths, with and without certs)', () => {
    let n = 0;
    for (const alg of ['ecdsa-with-SHA256', 'ecdsa-with-SHA384', 'sha256WithRSAEncryption'] as const) {
      const sigLength = alg === 'sha256WithRSAEncryption' ? 384 : alg === 'ecdsa-with-SHA384' ? 103 : 71;
      for (const certs of [[caDer], []]) {
        const writer = new LiveResponseWriter(keyHash, alg, certs);
        for (const status of STATUSES) {
          for (const nonce of [undefined, randomBytes(1), randomBytes(16), randomBytes(32)]) {
            for (const serials of [['01'], ['9b22c0de0002', '0102030405060708090a0b0c0d0e0f101112131415', '00ff']]) {
              const p = params(status, serials, nonce);
              const sig = randomBytes(sigLength);
              let signed: Buffer | undefined;
              const out = writer.write(p, (tbs) => {
                signed = Buffer.from(tbs);
                return sig;
              });
              const tbs = createTbsResponseData(p).der;
              assert.deepEqual(signed, tbs, `${alg} ${JSON.stringify(status)} nonce ${nonce?.length}`);
              assert.deepEqual(out, assembleOcspResponse(tbs, alg, sig, certs.length ? certs : undefined));
              n++;
            }
          }
        }
      }
    }
    assert.equal(n, 3 * 2 * STATUSES.length * 4 * 2);
  });

  it('an answer stays intact after the next one is written (the scratch buffer is reused), and a large one needs long-form lengths', () => {
    const writer = new LiveResponseWriter(keyHash, 'ecdsa-with-SHA256', [caDer]);
    const sig = randomBytes(72);
    const first = params({ status: 'good' }, ['7a11c0de0001'], randomBytes(16));
    const a = writer.write(first, () => sig);
    const copy = Buffer.from(a);
    // ~800 CertIDs: ResponseData over 64 KiB (four length octets) and over the 4 KiB scratch buffer.
    const many = params(
      { status: 'unknown' },
      Array.from({ length: 800 }, (_, i) => (0x100000 + i).toString(16)),
    );
    const big = writer.write(many, () => sig);
    assert.ok(big.length > 0x10000, `large response: ${big.length} bytes`);
    assert.deepEqual(big, assembleOcspResponseFast(encodeTbsResponseData(many), 'ecdsa-with-SHA256', sig, [caDer]));
    assert.deepEqual(a, copy, 'the first answer is unchanged');
    assert.deepEqual(
      writer.write(first, () => sig),
      copy,
      'the same input gives the same bytes after a large one',
    );
  });

  it('refuses what encodeTbsResponseData refuses: no SingleResponse, a nonce outside 1..32 octets, a key hash that is not SHA-1, an unknown reason', () => {
    const writer = new LiveResponseWriter(keyHash, 'ecdsa-with-SHA256');
    const sign64 = () => randomBytes(64);
    assert.throws(() => writer.write({ ...params({ status: 'good' }, ['01']), responses: [] }, sign64), {
      code: 'OCSP_PARAMS_INVALID',
    });
    assert.throws(() => writer.write(params({ status: 'good' }, ['01'], randomBytes(33)), sign64), {
      code: 'OCSP_BAD_NONCE',
    });
    assert.throws(() => writer.write(params({ status: 'good' }, ['01'], Buffer.alloc(0)), sign64), {
      code: 'OCSP_BAD_NONCE',
    });
    assert.throws(() => new LiveResponseWriter(randomBytes(32), 'ecdsa-with-SHA256'), { code: 'OCSP_PARAMS_INVALID' });
    const bad = { status: 'revoked', revocationTime: new Date(), reason: 'notAReason' } as unknown as CertStatus;
    assert.throws(() => writer.write(params(bad, ['01']), sign64), { code: 'OCSP_PARAMS_INVALID' });
  });

  it('openssl ocsp verifies a response it wrote, signed by a real key, with the nonce of the request echoed (RFC 8954)', () => {
    const caKey = readFileSync(path('ca.key'));
    const caSpki = pemToDer(openssl(['x509', '-in', path('ca.pem'), '-pubkey', '-noout']), 'PUBLIC KEY');
    openssl(['ocsp', '-issuer', path('ca.pem'), '-serial', '0x9b22c0de0002', '-reqout', path('w.der')]);
    const req = parseOcspRequestFast(readFileSync(path('w.der')))!;
    assert.equal(req.nonce?.length, 16, 'openssl sends a 16-octet nonce');
    const writer = new LiveResponseWriter(keyIdentifierFromSpki(caSpki), 'ecdsa-with-SHA256', [caDer]);
    const body = writer.write(
      {
        producedAt: new Date(),
        nonce: req.nonce,
        responses: [
          {
            certId: req.certIds[0]!,
            status: { status: 'revoked', revocationTime: new Date(Date.now() - 86_400_000), reason: 'keyCompromise' },
            thisUpdate: new Date(Date.now() - 60_000),
            nextUpdate: new Date(Date.now() + 3_600_000),
          },
        ],
      },
      (tbs) => sign('sha256', tbs, { key: caKey, format: 'pem' }),
    );
    writeFileSync(path('wresp.der'), body);
    const out = verifiedByOpenssl('wresp.der', 'w.der');
    assert.match(out, /Serial Number: 9B22C0DE0002\n\s*Cert Status: revoked/);
    assert.match(out, /Revocation Reason: keyCompromise/);
  });
});
