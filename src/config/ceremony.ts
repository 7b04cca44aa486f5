/**
 * The root key ceremony file (CONVENTIONS 4): one strict YAML document that is reviewed
 * before the ceremony and is exactly what runs. Unknown keys are errors; secrets (passphrases)
 * are never part of it.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { NAME_ATTRIBUTES } from '../pki/name.ts';
import { checkNameString, RULE_UTF8 } from '../pki/name-strings.ts';
import { CaError } from '../errors.ts';
import { parseStrict } from './errors.ts';

const operatorName = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,63}$/, { error: 'must be an operator name (lower case letters, digits, . _ -)' });

const oid = z
  .string()
  .regex(/^[0-2](\.(0|[1-9][0-9]*))+$/, { error: 'must be a dotted OID like 1.2.392.200091.100.901.4' });

/**
 * Where the key is made (R-6.2): `soft` (software store, KEK split M-of-N) or `pkcs11` (inside
 * an HSM token set up with `rootca token init`). The PIN is never part of the file: it exists
 * only as custodians' shares (CPS 6.4.1).
 */
const storeSchema = z.enum(['soft', 'pkcs11'], { error: 'must be "soft" or "pkcs11"' });
const label = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, { error: 'must be a label of 1-32 letters, digits, . _ -' });
const pkcs11Schema = z.strictObject({
  module: z.string().startsWith('/', { error: 'must be the absolute path of the PKCS#11 library' }),
  token: label,
  keyLabel: label,
  /** CPS 6.2.4: tokens that receive a backup of the key in the same ceremony (wrapped under an M-of-N transport key). */
  backupTokens: z.array(label).default([]),
});

const keySchema = z.discriminatedUnion(
  'algorithm',
  [
    z.strictObject({
      store: storeSchema,
      algorithm: z.literal('rsa'),
      rsaModulusBits: z.literal([2048, 4096], { error: 'must be 2048 or 4096' }),
      pkcs11: pkcs11Schema.optional(),
    }),
    z.strictObject({
      store: storeSchema,
      algorithm: z.literal('ecdsa'),
      curve: z.literal(['P-256', 'P-384'], { error: 'must be P-256 or P-384' }),
      pkcs11: pkcs11Schema.optional(),
    }),
  ],
  { error: 'key.algorithm must be rsa or ecdsa' },
);

