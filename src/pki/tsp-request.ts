/**
 * Time-stamp requests (RFC 3161 2.4.1): reading them strictly from untrusted bytes, and writing
 * them to ask a third-party TSA.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CaError, type ErrorCode } from '../errors.ts';
import { toArrayBuffer } from './certificate.ts';
import { DerError } from './der.ts';
import { bigintToInteger, integerToBigint } from './integer.ts';
import { readDerElement } from './pem.ts';
import {
  HASH_LENGTHS,
  hashOfOid,
  MessageImprint,
  TimeStampReq,
  WEAK_HASHES,
  type PkiFailureInfo,
  type TspHashAlgorithm,
} from './tsp-asn1.ts';
import { checkImprint, hashAlgorithmIdentifier, OID_PATTERN, paramsError, serialize } from './tsp-der.ts';

export interface ParsedTimeStampReq {
  version: 1;
  hashAlgorithm: TspHashAlgorithm;
  /** The hashedMessage, as the requester sent it. */
  messageImprint: Buffer;
  /**
   * Whether the requester wrote the hash AlgorithmIdentifier with NULL parameters (OpenSSL does).
   * Pass it on to TstInfoParams: RFC 3161 2.4.2 "messageImprint ... MUST have the same value as
   * the similar field in TimeStampReq".
   */
  hashAlgorithmNullParameters: boolean;
  reqPolicy?: string;
  nonce?: bigint;
  certReq: boolean;
}

/** A CaError whose details carry the PKIFailureInfo a TSA answers with (timeStampRejection). */
function requestError(
  code: ErrorCode,
  failInfo: PkiFailureInfo,
  reason: string,
  cause?: unknown,
  details: Record<string, unknown> = {},
): CaError {
  const prefix = code === 'TSP_MALFORMED_REQUEST' ? 'malformed time-stamp request: ' : '';
  return new CaError(code, `${prefix}${reason}`, { cause, details: { reason, failInfo, ...details } });
}

/** The request parsed, refused (badDataFormat) unless it is one SEQUENCE of DER that re-encodes to the same bytes. */
function parseDerTimeStampReq(buf: Buffer): TimeStampReq {
  let req: TimeStampReq;
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30) throw new DerError('does not start with a SEQUENCE');
    if (outer.end !== buf.length)
      throw new DerError(`${buf.length - outer.end} trailing byte(s) after the TimeStampReq`);
    req = AsnConvert.parse(buf, TimeStampReq);
  } catch (e) {
    throw requestError('TSP_MALFORMED_REQUEST', 'badDataFormat', e instanceof Error ? e.message : String(e), e);
  }
  let reencoded: Buffer;
  try {
    reencoded = serialize(req);
  } catch (e) {
    throw requestError(
      'TSP_MALFORMED_REQUEST',
      'badDataFormat',
      `cannot be re-encoded: ${e instanceof Error ? e.message : String(e)}`,
      e,
    );
  }
  if (!reencoded.equals(buf))
    throw requestError(
      'TSP_MALFORMED_REQUEST',
      'badDataFormat',
      'not DER: re-encoding the parsed request gives different bytes',
    );
  return req;
}

/**
 * Parses a TimeStampReq (RFC 3161 2.4.1) from untrusted bytes.
 *
 * Throws CaError('TSP_MALFORMED_REQUEST', reason) on anything that is not one well-formed DER
 * TimeStampReq v1: truncated, trailing bytes, BER-only forms (checked by re-encoding; e.g. an
 * explicit certReq FALSE), or an imprint whose length does not fit its hash. Throws
 * CaError('TSP_UNSUPPORTED_HASH') for SHA-1, MD5 or any hash other than SHA-256/384/512, or
 * hash parameters other than absent/NULL. Throws CaError('TSP_UNACCEPTED_EXTENSION') for any
 * request extension: "If an extension, whether it is marked critical or not critical, is used
 * by a requester but is not recognized by a time-stamping server, the server SHALL not issue a
 * token and SHALL return a failure (unacceptedExtension)" (RFC 3161 2.4.1); this TSA
 * recognizes none. Every error's `details.failInfo` is the PKIFailureInfo to answer with.
 */
