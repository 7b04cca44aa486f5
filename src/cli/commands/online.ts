/** `rootca serve` and `rootca online …`: the online side (Repository, OCSP, imports). It never touches a root key. */
import cluster from 'node:cluster';
import { availableParallelism, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CaError } from '../../errors.ts';
import { readDerOrPem } from '../../pki/pem.ts';
import { verifyAccessLogChain } from '../../server/access-log.ts';
import { runServer } from '../../server/cluster.ts';
import { PublicationCache } from '../../server/publication-cache.ts';
import type { ServingStore } from '../../server/online-store.ts';
import type { ResponderConfig } from '../../server/responders.ts';
import { openServingStore, parseStoreLocation } from '../../server/store-location.ts';
import { collect, homeOf, print, readInput, usage, wholeNumber } from '../context.ts';

const STORE_HELP = 'online store: sqlite:PATH (default $ROOTCA_HOME/online.db) or postgres://USER@HOST:PORT/DB (many responders)';

function storeSpec(cmd: Command, spec: string | undefined): string {
  return spec ?? `sqlite:${join(homeOf(cmd), 'online.db')}`;
}

function sqlitePath(spec: string): string | undefined {
  const loc = parseStoreLocation(spec);
  return loc.kind === 'sqlite' ? loc.path : undefined;
}

