/**
 * Verifying a publication file before the online side serves anything from it (R-2.4, DESIGN
 * "Between them"). The file is untrusted input from removable media: it is accepted only when
 * every check below passes, and refused whole otherwise, with a reason that names the item.
 *
 *  1. JSON shape and format string (format.ts is the contract);
 *  2. the signer certificate is byte-equal to a configured trust anchor, and its signature over
 *     the exact UTF-8 manifest text verifies (RFC 5280 does not apply: the anchor is pinned);
 *  3. every manifest item is present with its SHA-256 and size, and no file is unlisted;
 *  4. every published CA certificate is itself a trust anchor; a re-keyed CA's link
 *     certificates (RFC 4210 4.4) are further ca-certificate items of it: OldWithNew (its
 *     subject and issuer the CA's Name, an earlier key, signed by the CA's key) and
 *     NewWithOld (the CA's key, signed by an earlier key an OldWithNew certified);
 *  5. each CRL is issued (issuer bytes, signature) by its CA (a re-keyed CA's earlier key may
 *     sign a further CRL beside the current one); each pre-signed OCSP response is
 *     signed by its CA (responderID byKey) and answers exactly the CertID its meta names; each
 *     issued certificate verifies under its CA; statuses agree between certificates, OCSP
 *     responses and the CRL ("never good for a serial the CA did not issue", R-2.3);
 *  6. the version moves forward.
 *
 * The result carries the lookup structures the Repository and the OCSP responder serve from.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ExtendedKeyUsage, id_ce_extKeyUsage } from '@peculiar/asn1-x509';
import { z } from 'zod';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { parseCertificate } from '../pki/certificate.ts';
import { normalizeSerialHex, parseCrl, verifyTbsSignature, type ParsedCrl } from '../pki/crl.ts';
import { nameToText } from '../pki/name.ts';
import { certIdLookupKey, certIdsFor, parseOcspResponse, type CertIdKey, type CertStatus } from '../pki/ocsp.ts';
import { readDerChildren, readDerElement } from '../pki/pem.ts';
import {
  compareDocumentVersions, documentPath, MEDIA_TYPES, PUBLICATION_FORMAT,
  type CaCertificateMeta, type CertificateMeta, type CrlMeta, type DocumentMeta, type DocumentRole, type Manifest, type OcspResponseMeta, type PublicationItem,
} from './format.ts';

// ---------------------------------------------------------------------------------------------
// Certificates, read field by field (exact bytes, as relying parties compare them)

/** What the online side needs to know about a certificate; the Name and key bytes are exactly as encoded. */
export interface CertificateInfo {
  der: Buffer;
  /** The exact tbsCertificate bytes (what the signature covers). */
  tbsDer: Buffer;
  serialHex: string;
  issuerDer: Buffer;
  subjectDer: Buffer;
  subject: string;
  /** SubjectPublicKeyInfo DER. */
  spkiDer: Buffer;
  /** subjectPublicKey BIT STRING value without the unused-bits octet (RFC 6960 KeyHash input). */
  publicKey: Buffer;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithmOid: string;
  signature: Buffer;
  /** extendedKeyUsage purposes, when the extension is present. */
  extKeyUsage?: string[];
  /** SHA-256 of the DER, hex. */
  fingerprint: string;
}

