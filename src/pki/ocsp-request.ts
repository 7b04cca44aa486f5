/**
 * Reading OCSP requests (RFC 6960 4.1) from untrusted bytes, with RFC 8954 nonces. The online
 * responder reads the common shape with ocsp-fast.ts first and falls back to parseOcspRequest.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import type { Extension } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { id_pkix_ocsp_nonce, id_pkix_ocsp_response, OCSPRequest } from './ocsp-asn1.ts';
import { keyOfCertId, type CertIdKey } from './ocsp-cert-id.ts';
import { readDerElement } from './pem.ts';

export interface ParsedOcspRequest {
  certIds: CertIdKey[];
  /** The RFC 8954 nonce value (inside its OCTET STRING), when the request carries one. */
  nonce?: Buffer;
  /** A critical request or single-request extension this responder does not understand (RFC 6960 4.1.2 / 4.4). */
  hasUnsupportedCriticalExtension: boolean;
}

/** Extensions this responder understands: nonce (4.4.1) and AcceptableResponses (4.4.3). */
const UNDERSTOOD_REQUEST_EXTENSIONS = new Set([id_pkix_ocsp_nonce, id_pkix_ocsp_response]);

/** RFC 8954 2.1: Nonce ::= OCTET STRING(SIZE(1..32)). */
export const NONCE_MIN_OCTETS = 1;
export const NONCE_MAX_OCTETS = 32;

function malformedRequest(reason: string, cause?: unknown): CaError {
  return new CaError('OCSP_MALFORMED_REQUEST', `malformed OCSP request: ${reason}`, { cause, details: { reason } });
}

/**
 * The nonce inside extnValue (also read from responses): "the value of the nonce extension is
 * the DER encoding of an OCTET STRING" (RFC 8954 2.1).
 */
export function nonceOf(ext: Extension): Buffer {
  const v = new Uint8Array(ext.extnValue.buffer);
  let el;
  try {
    el = readDerElement(v, 0);
  } catch (e) {
    throw new CaError(
      'OCSP_BAD_NONCE',
      `nonce extension value is not a DER OCTET STRING: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  if (el.tag !== 0x04 || el.end !== v.length)
    throw new CaError('OCSP_BAD_NONCE', 'nonce extension value is not one DER OCTET STRING');
  const n = el.end - el.contentStart;
  if (n < NONCE_MIN_OCTETS || n > NONCE_MAX_OCTETS) {
    throw new CaError(
      'OCSP_BAD_NONCE',
      `nonce is ${n} octets; RFC 8954 allows ${NONCE_MIN_OCTETS} to ${NONCE_MAX_OCTETS}`,
      { details: { length: n } },
    );
  }
  return Buffer.from(v.subarray(el.contentStart, el.end));
}

/**
 * Parses an OCSPRequest (RFC 6960 4.1.1) from untrusted bytes.
 *
 * Throws CaError('OCSP_MALFORMED_REQUEST', reason) on anything that is not one well-formed DER
 * OCSPRequest: truncated, trailing bytes, BER-only forms (checked by re-encoding), a version
 * other than v1, an empty requestList, wrong hash lengths. A CertID whose hash is neither SHA-1
 * nor SHA-256 throws CaError('OCSP_UNSUPPORTED_HASH') (no key of ours could match it; RFC 6960
 * 2.3 lets the responder answer malformedRequest). A nonce outside 1..32 octets, or not wrapped
 * in its OCTET STRING, throws CaError('OCSP_BAD_NONCE') (RFC 8954 2.1). A request signature
 * (optionalSignature) is parsed but not checked: RFC 5019 2.1.2 lets responders ignore it.
 */
export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let req: OCSPRequest;
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30) throw malformedRequest('does not start with a SEQUENCE');
    if (outer.end !== buf.length)
      throw malformedRequest(`${buf.length - outer.end} trailing byte(s) after the OCSPRequest`);
    req = AsnConvert.parse(buf, OCSPRequest);
  } catch (e) {
    if (e instanceof CaError && e.code === 'OCSP_MALFORMED_REQUEST') throw e;
    throw malformedRequest(e instanceof Error ? e.message : String(e), e);
  }
  let reencoded: Buffer;
  try {
    reencoded = Buffer.from(AsnConvert.serialize(req));
  } catch (e) {
    throw malformedRequest(`cannot be re-encoded: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!reencoded.equals(buf)) throw malformedRequest('not DER: re-encoding the parsed request gives different bytes');

  const tbs = req.tbsRequest;
  if (tbs.version !== 0) throw malformedRequest(`version ${tbs.version} is not v1 (0)`);
  if (tbs.requestList.length === 0) throw malformedRequest('requestList is empty');
  const certIds = tbs.requestList.map((r) => keyOfCertId(r.reqCert));

  let nonce: Buffer | undefined;
  let hasUnsupportedCriticalExtension = false;
  const seen = new Set<string>();
  for (const ext of tbs.requestExtensions ?? []) {
    if (seen.has(ext.extnID)) throw malformedRequest(`extension ${ext.extnID} appears twice`);
    seen.add(ext.extnID);
    if (ext.extnID === id_pkix_ocsp_nonce) nonce = nonceOf(ext);
    else if (ext.critical && !UNDERSTOOD_REQUEST_EXTENSIONS.has(ext.extnID)) hasUnsupportedCriticalExtension = true;
  }
  for (const r of tbs.requestList) {
    for (const ext of r.singleRequestExtensions ?? []) if (ext.critical) hasUnsupportedCriticalExtension = true;
  }
  return { certIds, nonce, hasUnsupportedCriticalExtension };
}
