/**
 * parseOcspResponseFast reads what parseOcspResponse reads for every response shape rootca
 * signs, and gives up (undefined, so the schema parser decides) on anything else.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pemToDer } from './pem.ts';
import {
  assembleOcspResponse,
  certIdsFor,
  createTbsResponseData,
  ocspErrorResponse,
  parseOcspResponse,
  type CertStatus,
} from './ocsp.ts';
import { parseOcspResponseFast } from './ocsp-response-fast.ts';

const ROOT = pemToDer(
  readFileSync(
    join(import.meta.dirname, '../../../shared/reference/secom-roots/Security_Communication_ECC_RootCA1.crt'),
    'utf8',
  ),
  'CERTIFICATE',
);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyHash = createHash('sha1')
  .update(publicKey.export({ type: 'spki', format: 'der' }).subarray(-65))
  .digest();
const NOW = new Date('2026-12-02T15:04:05.678Z');
const LATER = new Date('2027-01-01T00:00:00Z');

function response(status: CertStatus, serialHex: string, opts: { hash?: 0 | 1; certs?: boolean; nonce?: Buffer } = {}) {
  const certId = certIdsFor(ROOT, serialHex)[opts.hash ?? 0]!;
  const tbs = createTbsResponseData({
    responderKeyHash: keyHash,
    producedAt: NOW,
    responses: [{ certId, status, thisUpdate: NOW, nextUpdate: LATER }],
    nonce: opts.nonce,
  }).der;
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  return assembleOcspResponse(tbs, 'ecdsa-with-SHA256', signature, opts.certs === false ? undefined : [ROOT]);
}

const revokedAt = new Date('2026-06-01T12:00:00Z');
const SHAPES: [string, Buffer][] = [
  ['good, SHA-1 CertID, with certs', response({ status: 'good' }, '01')],
  ['good, SHA-256 CertID, no certs', response({ status: 'good' }, '7f3a', { hash: 1, certs: false })],
  ['unknown', response({ status: 'unknown' }, '00ff')],
  ['revoked without reason', response({ status: 'revoked', revocationTime: revokedAt }, '5000000001')],
  [
    'revoked, keyCompromise, long serial',
    response({ status: 'revoked', revocationTime: revokedAt, reason: 'keyCompromise' }, '7a'.repeat(20), { hash: 1 }),
  ],
];

describe('parseOcspResponseFast', () => {
  for (const [name, der] of SHAPES)
    it(`reads exactly what parseOcspResponse reads: ${name}`, () => {
      assert.deepEqual(parseOcspResponseFast(der), parseOcspResponse(der));
    });

  it('gives up on other shapes and on bytes that are not DER, leaving them to the schema parser', () => {
    const good = SHAPES[0]![1];
    const withNonce = response({ status: 'good' }, '01', { nonce: Buffer.alloc(16, 7) });
    assert.ok(parseOcspResponse(withNonce).nonce, 'the schema parser reads the nonce');
    assert.equal(parseOcspResponseFast(withNonce), undefined, 'responseExtensions: not our pre-signed shape');
    assert.equal(parseOcspResponseFast(ocspErrorResponse('tryLater')), undefined);
    assert.equal(parseOcspResponseFast(Buffer.concat([good, Buffer.from([0])])), undefined, 'a trailing byte');
    assert.equal(parseOcspResponseFast(good.subarray(0, good.length - 1)), undefined, 'truncated');
    // producedAt with fractional seconds is not the DER form RFC 5280 4.1.2.5.2 asks for.
    const at = good.indexOf(Buffer.from('20261202150405Z', 'latin1'));
    assert.ok(at > 0);
    const odd = Buffer.from(good);
    odd.write('20261302150405Z', at, 'latin1'); // month 13
    assert.equal(parseOcspResponseFast(odd), undefined);
  });
});
