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
});

export type InstallationConfig = z.output<typeof installationConfigSchema>;

export function defaultInstallationConfig(name: string): InstallationConfig {
  return { installation: { name }, repository: { baseUrl: 'http://127.0.0.1:8080' } };
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
