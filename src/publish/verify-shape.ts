/**
 * The shape of a publication file (format.ts is the contract), as zod schemas, and the small
 * helpers every verification step uses to refuse with a reason that names the item.
 */
import { z } from 'zod';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { MEDIA_TYPES, type PublicationItem } from './format.ts';

/** PUBLICATION_INVALID with the reason: the whole file is refused. */
export function invalid(reason: string, cause?: unknown): CaError {
  return new CaError('PUBLICATION_INVALID', `publication refused: ${reason}`, { cause, details: { reason } });
}

/** The message of a thrown value. */
export const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------------------
// Shape (format.ts)

/** A relative path of safe segments: it becomes a URL path and never leaves the Repository. */
const SAFE_PATH = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;
/** CA names appear in URL paths. */
export const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const ISO_DATE = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');
const HEX = z.string().regex(/^[0-9a-fA-F]+$/, 'not hexadecimal');

/** The publication file: the signed manifest text, its signature and the files. */
export const PublicationFileSchema = z.object({
  manifest: z.string(),
  signatureAlgorithm: z.enum(
    Object.keys(SIGNATURE_ALGORITHMS) as [SignatureAlgorithmName, ...SignatureAlgorithmName[]],
  ),
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

/** The manifest (format.ts Manifest). */
export const ManifestSchema = z.object({
  format: z.string(),
  installation: z.string().min(1),
  version: z.number().int().positive(),
  createdAt: ISO_DATE,
  baseUrl: z.string(),
  signer: z.object({ ca: z.string().regex(SAFE_NAME), certificatePath: z.string() }),
  cas: z
    .array(
      z.object({
        name: z.string().regex(SAFE_NAME, 'not a safe CA name'),
        certificatePath: z.string(),
        crlPath: z.string().nullable(),
      }),
    )
    .min(1),
  items: z.array(ItemSchema),
});

/** Each kind of item's meta. */
export const META_SCHEMAS = {
  'ca-certificate': z.object({
    subject: z.string(),
    notBefore: ISO_DATE,
    notAfter: ISO_DATE,
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    status: z.enum(['active', 'terminated', 'compromised']),
  }),
  crl: z.object({
    crlNumber: z.string().regex(/^\d+$/, 'not a decimal number'),
    thisUpdate: ISO_DATE,
    nextUpdate: ISO_DATE,
  }),
  'ocsp-response': z.object({
    serialHex: HEX,
    certIdKey: z.string(),
    hashAlgorithm: z.enum(['sha1', 'sha256']),
    status: z.enum(['good', 'revoked']),
    thisUpdate: ISO_DATE,
    nextUpdate: ISO_DATE,
  }),
  certificate: z.object({
    serialHex: HEX,
    subject: z.string(),
    profile: z.string(),
    notBefore: ISO_DATE,
    notAfter: ISO_DATE,
    status: z.enum(['good', 'revoked']),
    revokedAt: ISO_DATE.optional(),
    reason: z
      .enum([
        'keyCompromise',
        'cACompromise',
        'affiliationChanged',
        'superseded',
        'cessationOfOperation',
        'privilegeWithdrawn',
      ])
      .optional(),
  }),
  document: z.object({
    title: z.string().min(1),
    version: z.string().min(1),
    role: z.enum(['version', 'latest', 'history']).optional(),
    publishedAt: ISO_DATE.optional(),
    critical: z.boolean().optional(),
    description: z.string().optional(),
    claimsUntil: ISO_DATE.optional(),
  }),
} as const;

/** The value as the schema reads it, or PUBLICATION_INVALID naming the first bad field. */
export function shape<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const at = issue.path.length ? `${what}.${issue.path.join('.')}` : what;
  throw invalid(`${at}: ${issue.message}`);
}

/** Canonical base64 only: anything Buffer.from would skip is refused. */
export function base64Strict(s: string, what: string): Buffer {
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) throw invalid(`${what} is not canonical base64`);
  return b;
}

/** The one media type the Repository serves each kind of item with. */
export const KIND_MEDIA_TYPES: Record<PublicationItem['kind'], string> = {
  'ca-certificate': MEDIA_TYPES.certificate,
  certificate: MEDIA_TYPES.certificate,
  crl: MEDIA_TYPES.crl,
  'ocsp-response': MEDIA_TYPES.ocsp,
  document: MEDIA_TYPES.markdown,
};

/** Dates equal to the second (manifests carry ISO dates, DER whole seconds). */
export const sameSecond = (a: Date, b: Date) => Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000);

/** A manifest as ManifestSchema has checked it. */
export type ShapedManifest = z.infer<typeof ManifestSchema>;
