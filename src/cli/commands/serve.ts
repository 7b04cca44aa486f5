/** `rootca serve`: the Repository (HTTP/HTTPS) and OCSP from the online store. It never touches a root key. */
import cluster from 'node:cluster';
import { availableParallelism, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { CaError } from '../../errors.ts';
import {
  DEFAULT_CONNECTION_LIMITS,
  resolveConnectionLimits,
  type ConnectionLimits,
} from '../../server/connection-limits.ts';
import { DEFAULT_STATUS_MARGIN_SECONDS, formatMargin } from '../../server/expiry-watch.ts';
import type { ResponderConfig } from '../../server/responders.ts';
import { collect, print, readInput, usage, wholeNumber } from '../context.ts';
import { STORE_HELP } from '../options.ts';

type OnlineStoreModule = typeof import('../online-store.ts');

/** `env:VAR` or `@FILE`: a passphrase is never typed on the command line. */
function secret(spec: string, flag: string): string {
  if (spec.startsWith('env:')) {
    const v = process.env[spec.slice(4)];
    if (v === undefined) usage('CREDENTIAL_UNAVAILABLE', `${flag} ${spec}: the environment variable is not set`);
    return v;
  }
  if (spec.startsWith('@'))
    return readInput(spec.slice(1), 'passphrase')
      .toString('utf8')
      .replace(/\r?\n$/, '');
  return usage('CREDENTIAL_OPTION_INVALID', `${flag} must be env:VAR or @FILE, not the passphrase itself`);
}

interface ServeOptions {
  store?: string;
  import?: string;
  trust: string[];
  host: string;
  port: number;
  httpsPort: number;
  tlsCert?: string;
  tlsKey?: string;
  responderCert: string[];
  responderKey: string[];
  responderKeyPassphrase: string[];
  workers: number;
  logDir?: string;
  pollMs: number;
  logLevel: string;
  name?: string;
  heartbeatMs: number;
  cacheDir?: string;
  syslog?: string;
  syslogCa?: string;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnectionsPerAddress: number;
  statusMargin: number;
}

const UNIT_SECONDS: Record<string, number> = { d: 86_400, h: 3600, m: 60, s: 1 };

/** A duration such as 14d, 36h, 90m or 3600s, in seconds. */
function duration(flag: string) {
  return (v: string): number => {
    const m = /^(\d{1,9})([dhms])$/.exec(v);
    if (!m) usage('OPTION_VALUE_INVALID', `${flag} must be a duration such as 14d, 36h, 90m or 3600s, got "${v}"`);
    return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  };
}

/** The server's connection limits from the serve options, checked (a problem is a usage error naming the flags). */
function cliConnectionLimits(o: ServeOptions): ConnectionLimits {
  if (o.headersTimeoutMs > o.requestTimeoutMs)
    usage(
      'OPTIONS_CONFLICT',
      `--headers-timeout-ms (${o.headersTimeoutMs}) cannot be longer than --request-timeout-ms (${o.requestTimeoutMs})`,
    );
  for (const [flag, v] of [
    ['--headers-timeout-ms', o.headersTimeoutMs],
    ['--request-timeout-ms', o.requestTimeoutMs],
    ['--idle-timeout-ms', o.idleTimeoutMs],
  ] as const) {
    if (v < 1) usage('OPTION_VALUE_INVALID', `${flag} must be at least 1`);
  }
  return resolveConnectionLimits({
    headersTimeoutMs: o.headersTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
    idleTimeoutMs: o.idleTimeoutMs,
    maxConnectionsPerAddress: o.maxConnectionsPerAddress,
  });
}

/** Every option of `rootca serve`, in the order its help lists them. */
function addServeOptions(cmd: Command): Command {
  return addLogAndCacheOptions(addConnectionLimitOptions(addRunOptions(addListenOptions(addSourceOptions(cmd)))));
}

/** Where the publications come from: the store, a file to import first, the trust anchors. */
function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--store <spec>', STORE_HELP)
    .option(
      '--import <file>',
      'verify and import this publication file first (a refused import is reported; the previous one is served)',
    )
    .option(
      '--trust <file>',
      'root certificate (PEM or DER) to verify publications against; needed on the first import (repeatable)',
      collect,
      [],
    );
}

