/**
 * src/pki/ocsp-fast.ts never decides differently from src/pki/ocsp.ts: the hand-written
 * request reader either declines or gives exactly what parseOcspRequest gives (for requests
 * openssl makes, built ones, and thousands of truncated and mutated ones), and the hand-written
 * ResponseData / OCSPResponse encoders give the schema library's bytes; `openssl ocsp`
 * verifies a response assembled by them.
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

describe('encodeTbsResponseData / assembleOcspResponseFast', () => {
  const statuses: CertStatus[] = [
    { status: 'good' },
    { status: 'unknown' },
    { status: 'revoked', revocationTime: new Date('2026-01-02T03:04:05.678Z') },
    { status: 'revoked', revocationTime: new Date('2049-12-31T23:59:59Z'), reason: 'keyCompromise' },
    { status: 'revoked', revocationTime: new Date('2051-06-01T00:00:00Z'), reason: 'privilegeWithdrawn' },
  ];

  it('the same bytes as createTbsResponseData and assembleOcspResponse (statuses, hashes, serials, nonces, several responses, RSA and ECDSA)', () => {
    const keyHash = randomBytes(20);
    let n = 0;
    for (const status of statuses) {
      for (const nonce of [undefined, randomBytes(1), randomBytes(32)]) {
        for (const serials of [['01'], ['9b22c0de0002', '0102030405060708090a0b0c0d0e0f101112131415']]) {
          const p: TbsResponseDataParams = {
            responderKeyHash: keyHash,
            producedAt: new Date('2026-11-25T12:34:56.789Z'),
            nonce,
            responses: serials.map((s, i) => ({
              certId: certIdsFor(caDer, s)[i % 2]!,
              status,
              thisUpdate: new Date('2026-11-25T00:00:00Z'),
              nextUpdate: new Date('2027-02-23T00:00:00Z'),
            })),
          };
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
    // -reqin: openssl checks the nonce against the request it made.
    const out = openssl([
      'ocsp',
      '-respin',
      path('resp.der'),
      '-reqin',
      path('n.der'),
      '-CAfile',
      path('ca.pem'),
      '-resp_text',
    ]);
    assert.match(out, /Response verify OK/);
    assert.match(out, /Serial Number: 7A11C0DE0001\n\s*Cert Status: good/);
    assert.doesNotMatch(out, /WARNING: no nonce|Nonce Verify error/);
  });
});