export function parseTimeStampReq(der: Uint8Array): ParsedTimeStampReq {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const req = parseDerTimeStampReq(buf);
  if (req.version !== 1)
    throw requestError('TSP_MALFORMED_REQUEST', 'badRequest', `version ${req.version} is not v1 (1)`);

  const alg = req.messageImprint.hashAlgorithm;
  const hashAlgorithm = hashOfOid(alg.algorithm);
  if (!hashAlgorithm) {
    const weak = WEAK_HASHES[alg.algorithm];
    const why = weak ? `${weak} is not accepted` : `hash algorithm ${alg.algorithm} is not supported`;
    throw requestError('TSP_UNSUPPORTED_HASH', 'badAlg', `${why} (SHA-256, SHA-384 and SHA-512 are)`, undefined, {
      oid: alg.algorithm,
    });
  }
  // The parser gives `null` for NULL parameters, undefined when absent, the raw DER otherwise.
  const params = alg.parameters;
  const hashAlgorithmNullParameters =
    params === null || (params instanceof ArrayBuffer && Buffer.from(params).equals(Buffer.from([0x05, 0x00])));
  // RFC 5754 2: implementations MUST accept absent and NULL parameters; nothing else is defined.
  if (params !== undefined && !hashAlgorithmNullParameters) {
    throw requestError(
      'TSP_UNSUPPORTED_HASH',
      'badAlg',
      `${hashAlgorithm} AlgorithmIdentifier has parameters other than NULL`,
      undefined,
      { oid: alg.algorithm },
    );
  }
  const messageImprint = Buffer.from(req.messageImprint.hashedMessage.buffer);
  if (messageImprint.length !== HASH_LENGTHS[hashAlgorithm]) {
    throw requestError(
      'TSP_MALFORMED_REQUEST',
      'badDataFormat',
      `hashedMessage is ${messageImprint.length} octets; ${hashAlgorithm} gives ${HASH_LENGTHS[hashAlgorithm]}`,
    );
  }
  if (req.extensions && req.extensions.length > 0) {
    const oids = req.extensions.map((e) => e.extnID);
    throw requestError(
      'TSP_UNACCEPTED_EXTENSION',
      'unacceptedExtension',
      `request extension(s) ${oids.join(', ')} not recognized (RFC 3161 2.4.1)`,
      undefined,
      { oids },
    );
  }
  if (req.nonce !== undefined && req.nonce.byteLength === 0)
    throw requestError('TSP_MALFORMED_REQUEST', 'badDataFormat', 'nonce INTEGER is empty');
  return {
    version: 1,
    hashAlgorithm,
    messageImprint,
    hashAlgorithmNullParameters,
    reqPolicy: req.reqPolicy,
    nonce: req.nonce === undefined ? undefined : integerToBigint(new Uint8Array(req.nonce)),
    certReq: req.certReq,
  };
}

/**
 * Builds a TimeStampReq v1 (RFC 3161 2.4.1), e.g. to ask a third-party TSA to stamp a record.
 * The hash AlgorithmIdentifier has absent parameters (RFC 5754 2).
 */
export function createTimeStampReq(p: {
  hashAlgorithm: TspHashAlgorithm;
  messageImprint: Buffer;
  nonce?: bigint;
  certReq?: boolean;
  reqPolicy?: string;
}): Buffer {
  checkImprint(p.hashAlgorithm, p.messageImprint);
  if (p.reqPolicy !== undefined && !OID_PATTERN.test(p.reqPolicy))
    throw paramsError(`reqPolicy "${p.reqPolicy}" is not an OBJECT IDENTIFIER`);
  const req = new TimeStampReq({
    messageImprint: new MessageImprint({
      hashAlgorithm: hashAlgorithmIdentifier(p.hashAlgorithm),
      hashedMessage: new OctetString(p.messageImprint),
    }),
    reqPolicy: p.reqPolicy,
    nonce: p.nonce === undefined ? undefined : toArrayBuffer(bigintToInteger(p.nonce)),
    certReq: p.certReq ?? false,
  });
  return serialize(req);
}
