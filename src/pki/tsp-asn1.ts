/**
 * The ASN.1 of time-stamping: object identifiers, the RFC 3161 structures (from
 * @peculiar/asn1-tsp, the same family as the other asn1 packages here) and the RFC 5035 ESS
 * signing-certificate structures, which no @peculiar package provides and are kept here. RFC 3161
 * Appendix C uses IMPLICIT TAGS; RFC 5035's structures below carry no tags.
 */
import { AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, GeneralNames } from '@peculiar/asn1-x509';

export { Accuracy, MessageImprint, PKIStatusInfo, TimeStampReq, TSTInfo } from '@peculiar/asn1-tsp';

// ---------------------------------------------------------------------------------------------
// Object identifiers

/** id-signedData (RFC 5652 5.1). */
export const id_signedData = '1.2.840.113549.1.7.2';
/** id-ct-TSTInfo (RFC 3161 2.4.2): the eContentType of a TimeStampToken. */
export const id_ct_TSTInfo = '1.2.840.113549.1.9.16.1.4';
/** id-contentType, id-messageDigest, id-signingTime (RFC 5652 11.1, 11.2, 11.3). */
export const id_contentType = '1.2.840.113549.1.9.3';
export const id_messageDigest = '1.2.840.113549.1.9.4';
export const id_signingTime = '1.2.840.113549.1.9.5';
/** id-aa-signingCertificate (RFC 2634 5.4) and id-aa-signingCertificateV2 (RFC 5035 3). */
export const id_aa_signingCertificate = '1.2.840.113549.1.9.16.2.12';
export const id_aa_signingCertificateV2 = '1.2.840.113549.1.9.16.2.47';
/** id-sha1 (RFC 3279 2.2.1), id-md5 (RFC 1321): refused in requests (SHA-1 is legacy only, R-1.3). */
export const id_sha1 = '1.3.14.3.2.26';
export const id_md5 = '1.2.840.113549.2.5';
/** id-sha256, id-sha384, id-sha512 (RFC 5754 2). */
export const id_sha256 = '2.16.840.1.101.3.4.2.1';
export const id_sha384 = '2.16.840.1.101.3.4.2.2';
export const id_sha512 = '2.16.840.1.101.3.4.2.3';

/** The hashes a message imprint may use. */
export type TspHashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** The OIDs of the hashes accepted in imprints and digests. */
export const HASH_OIDS: Record<TspHashAlgorithm, string> = { sha256: id_sha256, sha384: id_sha384, sha512: id_sha512 };
/** Their output lengths in octets. */
export const HASH_LENGTHS: Record<TspHashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };
/** Hashes refused by name (RFC 5816 and CPS: no SHA-1 or MD5 imprints). */
export const WEAK_HASHES: Record<string, string> = { [id_sha1]: 'SHA-1', [id_md5]: 'MD5', '1.2.840.113549.2.2': 'MD2' };

/** The accepted hash an OID names, if any. */
export function hashOfOid(oid: string): TspHashAlgorithm | undefined {
  return (Object.keys(HASH_OIDS) as TspHashAlgorithm[]).find((h) => HASH_OIDS[h] === oid);
}

// ---------------------------------------------------------------------------------------------
// ESS signing-certificate structures (RFC 5035 3, 5)

/**
 * IssuerSerial ::= SEQUENCE {
 *     issuer                   GeneralNames,
 *     serialNumber             CertificateSerialNumber }
 */
export class IssuerSerial {
  @AsnProp({ type: GeneralNames })
  public issuer = new GeneralNames();
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  public serialNumber = new ArrayBuffer(0);
  constructor(params: Partial<IssuerSerial> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ESSCertIDv2 ::=  SEQUENCE {
 *     hashAlgorithm           AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *     certHash                 Hash,
 *     issuerSerial             IssuerSerial OPTIONAL }
 * (An absent hashAlgorithm means SHA-256.)
 */
export class ESSCertIDv2 {
  @AsnProp({ type: AlgorithmIdentifier, optional: true })
  public hashAlgorithm?: AlgorithmIdentifier;
  @AsnProp({ type: OctetString })
  public certHash = new OctetString();
  @AsnProp({ type: IssuerSerial, optional: true })
  public issuerSerial?: IssuerSerial;
  constructor(params: Partial<ESSCertIDv2> = {}) {
    Object.assign(this, params);
  }
}

/**
 * SigningCertificateV2 ::=  SEQUENCE {
 *     certs        SEQUENCE OF ESSCertIDv2,
 *     policies     SEQUENCE OF PolicyInformation OPTIONAL }
 */
export class SigningCertificateV2 {
  @AsnProp({ type: ESSCertIDv2, repeated: 'sequence' })
  public certs: ESSCertIDv2[] = [];
  @AsnProp({ type: AsnPropTypes.Any, repeated: 'sequence', optional: true })
  public policies?: ArrayBuffer[];
  constructor(params: Partial<SigningCertificateV2> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ESSCertID ::=  SEQUENCE {
 *     certHash                 Hash,          -- SHA-1 of the certificate
 *     issuerSerial             IssuerSerial OPTIONAL }
 * Read only (tokens from other TSAs); this module writes ESSCertIDv2.
 */
export class ESSCertID {
  @AsnProp({ type: OctetString })
  public certHash = new OctetString();
  @AsnProp({ type: IssuerSerial, optional: true })
  public issuerSerial?: IssuerSerial;
  constructor(params: Partial<ESSCertID> = {}) {
    Object.assign(this, params);
  }
}

/**
 * SigningCertificate ::=  SEQUENCE {
 *     certs        SEQUENCE OF ESSCertID,
 *     policies     SEQUENCE OF PolicyInformation OPTIONAL }
 */
export class SigningCertificate {
  @AsnProp({ type: ESSCertID, repeated: 'sequence' })
  public certs: ESSCertID[] = [];
  @AsnProp({ type: AsnPropTypes.Any, repeated: 'sequence', optional: true })
  public policies?: ArrayBuffer[];
  constructor(params: Partial<SigningCertificate> = {}) {
    Object.assign(this, params);
  }
}

/**
 * PKIStatus ::= INTEGER {
 *     granted (0), grantedWithMods (1), rejection (2), waiting (3),
 *     revocationWarning (4), revocationNotification (5) }
 */
export const PKI_STATUS = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;

/**
 * PKIFailureInfo ::= BIT STRING {
 *     badAlg (0), badRequest (2), badDataFormat (5), timeNotAvailable (14),
 *     unacceptedPolicy (15), unacceptedExtension (16), addInfoNotAvailable (17),
 *     systemFailure (25) }
 */
export const PKI_FAILURE_INFO_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type PkiFailureInfo = keyof typeof PKI_FAILURE_INFO_BITS;