/** Where it listens and how it signs: ports, TLS and the delegated OCSP responders. */
function addListenOptions(cmd: Command): Command {
  return cmd
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'HTTP port (0: a free one)', wholeNumber('--port'), 8080)
    .option('--https-port <n>', 'HTTPS port, with --tls-cert/--tls-key', wholeNumber('--https-port'), 8443)
    .option('--tls-cert <file>', 'TLS certificate chain (PEM) for HTTPS')
    .option('--tls-key <file>', 'TLS private key (PEM) for HTTPS')
    .option(
      '--responder-cert <file>',
      'delegated OCSP responder certificate (PEM/DER), issued by a published CA with id-kp-OCSPSigning (repeatable, one per CA)',
      collect,
      [],
    )
    .option(
      '--responder-key <file>',
      'its private key (PEM, PKCS#8, may be encrypted) (repeatable, same order)',
      collect,
      [],
    )
    .option(
      '--responder-key-passphrase <spec>',
      'env:VAR or @FILE: passphrase of an encrypted responder key (one for all, or one per key)',
      collect,
      [],
    );
}

/** How it runs: workers, access log, polling, its name and heartbeat, the status margin. */
function addRunOptions(cmd: Command): Command {
  return (
    cmd
      // The default is described, not printed: help and docs/cli.md read the same on every machine.
      .addOption(
        new Option('--workers <n>', 'worker processes (node:cluster)')
          .argParser(wholeNumber('--workers'))
          .default(availableParallelism(), 'one per CPU'),
      )
      .option('--log-dir <dir>', 'OCSP access log folder (default: ocsp-access-log next to the store)')
      .option(
        '--poll-ms <n>',
        'how often to look for a newer publication in the store (PostgreSQL also notifies at once)',
        wholeNumber('--poll-ms'),
        2000,
      )
      .option(
        '--name <name>',
        "this responder's name in `online status`, events, access-log chains and metric labels (default HOST:PORT)",
      )
      .option(
        '--heartbeat-ms <n>',
        'how often this responder records that it is alive in the store',
        wholeNumber('--heartbeat-ms'),
        5000,
      )
      .addOption(
        new Option(
          '--status-margin <duration>',
          '/healthz turns degraded this long before a CRL or pre-signed OCSP nextUpdate, or a live responder certificate, runs out (e.g. 14d, 36h)',
        )
          .argParser(duration('--status-margin'))
          .default(DEFAULT_STATUS_MARGIN_SECONDS, formatMargin(DEFAULT_STATUS_MARGIN_SECONDS)),
      )
  );
}

/** Connection limits against slow or greedy clients. */
function addConnectionLimitOptions(cmd: Command): Command {
  return cmd
    .option(
      '--headers-timeout-ms <n>',
      'a request head (and a TLS handshake) must arrive within this, else 408 and the connection is closed',
      wholeNumber('--headers-timeout-ms'),
      DEFAULT_CONNECTION_LIMITS.headersTimeoutMs,
    )
    .option(
      '--request-timeout-ms <n>',
      'a whole request, head and body, must arrive within this',
      wholeNumber('--request-timeout-ms'),
      DEFAULT_CONNECTION_LIMITS.requestTimeoutMs,
    )
    .option(
      '--idle-timeout-ms <n>',
      'an idle keep-alive connection is closed after this',
      wholeNumber('--idle-timeout-ms'),
      DEFAULT_CONNECTION_LIMITS.idleTimeoutMs,
    )
    .option(
      '--max-connections-per-address <n>',
      'open connections one client address may hold; more are closed at once (0: no cap, e.g. behind a load balancer)',
      wholeNumber('--max-connections-per-address'),
      DEFAULT_CONNECTION_LIMITS.maxConnectionsPerAddress,
    );
}