const nameAttribute = z
  .strictObject({
    type: z.enum(Object.keys(NAME_ATTRIBUTES) as [keyof typeof NAME_ATTRIBUTES], {
      error: `must be one of ${Object.keys(NAME_ATTRIBUTES).join(', ')}`,
    }),
    value: z.string().min(1, { error: 'must not be empty' }),
    encoding: z
      .enum(['printableString', 'utf8String'], { error: 'must be printableString or utf8String' })
      .default('printableString'),
  })
  // Issue 15.6: no control or bidi characters, the type's character set, the X.520 upper bounds.
  .superRefine((a, ctx) => {
    for (const p of checkNameString(NAME_ATTRIBUTES[a.type], a.encoding, a.value))
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${p.message} (${p.rule})` });
  });

const keyUsageNames = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

const extensionSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('subjectKeyIdentifier'), critical: z.boolean().default(false) }),
    z.strictObject({
      type: z.literal('keyUsage'),
      critical: z.boolean(),
      usages: z.array(z.enum(keyUsageNames)).min(1),
    }),
    z.strictObject({
      type: z.literal('basicConstraints'),
      critical: z.boolean(),
      cA: z.boolean(),
      pathLenConstraint: z.number().int().min(0).optional(),
    }),
  ],
  { error: 'must be subjectKeyIdentifier, keyUsage or basicConstraints' },
);

const timeSchema = z.union([
  z.literal('now'),
  z.iso.datetime({ offset: false, error: 'must be "now" or an ISO 8601 UTC time like 2026-12-01T00:00:00Z' }),
]);

export const rootCeremonySchema = z
  .strictObject({
    ceremony: z.literal('root-ca', { error: 'must be "root-ca"' }),
    ca: z.strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'must be a short identifier (letters, digits, . _ -)' }),
      description: z.string().optional(),
    }),
    key: keySchema,
    signatureAlgorithm: z.enum(Object.keys(SIGNATURE_ALGORITHMS) as [SignatureAlgorithmName], {
      error: `must be one of ${Object.keys(SIGNATURE_ALGORITHMS).join(', ')}`,
    }),
    legacySha1: z.boolean().default(false),
    /**
     * Issue 15.3: a legacy row that copies a real root passes the root lint only through this
     * allowance, which names the real certificate (its SHA-256 fingerprint) and the lints it waives.
     */
    legacyAllowance: z
      .strictObject({
        mirrors: z.string().min(1, { error: 'must name the real certificate this root mirrors' }),
        sha256: z.string().regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/, {
          error: 'must be the SHA-256 fingerprint of the real certificate (64 hex digits, colons allowed)',
        }),
        waives: z.array(z.string().regex(/^[ew]_[a-z0-9_]+$/, { error: 'must be a lint name' })).min(1),
      })
      .optional(),
    subject: z.array(nameAttribute).min(1, { error: 'must have at least one attribute' }),
    validity: z.strictObject({
      notBefore: timeSchema.default('now'),
      // CPS 6.3.2: "The validity period of CA Key Pairs is assumed to be twenty (20) years".
      years: z.number().int().min(1).max(25, { error: 'must be at most 25 (CPS 6.3.2 assumes 20)' }).default(20),
    }),
    extensions: z.array(extensionSchema).min(1),
    /** the Certificate Policy OIDs this root asserts in what it issues, by purpose. */
    policies: z
      .strictObject({
        subordinateCa: z.array(oid).default([]),
        timeStamping: z.array(oid).default([]),
      })
      .default({ subordinateCa: [], timeStamping: [] }),
    custodians: z.strictObject({
      threshold: z.number().int(),
      holders: z.array(operatorName).min(2, { error: 'must name at least two custodians (CPS 6.4.1)' }),
    }),
    witness: operatorName,
    outputs: z.strictObject({
      certificatePem: z.string().min(1),
      certificateDer: z.string().min(1).optional(),
    }),
  })
  .superRefine((c, ctx) => {
    const alg = SIGNATURE_ALGORITHMS[c.signatureAlgorithm];
    if (alg.keyKind !== c.key.algorithm) {
      ctx.addIssue({
        code: 'custom',
        path: ['signatureAlgorithm'],
        message: `${c.signatureAlgorithm} does not fit a ${c.key.algorithm} key`,
      });
    }
    if (c.key.algorithm === 'ecdsa') {
      const want = c.key.curve === 'P-256' ? 'ecdsa-with-SHA256' : 'ecdsa-with-SHA384';
      if (alg.keyKind === 'ecdsa' && c.signatureAlgorithm !== want) {
        ctx.addIssue({
          code: 'custom',
          path: ['signatureAlgorithm'],
          message: `must be ${want} for a ${c.key.curve} key (BR 7.1.3.2.2)`,
        });
      }
    }
    if (alg.legacy && !c.legacySha1) {
      ctx.addIssue({
        code: 'custom',
        path: ['legacySha1'],
        message: `must be true to sign with ${c.signatureAlgorithm}: SHA-1 is legacy only (R-1.3)`,
      });
    }
    if (!alg.legacy && c.legacySha1) {
      ctx.addIssue({ code: 'custom', path: ['legacySha1'], message: `is only for sha1WithRSAEncryption; remove it` });
    }
    if (c.key.store === 'pkcs11' && !c.key.pkcs11)
      ctx.addIssue({
        code: 'custom',
        path: ['key', 'pkcs11'],
        message: 'is required for store pkcs11: module, token and keyLabel (never a PIN)',
      });
    if (c.key.store === 'soft' && c.key.pkcs11)
      ctx.addIssue({ code: 'custom', path: ['key', 'pkcs11'], message: 'is only for store pkcs11; remove it' });
    if (c.key.pkcs11?.backupTokens.includes(c.key.pkcs11.token))
      ctx.addIssue({
        code: 'custom',
        path: ['key', 'pkcs11', 'backupTokens'],
        message: `names the primary token ${c.key.pkcs11.token}; a backup goes to another token (CPS 6.2.4)`,
      });
    const holders = c.custodians.holders;
    const dup = holders.find((h, i) => holders.indexOf(h) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['custodians', 'holders'], message: `names ${dup} twice` });
    if (c.custodians.threshold < 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['custodians', 'threshold'],
        message:
          'must be at least 2: "At least two digital keys are used for activation of CA Private Keys" (CPS 6.4.1)',
      });
    } else if (c.custodians.threshold > holders.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['custodians', 'threshold'],
        message: `must not exceed the ${holders.length} holders`,
      });
    }
    if (holders.includes(c.witness)) {
      ctx.addIssue({
        code: 'custom',
        path: ['witness'],
        message: `${c.witness} is also a custodian; the witness observes and must be another person (CPS 6.1.1)`,
      });
    }
    const types = c.extensions.map((e) => e.type);
    const dupExt = types.find((t, i) => types.indexOf(t) !== i);
    if (dupExt) ctx.addIssue({ code: 'custom', path: ['extensions'], message: `lists ${dupExt} twice (RFC 5280 4.2)` });
  });

export type RootCeremony = z.output<typeof rootCeremonySchema>;

export interface LoadedCeremony<T> {
  file: string;
  /** SHA-256 of the file's exact bytes: what the participants sign and the transcript names. */
  sha256: string;
  config: T;
}

/** Reads and validates a ceremony file's bytes. */
export function parseRootCeremony(bytes: Buffer, file: string): LoadedCeremony<RootCeremony> {
  let text: string;
  try {
    // Issue 15.6: a decoder that replaced invalid bytes would sign what the file does not say.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new CaError('CEREMONY_FILE_INVALID', `${file}: not well-formed UTF-8 (${RULE_UTF8})`, { cause: e });
  }
  let data: unknown;
  try {
    data = parseYaml(text, { strict: true, uniqueKeys: true });
  } catch (e) {
    throw new CaError('CEREMONY_FILE_INVALID', `${file}: not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  const config = parseStrict(rootCeremonySchema, data, file, 'CEREMONY_FILE_INVALID');
  return { file, sha256: createHash('sha256').update(bytes).digest('hex'), config };
}

export function keyAlgorithmOf(c: RootCeremony): KeyAlgorithm {
  return c.key.algorithm === 'rsa'
    ? { kind: 'rsa', modulusBits: c.key.rsaModulusBits }
    : { kind: 'ecdsa', curve: c.key.curve };
}
