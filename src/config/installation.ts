/**
 * The installation's own config file (`rootca.yaml` in the home). Strict like ceremony files;
 * changing it is a system change the Person Responsible approves (CPS 5.2.1) — enforced with roles.
 */
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { CaError } from '../errors.ts';
import { parseStrict } from './errors.ts';

const httpUrl = z.url({ protocol: /^http$/, error: 'must be an http:// URL (BR: CRL and AIA URLs are plain HTTP)' });

/**
 * How long signed status lives (at most twelve months: 365 days) and how long before its
 * nextUpdate the next is due; a margin as long as the life would make it due when signed.
 * Left out, the margin is the default or a sixth of a shorter life, so a file written before
 * margins existed (e.g. `validityDays: 7`) still loads.
 */
function signedLife(validityDays: number, renewBeforeDays: number, maxError: string) {
  return z
    .strictObject({
      validityDays: z.number().int().min(1).max(365, { error: maxError }).default(validityDays),
      renewBeforeDays: z.number().int().min(1).optional(),
    })
    .refine((c) => c.renewBeforeDays === undefined || c.renewBeforeDays < c.validityDays, {
      error: 'renewBeforeDays must be less than validityDays (else the next is due the moment one is signed)',
      path: ['renewBeforeDays'],
    })
    .transform((c) => ({
      validityDays: c.validityDays,
      renewBeforeDays: c.renewBeforeDays ?? Math.min(renewBeforeDays, Math.floor(c.validityDays / 6)),
    }))
    .default({ validityDays, renewBeforeDays });
}

export const installationConfigSchema = z.strictObject({
  installation: z.strictObject({
    name: z.string().min(1),
  }),
  repository: z.strictObject({
    /** Base of the URLs issued certificates name in CRL DP and AIA, e.g. http://repository.example.jp */
    baseUrl: httpUrl,
  }),
  /** CPS 5.3: an operator whose training or background check is older than this is refused. */
  personnel: z
    .strictObject({
      trainingValidityDays: z.number().int().min(1).default(365),
      backgroundCheckValidityDays: z.number().int().min(1).default(1095),
    })
    .default({ trainingValidityDays: 365, backgroundCheckValidityDays: 1095 }),
  /**
   * CRL life, and how long before its nextUpdate the next one is due (`rootca status`).
   * BR 4.9.7: a root's CRL "at least every twelve months", nextUpdate "not more than twelve
   * months beyond the value of the thisUpdate field".
   */
  crl: signedLife(180, 30, 'must be at most 365 (BR 4.9.7: twelve months for a root CA)'),
  /**
   * life of pre-signed OCSP responses, and the margin before their nextUpdate. BR
   * 4.9.10: for subordinate CA certificates the responder "SHALL update ... at least every
   * twelve months".
   */
  ocsp: signedLife(90, 14, 'must be at most 365 (BR 4.9.10)'),
  /**
   * What `rootca status` warns about besides CRLs and OCSP: responder and publication
   * certificates expiring within `certificateRenewBeforeDays`, and a revocation not yet in a
   * published CRL, an error after `revocationPublishHours` (BR 4.9.7 and CPS 4.9.7: "within
   * 24 hours after revoking a Subordinate CA Certificate"; at most 24).
   */
  status: z
    .strictObject({
      certificateRenewBeforeDays: z.number().int().min(1).default(30),
      revocationPublishHours: z
        .number()
        .int()
        .min(1)
        .max(24, { error: 'must be at most 24 (BR 4.9.7, 4.9.10; CPS 4.9.7: within 24 hours after revoking)' })
        .default(24),
    })
    .default({ certificateRenewBeforeDays: 30, revocationPublishHours: 24 }),
  /** CPS 5.4.3: audit events are kept at least this long; removing younger ones is refused. */
  audit: z
    .strictObject({
      retentionYears: z.number().int().min(10, { error: 'must be at least 10 (CPS 5.4.3)' }).default(10),
    })
    .default({ retentionYears: 10 }),
  /**
   * CPS 5.5.2-5.5.4: archive retention, and where the primary and secondary (remote) backups
   * go. Relative paths resolve against the installation home.
   */
  archive: z
    .strictObject({
      retentionYears: z.number().int().min(10, { error: 'must be at least 10 (CPS 5.5.2)' }).default(10),
      primary: z.string().min(1).default('backups/primary'),
      secondary: z.string().min(1).default('backups/secondary'),
    })
    .default({ retentionYears: 10, primary: 'backups/primary', secondary: 'backups/secondary' }),
  /**
   * scrypt cost (log2 N) for sealing operators' credentials under their passphrases, recorded
   * here so the installation says what protects them. 17 (128 MiB) for typed passphrases;
   * lower only where every passphrase is a long random secret (the demo's, test fixtures).
   */
  credentials: z
    .strictObject({
      scryptLog2N: z.number().int().min(10).max(20).default(17),
    })
    .default({ scryptLog2N: 17 }),
  /** profiles whose certificates are issued only from an approved application. */
  issuance: z
    .strictObject({
      requireApplicationFor: z.array(z.enum(['subca', 'tsa', 'ta', 'ocsp', 'publication'])).default(['subca']),
    })
    .default({ requireApplicationFor: ['subca'] }),
});

export type InstallationConfig = z.output<typeof installationConfigSchema>;

export function defaultInstallationConfig(name: string): InstallationConfig {
  return {
    installation: { name },
    repository: { baseUrl: 'http://127.0.0.1:8080' },
    personnel: { trainingValidityDays: 365, backgroundCheckValidityDays: 1095 },
    credentials: { scryptLog2N: 17 },
    issuance: { requireApplicationFor: ['subca'] },
    crl: { validityDays: 180, renewBeforeDays: 30 },
    ocsp: { validityDays: 90, renewBeforeDays: 14 },
    status: { certificateRenewBeforeDays: 30, revocationPublishHours: 24 },
    audit: { retentionYears: 10 },
    archive: { retentionYears: 10, primary: 'backups/primary', secondary: 'backups/secondary' },
  };
}

export function parseInstallationConfig(text: string, file: string): InstallationConfig {
  let data: unknown;
  try {
    data = parseYaml(text, { strict: true, uniqueKeys: true });
  } catch (e) {
    throw new CaError('CONFIG_INVALID', `${file}: not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  return parseStrict(installationConfigSchema, data, file, 'CONFIG_INVALID');
}

export function renderInstallationConfig(c: InstallationConfig): string {
  return `# rootca installation configuration (strict: unknown keys are errors)\n${stringify(c)}`;
}