/** Logging, and the local copy of the last publication for PostgreSQL outages. */
function addLogAndCacheOptions(cmd: Command): Command {
  return cmd
    .option('--log-level <level>', 'pino log level (logs go to stderr)', 'info')
    .option(
      '--cache-dir <dir>',
      'with PostgreSQL: folder of the local copy of the last publication served, used when the store is unreachable at start (default: last-publication in --log-dir)',
    )
    .option(
      '--syslog <url>',
      'also send server events and closed access-log segments to a syslog collector: tcp://HOST:PORT or tls://HOST:PORT (RFC 5424, octet-counted)',
    )
    .option('--syslog-ca <file>', 'with tls://: the CA certificate(s) (PEM) the collector must chain to');
}

/** The delegated OCSP responders named on the command line, their files read. */
function respondersOf(o: ServeOptions): ResponderConfig[] {
  return o.responderCert.map((cert, i) => {
    const pass = o.responderKeyPassphrase[o.responderKeyPassphrase.length === 1 ? 0 : i];
    return {
      certificate: readInput(cert, 'responder certificate'),
      key: readInput(o.responderKey[i]!, 'responder key'),
      passphrase: pass === undefined ? undefined : secret(pass, '--responder-key-passphrase'),
      source: `--responder-cert ${cert}`,
    };
  });
}

/**
 * In the primary process: imports --import, then finds the version to serve (the store's, or
 * the newer local copy); `fromCopy` says why the local copy is served.
 */
async function versionToServe(
  m: OnlineStoreModule,
  spec: string,
  o: ServeOptions,
  name: string,
  cacheDir: string | undefined,
): Promise<{ version?: number; fromCopy?: string }> {
  let version: number | undefined;
  /** Set when the local copy is served at start: why. */
  let fromCopy: string | undefined;
  // Also runs the PostgreSQL migrations once, before the workers start.
  version = await m
    .withStore(
      spec,
      async (store) => {
        if (o.import) {
          try {
            const r = await m.importOne(store, o.import, m.trustAnchors(o.trust));
            process.stderr.write(`${r.text}\n`);
          } catch (e) {
            if (!(e instanceof CaError) || e.code === 'USAGE' || e.code === 'STORE_UNAVAILABLE') throw e;
            process.stderr.write(`rootca: import of ${o.import} refused: ${e.message} [${e.code}]\n`);
          }
        }
        return store.latestVersion();
      },
      name,
    )
    .catch((e: unknown) => {
      // CPS 2.1 (24x7): a responder restarted while PostgreSQL is away serves its verified local copy.
      if (!cacheDir || o.import || !(e instanceof CaError) || e.code !== 'STORE_UNAVAILABLE') throw e;
      fromCopy = e.message;
      return undefined;
    });
  if (cacheDir) {
    const held = m.localCopyVersion(cacheDir, fromCopy);
    if (fromCopy && held === undefined)
      throw new CaError(
        'STORE_UNAVAILABLE',
        `${fromCopy}; and there is no local copy of a publication in ${cacheDir} to serve meanwhile`,
      );
    if (held !== undefined && (version === undefined || held > version)) {
      version = held;
      fromCopy ??= `the online store holds only older versions`;
    }
  }
  if (version === undefined)
    throw new CaError(
      'NOTHING_TO_SERVE',
      `the online store ${m.parseStoreLocation(spec).display} holds no publication: import one with --import FILE --trust ROOT.pem`,
    );
  return { version, fromCopy };
}

/** The syslog forwarding of --syslog (checked before anything starts). */
async function syslogOptions(o: ServeOptions) {
  if (!o.syslog) return o.syslogCa ? usage('OPTIONS_CONFLICT', '--syslog-ca is used with --syslog') : undefined;
  const { parseSyslogTarget } = await import('../../server/syslog-forwarder.ts');
  const target = parseSyslogTarget(o.syslog, o.syslogCa ? readInput(o.syslogCa, 'syslog CA') : undefined);
  const url = o.syslog;
  return { target, onError: (e: Error) => process.stderr.write(`rootca: syslog collector ${url}: ${e.message}\n`) };
}