/** Runs `fn` with the store open, and closes it (a PostgreSQL pool would keep the process alive). */
async function withStore<T>(spec: string, fn: (store: ServingStore) => Promise<T>, responder?: string): Promise<T> {
  const store = await openServingStore(spec, { responder });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function trustAnchors(files: string[]): Buffer[] {
  return files.map((f) => {
    try {
      return readDerOrPem(readInput(f, 'trust anchor'), 'CERTIFICATE');
    } catch (e) {
      if (e instanceof CaError && e.code === 'USAGE') throw e;
      throw new CaError('TRUST_ANCHOR_INVALID', `--trust ${f}: ${(e as Error).message}`);
    }
  });
}

/** `env:VAR` or `@FILE`: a passphrase is never typed on the command line. */
function secret(spec: string, flag: string): string {
  if (spec.startsWith('env:')) {
    const v = process.env[spec.slice(4)];
    if (v === undefined) usage('CREDENTIAL_UNAVAILABLE', `${flag} ${spec}: the environment variable is not set`);
    return v;
  }
  if (spec.startsWith('@')) return readInput(spec.slice(1), 'passphrase').toString('utf8').replace(/\r?\n$/, '');
  return usage('CREDENTIAL_OPTION_INVALID', `${flag} must be env:VAR or @FILE, not the passphrase itself`);
}

async function importOne(store: ServingStore, file: string, trust: Buffer[]) {
  const bytes = readInput(file, 'publication');
  const { version, publication } = await store.importVerified(bytes, trust);
  const p = publication;
  const certificates = [...p.certificates.values()].reduce((n, m) => n + m.size, 0);
  return {
    json: { version, installation: p.manifest.installation, createdAt: p.manifest.createdAt, sha256: p.sha256, cas: [...p.cas.keys()], certificates, ocspResponses: p.index.size, crls: p.crls.size, documents: p.documents.length },
    text: `Imported publication version ${version} of ${p.manifest.installation} (created ${p.manifest.createdAt}; ${p.cas.size} CA(s), ${p.crls.size} CRL(s), ${certificates} certificate(s), ${p.index.size} pre-signed OCSP response(s), ${p.documents.length} document(s))`,
  };
}

/** The version of the local copy in `dir` (undefined: none); a damaged one is refused, saying why the store could not serve either. */
function localCopyVersion(dir: string, storeProblem: string | undefined): number | undefined {
  try {
    return new PublicationCache(dir).peekVersion();
  } catch (e) {
    if (!(e instanceof CaError)) throw e;
    if (!storeProblem) return undefined; // the store serves; the server logs the damaged copy and replaces it
    throw new CaError(e.code, `${e.message}, and ${storeProblem}: nothing to serve`, { cause: e });
  }
}

interface ServeOptions {
  store?: string; import?: string; trust: string[]; host: string; port: number; httpsPort: number; tlsCert?: string; tlsKey?: string;
  responderCert: string[]; responderKey: string[]; responderKeyPassphrase: string[]; workers: number; logDir?: string; pollMs: number; logLevel: string;
  name?: string; heartbeatMs: number; cacheDir?: string;
}

export function onlineCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the Repository (HTTP/HTTPS) and OCSP from the online store; holds no root key')
    .option('--store <spec>', STORE_HELP)
    .option('--import <file>', 'verify and import this publication file first (a refused import is reported; the previous one is served)')
    .option('--trust <file>', 'root certificate (PEM or DER) to verify publications against; needed on the first import (repeatable)', collect, [])
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'HTTP port (0: a free one)', wholeNumber('--port'), 8080)
    .option('--https-port <n>', 'HTTPS port, with --tls-cert/--tls-key', wholeNumber('--https-port'), 8443)
    .option('--tls-cert <file>', 'TLS certificate chain (PEM) for HTTPS')
    .option('--tls-key <file>', 'TLS private key (PEM) for HTTPS')
    .option('--responder-cert <file>', 'delegated OCSP responder certificate (PEM/DER), issued by a published CA with id-kp-OCSPSigning (repeatable, one per CA)', collect, [])
    .option('--responder-key <file>', 'its private key (PEM, PKCS#8, may be encrypted) (repeatable, same order)', collect, [])
    .option('--responder-key-passphrase <spec>', 'env:VAR or @FILE: passphrase of an encrypted responder key (one for all, or one per key)', collect, [])
    .option('--workers <n>', 'worker processes (node:cluster)', wholeNumber('--workers'), availableParallelism())
    .option('--log-dir <dir>', 'OCSP access log folder (default: ocsp-access-log next to the store)')
    .option('--poll-ms <n>', 'how often to look for a newer publication in the store (PostgreSQL also notifies at once)', wholeNumber('--poll-ms'), 2000)
    .option('--name <name>', 'this responder\'s name in `online status`, events, access-log chains and metric labels (default HOST:PORT)')
    .option('--heartbeat-ms <n>', 'how often this responder records that it is alive in the store', wholeNumber('--heartbeat-ms'), 5000)
    .option('--log-level <level>', 'pino log level (logs go to stderr)', 'info')
    .option('--cache-dir <dir>', 'with PostgreSQL: folder of the local copy of the last publication served, used when the store is unreachable at start (default: last-publication in --log-dir)')
    .action(async function (this: Command, o: ServeOptions) {
      const spec = storeSpec(this, o.store);
      if (o.responderCert.length !== o.responderKey.length) usage('OPTIONS_CONFLICT', 'give one --responder-key for each --responder-cert');
      if (o.responderKeyPassphrase.length > 1 && o.responderKeyPassphrase.length !== o.responderKey.length) usage('OPTIONS_CONFLICT', 'give one --responder-key-passphrase for all keys, or one per key');
      if (!!o.tlsCert !== !!o.tlsKey) usage('OPTIONS_CONFLICT', '--tls-cert and --tls-key go together');
      if (o.trust.length > 0 && !o.import) usage('OPTIONS_CONFLICT', '--trust is used with --import');
      if (o.workers < 1) usage('OPTION_VALUE_INVALID', '--workers must be at least 1');
      const path = sqlitePath(spec);
      const logDir = o.logDir ?? (path ? join(dirname(resolve(path)), 'ocsp-access-log') : usage('OPTION_REQUIRED', '--log-dir is needed with a PostgreSQL store (each responder keeps its own segments)'));
      if (o.cacheDir && path) usage('OPTIONS_CONFLICT', '--cache-dir is for a PostgreSQL store (a SQLite store is a local file already)');
      const cacheDir = path ? undefined : resolve(o.cacheDir ?? join(logDir, 'last-publication'));
      const name = o.name ?? `${hostname()}:${o.port}`;
      const responders: ResponderConfig[] = o.responderCert.map((cert, i) => {
        const pass = o.responderKeyPassphrase[o.responderKeyPassphrase.length === 1 ? 0 : i];
        return {
          certificate: readInput(cert, 'responder certificate'),
          key: readInput(o.responderKey[i]!, 'responder key'),
          passphrase: pass === undefined ? undefined : secret(pass, '--responder-key-passphrase'),
          source: `--responder-cert ${cert}`,
        };
      });
      const tls = o.tlsCert ? { cert: readInput(o.tlsCert, 'TLS certificate'), key: readInput(o.tlsKey!, 'TLS key'), port: o.httpsPort } : undefined;

      let version: number | undefined;
      /** Set when the local copy is served at start: why. */
      let fromCopy: string | undefined;
      if (cluster.isPrimary) {
        // Also runs the PostgreSQL migrations once, before the workers start.
        version = await withStore(spec, async (store) => {
          if (o.import) {
            try {
              const r = await importOne(store, o.import, trustAnchors(o.trust));
              process.stderr.write(`${r.text}\n`);
            } catch (e) {
              if (!(e instanceof CaError) || e.code === 'USAGE' || e.code === 'STORE_UNAVAILABLE') throw e;
              process.stderr.write(`rootca: import of ${o.import} refused: ${e.message} [${e.code}]\n`);
            }
          }
          return store.latestVersion();
        }, name).catch((e: unknown) => {
          // CPS 2.1 (24x7): a responder restarted while PostgreSQL is away serves its verified local copy.
          if (!cacheDir || o.import || !(e instanceof CaError) || e.code !== 'STORE_UNAVAILABLE') throw e;
          fromCopy = e.message;
          return undefined;
        });
        if (cacheDir) {
          const held = localCopyVersion(cacheDir, fromCopy);
          if (fromCopy && held === undefined) throw new CaError('STORE_UNAVAILABLE', `${fromCopy}; and there is no local copy of a publication in ${cacheDir} to serve meanwhile`);
          if (held !== undefined && (version === undefined || held > version)) {
            version = held;
            fromCopy ??= `the online store holds only older versions`;
          }
        }
        if (version === undefined) throw new CaError('NOTHING_TO_SERVE', `the online store ${parseStoreLocation(spec).display} holds no publication: import one with --import FILE --trust ROOT.pem`);
      }

      await runServer(
        {
          store: spec, cacheDir, name, host: o.host, port: o.port, tls, responders, logDir, pollMs: o.pollMs, heartbeatMs: o.heartbeatMs, logLevel: o.logLevel, logStream: process.stderr, workers: o.workers,
          // Metric series carry the responder label when it was named or the store is shared.
          labelMetrics: o.name !== undefined || path === undefined,
        },
        (l) => {
          print(this, { repository: `${l.httpUrl}/`, ocsp: `${l.httpUrl}/ocsp`, httpsRepository: l.httpsUrl ? `${l.httpsUrl}/` : undefined, version, workers: l.workers, logDir, responder: name, store: parseStoreLocation(spec).display }, [
            `Repository  ${l.httpUrl}/`,
            `OCSP        ${l.httpUrl}/ocsp`,
            ...(l.httpsUrl ? [`Repository  ${l.httpsUrl}/ (HTTPS)`, `OCSP        ${l.httpsUrl}/ocsp (HTTPS)`] : []),
            `Serving publication version ${version} from ${fromCopy ? `the local copy in ${cacheDir} (${fromCopy}; following the store once it can)` : parseStoreLocation(spec).display} as responder ${name} with ${l.workers} worker(s); OCSP access log in ${logDir}`,
          ].join('\n'));
        },
      );
    });

  const online = program.command('online').description('the online store: publications and the OCSP access log');
  online
    .command('import <file>')
    .description('verify a publication file against the trust anchors and import it (refused whole on any failure)')
    .option('--store <spec>', STORE_HELP)
    .option('--trust <file>', 'root certificate (PEM or DER) to trust; needed on the first import (repeatable)', collect, [])
    .action(async function (this: Command, file: string, o: { store?: string; trust: string[] }) {
      const trust = trustAnchors(o.trust);
      const r = await withStore(storeSpec(this, o.store), (store) => importOne(store, file, trust), `import@${hostname()}`);
      print(this, r.json, r.text);
    });
  online
    .command('status')
    .description('the responders seen recently (version served, health), and the last import')
    .option('--store <spec>', STORE_HELP)
    .option('--within <seconds>', 'list responders whose last heartbeat is at most this old', wholeNumber('--within'), 30)
    .action(async function (this: Command, o: { store?: string; within: number }) {
      const spec = storeSpec(this, o.store);
      const { responders, lastImport, latest } = await withStore(spec, async (store) => ({
        responders: await store.responders(o.within * 1000),
        lastImport: await store.lastImport(),
        latest: await store.latestVersion(),
      }));
      const behind = responders.filter((r) => r.version !== latest);
      const lines = [
        `Store        ${parseStoreLocation(spec).display}`,
        lastImport ? `Last import  version ${lastImport.version} at ${lastImport.importedAt} (SHA-256 ${lastImport.sha256})` : 'Last import  none',
        `Responders   ${responders.length} seen in the last ${o.within} s${behind.length ? `; ${behind.length} not on version ${latest ?? '-'}` : ''}`,
        ...responders.map((r) => `  ${r.name.padEnd(24)} pid ${String(r.pid).padEnd(8)} version ${String(r.version ?? '-').padEnd(5)} ${r.status.padEnd(11)} seen ${r.seenAt}  ${r.url ?? ''}${r.problems.length ? `\n      ${r.problems.join('\n      ')}` : ''}`),
      ];
      print(this, { store: parseStoreLocation(spec).display, lastImport: lastImport ?? null, responders }, lines.join('\n'));
    });
  online
    .command('verify-log')
    .description('check the OCSP access-log chain: every closed segment present with its SHA-256, each linked to the one before')
    .option('--store <spec>', STORE_HELP)
    .option('--log-dir <dir>', 'a folder holding segments (repeatable: e.g. the live folder and archive copies; default: ocsp-access-log next to the store)', collect, [])
    .option('--responder <name>', 'with PostgreSQL: whose chain (each responder has its own)')
    .action(async function (this: Command, o: { store?: string; logDir: string[]; responder?: string }) {
      const spec = storeSpec(this, o.store);
      const path = sqlitePath(spec);
      if (!path && !o.responder) usage('OPTION_REQUIRED', '--responder NAME is needed with a PostgreSQL store (each responder has its own chain; `rootca online status` lists them)');
      const dir = o.logDir.length ? o.logDir : [path ? join(dirname(resolve(path)), 'ocsp-access-log') : usage('OPTION_REQUIRED', '--log-dir is needed with a PostgreSQL store')];
      const records = await withStore(spec, async (store) => store.accessLogSegments(o.responder));
      const problems = verifyAccessLogChain(dir, records);
      print(this, { segments: records.length, lines: records.reduce((n, r) => n + r.lines, 0), problems },
        problems.length ? problems.join('\n') : `OK: ${records.length} segment(s), ${records.reduce((n, r) => n + r.lines, 0)} request(s), chain intact`);
      if (problems.length) process.exitCode = 1;
    });
}
