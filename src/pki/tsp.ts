/**
 * Time-stamping (R-8.3, CPS 5.5.5): RFC 3161 time-stamp requests, tokens and responses, with
 * the RFC 5816 ESSCertIDv2 signing-certificate attribute, inside RFC 5652 CMS SignedData. The
 * one import for callers; the parts live by what they do: tsp-asn1.ts (identifiers and
 * structures, from @peculiar/asn1-tsp), tsp-der.ts (DER pieces), tsp-request.ts (requests),
 * tsp-token.ts (tokens and responses as this TSA writes them), tsp-read.ts (reading them) and
 * tsp-verify.ts (checking a token).
 *
 * Pure: no clock, randomness, files or network; genTime and serial numbers are passed in.
 */
export * from './tsp-asn1.ts';
export { parseTimeStampReq, createTimeStampReq, type ParsedTimeStampReq } from './tsp-request.ts';
export {
  assembleTimeStampToken,
  createTimeStampToBeSigned,
  createTstInfo,
  timeStampRejection,
  timeStampResponse,
  type TstInfoParams,
} from './tsp-token.ts';
export {
  parseTimeStampResp,
  parseTimeStampToken,
  type ParsedTimeStampResp,
  type ParsedTimeStampToken,
} from './tsp-read.ts';
export { verifyTimeStampToken } from './tsp-verify.ts';