/** `rootca serve`: checks the options, finds what to serve, runs the server until it is stopped. */
async function serve(cmd: Command, o: ServeOptions): Promise<void> {
  const m = await import('../online-store.ts');
  const { parseStoreLocation, sqlitePath, storeSpec } = m;
  const { runServer } = await import('../../server/cluster.ts');
  const spec = storeSpec(cmd, o.store);
  if (o.responderCert.length !== o.responderKey.length)
    usage('OPTIONS_CONFLICT', 'give one --responder-key for each --responder-cert');
  if (o.responderKeyPassphrase.length > 1 && o.responderKeyPassphrase.length !== o.responderKey.length)
    usage('OPTIONS_CONFLICT', 'give one --responder-key-passphrase for all keys, or one per key');
  if (!!o.tlsCert !== !!o.tlsKey) usage('OPTIONS_CONFLICT', '--tls-cert and --tls-key go together');
  if (o.trust.length > 0 && !o.import) usage('OPTIONS_CONFLICT', '--trust is used with --import');
  if (o.workers < 1) usage('OPTION_VALUE_INVALID', '--workers must be at least 1');
  const limits = cliConnectionLimits(o);
  const path = sqlitePath(spec);
  const logDir =
    o.logDir ??
    (path
      ? join(dirname(resolve(path)), 'ocsp-access-log')
      : usage(
          'OPTION_REQUIRED',
          '--log-dir is needed with a PostgreSQL store (each responder keeps its own segments)',
        ));
  if (o.cacheDir && path)
    usage('OPTIONS_CONFLICT', '--cache-dir is for a PostgreSQL store (a SQLite store is a local file already)');
  const cacheDir = path ? undefined : resolve(o.cacheDir ?? join(logDir, 'last-publication'));
  const name = o.name ?? `${hostname()}:${o.port}`;
  const responders = respondersOf(o);
  const tls = o.tlsCert
    ? { cert: readInput(o.tlsCert, 'TLS certificate'), key: readInput(o.tlsKey!, 'TLS key'), port: o.httpsPort }
    : undefined;

  const syslog = await syslogOptions(o);
  const { version, fromCopy } = cluster.isPrimary ? await versionToServe(m, spec, o, name, cacheDir) : {};
  await runServer(
    {
      store: spec,
      cacheDir,
      name,
      host: o.host,
      port: o.port,
      tls,
      responders,
      logDir,
      pollMs: o.pollMs,
      heartbeatMs: o.heartbeatMs,
      statusMarginSeconds: o.statusMargin,
      logLevel: o.logLevel,
      logStream: process.stderr,
      syslog,
      workers: o.workers,
      limits,
      // Metric series carry the responder label when it was named or the store is shared.
      labelMetrics: o.name !== undefined || path === undefined,
    },
    (l) => {
      print(
        cmd,
        {
          repository: `${l.httpUrl}/`,
          ocsp: `${l.httpUrl}/ocsp`,
          httpsRepository: l.httpsUrl ? `${l.httpsUrl}/` : undefined,
          version,
          workers: l.workers,
          logDir,
          responder: name,
          store: parseStoreLocation(spec).display,
        },
        [
          `Repository  ${l.httpUrl}/`,
          `OCSP        ${l.httpUrl}/ocsp`,
          ...(l.httpsUrl ? [`Repository  ${l.httpsUrl}/ (HTTPS)`, `OCSP        ${l.httpsUrl}/ocsp (HTTPS)`] : []),
          `Serving publication version ${version} from ${fromCopy ? `the local copy in ${cacheDir} (${fromCopy}; following the store once it can)` : parseStoreLocation(spec).display} as responder ${name} with ${l.workers} worker(s); OCSP access log in ${logDir}`,
        ].join('\n'),
      );
    },
  );
}

/** Defines `rootca serve`: its options and the action that runs the server. */
export function define(cmd: Command): void {
  addServeOptions(cmd).action(async function (this: Command, o: ServeOptions) {
    await serve(this, o);
  });
}
