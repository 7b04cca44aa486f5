/**
 * Verifying a publication file before the online side serves anything from it (R-2.4, DESIGN
 * "Between them"). The file is untrusted input from removable media: it is accepted only when
 * every check below passes, and refused whole otherwise, with a reason that names the item.
 *
 *  1. JSON shape and format string (format.ts is the contract);
 *  2. the signer is the signer root's publication key: its certificate issued by the root,
 *     whose certificate is byte-equal to a configured trust anchor (pinned), with
 *     id-kp-documentSigning and in date, and its signature over the exact UTF-8 manifest text
 *     verifies (verify-signers.ts; a root-signed format-1 file only when re-verifying a copy
 *     imported before issue 15);
 *  3. every manifest item is present with its SHA-256 and size, and no file is unlisted;
 *  4. every published CA certificate is itself a trust anchor; a re-keyed CA's link
 *     certificates (RFC 4210 4.4) are further ca-certificate items of it: OldWithNew (its
 *     subject and issuer the CA's Name, an earlier key, signed by the CA's key) and
 *     NewWithOld (the CA's key, signed by an earlier key an OldWithNew certified);
 *  5. each CRL is issued (issuer bytes, signature) by its CA (a re-keyed CA's earlier key may
 *     sign a further CRL beside the current one); each pre-signed OCSP response is
 *     signed by its CA's delegated responder (certificate in the response, OCSPSigning,
 *     responderID byKey) and answers exactly the CertID its meta names; each
 *     issued certificate verifies under its CA; statuses agree between certificates, OCSP
 *     responses and the CRL ("never good for a serial the CA did not issue", R-2.3);
 *  6. the version moves forward.
 *
 * The result carries the lookup structures the Repository and the OCSP responder serve from.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS } from '../pki/algorithms.ts';
import { verifyTbsSignature } from '../pki/signature-verify.ts';
import {
  compareDocumentVersions,
  documentPath,
  PUBLICATION_FORMAT,
  ROOT_SIGNED_PUBLICATION_FORMAT,
  type CertificateMeta,
  type DocumentMeta,
  type DocumentRole,
  type Manifest,
  type PublicationItem,
} from './format.ts';
import { verifyCas } from './verify-cas.ts';
import { manifestSigner } from './verify-signers.ts';
import {
  base64Strict,
  invalid,
  KIND_MEDIA_TYPES,
  ManifestSchema,
  META_SCHEMAS,
  PublicationFileSchema,
  SAFE_NAME,
  shape,
  why,
  type ShapedManifest,
} from './verify-shape.ts';
import { verifyCertificates, verifyCrls, verifyOcspResponses } from './verify-status.ts';
import type { VerifiedDocument, VerifiedPublication, VerifyOptions } from './verify-types.ts';

/** Re-exported for callers that read certificates through this module (they live in pki/certificate-info.ts). */
export * from './verify-types.ts';

/**
 * Verifies a publication file and builds what the online side serves from it. Throws
 * CaError('PUBLICATION_INVALID', reason) on any failure, CaError('PUBLICATION_STALE') when the
 * version is not newer than `previousVersion`.
 */
export function verifyPublication(bytes: Uint8Array, opts: VerifyOptions): VerifiedPublication {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const { file, m, manifest } = readSignedManifest(bytes, opts);
  const { files, items } = readItems(m, file.files);
  const { cas, issuers, links } = verifyCas(m, items, files, opts.trustAnchors);
  const { crls, previousKeyCrls } = verifyCrls(m, items, files, cas);
  const certificates = verifyCertificates(items, files, cas, [...crls.values(), ...previousKeyCrls]);
  const legacy = m.format === ROOT_SIGNED_PUBLICATION_FORMAT;
  const signerItem = items.get(m.signer.certificatePath);
  if (!legacy && (signerItem?.kind !== 'certificate' || (signerItem.meta as CertificateMeta).status !== 'good'))
    throw invalid(`signer certificate ${m.signer.certificatePath} is not a good certificate of ${m.signer.ca}`);
  const index = verifyOcspResponses(items, files, cas, certificates, legacy);
  const documents = verifyDocuments(items, files);
  return { manifest, sha256, files, items, index, certificates, cas, links, issuers, crls, previousKeyCrls, documents };
}

/**
 * Steps 1, 2 and 6: the JSON shape, the signer a trust anchor whose signature covers the exact
 * manifest text, the version.
 */
