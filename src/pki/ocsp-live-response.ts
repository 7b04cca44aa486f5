/**
 * The live responder's OCSPResponse writer (R-2.3 at full request rate: every request with a
 * nonce is signed afresh, RFC 8954, so this runs once per such request). What is the same for
 * every answer of one responder is encoded once — responderID byKey (RFC 6960 4.2.2.3), the
 * signature AlgorithmIdentifier, the `certs` part with the responder's certificate (RFC 6960
 * 4.2.2.2: a delegated responder includes it) — and each answer is written into two buffers:
 * the ResponseData into a scratch buffer reused between answers (it is signed, then copied),
 * then the whole response into one buffer of its exact size. GeneralizedTime digits are made
 * once per second.
 *
 * The bytes are exactly those of the schema library's createTbsResponseData / assembleOcspResponse
 * (ocsp-fast.ts's encodeTbsResponseData / assembleOcspResponseFast are this writer for one-off
 * use): test/ocsp-fast.test.ts compares them and has `openssl ocsp` verify a response written here.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier } from './certificate.ts';
import { REVOCATION_REASON_CODES } from './crl.ts';
import { derSequence, derTlv } from './der.ts';
import { normalizeSerialHex } from './integer.ts';
import type { CertStatus, SingleResponseParams, TbsResponseDataParams } from './ocsp.ts';

const OID_NONCE = Buffer.from('06092b0601050507300102', 'hex');
const OID_BASIC = Buffer.from('06092b0601050507300101', 'hex');
/** CertID.hashAlgorithm with NULL parameters, as certIdOf writes it (RFC 6960 4.1.1). */
const HASH_ALG: Record<'sha1' | 'sha256', Buffer> = {
  sha1: Buffer.from('300906052b0e03021a0500', 'hex'),
  sha256: Buffer.from('300d06096086480165030402010500', 'hex'),
};
/** responseStatus successful (RFC 6960 4.2.1). */
const SUCCESSFUL = Buffer.from([0x0a, 0x01, 0x00]);
/** Largest ResponseData written without growing the scratch buffer (one CertID with a nonce is ~200 bytes). */
const SCRATCH_BYTES = 4096;

/** Length octets of a DER length (X.690 8.1.3.5, definite, minimal; contents under 16 MiB). */
const lengthSize = (n: number) => (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 4);
/** Bytes of a TLV with a one-byte tag around `n` content bytes. */
const tlvSize = (n: number) => 1 + lengthSize(n) + n;

/**
 * Copies `bytes` into `buf` at `p`; returns their length. Short parts (hashes, OIDs, times)
 * by a loop, which costs less than a call into TypedArray#set; long ones (a certificate) by set.
 */
function put(buf: Buffer, p: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 48) buf.set(bytes, p);
  else for (let i = 0; i < n; i++) buf[p + i] = bytes[i]!;
  return n;
}

