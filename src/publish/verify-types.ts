/**
 * What a verified publication holds: the lookup structures the Repository and the OCSP
 * responder serve from (publish/verify.ts builds them).
 */
import type { CertificateInfo } from '../pki/certificate-info.ts';
import type { ParsedCrl } from '../pki/crl.ts';
import type { CertStatus } from '../pki/ocsp.ts';
import type {
  CaCertificateMeta,
  CertificateMeta,
  CrlMeta,
  DocumentMeta,
  DocumentRole,
  Manifest,
  OcspResponseMeta,
  PublicationItem,
} from './format.ts';

/** The issuer hashes of one CertID hash algorithm (RFC 6960 4.1.1). */
export interface IssuerHashes {
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
}

/** A published CA (a root: every published CA is a trust anchor). */
export interface VerifiedCa {
  name: string;
  der: Buffer;
  info: CertificateInfo;
  /** Subject Name DER, exactly as encoded. */
  subjectDer: Buffer;
  spkiDer: Buffer;
  meta: CaCertificateMeta;
  certificatePath: string;
  crlPath: string | null;
  /** responderID byKey of responses the CA signs itself: SHA-1 of its subjectPublicKey (RFC 6960 4.2.2.3). */
  keyHash: Buffer;
  /** For recognising requests about this issuer, also for serials it never issued. */
  hashes: Record<'sha1' | 'sha256', IssuerHashes>;
  /**
   * Keys the CA used before a re-key, each as certified by a verified OldWithNew link: its
   * certificates, CertIDs (issuerKeyHash) and pre-signed responses name that key (CPS 5.6).
   */
  previousKeys: PreviousKey[];
}

/** An earlier key of a re-keyed CA. */
export interface PreviousKey {
  /** The OldWithNew link certificate: the CA's Name with the earlier key. */
  link: CertificateInfo;
  keyHash: Buffer;
  hashes: Record<'sha1' | 'sha256', IssuerHashes>;
}

/** A verified link certificate of a re-keyed CA (RFC 4210 4.4). */
export interface VerifiedLink {
  ca: string;
  path: string;
  kind: 'old-with-new' | 'new-with-old';
  der: Buffer;
  info: CertificateInfo;
  meta: CaCertificateMeta;
}

export interface VerifiedCrl {
  ca: string;
  path: string;
  der: Buffer;
  meta: CrlMeta;
  parsed: ParsedCrl;
  /** Set on a CRL signed by an earlier key of a re-keyed CA (not the CA's current CRL). */
  previousKey?: PreviousKey;
}

export interface VerifiedOcspResponse {
  ca: string;
  path: string;
  der: Buffer;
  meta: OcspResponseMeta;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date;
  sha256: string;
}

export interface VerifiedCertificate {
  ca: string;
  path: string;
  der: Buffer;
  meta: CertificateMeta;
  info: CertificateInfo;
}

export interface VerifiedDocument {
  path: string;
  /** The document's name as the path spells it (`docs/<name>-v<version>.md`, `docs/<name>.md`, `docs/<name>-history.md`). */
  name: string;
  role: DocumentRole;
  meta: DocumentMeta;
  text: string;
  sha256: string;
}

export interface VerifiedPublication {
  manifest: Manifest;
  /** SHA-256 of the whole publication file, hex. */
  sha256: string;
  /** Every file by its path (also its URL path on the Repository). */
  files: Map<string, Buffer>;
  /** Every manifest item by its path. */
  items: Map<string, PublicationItem>;
  /** Pre-signed OCSP responses by certIdLookupKey(). */
  index: Map<string, VerifiedOcspResponse>;
  /** Issued certificates: CA name -> normalized serial hex -> certificate. */
  certificates: Map<string, Map<string, VerifiedCertificate>>;
  /** The CAs by name, in manifest order. */
  cas: Map<string, VerifiedCa>;
  /** Link certificates of re-keyed CAs, OldWithNew first. */
  links: VerifiedLink[];
  /** A CA by `${hashAlgorithm}:${issuerNameHashHex}:${issuerKeyHashHex}` (the issuer part of a certIdLookupKey). */
  issuers: Map<string, VerifiedCa>;
  /** The current CRL of each CA that has one. */
  crls: Map<string, VerifiedCrl>;
  /** CRLs signed by earlier keys of re-keyed CAs, for relying parties holding an old root. */
  previousKeyCrls: VerifiedCrl[];
  documents: VerifiedDocument[];
}

export interface VerifyOptions {
  /** DER root certificates the online side was configured with. */
  trustAnchors: Buffer[];
  /** The version currently held; the new one must be greater. */
  previousVersion?: number;
  now: Date;
  /**
   * Re-verifying a copy imported before (the store's, the last-publication cache's): a format-1
   * publication signed by a root directly, from before issue 15, is still served until a newer
   * one replaces it. Never set on import.
   */
  acceptRootSigned?: boolean;
}

/** The issuer part of a CertID lookup key. */
export function issuerKeyOf(hashAlgorithm: 'sha1' | 'sha256', issuerNameHash: Buffer, issuerKeyHash: Buffer): string {
  return `${hashAlgorithm}:${issuerNameHash.toString('hex')}:${issuerKeyHash.toString('hex')}`;
}