/** Reads a DER certificate; throws CaError('CERTIFICATE_MALFORMED') with the reason. */
export function certificateInfo(der: Uint8Array): CertificateInfo {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new Error('not one DER SEQUENCE');
    const [tbsEl] = readDerChildren(buf, outer);
    if (!tbsEl || tbsEl.tag !== 0x30) throw new Error('no tbsCertificate');
    const f = readDerChildren(buf, tbsEl);
    const i = f[0]?.tag === 0xa0 ? 1 : 0;
    const [serialEl, , issuerEl, , subjectEl, spkiEl] = f.slice(i);
    if (!serialEl || !issuerEl || !subjectEl || !spkiEl || serialEl.tag !== 0x02 || issuerEl.tag !== 0x30 || subjectEl.tag !== 0x30 || spkiEl.tag !== 0x30) {
      throw new Error('tbsCertificate is incomplete');
    }
    const bits = readDerChildren(buf, spkiEl)[1];
    if (!bits || bits.tag !== 0x03 || bits.end - bits.contentStart < 1) throw new Error('subjectPublicKey is not a BIT STRING');
    const cert = parseCertificate(buf);
    const tbs = cert.tbsCertificate;
    let extKeyUsage: string[] | undefined;
    for (const ext of tbs.extensions ?? []) {
      if (ext.extnID === id_ce_extKeyUsage) extKeyUsage = [...AsnConvert.parse(ext.extnValue, ExtendedKeyUsage)];
    }
    return {
      der: Buffer.from(buf),
      tbsDer: Buffer.from(buf.subarray(tbsEl.start, tbsEl.end)),
      serialHex: normalizeSerialHex(buf.subarray(serialEl.contentStart, serialEl.end).toString('hex')),
      issuerDer: Buffer.from(buf.subarray(issuerEl.start, issuerEl.end)),
      subjectDer: Buffer.from(buf.subarray(subjectEl.start, subjectEl.end)),
      subject: nameToText(tbs.subject),
      spkiDer: Buffer.from(buf.subarray(spkiEl.start, spkiEl.end)),
      publicKey: Buffer.from(buf.subarray(bits.contentStart + 1, bits.end)),
      notBefore: tbs.validity.notBefore.getTime(),
      notAfter: tbs.validity.notAfter.getTime(),
      signatureAlgorithmOid: cert.signatureAlgorithm.algorithm,
      signature: Buffer.from(cert.signatureValue),
      extKeyUsage,
      fingerprint: createHash('sha256').update(buf).digest('hex'),
    };
  } catch (e) {
    if (e instanceof CaError) throw e;
    throw new CaError('CERTIFICATE_MALFORMED', `not a well-formed DER certificate: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** True when `cert` names `issuer` as its issuer (exact Name bytes) and its signature verifies with the issuer's key. */
export function isIssuedBy(cert: CertificateInfo, issuer: CertificateInfo): boolean {
  if (!cert.issuerDer.equals(issuer.subjectDer)) return false;
  try {
    return verifyTbsSignature(cert.tbsDer, cert.signatureAlgorithmOid, cert.signature, issuer.spkiDer);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The verified publication

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
}

/** The issuer part of a CertID lookup key. */
export function issuerKeyOf(hashAlgorithm: 'sha1' | 'sha256', issuerNameHash: Buffer, issuerKeyHash: Buffer): string {
  return `${hashAlgorithm}:${issuerNameHash.toString('hex')}:${issuerKeyHash.toString('hex')}`;
}

function invalid(reason: string, cause?: unknown): CaError {
  return new CaError('PUBLICATION_INVALID', `publication refused: ${reason}`, { cause, details: { reason } });
}

const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------------------
// Shape (format.ts)

/** A relative path of safe segments: it becomes a URL path and never leaves the Repository. */
const SAFE_PATH = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;
/** CA names appear in URL paths. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const ISO_DATE = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');
const HEX = z.string().regex(/^[0-9a-fA-F]+$/, 'not hexadecimal');

const PublicationFileSchema = z.object({
  manifest: z.string(),
  signatureAlgorithm: z.enum(Object.keys(SIGNATURE_ALGORITHMS) as [SignatureAlgorithmName, ...SignatureAlgorithmName[]]),
  signature: z.string(),
  files: z.record(z.string(), z.string()),
});

const ItemSchema = z.object({
  path: z.string().regex(SAFE_PATH, 'not a safe relative path'),
  kind: z.enum(['ca-certificate', 'crl', 'ocsp-response', 'certificate', 'document']),
  mediaType: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'not a lower-case SHA-256 hex digest'),
  size: z.number().int().nonnegative(),
  ca: z.string().regex(SAFE_NAME).optional(),
  meta: z.record(z.string(), z.unknown()),
});

const ManifestSchema = z.object({
  format: z.string(),
  installation: z.string().min(1),
  version: z.number().int().positive(),
  createdAt: ISO_DATE,
  baseUrl: z.string(),
  signer: z.object({ ca: z.string().regex(SAFE_NAME), certificatePath: z.string() }),
  cas: z.array(z.object({ name: z.string().regex(SAFE_NAME, 'not a safe CA name'), certificatePath: z.string(), crlPath: z.string().nullable() })).min(1),
  items: z.array(ItemSchema),
});

const META_SCHEMAS = {
  'ca-certificate': z.object({ subject: z.string(), notBefore: ISO_DATE, notAfter: ISO_DATE, fingerprint: z.string().regex(/^[0-9a-f]{64}$/), status: z.enum(['active', 'terminated', 'compromised']) }),
  crl: z.object({ crlNumber: z.string().regex(/^\d+$/, 'not a decimal number'), thisUpdate: ISO_DATE, nextUpdate: ISO_DATE }),
  'ocsp-response': z.object({ serialHex: HEX, certIdKey: z.string(), hashAlgorithm: z.enum(['sha1', 'sha256']), status: z.enum(['good', 'revoked']), thisUpdate: ISO_DATE, nextUpdate: ISO_DATE }),
  certificate: z.object({
    serialHex: HEX, subject: z.string(), profile: z.string(), notBefore: ISO_DATE, notAfter: ISO_DATE, status: z.enum(['good', 'revoked']),
    revokedAt: ISO_DATE.optional(), reason: z.enum(['keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn']).optional(),
  }),
  document: z.object({
    title: z.string().min(1), version: z.string().min(1), role: z.enum(['version', 'latest', 'history']).optional(),
    publishedAt: ISO_DATE.optional(), critical: z.boolean().optional(), description: z.string().optional(), claimsUntil: ISO_DATE.optional(),
  }),
} as const;

function shape<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const at = issue.path.length ? `${what}.${issue.path.join('.')}` : what;
  throw invalid(`${at}: ${issue.message}`);
}

function base64Strict(s: string, what: string): Buffer {
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) throw invalid(`${what} is not canonical base64`);
  return b;
}

const KIND_MEDIA_TYPES: Record<PublicationItem['kind'], string> = {
  'ca-certificate': MEDIA_TYPES.certificate,
  certificate: MEDIA_TYPES.certificate,
  crl: MEDIA_TYPES.crl,
  'ocsp-response': MEDIA_TYPES.ocsp,
  document: MEDIA_TYPES.markdown,
};

const sameSecond = (a: Date, b: Date) => Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000);

// ---------------------------------------------------------------------------------------------

/**
 * Verifies a publication file and builds what the online side serves from it. Throws
 * CaError('PUBLICATION_INVALID', reason) on any failure, CaError('PUBLICATION_STALE') when the
 * version is not newer than `previousVersion`.
 */
export function verifyPublication(bytes: Uint8Array, opts: VerifyOptions): VerifiedPublication {
  const sha256 = createHash('sha256').update(bytes).digest('hex');

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
  if (m.format !== PUBLICATION_FORMAT) throw invalid(`manifest.format is "${m.format}", expected "${PUBLICATION_FORMAT}"`);
  const manifest = manifestJson as Manifest;

  // 2. Signer is a trust anchor, and the signature verifies over the exact manifest text.
  const signerB64 = file.files[m.signer.certificatePath];
  if (signerB64 === undefined) throw invalid(`signer certificate ${m.signer.certificatePath} is not in the file`);
  const signerDer = base64Strict(signerB64, `file ${m.signer.certificatePath}`);
  if (!opts.trustAnchors.some((a) => a.equals(signerDer))) {
    throw invalid(`signer certificate ${m.signer.certificatePath} (${m.signer.ca}) is not a trust anchor of this Repository`);
  }
  const signer = certificateInfo(signerDer);
  if (opts.now < signer.notBefore || opts.now > signer.notAfter) {
    throw invalid(`signer certificate ${m.signer.certificatePath} is not valid now (${signer.notBefore.toISOString()} .. ${signer.notAfter.toISOString()})`);
  }
  const alg = SIGNATURE_ALGORITHMS[file.signatureAlgorithm];
  const signature = base64Strict(file.signature, 'signature');
  let signatureOk = false;
  try {
    signatureOk = verifyTbsSignature(Buffer.from(file.manifest, 'utf8'), alg.oid, signature, signer.spkiDer);
  } catch (e) {
    throw invalid(`manifest signature cannot be checked: ${why(e)}`, e);
  }
  if (!signatureOk) throw invalid(`manifest signature (${alg.name}) does not verify with the key of ${m.signer.ca}`);

  // 6. Version (after the signature, so an unsigned file never learns what we hold).
  if (opts.previousVersion !== undefined && m.version <= opts.previousVersion) {
    throw new CaError('PUBLICATION_STALE', `version ${m.version} is not newer than the current ${opts.previousVersion}`, {
      details: { version: m.version, current: opts.previousVersion },
    });
  }

  // 3. Items and files.
  const files = new Map<string, Buffer>();
  const items = new Map<string, PublicationItem>();
  for (const item of m.items) {
    if (items.has(item.path)) throw invalid(`item ${item.path} is listed twice`);
    const b64 = file.files[item.path];
    if (b64 === undefined) throw invalid(`item ${item.path} is missing from the file`);
    const data = base64Strict(b64, `file ${item.path}`);
    if (data.length !== item.size) throw invalid(`item ${item.path} has ${data.length} bytes, the manifest says ${item.size}`);
    const digest = createHash('sha256').update(data).digest('hex');
    if (digest !== item.sha256) throw invalid(`item ${item.path} SHA-256 ${digest} does not match the manifest (${item.sha256})`);
    shape(META_SCHEMAS[item.kind] as z.ZodType<unknown>, item.meta, `item ${item.path} meta`);
    // The Repository serves each file with this type: only the contract's type per kind (no HTML, no scripts).
    if (item.mediaType !== KIND_MEDIA_TYPES[item.kind]) throw invalid(`item ${item.path} has media type "${item.mediaType}", a ${item.kind} is ${KIND_MEDIA_TYPES[item.kind]}`);
    if (item.kind !== 'document' && item.ca === undefined) throw invalid(`item ${item.path} (${item.kind}) names no CA`);
    if (item.ca !== undefined && !m.cas.some((c) => c.name === item.ca)) throw invalid(`item ${item.path} belongs to CA ${item.ca}, which is not published`);
    files.set(item.path, data);
    items.set(item.path, item as unknown as PublicationItem);
  }
  for (const path of Object.keys(file.files)) if (!items.has(path)) throw invalid(`file ${path} is not in the manifest`);

  // 4. CAs: each a trust anchor.
  const cas = new Map<string, VerifiedCa>();
  const issuers = new Map<string, VerifiedCa>();
  for (const c of m.cas) {
    if (cas.has(c.name)) throw invalid(`CA ${c.name} is listed twice`);
    const item = items.get(c.certificatePath);
    if (!item || item.kind !== 'ca-certificate' || item.ca !== c.name) throw invalid(`CA ${c.name}: ${c.certificatePath} is not its ca-certificate item`);
    const der = files.get(c.certificatePath)!;
    if (!opts.trustAnchors.some((a) => a.equals(der))) throw invalid(`CA ${c.name}: certificate ${c.certificatePath} is not a trust anchor of this Repository`);
    const info = certificateInfo(der);
    const meta = item.meta as CaCertificateMeta;
    if (meta.fingerprint !== info.fingerprint) throw invalid(`CA ${c.name}: meta fingerprint does not match ${c.certificatePath}`);
    const hashes = issuerHashesOf(der);
    const ca: VerifiedCa = {
      name: c.name, der, info, subjectDer: info.subjectDer, spkiDer: info.spkiDer, meta, certificatePath: c.certificatePath, crlPath: c.crlPath,
      keyHash: createHash('sha1').update(info.publicKey).digest(), hashes, previousKeys: [],
    };
    cas.set(c.name, ca);
    for (const h of ['sha1', 'sha256'] as const) issuers.set(issuerKeyOf(h, hashes[h].issuerNameHash, hashes[h].issuerKeyHash), ca);
  }
  const signerCa = cas.get(m.signer.ca);
  if (!signerCa || signerCa.certificatePath !== m.signer.certificatePath) throw invalid(`signer ${m.signer.ca} is not a published CA with certificate ${m.signer.certificatePath}`);
  const links = verifyLinks([...items.values()].filter((i) => i.kind === 'ca-certificate' && cas.get(i.ca!)?.certificatePath !== i.path), files, cas);
  for (const ca of cas.values()) {
    for (const k of ca.previousKeys) for (const h of ['sha1', 'sha256'] as const) issuers.set(issuerKeyOf(h, k.hashes[h].issuerNameHash, k.hashes[h].issuerKeyHash), ca);
  }

  // 5a. CRLs.
  const crls = new Map<string, VerifiedCrl>();
  for (const c of m.cas) {
    if (c.crlPath === null) continue;
    const item = items.get(c.crlPath);
    if (!item || item.kind !== 'crl' || item.ca !== c.name) throw invalid(`CA ${c.name}: ${c.crlPath} is not its crl item`);
  }
  const previousKeyCrls: VerifiedCrl[] = [];
  for (const item of items.values()) {
    if (item.kind !== 'crl') continue;
    const ca = cas.get(item.ca!)!;
    const der = files.get(item.path)!;
    let parsed: ParsedCrl;
    try {
      parsed = parseCrl(der);
    } catch (e) {
      throw invalid(`CRL ${item.path}: ${why(e)}`, e);
    }
    if (!parsed.issuerDer.equals(ca.subjectDer)) throw invalid(`CRL ${item.path}: issuer is not the subject of ${ca.name}`);
    const signedBy = (spki: Buffer): boolean => {
      try {
        return verifyTbsSignature(parsed.tbsDer, parsed.signatureAlgorithmOid, parsed.signature, spki);
      } catch (e) {
        throw invalid(`CRL ${item.path}: signature cannot be checked: ${why(e)}`, e);
      }
    };
    // Beside the current CRL, one a previous key of a re-keyed CA signed for what it issued (CPS 5.6).
    const previous = ca.crlPath === item.path ? undefined : ca.previousKeys.find((k) => signedBy(k.link.spkiDer));
    if (ca.crlPath !== item.path && (!previous || ca.crlPath === null || !item.path.startsWith('crl/'))) {
      throw invalid(`CRL ${item.path} is not the current CRL of ${ca.name} (${ca.crlPath ?? 'none'}) nor a crl/ one of an earlier key of ${ca.name} beside it`);
    }
    if (!previous && !signedBy(ca.spkiDer)) throw invalid(`CRL ${item.path}: signature does not verify with the key of ${ca.name}`);
    const meta = item.meta as CrlMeta;
    if (parsed.crlNumber === undefined || parsed.crlNumber.toString() !== meta.crlNumber) throw invalid(`CRL ${item.path}: cRLNumber ${parsed.crlNumber ?? 'absent'} does not match the manifest (${meta.crlNumber})`);
    if (!sameSecond(parsed.thisUpdate, new Date(meta.thisUpdate)) || !parsed.nextUpdate || !sameSecond(parsed.nextUpdate, new Date(meta.nextUpdate))) {
      throw invalid(`CRL ${item.path}: thisUpdate/nextUpdate do not match the manifest`);
    }
    if (previous) previousKeyCrls.push({ ca: ca.name, path: item.path, der, meta, parsed, previousKey: previous });
    else crls.set(ca.name, { ca: ca.name, path: item.path, der, meta, parsed });
  }

  // 5b. Issued certificates.
  const certificates = new Map<string, Map<string, VerifiedCertificate>>([...cas.keys()].map((n) => [n, new Map()]));
  for (const item of items.values()) {
    if (item.kind !== 'certificate') continue;
    const ca = cas.get(item.ca!)!;
    const der = files.get(item.path)!;
    let info: CertificateInfo;
    try {
      info = certificateInfo(der);
    } catch (e) {
      throw invalid(`certificate ${item.path}: ${why(e)}`, e);
    }
    if (!item.path.startsWith(`issued/${ca.name}/`)) throw invalid(`certificate ${item.path} is not under issued/${ca.name}/`);
    // By the CA's key, or by an earlier key of the CA that a verified OldWithNew certifies.
    if (!isIssuedBy(info, ca.info) && !ca.previousKeys.some((k) => isIssuedBy(info, k.link))) throw invalid(`certificate ${item.path}: not issued by ${ca.name} (issuer name or signature)`);
    const meta = item.meta as CertificateMeta;
    if (normalizeSerialHex(meta.serialHex) !== info.serialHex) throw invalid(`certificate ${item.path}: serial ${info.serialHex} does not match the manifest (${meta.serialHex})`);
    if (meta.status === 'revoked' && meta.revokedAt === undefined) throw invalid(`certificate ${item.path}: revoked without revokedAt`);
    const byCa = certificates.get(ca.name)!;
    if (byCa.has(info.serialHex)) throw invalid(`certificate ${item.path}: serial ${info.serialHex} of ${ca.name} is published twice`);
    byCa.set(info.serialHex, { ca: ca.name, path: item.path, der, meta, info });
  }
  // A CRL and the certificates agree (R-2.2: the CRL holds every revocation); an earlier key's
  // CRL, every revocation of what that key issued.
  for (const crl of [...crls.values(), ...previousKeyCrls]) {
    const onCrl = new Set(crl.parsed.entries.map((e) => normalizeSerialHex(e.serialHex)));
    for (const [serial, cert] of certificates.get(crl.ca)!) {
      if (crl.previousKey && !isIssuedBy(cert.info, crl.previousKey.link)) continue;
      if (cert.meta.status === 'revoked' && !onCrl.has(serial)) throw invalid(`certificate ${cert.path} is revoked but not on CRL ${crl.path}`);
      if (cert.meta.status === 'good' && onCrl.has(serial)) throw invalid(`certificate ${cert.path} is good in the manifest but on CRL ${crl.path}`);
    }
  }

  // 5c. Pre-signed OCSP responses.
  const index = new Map<string, VerifiedOcspResponse>();
  for (const item of items.values()) {
    if (item.kind !== 'ocsp-response') continue;
    const ca = cas.get(item.ca!)!;
    const meta = item.meta as OcspResponseMeta;
    const der = files.get(item.path)!;
    const where = `OCSP response ${item.path}`;
    let serial: string;
    // The key the CertID names (the CA's, or an earlier one for what it issued) signs the response.
    let key: { spkiDer: Buffer; keyHash: Buffer } | undefined;
    try {
      serial = normalizeSerialHex(meta.serialHex);
      const keys = [{ der: ca.der, spkiDer: ca.spkiDer, keyHash: ca.keyHash }, ...ca.previousKeys.map((k) => ({ der: k.link.der, spkiDer: k.link.spkiDer, keyHash: k.keyHash }))];
      key = keys.find((k) => certIdsFor(k.der, serial).some((id) => id.hashAlgorithm === meta.hashAlgorithm && certIdLookupKey(id) === meta.certIdKey));
    } catch (e) {
      throw invalid(`${where}: ${why(e)}`, e);
    }
    if (!key) throw invalid(`${where}: meta.certIdKey is not the ${meta.hashAlgorithm} CertID of serial ${serial} under ${ca.name}`);
    let p;
    try {
      p = parseOcspResponse(der);
    } catch (e) {
      throw invalid(`${where}: ${why(e)}`, e);
    }
    if (p.status !== 'successful' || !p.tbsDer || !p.signature || !p.signatureAlgorithmOid) throw invalid(`${where}: status ${p.status}, not a successful signed response`);
    if (!p.responderKeyHash || !p.responderKeyHash.equals(key.keyHash)) throw invalid(`${where}: responderID is not byKey of ${ca.name}`);
    let ok = false;
    try {
      ok = verifyTbsSignature(p.tbsDer, p.signatureAlgorithmOid, p.signature, key.spkiDer);
    } catch (e) {
      throw invalid(`${where}: signature cannot be checked: ${why(e)}`, e);
    }
    if (!ok) throw invalid(`${where}: signature does not verify with the key of ${ca.name}`);
    if (p.responses.length !== 1) throw invalid(`${where}: holds ${p.responses.length} SingleResponses, expected 1`);
    if (p.nonce) throw invalid(`${where}: a pre-signed response carries a nonce`);
    const single = p.responses[0]!;
    if (certIdLookupKey(single.certId) !== meta.certIdKey) throw invalid(`${where}: its CertID does not match meta.certIdKey`);
    if (single.status.status !== meta.status) throw invalid(`${where}: status ${single.status.status} does not match the manifest (${meta.status})`);
    if (!single.nextUpdate) throw invalid(`${where}: has no nextUpdate (RFC 5019 2.2.4)`);
    if (!sameSecond(single.thisUpdate, new Date(meta.thisUpdate)) || !sameSecond(single.nextUpdate, new Date(meta.nextUpdate))) {
      throw invalid(`${where}: thisUpdate/nextUpdate do not match the manifest`);
    }
    // Never "good" for a serial the CA did not issue: a good answer needs the certificate.
    const cert = certificates.get(ca.name)!.get(serial);
    if (meta.status === 'good' && !cert) throw invalid(`${where}: says good for serial ${serial}, which ${ca.name} did not publish as issued`);
    if (cert && cert.meta.status !== meta.status) throw invalid(`${where}: says ${meta.status}, certificate ${cert.path} is ${cert.meta.status}`);
    if (index.has(meta.certIdKey)) throw invalid(`${where}: a second response for the same CertID`);
    index.set(meta.certIdKey, { ca: ca.name, path: item.path, der, meta, status: single.status, thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate, sha256: item.sha256 });
  }

  // Documents: each path names its document and role; the 'latest' copy is byte-equal
  // to the newest version, and the history speaks of the newest version.
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
    if (!SAFE_NAME.test(name) || documentPath(name, meta) !== item.path) throw invalid(`document ${item.path} (${role}) is not docs/<name>${suffix}`);
    documents.push({ path: item.path, name, role, meta, text, sha256: item.sha256 });
  }
  for (const d of documents) {
    if (d.role === 'version') continue;
    const versions = documents.filter((x) => x.name === d.name && x.role === 'version');
    const newest = versions.sort((a, b) => compareDocumentVersions(b.meta.version, a.meta.version))[0];
    if (!newest || newest.meta.version !== d.meta.version) throw invalid(`document ${d.path} speaks of version ${d.meta.version}, the newest published is ${newest?.meta.version ?? 'none'}`);
    if (d.role === 'latest' && newest.sha256 !== d.sha256) throw invalid(`document ${d.path} is not the same text as ${newest.path}`);
  }

  return { manifest, sha256, files, items, index, certificates, cas, links, issuers, crls, previousKeyCrls, documents };
}

/** The CertID issuer hashes of a CA certificate (RFC 6960 4.1.1). */
function issuerHashesOf(der: Buffer): Record<'sha1' | 'sha256', IssuerHashes> {
  const hashes = {} as Record<'sha1' | 'sha256', IssuerHashes>;
  for (const id of certIdsFor(der, '01')) hashes[id.hashAlgorithm] = { issuerNameHash: id.issuerNameHash, issuerKeyHash: id.issuerKeyHash };
  return hashes;
}

/**
 * ca-certificate items beyond the CAs' own: link certificates of a re-keyed CA (RFC 4210 4.4),
 * which are not trust anchors but chain to one. An OldWithNew has the CA's Name as subject and
 * issuer, another key, and verifies with a key of the CA already reached — its own key, or an
 * earlier key a further OldWithNew certified, so a CA re-keyed twice reaches key 1 through
 * key 2 (RFC 5280 4.2.1.1: an issuer may have "multiple signing keys ... due to changeover",
 * so every key reached is tried, not only the current one) — and that key becomes one of the
 * CA's previousKeys. A NewWithOld certifies a key
 * already reached and verifies with another reached key. Anything else is refused.
 */
function verifyLinks(candidates: PublicationItem[], files: Map<string, Buffer>, cas: Map<string, VerifiedCa>): VerifiedLink[] {
  const read = candidates.map((item) => {
    const ca = cas.get(item.ca!)!;
    let info: CertificateInfo;
    try {
      info = certificateInfo(files.get(item.path)!);
    } catch (e) {
      throw invalid(`link certificate ${item.path}: ${why(e)}`, e);
    }
    const meta = item.meta as CaCertificateMeta;
    if (meta.fingerprint !== info.fingerprint) throw invalid(`link certificate ${item.path}: meta fingerprint does not match`);
    if (!info.subjectDer.equals(ca.subjectDer) || !info.issuerDer.equals(ca.subjectDer)) throw invalid(`item ${item.path}: a ca-certificate not listed in manifest.cas and not a link certificate of ${ca.name} (subject and issuer must be its Name)`);
    return { item, ca, info, meta };
  });
  const reached = (ca: VerifiedCa): CertificateInfo[] => [ca.info, ...ca.previousKeys.map((k) => k.link)];
  const isReached = (ca: VerifiedCa, spki: Buffer) => reached(ca).some((k) => k.spkiDer.equals(spki));
  const signedByReached = (ca: VerifiedCa, info: CertificateInfo) => reached(ca).some((k) => !k.spkiDer.equals(info.spkiDer) && isIssuedBy(info, k));
  const oldWithNew: VerifiedLink[] = [];
  const newWithOld: VerifiedLink[] = [];
  let pending = read;
  for (let progress = true; progress && pending.length > 0;) {
    progress = false;
    for (const x of pending) {
      const { item, ca, info, meta } = x;
      if (!signedByReached(ca, info)) continue;
      if (isReached(ca, info.spkiDer)) newWithOld.push({ ca: ca.name, path: item.path, kind: 'new-with-old', der: info.der, info, meta });
      else {
        ca.previousKeys.push({ link: info, keyHash: createHash('sha1').update(info.publicKey).digest(), hashes: issuerHashesOf(info.der) });
        oldWithNew.push({ ca: ca.name, path: item.path, kind: 'old-with-new', der: info.der, info, meta });
      }
      pending = pending.filter((y) => y !== x);
      progress = true;
    }
  }
  const left = pending[0];
  if (left && !isReached(left.ca, left.info.spkiDer)) throw invalid(`link certificate ${left.item.path}: certifies another key of ${left.ca.name} but does not verify with ${left.ca.name}'s key (not an OldWithNew)`);
  if (left) throw invalid(`link certificate ${left.item.path}: certifies ${left.ca.name}'s key but verifies with no earlier key an OldWithNew certifies (not a NewWithOld)`);
  return [...oldWithNew, ...newWithOld];
}
