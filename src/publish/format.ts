/**
 * The publication file (R-2.4, DESIGN "Between them"): what the offline side hands the online
 * side on removable media. One JSON document:
 *
 *   { "manifest": "<canonical JSON text of Manifest>",          <- exactly the bytes signed
 *     "signatureAlgorithm": "ecdsa-with-SHA384",
 *     "signature": "<base64 signature over the UTF-8 manifest text>",
 *     "files": { "<path>": "<base64 bytes>", … } }
 *
 * The manifest names every file with its SHA-256, size, media type and what it is; it is
 * signed by a root's publication key (the `signer`: the root and the path of the publication
 * certificate the root issued, profile `publication`), never by a root key itself (BR 6.1.7;
 * issue 15). The online side verifies the signer's chain to a trust anchor it was configured
 * with, the signature, every digest, every CRL and OCSP response against its CA, and that the
 * version only moves forward; anything failing is refused whole.
 *
 * Format 1 (before issue 15) was signed by a root key directly: never imported again, only a
 * copy imported before stays served until a format-2 publication replaces it (verify.ts).
 */
import type { RevocationReason } from '../pki/crl.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';

export const PUBLICATION_FORMAT = 'rootca-publication/2';
/** The format signed by a root key directly (before issue 15): served only when imported before. */
export const ROOT_SIGNED_PUBLICATION_FORMAT = 'rootca-publication/1';

export type ItemKind = 'ca-certificate' | 'crl' | 'ocsp-response' | 'certificate' | 'document';

export interface CaCertificateMeta {
  subject: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, hex. */
  fingerprint: string;
  /**
   * The CA's state (cas.status): 'compromised' after a CA-key compromise (CPS 5.7.3),
   * 'terminated' after termination (CPS 5.8); the Repository shows it beside the CA.
   */
  status: CaStatus;
}
export type CaStatus = 'active' | 'terminated' | 'compromised';
export interface CrlMeta {
  crlNumber: string; // decimal
  thisUpdate: string;
  nextUpdate: string;
}
export interface OcspResponseMeta {
  serialHex: string;
  /** certIdLookupKey() of the one CertID this response answers (its hash algorithm matches the request's). */
  certIdKey: string;
  hashAlgorithm: 'sha1' | 'sha256';
  status: 'good' | 'revoked';
  thisUpdate: string;
  nextUpdate: string;
}
export interface CertificateMeta {
  serialHex: string;
  subject: string;
  profile: string;
  notBefore: string;
  notAfter: string;
  status: 'good' | 'revoked';
  revokedAt?: string;
  reason?: RevocationReason;
}
/**
 * A CPS or CP (R-10.1; CPS 2.2, 9.12). Each document name has up to three kinds of item:
 *  - 'version' (the default when `role` is absent): the exact text of one version, as approved;
 *  - 'latest': the same bytes as the newest version, at a URL that does not change;
 *  - 'history': the version history (version, date, kind of amendment, description, SHA-256).
 */
export interface DocumentMeta {
  title: string;
  /** Of this version; for 'latest' and 'history', the newest version. */
  version: string;
  role?: DocumentRole;
  /** When the version was published (its amendment recorded; CPS 9.12.1). */
  publishedAt?: string;
  /** A critical amendment raises the major version, a non-critical one the minor (CPS 9.12.1). */
  critical?: boolean;
  description?: string;
  /** End of the one-week claim period (CPS 9.12.2). */
  claimsUntil?: string;
}
export type DocumentRole = 'version' | 'latest' | 'history';

export interface PublicationItem {
  /** Relative path, also the URL path on the Repository (e.g. `certs/rootca2.crt`, `crl/rootca2.crl`). */
  path: string;
  kind: ItemKind;
  mediaType: string;
  sha256: string;
  size: number;
  /** The CA it belongs to (for everything but documents). */
  ca?: string;
  meta: CaCertificateMeta | CrlMeta | OcspResponseMeta | CertificateMeta | DocumentMeta;
}

export interface Manifest {
  format: typeof PUBLICATION_FORMAT | typeof ROOT_SIGNED_PUBLICATION_FORMAT;
  installation: string;
  /** Strictly increasing per installation: an older or equal version is refused on import. */
  version: number;
  createdAt: string;
  /** Repository base URL the certificates name in CRL DP / AIA. */
  baseUrl: string;
  /**
   * The root whose publication key signed this manifest and the path in `files` of that key's
   * certificate, an issued certificate of the root (issued/CA/SERIAL.crt). Format 1: the root's
   * own certificate (certs/CA.crt).
   */
  signer: { ca: string; certificatePath: string };
  /** The CAs, each with its certificate path and current CRL path. */
  cas: { name: string; certificatePath: string; crlPath: string | null }[];
  items: PublicationItem[];
}

export interface PublicationFile {
  manifest: string;
  signatureAlgorithm: SignatureAlgorithmName;
  signature: string;
  files: Record<string, string>;
}

/** Media types (RFC 2585, RFC 6960). */
export const MEDIA_TYPES = {
  certificate: 'application/pkix-cert',
  crl: 'application/pkix-crl',
  ocsp: 'application/ocsp-response',
  markdown: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
} as const;

/** Where each artefact lives in a publication and on the Repository. */
export const PATHS = {
  caCertificate: (ca: string) => `certs/${ca}.crt`,
  crl: (ca: string) => `crl/${ca}.crl`,
  /** The CRL a key retired at a re-key signs for what it issued (CPS 5.6), named by the key. */
  previousKeyCrl: (keyId: string) => `crl/${keyId}.crl`,
  certificate: (ca: string, serialHex: string) => `issued/${ca}/${serialHex}.crt`,
  ocspResponse: (ca: string, serialHex: string, hash: 'sha1' | 'sha256') => `ocsp/${ca}/${serialHex}.${hash}.der`,
  document: (name: string, version: string) => `docs/${name}-v${version}.md`,
  documentLatest: (name: string) => `docs/${name}.md`,
  documentHistory: (name: string) => `docs/${name}-history.md`,
} as const;

/** Orders document versions ("5.12" < "6.00"); numerically by part, then as text. */
export function compareDocumentVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number(x));
  const pb = b.split('.').map((x) => Number(x));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (!Number.isNaN(d) && d !== 0) return d;
  }
  return a.localeCompare(b);
}

/** Where a document item lives, by its role. */
export function documentPath(name: string, meta: DocumentMeta): string {
  const role = meta.role ?? 'version';
  if (role === 'latest') return PATHS.documentLatest(name);
  if (role === 'history') return PATHS.documentHistory(name);
  return PATHS.document(name, meta.version);
}
