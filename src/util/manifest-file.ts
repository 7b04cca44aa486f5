/** Reading the manifest of a folder that verifies itself (audit bundles, audit evidence). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The manifest `name` in `dir` when it parses as JSON and `isFormat` accepts it; otherwise the
 * problem is recorded ("cannot be read as JSON", or "is not a FORMAT manifest") and nothing returned.
 */
export function readManifestFile<T>(
  dir: string,
  name: string,
  format: string,
  isFormat: (m: T) => boolean,
  problems: string[],
): T | undefined {
  let manifest: T;
  try {
    manifest = JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
  } catch (e) {
    problems.push(`${name} cannot be read as JSON: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return undefined;
  }
  if (!isFormat(manifest)) {
    problems.push(`${name} is not a ${format} manifest`);
    return undefined;
  }
  return manifest;
}