function readSignedManifest(
  bytes: Uint8Array,
  opts: VerifyOptions,
): { file: z.infer<typeof PublicationFileSchema>; m: ShapedManifest; manifest: Manifest } {
  // 1. JSON shape and format.
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw invalid(`not JSON: ${why(e)}`, e);
  }
  const file = shape(PublicationFileSchema, json, 'publication');
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(file.manifest);
  } catch (e) {
    throw invalid(`manifest is not JSON: ${why(e)}`, e);
  }
  const m = shape(ManifestSchema, manifestJson, 'manifest');
  if (m.format !== PUBLICATION_FORMAT && m.format !== ROOT_SIGNED_PUBLICATION_FORMAT)
    throw invalid(`manifest.format is "${m.format}", expected "${PUBLICATION_FORMAT}"`);
  const manifest = manifestJson as Manifest;

  // 2. The signer chains to a trust anchor, and the signature verifies over the exact manifest text.
  const signer = manifestSigner(m, file.files, opts);
  const alg = SIGNATURE_ALGORITHMS[file.signatureAlgorithm];
  const signature = base64Strict(file.signature, 'signature');
  let signatureOk = false;
  try {
    signatureOk = verifyTbsSignature(Buffer.from(file.manifest, 'utf8'), alg.oid, signature, signer.spkiDer);
  } catch (e) {
    throw invalid(`manifest signature cannot be checked: ${why(e)}`, e);
  }
  if (!signatureOk)
    throw invalid(
      `manifest signature (${alg.name}) does not verify with the key of ${m.signer.ca}'s signer certificate ${m.signer.certificatePath}`,
    );

  // 6. Version (after the signature, so an unsigned file never learns what we hold).
  if (opts.previousVersion !== undefined && m.version <= opts.previousVersion) {
    throw new CaError(
      'PUBLICATION_STALE',
      `version ${m.version} is not newer than the current ${opts.previousVersion}`,
      {
        details: { version: m.version, current: opts.previousVersion },
      },
    );
  }
  return { file, m, manifest };
}

/** Step 3: every item present with its SHA-256, size, meta and media type, and no file unlisted. */
function readItems(
  m: ShapedManifest,
  fileData: Record<string, string>,
): { files: Map<string, Buffer>; items: Map<string, PublicationItem> } {
  const files = new Map<string, Buffer>();
  const items = new Map<string, PublicationItem>();
  for (const item of m.items) {
    if (items.has(item.path)) throw invalid(`item ${item.path} is listed twice`);
    const b64 = fileData[item.path];
    if (b64 === undefined) throw invalid(`item ${item.path} is missing from the file`);
    const data = base64Strict(b64, `file ${item.path}`);
    if (data.length !== item.size)
      throw invalid(`item ${item.path} has ${data.length} bytes, the manifest says ${item.size}`);
    const digest = createHash('sha256').update(data).digest('hex');
    if (digest !== item.sha256)
      throw invalid(`item ${item.path} SHA-256 ${digest} does not match the manifest (${item.sha256})`);
    shape(META_SCHEMAS[item.kind] as z.ZodType<unknown>, item.meta, `item ${item.path} meta`);
    // The Repository serves each file with this type: only the contract's type per kind (no HTML, no scripts).
    if (item.mediaType !== KIND_MEDIA_TYPES[item.kind])
      throw invalid(
        `item ${item.path} has media type "${item.mediaType}", a ${item.kind} is ${KIND_MEDIA_TYPES[item.kind]}`,
      );
    if (item.kind !== 'document' && item.ca === undefined)
      throw invalid(`item ${item.path} (${item.kind}) names no CA`);
    if (item.ca !== undefined && !m.cas.some((c) => c.name === item.ca))
      throw invalid(`item ${item.path} belongs to CA ${item.ca}, which is not published`);
    files.set(item.path, data);
    items.set(item.path, item as unknown as PublicationItem);
  }
  for (const path of Object.keys(fileData)) if (!items.has(path)) throw invalid(`file ${path} is not in the manifest`);
  return { files, items };
}

/**
 * Documents: each path names its document and role; the 'latest' copy is byte-equal
 * to the newest version, and the history speaks of the newest version.
 */
function verifyDocuments(items: Map<string, PublicationItem>, files: Map<string, Buffer>): VerifiedDocument[] {
  const documents: VerifiedDocument[] = [];
  for (const item of items.values()) {
    if (item.kind !== 'document') continue;
    const meta = item.meta as DocumentMeta;
    const role: DocumentRole = meta.role ?? 'version';
    const data = files.get(item.path)!;
    const text = data.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(data)) throw invalid(`document ${item.path} is not UTF-8`);
    const suffix = { version: `-v${meta.version}.md`, latest: '.md', history: '-history.md' }[role];
    const name = item.path.startsWith('docs/') && item.path.endsWith(suffix) ? item.path.slice(5, -suffix.length) : '';
    if (!SAFE_NAME.test(name) || documentPath(name, meta) !== item.path)
      throw invalid(`document ${item.path} (${role}) is not docs/<name>${suffix}`);
    documents.push({ path: item.path, name, role, meta, text, sha256: item.sha256 });
  }
  for (const d of documents) {
    if (d.role === 'version') continue;
    const versions = documents.filter((x) => x.name === d.name && x.role === 'version');
    const newest = versions.sort((a, b) => compareDocumentVersions(b.meta.version, a.meta.version))[0];
    if (!newest || newest.meta.version !== d.meta.version)
      throw invalid(
        `document ${d.path} speaks of version ${d.meta.version}, the newest published is ${newest?.meta.version ?? 'none'}`,
      );
    if (d.role === 'latest' && newest.sha256 !== d.sha256)
      throw invalid(`document ${d.path} is not the same text as ${newest.path}`);
  }
  return documents;
}
