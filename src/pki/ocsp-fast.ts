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

const OID_SHA1 = Buffer.from('06052b0e03021a', 'hex');
const OID_SHA256 = Buffer.from('0609608648016503040201', 'hex');
const OID_NONCE = Buffer.from('06092b0601050507300102', 'hex');

/**
 * Where the contents of the element `el` read last start, and where it ends (module state, not
 * an object per element: this runs once per live request).
 */
let at = 0;
let end = 0;

/**
 * Reads the DER element starting at `p` into at/end and returns its tag byte; -1 when there is
 * none this reader takes: past the input, a high tag number (X.690 8.1.2.4: no element of the
 * common shape has one), an indefinite (BER, X.690 8.1.3.6) or non-minimal (X.690 10.1)
 * length, more contents than there are bytes. Those are the cases readDerElement throws on,
 * or reads a tag nothing below accepts: either way "not the common shape", and the full
 * parser decides.
 */
function el(buf: Buffer, p: number): number {
  const n = buf.length;
  if (p + 2 > n) return -1;
  const t = buf[p]!;
  if ((t & 0x1f) === 0x1f) return -1;
  let len = buf[p + 1]!;
  let q = p + 2;
  if (len >= 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4 || q + count > n || buf[q] === 0) return -1;
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + buf[q++]!;
    if (len < 0x80) return -1;
  }
  if (q + len > n) return -1;
  at = q;
  end = q + len;
  return t;
}

/** Whether `buf[start, stop)` are the bytes of `want`. */
function sameBytes(buf: Buffer, start: number, stop: number, want: Buffer): boolean {
  if (stop - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

/** One Request's CertID (RFC 6960 4.1.1) read from `buf` at `p`, ending at `stop`, or undefined. */
function certIdAt(buf: Buffer, p: number, stop: number): CertIdKey | undefined {
  // Request ::= SEQUENCE { reqCert CertID } (no singleRequestExtensions: the full parser's)
  if (el(buf, p) !== 0x30 || end !== stop) return undefined;
  const cidEnd = end;
  if (el(buf, at) !== 0x30) return undefined; // hashAlgorithm AlgorithmIdentifier
  const algEnd = end;
  const oidStart = at;
  if (el(buf, oidStart) < 0) return undefined;
  const hashAlgorithm = sameBytes(buf, oidStart, end, OID_SHA1)
    ? 'sha1'
    : sameBytes(buf, oidStart, end, OID_SHA256)
      ? 'sha256'
      : undefined;
  if (!hashAlgorithm) return undefined;
  // parameters: absent or NULL (RFC 5754 2 / RFC 3279 2.2.1 write NULL, some clients omit it)
  if (end !== algEnd && (el(buf, end) !== 0x05 || at !== end || end !== algEnd)) return undefined;
  const len = hashAlgorithm === 'sha1' ? 20 : 32;
  if (el(buf, algEnd) !== 0x04 || end - at !== len) return undefined; // issuerNameHash
  const nameStart = at;
  const nameEnd = end;
  if (el(buf, nameEnd) !== 0x04 || end - at !== len) return undefined; // issuerKeyHash
  const keyStart = at;
  const keyEnd = end;
  if (el(buf, keyEnd) !== 0x02 || end !== cidEnd || end === at) return undefined; // serialNumber
  const s0 = buf[at]!;
  if (s0 >= 0x80) return undefined; // negative: the full parser
  if (end - at > 1 && s0 === 0 && buf[at + 1]! < 0x80) return undefined; // not minimal (X.690 8.3.2)
  return {
    hashAlgorithm,
    issuerNameHash: buf.subarray(nameStart, nameEnd),
    issuerKeyHash: buf.subarray(keyStart, keyEnd),
    serialHex: buf.toString('hex', at, end),
  };
}

/** The RFC 8954 nonce of requestExtensions [2] at `p` (ending at `stop`) when it is the only extension, else undefined. */
function nonceAt(buf: Buffer, p: number, stop: number): Buffer | undefined {
  if (el(buf, p) !== 0xa2 || end !== stop) return undefined;
  if (el(buf, at) !== 0x30 || end !== stop || end === at) return undefined; // Extensions
  const seqEnd = end;
  // Extension ::= SEQUENCE { extnID, extnValue } (a critical flag, or any other extension: the full parser)
  if (el(buf, at) !== 0x30 || end !== seqEnd) return undefined;
  const idStart = at;
  if (el(buf, idStart) < 0 || !sameBytes(buf, idStart, end, OID_NONCE)) return undefined;
  if (el(buf, end) !== 0x04 || end !== seqEnd) return undefined; // extnValue
  // RFC 8954 2.1: the value is the DER of Nonce ::= OCTET STRING (SIZE(1..32))
  if (el(buf, at) !== 0x04 || end !== seqEnd || end - at < 1 || end - at > 32) return undefined;
  return buf.subarray(at, end);
}

/** The request when it has the common shape (see above), else undefined (use parseOcspRequest). */
export function parseOcspRequestFast(der: Uint8Array): ParsedOcspRequest | undefined {
  const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest } (optionalSignature: the full parser)
  if (el(buf, 0) !== 0x30 || end !== buf.length) return undefined;
  // TBSRequest ::= SEQUENCE { requestList, [2] requestExtensions } (version, requestorName: the full parser)
  if (el(buf, at) !== 0x30 || end !== buf.length) return undefined;
  const tbsEnd = end;
  if (el(buf, at) !== 0x30 || end === at) return undefined; // requestList, not empty
  const listStart = at;
  const listEnd = end;
  let nonce: Buffer | undefined;
  if (listEnd < tbsEnd) {
    nonce = nonceAt(buf, listEnd, tbsEnd);
    if (nonce === undefined) return undefined;
  }
  const certIds: CertIdKey[] = [];
  for (let q = listStart; q < listEnd; ) {
    if (el(buf, q) !== 0x30 || end > listEnd) return undefined;
    const next = end;
    const id = certIdAt(buf, at, next);
    if (!id) return undefined;
    certIds.push(id);
    q = next;
  }
  return { certIds, nonce, hasUnsupportedCriticalExtension: false };
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
