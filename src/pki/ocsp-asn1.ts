/**
 * The ASN.1 of OCSP (RFC 6960 Appendix B.1, EXPLICIT TAGS): object identifiers, and the
 * structures, taken from @peculiar/asn1-ocsp (the same family as the other asn1 packages here)
 * except the four request types below.
 *
 * Kept here: Request, because @peculiar/asn1-ocsp 2.6.1 declares singleRequestExtensions
 * without its [0] tag, so a real request carrying one would not parse; TBSRequest and
 * OCSPRequest, which must name that Request; and Signature, whose certs stay opaque DER
 * (AsnPropTypes.Any) so an optional request signature is never refused for a certificate inside
 * it (RFC 5019 2.1.2 lets responders ignore the signature). A `context` without `implicit` below
 * is an explicit tag.
 */
import { AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension, GeneralName } from '@peculiar/asn1-x509';
import { CertID } from '@peculiar/asn1-ocsp';

export {
  BasicOCSPResponse,
  CertID,
  CertStatus as CertStatusChoice,
  OCSPResponse,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';

// ---------------------------------------------------------------------------------------------
// Object identifiers (RFC 6960 4.4, Appendix B; RFC 8954)

/** id-pkix-ocsp (RFC 6960 4.4). */
export const id_pkix_ocsp = '1.3.6.1.5.5.7.48.1';
/** id-pkix-ocsp-basic: the only response type this responder produces (RFC 6960 4.2.1). */
export const id_pkix_ocsp_basic = `${id_pkix_ocsp}.1`;
/** id-pkix-ocsp-nonce (RFC 6960 4.4.1, RFC 8954). */
export const id_pkix_ocsp_nonce = `${id_pkix_ocsp}.2`;
/** id-pkix-ocsp-response, AcceptableResponses (RFC 6960 4.4.3). */
export const id_pkix_ocsp_response = `${id_pkix_ocsp}.4`;
/** id-sha1 (RFC 3279 2.2.1) and id-sha256 (RFC 5754 2.2): the CertID hashes answered. */
export const id_sha1 = '1.3.14.3.2.26';
export const id_sha256 = '2.16.840.1.101.3.4.2.1';

// ---------------------------------------------------------------------------------------------
// Request structures (RFC 6960 4.1.1)

/**
 * Request ::= SEQUENCE {
 *     reqCert                     CertID,
 *     singleRequestExtensions     [0] EXPLICIT Extensions OPTIONAL }
 */
export class Request {
  @AsnProp({ type: CertID })
  public reqCert = new CertID();
  @AsnProp({ type: Extension, context: 0, repeated: 'sequence', optional: true })
  public singleRequestExtensions?: Extension[];
  constructor(params: Partial<Request> = {}) {
    Object.assign(this, params);
  }
}

/**
 * TBSRequest ::= SEQUENCE {
 *     version             [0]     EXPLICIT Version DEFAULT v1,
 *     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
 *     requestList                 SEQUENCE OF Request,
 *     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
 */
export class TBSRequest {
  @AsnProp({ type: AsnPropTypes.Integer, context: 0, defaultValue: 0 })
  public version = 0;
  @AsnProp({ type: GeneralName, context: 1, optional: true })
  public requestorName?: GeneralName;
  @AsnProp({ type: Request, repeated: 'sequence' })
  public requestList: Request[] = [];
  @AsnProp({ type: Extension, context: 2, repeated: 'sequence', optional: true })
  public requestExtensions?: Extension[];
  constructor(params: Partial<TBSRequest> = {}) {
    Object.assign(this, params);
  }
}

/**
 * Signature ::= SEQUENCE {
 *     signatureAlgorithm      AlgorithmIdentifier,
 *     signature               BIT STRING,
 *     certs               [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * Certificates are kept as opaque DER elements (AsnPropTypes.Any).
 */
export class Signature {
  @AsnProp({ type: AlgorithmIdentifier })
  public signatureAlgorithm = new AlgorithmIdentifier();
  @AsnProp({ type: AsnPropTypes.BitString })
  public signature = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.Any, context: 0, repeated: 'sequence', optional: true })
  public certs?: ArrayBuffer[];
  constructor(params: Partial<Signature> = {}) {
    Object.assign(this, params);
  }
}

/**
 * OCSPRequest ::= SEQUENCE {
 *     tbsRequest                  TBSRequest,
 *     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
 */
export class OCSPRequest {
  @AsnProp({ type: TBSRequest })
  public tbsRequest = new TBSRequest();
  @AsnProp({ type: Signature, context: 0, optional: true })
  public optionalSignature?: Signature;
  constructor(params: Partial<OCSPRequest> = {}) {
    Object.assign(this, params);
  }
}

/**
 * OCSPResponseStatus ::= ENUMERATED {
 *     successful (0), malformedRequest (1), internalError (2), tryLater (3),
 *     -- (4) is not used
 *     sigRequired (5), unauthorized (6) }
 */
export const OCSP_RESPONSE_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;
export type OcspResponseStatusName = keyof typeof OCSP_RESPONSE_STATUS;
