/**
 * Hand-written DER for the online responder's hot paths (R-2.3 at full request rate): reading
 * the common OCSPRequest shape and writing live ResponseData / OCSPResponse. Kept beside the
 * @peculiar/asn1-ocsp schemas (issue 13 item 7) because it is far faster: on the project's
 * 2-core machine parseOcspRequest took ~900 us a request against ~7 us here, and
 * createTbsResponseData ~720 us against ~50 us for encodeTbsResponseData.
 *
 * They never decide differently from ocsp.ts:
 *  - parseOcspRequestFast reads only the shape RFC 5019 clients send (one or more CertIDs with
 *    SHA-1/SHA-256, no version, requestor name, signature or per-request extensions, at most a
 *    well-formed RFC 8954 nonce) and checks it is DER on the way; anything else returns
 *    undefined, and the caller uses parseOcspRequest, which decides.
 *  - encodeTbsResponseData and assembleOcspResponseFast give exactly the bytes of
 *    createTbsResponseData(...).der and assembleOcspResponse (tests compare them); they are
 *    the live responder's writer (ocsp-live-response.ts) for one-off use.
 */
import type { SignatureAlgorithmName } from './algorithms.ts';
import type { CertIdKey, ParsedOcspRequest, TbsResponseDataParams } from './ocsp.ts';
import { certsPart, responseDataDer, responseDer, signatureAlgorithmDer } from './ocsp-live-response.ts';
import { readDerElement } from './pem.ts';

const OID_SHA1 = Buffer.from('06052b0e03021a', 'hex');
const OID_SHA256 = Buffer.from('0609608648016503040201', 'hex');
const OID_NONCE = Buffer.from('06092b0601050507300102', 'hex');

function sameBytes(buf: Buffer, start: number, end: number, want: Buffer): boolean {
  return end - start === want.length && buf.compare(want, 0, want.length, start, end) === 0;
}

/** The request when it has the common shape (see above), else undefined (use parseOcspRequest). */
export function parseOcspRequestFast(der: Uint8Array): ParsedOcspRequest | undefined {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) return undefined;
    const tbs = readDerElement(buf, outer.contentStart);
    if (tbs.tag !== 0x30 || tbs.end !== outer.end) return undefined; // optionalSignature: the full parser
    const list = readDerElement(buf, tbs.contentStart);
    if (list.tag !== 0x30 || list.end === list.contentStart) return undefined; // version, requestorName, empty list
    let nonce: Buffer | undefined;
    if (list.end < tbs.end) {
      const exts = readDerElement(buf, list.end);
      if (exts.tag !== 0xa2 || exts.end !== tbs.end) return undefined;
      const seq = readDerElement(buf, exts.contentStart);
      if (seq.tag !== 0x30 || seq.end !== exts.end || seq.end === seq.contentStart) return undefined;
      for (let q = seq.contentStart; q < seq.end; ) {
        const ext = readDerElement(buf, q);
        if (ext.tag !== 0x30 || ext.end > seq.end || nonce) return undefined;
        const id = readDerElement(buf, ext.contentStart);
        if (!sameBytes(buf, id.start, id.end, OID_NONCE)) return undefined; // other extensions: the full parser
        const value = readDerElement(buf, id.end); // a critical flag here: the full parser
        if (value.tag !== 0x04 || value.end !== ext.end) return undefined;
        const inner = readDerElement(buf, value.contentStart);
        const n = inner.end - inner.contentStart;
        if (inner.tag !== 0x04 || inner.end !== value.end || n < 1 || n > 32) return undefined;
        nonce = buf.subarray(inner.contentStart, inner.end);
        q = ext.end;
      }
    }
    const certIds: CertIdKey[] = [];
    for (let q = list.contentStart; q < list.end; ) {
      const r = readDerElement(buf, q);
      if (r.tag !== 0x30 || r.end > list.end) return undefined;
      const cid = readDerElement(buf, r.contentStart);
      if (cid.tag !== 0x30 || cid.end !== r.end) return undefined; // singleRequestExtensions: the full parser
      const alg = readDerElement(buf, cid.contentStart);
      if (alg.tag !== 0x30) return undefined;
      const oid = readDerElement(buf, alg.contentStart);
      const hashAlgorithm = sameBytes(buf, oid.start, oid.end, OID_SHA1)
        ? 'sha1'
        : sameBytes(buf, oid.start, oid.end, OID_SHA256)
          ? 'sha256'
          : undefined;
      if (!hashAlgorithm) return undefined;
      if (oid.end !== alg.end) {
        const params = readDerElement(buf, oid.end);
        if (params.tag !== 0x05 || params.contentStart !== params.end || params.end !== alg.end) return undefined;
      }
      const len = hashAlgorithm === 'sha1' ? 20 : 32;
      const nameHash = readDerElement(buf, alg.end);
      if (nameHash.tag !== 0x04 || nameHash.end - nameHash.contentStart !== len) return undefined;
      const keyHash = readDerElement(buf, nameHash.end);
      if (keyHash.tag !== 0x04 || keyHash.end - keyHash.contentStart !== len) return undefined;
      const serial = readDerElement(buf, keyHash.end);
      const s0 = buf[serial.contentStart]!;
      const s1 = buf[serial.contentStart + 1]!;
      if (serial.tag !== 0x02 || serial.end !== cid.end || serial.end === serial.contentStart || s0 >= 0x80)
        return undefined; // negative: the full parser
      if (serial.end - serial.contentStart > 1 && s0 === 0 && s1 < 0x80) return undefined; // not minimal (X.690 8.3.2)
      certIds.push({
        hashAlgorithm,
        issuerNameHash: buf.subarray(nameHash.contentStart, nameHash.end),
        issuerKeyHash: buf.subarray(keyHash.contentStart, keyHash.end),
        serialHex: buf.toString('hex', serial.contentStart, serial.end),
      });
      q = r.end;
    }
    return { certIds, nonce, hasUnsupportedCriticalExtension: false };
  } catch {
    return undefined; // not DER at all: the full parser says why
  }
}

/** The DER of createTbsResponseData(p) (ocsp-live-response.ts writes it; the same checks). */
export function encodeTbsResponseData(p: TbsResponseDataParams): Buffer {
  return responseDataDer(p);
}

/** The bytes of assembleOcspResponse(tbs, alg, signature, certs) (ocsp-live-response.ts writes them). */
export function assembleOcspResponseFast(
  tbsResponseDataDer: Uint8Array,
  alg: SignatureAlgorithmName,
  signature: Uint8Array,
  certs?: Uint8Array[],
): Buffer {
  return responseDer(tbsResponseDataDer, signatureAlgorithmDer(alg), signature, certsPart(certs));
}
