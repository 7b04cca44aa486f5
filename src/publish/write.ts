/**
 * Assembling a publication file from what the offline side holds. Pure: the caller gathers
 * the artefacts and supplies the signing function (one activation of the publication key).
 */
import { createHash } from 'node:crypto';
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import {
  documentPath,
  MEDIA_TYPES,
  PATHS,
  PUBLICATION_FORMAT,
  type CaCertificateMeta,
  type CertificateMeta,
  type CrlMeta,
  type DocumentMeta,
  type Manifest,
  type OcspResponseMeta,
  type PublicationFile,
  type PublicationItem,
} from './format.ts';

export interface PublicationInput {
  installation: string;
  version: number;
  createdAt: Date;
  baseUrl: string;
  signerCa: string;
  /** The serial (hex) of the signer's publication certificate, one of `certificates` of `signerCa`. */
  signerSerialHex: string;
  cas: {
    name: string;
    certificateDer: Uint8Array;
    meta: CaCertificateMeta;
    crl?: { der: Uint8Array; meta: CrlMeta };
  }[];
  /**
   * Link certificates of re-keyed CAs (RFC 4210 4.4; CPS 5.6): OldWithNew and NewWithOld,
   * published as further ca-certificate items of their CA at `path` (e.g.
   * certs/NAME-oldwithnew.crt), so relying parties holding either root can build a path.
   */
  links?: { ca: string; path: string; der: Uint8Array; meta: CaCertificateMeta }[];
  /** CRLs signed by a re-keyed CA's retired key, for relying parties holding only the old root (CPS 5.6). */
  previousKeyCrls?: { ca: string; path: string; der: Uint8Array; meta: CrlMeta }[];
  certificates: { ca: string; der: Uint8Array; meta: CertificateMeta }[];
  ocspResponses: { ca: string; der: Uint8Array; meta: OcspResponseMeta }[];
  documents: { name: string; text: string; meta: DocumentMeta }[];
}

export type ManifestSigner = (
  manifestBytes: Buffer,
) => Promise<{ algorithm: SignatureAlgorithmName; signature: Uint8Array }>;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The manifest and files, before signing. */
export function buildManifest(p: PublicationInput): { manifest: Manifest; files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  const items: PublicationItem[] = [];
  const add = (
    path: string,
    bytes: Uint8Array,
    kind: PublicationItem['kind'],
    mediaType: string,
    meta: PublicationItem['meta'],
    ca?: string,
  ) => {
    if (files.has(path)) throw new CaError('PUBLICATION_INPUT_INVALID', `publication path ${path} twice`);
    files.set(path, Buffer.from(bytes));
    items.push({ path, kind, mediaType, sha256: sha256(bytes), size: bytes.length, ...(ca ? { ca } : {}), meta });
  };
  if (!p.cas.some((c) => c.name === p.signerCa))
    throw new CaError('PUBLICATION_INPUT_INVALID', `signer ${p.signerCa} is not among the published CAs`);
  for (const c of p.cas) {
    add(PATHS.caCertificate(c.name), c.certificateDer, 'ca-certificate', MEDIA_TYPES.certificate, c.meta, c.name);
    if (c.crl) add(PATHS.crl(c.name), c.crl.der, 'crl', MEDIA_TYPES.crl, c.crl.meta, c.name);
  }
  for (const l of p.links ?? []) add(l.path, l.der, 'ca-certificate', MEDIA_TYPES.certificate, l.meta, l.ca);
  for (const c of p.previousKeyCrls ?? []) add(c.path, c.der, 'crl', MEDIA_TYPES.crl, c.meta, c.ca);
  for (const x of p.certificates)
    add(PATHS.certificate(x.ca, x.meta.serialHex), x.der, 'certificate', MEDIA_TYPES.certificate, x.meta, x.ca);
  for (const r of p.ocspResponses)
    add(
      PATHS.ocspResponse(r.ca, r.meta.serialHex, r.meta.hashAlgorithm),
      r.der,
      'ocsp-response',
      MEDIA_TYPES.ocsp,
      r.meta,
      r.ca,
    );
  if (!files.has(PATHS.certificate(p.signerCa, p.signerSerialHex)))
    throw new CaError('PUBLICATION_INPUT_INVALID', `the signer's certificate ${p.signerSerialHex} is not published`);
  for (const d of p.documents)
    add(documentPath(d.name, d.meta), Buffer.from(d.text, 'utf8'), 'document', MEDIA_TYPES.markdown, d.meta);
  const manifest: Manifest = {
    format: PUBLICATION_FORMAT,
    installation: p.installation,
    version: p.version,
    createdAt: p.createdAt.toISOString(),
    baseUrl: p.baseUrl,
    signer: { ca: p.signerCa, certificatePath: PATHS.certificate(p.signerCa, p.signerSerialHex) },
    cas: p.cas.map((c) => ({
      name: c.name,
      certificatePath: PATHS.caCertificate(c.name),
      crlPath: c.crl ? PATHS.crl(c.name) : null,
    })),
    items,
  };
  return { manifest, files };
}

/** Builds, signs and serialises a publication file. */
export async function writePublication(
  p: PublicationInput,
  sign: ManifestSigner,
): Promise<{ bytes: Buffer; manifest: Manifest; sha256: string }> {
  const { manifest, files } = buildManifest(p);
  const manifestText = canonicalJson(manifest);
  const { algorithm, signature } = await sign(Buffer.from(manifestText, 'utf8'));
  const file: PublicationFile = {
    manifest: manifestText,
    signatureAlgorithm: algorithm,
    signature: Buffer.from(signature).toString('base64'),
    files: Object.fromEntries([...files].map(([path, b]) => [path, b.toString('base64')])),
  };
  const bytes = Buffer.from(`${JSON.stringify(file)}\n`, 'utf8');
  return { bytes, manifest, sha256: sha256(bytes) };
}
