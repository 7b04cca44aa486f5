/**
 * The installation's own config file (`rootca.yaml` in the home). Strict like ceremony files;
 * changing it is a system change the Person Responsible approves (CPS 5.2.1) — enforced with roles.
 */
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { CaError } from '../errors.ts';
import { parseStrict } from './errors.ts';

const httpUrl = z.url({ protocol: /^http$/, error: 'must be an http:// URL (BR: CRL and AIA URLs are plain HTTP)' });

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
  /** CRL life. BR 4.9.7: a root's nextUpdate at most twelve months after thisUpdate. */
  crl: z
    .strictObject({
      validityDays: z
        .number()
        .int()
        .min(1)
        .max(365, { error: 'must be at most 365 (BR 4.9.7: twelve months for a root CA)' })
        .default(180),
    })
    .default({ validityDays: 180 }),
  /** life of pre-signed OCSP responses. BR 4.9.10: refreshed at least every twelve months. */
  ocsp: z
    .strictObject({
      validityDays: z.number().int().min(1).max(365, { error: 'must be at most 365 (BR 4.9.10)' }).default(90),
    })
    .default({ validityDays: 90 }),
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
    crl: { validityDays: 180 },
    ocsp: { validityDays: 90 },
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
