/**
 * What `rootca serve` and `rootca online …` share: the online store named by --store, trust
 * anchors, and importing a publication. Loaded by their actions only (it opens the server's
 * store adapters, SQLite and PostgreSQL).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { CaError } from '../errors.ts';
import { readDerOrPem } from '../pki/pem.ts';
import type { ServingStore } from '../server/online-store.ts';
import { PublicationCache } from '../server/publication-cache.ts';
import { openServingStore, parseStoreLocation } from '../server/store-location.ts';
import { withProgress } from '../util/progress.ts';
import { homeOf, readInput, warnIfHomeFromCurrentFolder } from './context.ts';

export { parseStoreLocation };

/** The store --store names, else the SQLite file beside the installation. */
export function storeSpec(cmd: Command, spec: string | undefined): string {
  if (spec !== undefined) return spec;
  warnIfHomeFromCurrentFolder(cmd);
  return `sqlite:${join(homeOf(cmd), 'online.db')}`;
}

/** The SQLite file a store spec names, or undefined for PostgreSQL. */
export function sqlitePath(spec: string): string | undefined {
  const loc = parseStoreLocation(spec);
  return loc.kind === 'sqlite' ? loc.path : undefined;
}

/** Runs `fn` with the store open, and closes it (a PostgreSQL pool would keep the process alive). */
export async function withStore<T>(
  spec: string,
  fn: (store: ServingStore) => Promise<T>,
  responder?: string,
): Promise<T> {
  const store = await openServingStore(spec, { responder });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The roots named with --trust, read as DER or PEM; one that is not a certificate is named. */
export function trustAnchors(files: string[]): Buffer[] {
  return files.map((f) => {
    try {
      return readDerOrPem(readInput(f, 'trust anchor'), 'CERTIFICATE');
    } catch (e) {
      if (e instanceof CaError && e.code === 'USAGE') throw e;
      throw new CaError('TRUST_ANCHOR_INVALID', `--trust ${f}: ${(e as Error).message}`);
    }
  });
}

/** Verifies and imports one publication file and describes what it holds. */
export async function importOne(store: ServingStore, file: string, trust: Buffer[]) {
  const bytes = readInput(file, 'publication');
  const { version, publication } = await withProgress(`verifying and importing ${file}`, () =>
    store.importVerified(bytes, trust),
  );
  const p = publication;
  const certificates = [...p.certificates.values()].reduce((n, m) => n + m.size, 0);
  return {
    json: {
      version,
      installation: p.manifest.installation,
      createdAt: p.manifest.createdAt,
      sha256: p.sha256,
      cas: [...p.cas.keys()],
      certificates,
      ocspResponses: p.index.size,
      crls: p.crls.size,
      documents: p.documents.length,
    },
    text: `Imported publication version ${version} of ${p.manifest.installation} (created ${p.manifest.createdAt}; ${p.cas.size} CA(s), ${p.crls.size} CRL(s), ${certificates} certificate(s), ${p.index.size} pre-signed OCSP response(s), ${p.documents.length} document(s))`,
  };
}

/** The version of the local copy in `dir` (undefined: none); a damaged one is refused, saying why the store could not serve either. */
export function localCopyVersion(dir: string, storeProblem: string | undefined): number | undefined {
  try {
    return new PublicationCache(dir).peekVersion();
  } catch (e) {
    if (!(e instanceof CaError)) throw e;
    if (!storeProblem) return undefined; // the store serves; the server logs the damaged copy and replaces it
    throw new CaError(e.code, `${e.message}, and ${storeProblem}: nothing to serve`, { cause: e });
  }
}