/** Writes the bytes the hex digits of `hex` spell (an even count, as normalizeSerialHex gives) at `p`; returns their count. */
function putHex(buf: Buffer, p: number, hex: string): number {
  const n = hex.length >> 1;
  for (let i = 0; i < n; i++) buf[p + i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  return n;
}
/** The value of one lower-case hex digit (normalizeSerialHex's output has no other characters). */
const nibble = (c: number) => (c <= 0x39 ? c - 0x30 : c - 0x57);

/** Writes tag and length octets at `p`; returns the offset after them. */
function putHeader(buf: Buffer, p: number, tag: number, n: number): number {
  if (n >= 0x1000000) throw new CaError('OCSP_PARAMS_INVALID', 'OCSP response part over 16 MiB');
  buf[p++] = tag;
  if (n < 0x80) buf[p++] = n;
  else if (n < 0x100) {
    buf[p++] = 0x81;
    buf[p++] = n;
  } else if (n < 0x10000) {
    buf[p++] = 0x82;
    buf[p++] = n >> 8;
    buf[p++] = n & 0xff;
  } else {
    buf[p++] = 0x83;
    buf[p++] = n >> 16;
    buf[p++] = (n >> 8) & 0xff;
    buf[p++] = n & 0xff;
  }
  return p;
}

/** The GeneralizedTime TLV of whole seconds (RFC 5280 4.1.2.5.2), 17 bytes, made once per second. */
const timeBySecond = new Map<number, Buffer>();
/** The last two asked for (producedAt and thisUpdate/nextUpdate of the second being answered). */
let lastSecond = Number.NaN;
let lastTime: Buffer = Buffer.alloc(0);
let prevSecond = Number.NaN;
let prevTime = lastTime;
function generalizedTime(d: Date): Buffer {
  const second = Math.floor(d.getTime() / 1000);
  if (second === lastSecond) return lastTime;
  if (second === prevSecond) return prevTime;
  let t = timeBySecond.get(second);
  if (t === undefined) {
    const iso = new Date(second * 1000).toISOString(); // 2026-01-02T03:04:05.000Z
    const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
    t = derTlv(0x18, Buffer.from(digits, 'latin1'));
    if (timeBySecond.size >= 64) timeBySecond.clear(); // now, thisUpdate, nextUpdate, revocation times
    timeBySecond.set(second, t);
  }
  prevSecond = lastSecond;
  prevTime = lastTime;
  lastSecond = second;
  lastTime = t;
  return t;
}

/** certStatus (RFC 6960 4.2.1): good [0] NULL, revoked [1] RevokedInfo, unknown [2] NULL. */
const GOOD = Buffer.from([0x80, 0x00]);
const UNKNOWN = Buffer.from([0x82, 0x00]);
function statusBytes(s: CertStatus): Buffer {
  if (s.status === 'good') return GOOD;
  if (s.status === 'unknown') return UNKNOWN;
  const time = generalizedTime(s.revocationTime);
  if (s.reason === undefined) return derTlv(0xa1, time);
  const code = REVOCATION_REASON_CODES[s.reason];
  if (code === undefined) throw new CaError('OCSP_PARAMS_INVALID', `unknown revocation reason ${String(s.reason)}`);
  return derTlv(0xa1, Buffer.concat([time, Buffer.from([0xa0, 0x03, 0x0a, 0x01, code])]));
}

/** One SingleResponse's parts and sizes, measured before anything is written. */
interface Measured {
  r: SingleResponseParams;
  serialHex: string;
  certIdLength: number;
  status: Buffer;
  length: number;
}

function measure(r: SingleResponseParams): Measured {
  const id = r.certId;
  const serialHex = normalizeSerialHex(id.serialHex);
  const certIdLength =
    HASH_ALG[id.hashAlgorithm].length +
    tlvSize(id.issuerNameHash.length) +
    tlvSize(id.issuerKeyHash.length) +
    tlvSize(serialHex.length / 2);
  const status = statusBytes(r.status);
  // certID, certStatus, thisUpdate, [0] nextUpdate (RFC 6960 4.2.1; nextUpdate always set, RFC 5019 2.2.4).
  const length = tlvSize(certIdLength) + status.length + 17 + 19;
  return { r, serialHex, certIdLength, status, length };
}

function putSingleResponse(buf: Buffer, p: number, m: Measured): number {
  const id = m.r.certId;
  p = putHeader(buf, p, 0x30, m.length);
  p = putHeader(buf, p, 0x30, m.certIdLength);
  p += put(buf, p, HASH_ALG[id.hashAlgorithm]);
  p = putHeader(buf, p, 0x04, id.issuerNameHash.length);
  p += put(buf, p, id.issuerNameHash);
  p = putHeader(buf, p, 0x04, id.issuerKeyHash.length);
  p += put(buf, p, id.issuerKeyHash);
  p = putHeader(buf, p, 0x02, m.serialHex.length / 2);
  p += putHex(buf, p, m.serialHex);
  p += put(buf, p, m.status);
  p += put(buf, p, generalizedTime(m.r.thisUpdate));
  buf[p++] = 0xa0;
  buf[p++] = 17;
  return p + put(buf, p, generalizedTime(m.r.nextUpdate));
}

/**
 * The DER ResponseData of `p` (RFC 6960 4.2.1) with `responderId` written into `scratch.buf`
 * (grown when too small); the result is a view of it, valid until the next call.
 */
function responseDataInto(p: LiveResponseParams, responderId: Buffer, scratch: { buf: Buffer }): Buffer {
  if (p.responses.length === 0)
    throw new CaError('OCSP_PARAMS_INVALID', 'a response needs at least one SingleResponse');
  const nonce = p.nonce;
  if (nonce !== undefined && (nonce.length < 1 || nonce.length > 32))
    throw new CaError('OCSP_BAD_NONCE', 'a nonce of 1..32 octets (RFC 8954)');
  const measured = p.responses.map(measure);
  let responsesLength = 0;
  for (const m of measured) responsesLength += tlvSize(m.length);
  // responseExtensions [1] { SEQUENCE { SEQUENCE { id-pkix-ocsp-nonce, OCTET STRING { OCTET STRING nonce } } } }
  const nonceExt = nonce === undefined ? 0 : OID_NONCE.length + tlvSize(tlvSize(nonce.length));
  const extensions = nonce === undefined ? 0 : tlvSize(tlvSize(tlvSize(nonceExt)));
  const content = responderId.length + 17 + tlvSize(responsesLength) + extensions;
  if (scratch.buf.length < tlvSize(content)) scratch.buf = Buffer.alloc(tlvSize(content));
  const buf = scratch.buf;
  let q = putHeader(buf, 0, 0x30, content);
  q += put(buf, q, responderId);
  q += put(buf, q, generalizedTime(p.producedAt));
  q = putHeader(buf, q, 0x30, responsesLength);
  for (const m of measured) q = putSingleResponse(buf, q, m);
  if (nonce !== undefined) {
    q = putHeader(buf, q, 0xa1, tlvSize(tlvSize(nonceExt)));
    q = putHeader(buf, q, 0x30, tlvSize(nonceExt));
    q = putHeader(buf, q, 0x30, nonceExt);
    q += put(buf, q, OID_NONCE);
    q = putHeader(buf, q, 0x04, tlvSize(nonce.length));
    q = putHeader(buf, q, 0x04, nonce.length);
    q += put(buf, q, nonce);
  }
  return buf.subarray(0, q);
}

/** responderID [2] byKey KeyHash (RFC 6960 4.2.2.3): a SHA-1 hash, 20 octets. */
function responderIdByKey(responderKeyHash: Buffer): Buffer {
  if (responderKeyHash.length !== 20)
    throw new CaError(
      'OCSP_PARAMS_INVALID',
      `responderKeyHash is ${responderKeyHash.length} octets; a SHA-1 KeyHash is 20`,
    );
  return derTlv(0xa2, derTlv(0x04, responderKeyHash));
}

/** A fresh copy of the DER ResponseData of `p` (createTbsResponseData's bytes). */
export function responseDataDer(p: TbsResponseDataParams): Buffer {
  return Buffer.from(responseDataInto(p, responderIdByKey(p.responderKeyHash), { buf: Buffer.alloc(SCRATCH_BYTES) }));
}

const algorithmDers = new Map<SignatureAlgorithmName, Buffer>();

/** The signatureAlgorithm AlgorithmIdentifier of `alg`, encoded once. */
export function signatureAlgorithmDer(alg: SignatureAlgorithmName): Buffer {
  let der = algorithmDers.get(alg);
  if (!der) {
    der = Buffer.from(AsnConvert.serialize(signatureAlgorithmIdentifier(alg)));
    algorithmDers.set(alg, der);
  }
  return der;
}

/** `certs` [0] EXPLICIT SEQUENCE OF Certificate (RFC 6960 4.2.1), or nothing when there are none. */
export function certsPart(certs: Uint8Array[] = []): Buffer {
  return certs.length > 0 ? derTlv(0xa0, derSequence(...certs)) : Buffer.alloc(0);
}

/**
 * The OCSPResponse (successful, id-pkix-ocsp-basic, RFC 6960 4.2.1) around a signed ResponseData,
 * in one buffer of its exact size: `algorithm` and `certs` as signatureAlgorithmDer and
 * certsPart give them.
 */
export function responseDer(tbs: Uint8Array, algorithm: Buffer, signature: Uint8Array, certs: Buffer): Buffer {
  const bitString = tlvSize(signature.length + 1);
  const basic = tbs.length + algorithm.length + bitString + certs.length;
  const octets = tlvSize(basic);
  const responseBytes = OID_BASIC.length + tlvSize(octets);
  const explicit = tlvSize(responseBytes);
  const outer = SUCCESSFUL.length + tlvSize(explicit);
  const out = Buffer.allocUnsafe(tlvSize(outer));
  let q = putHeader(out, 0, 0x30, outer);
  q += put(out, q, SUCCESSFUL);
  q = putHeader(out, q, 0xa0, explicit);
  q = putHeader(out, q, 0x30, responseBytes);
  q += put(out, q, OID_BASIC);
  q = putHeader(out, q, 0x04, octets);
  q = putHeader(out, q, 0x30, basic);
  q += put(out, q, tbs);
  q += put(out, q, algorithm);
  q = putHeader(out, q, 0x03, signature.length + 1);
  out[q++] = 0x00; // no unused bits
  q += put(out, q, signature);
  q += put(out, q, certs);
  if (q !== out.length) throw new CaError('OCSP_PARAMS_INVALID', `responseDer wrote ${q} of ${out.length} bytes`);
  return out;
}

/** What a live answer varies in: the responder is the writer's. */
export type LiveResponseParams = Omit<TbsResponseDataParams, 'responderKeyHash'>;

/** Writes one responder's live OCSPResponses (see the header comment). */
export class LiveResponseWriter {
  private readonly responderId: Buffer;
  private readonly algorithm: Buffer;
  private readonly certs: Buffer;
  /** ResponseData is written here, signed, then copied into the response: reused between answers. */
  private readonly scratch = { buf: Buffer.alloc(SCRATCH_BYTES) };

  constructor(responderKeyHash: Buffer, alg: SignatureAlgorithmName, certs: Uint8Array[] = []) {
    this.responderId = responderIdByKey(responderKeyHash);
    this.algorithm = signatureAlgorithmDer(alg);
    this.certs = certsPart(certs);
  }

  /**
   * The OCSPResponse for `p`, its ResponseData signed by `signTbs` (the responder key's
   * signature over exactly those bytes, synchronously, DER as the algorithm wants).
   */
  write(p: LiveResponseParams, signTbs: (tbs: Buffer) => Uint8Array): Buffer {
    const tbs = responseDataInto(p, this.responderId, this.scratch);
    return responseDer(tbs, this.algorithm, signTbs(tbs), this.certs);
  }
}
