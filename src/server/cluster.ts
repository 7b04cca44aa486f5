/**
 * Running the server as a process: one process, or a node:cluster primary with N workers that
 * share the listening ports (each worker opens its own store connection, polls on its own and
 * writes its own access-log segments into the one chain). Graceful shutdown on SIGTERM/SIGINT:
 * stop accepting, finish requests, close the open access-log segment.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { CaError } from '../errors.ts';
import type { ServerOptions } from './app.ts';
import { serveClusterMetrics } from './cluster-metrics.ts';
import { OLD_GENERATION_GROWING } from './heap-settings.ts';

export interface Listening {
  httpUrl: string;
  httpsUrl?: string;
}

const LISTENING = 'rootca:listening';
const FAILED = 'rootca:failed';

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * The V8 and node flags a worker runs with, besides the primary's own (issue 17 item 4: a
 * responder process idle under 80 MB). A flag the operator gave (NODE_OPTIONS or the command
 * line) wins.
 * - `--max-semi-space-size=1`: V8 grows the young generation to 2 x 16 MiB during start-up and
 *   keeps it resident. With a 1 MiB semi-space a worker scavenges about once per 400 fast-path
 *   requests (some 2.6 kB allocated per request, mostly node's socket read and write objects),
 *   each short since almost nothing survives, and holds about 25 MB less.
 * - `--v8-pool-size=2`: V8's background threads (concurrent compilation, marking, sweeping),
 *   4 by default. With 2, fewer optimising compilations run at once while the worker starts,
 *   so less compiler memory is freed into the malloc arenas and kept there; paired wrk runs
 *   showed no more CPU per request.
 * - `--heap-growing-percent=50`: the old generation kept within 1.5x of what the last full
 *   collection kept (heap-settings.ts keepOldGenerationTight, which says why).
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = (flag: string) => [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => a.startsWith(flag));
  return [
    ...execArgv,
    ...(given('--max-semi-space-size') ? [] : ['--max-semi-space-size=1']),
    ...(given('--v8-pool-size') ? [] : ['--v8-pool-size=2']),
    ...(given('--heap-growing-percent') ? [] : [OLD_GENERATION_GROWING]),
  ];
}

/**
 * The environment a worker starts with (glibc malloc, mallopt(3)); the operator's values win.
 * - `MALLOC_ARENA_MAX=2`: glibc makes a malloc arena per thread (V8's and libuv's, about ten),
 *   each keeping freed memory resident; two arenas hold the same work in about 4 MB less.
 * - `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` at 128 KiB, glibc's initial values,
 *   held fixed: glibc raises both each time a large block is freed (up to 32 and 64 MiB), after
 *   which large buffers come from the arenas and freed memory is no longer given back; fixed,
 *   blocks over 128 KiB are mapped and unmapped on their own and a free top of an arena over
 *   128 KiB is returned. A request allocates no block that large (the read buffer is 64 KiB).
 */
export function workerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2',
    MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
    MALLOC_TRIM_THRESHOLD_: env.MALLOC_TRIM_THRESHOLD_ ?? '131072',
  };
}

/** A free TCP port on `host` (so every worker binds the same concrete port). */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Serves until SIGTERM/SIGINT. With `workers` > 1 this process becomes the cluster primary and
 * `ready` is called once every worker listens; in a worker (the same command re-run by
 * node:cluster) it serves and reports to the primary.
 */
export async function runServer(
  options: ServerOptions & { workers: number },
  ready: (l: Listening & { workers: number }) => void,
): Promise<void> {
  const { workers, ...serverOptions } = options;
  if (cluster.isWorker) return runWorker(serverOptions);
  if (workers <= 1) {
    const stop = untilSignal(); // listening before `ready`: a SIGTERM right after it still closes gracefully
    const { startServer } = await import('./app.ts');
    const server = await startServer(serverOptions);
    ready({ httpUrl: server.httpUrl, httpsUrl: server.httpsUrl, workers: 1 });
    await stop;
    await server.close();
    return;
  }
  return runPrimary(serverOptions, workers, ready);
}

async function runWorker(options: ServerOptions): Promise<void> {
  const env = process.env;
  const stop = untilSignal();
  let server;
  try {
    const { startServer } = await import('./app.ts');
    server = await startServer({
      ...options,
      port: env.ROOTCA_SERVE_PORT ? Number(env.ROOTCA_SERVE_PORT) : options.port,
      tls: options.tls && {
        ...options.tls,
        port: env.ROOTCA_SERVE_HTTPS_PORT ? Number(env.ROOTCA_SERVE_HTTPS_PORT) : options.tls.port,
      },
      cluster: true,
    });
  } catch (e) {
    process.send!({ type: FAILED, message: e instanceof CaError ? `${e.message} [${e.code}]` : (e as Error).message });
    process.exit(1);
  }
  process.send!({ type: LISTENING, httpUrl: server.httpUrl, httpsUrl: server.httpsUrl });
  await Promise.race([stop, new Promise((r) => process.once('disconnect', r))]);
  await server.close();
  process.exit(0);
}

async function runPrimary(
  options: ServerOptions,
  workers: number,
  ready: (l: Listening & { workers: number }) => void,
): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const env: Record<string, string> = {
    ...workerEnv(),
    ROOTCA_SERVE_PORT: String(port === 0 ? await freePort(host) : port),
  };
  if (options.tls)
    env.ROOTCA_SERVE_HTTPS_PORT = String(options.tls.port === 0 ? await freePort(host) : (options.tls.port ?? 8443));
  // Workers accept connections themselves from the shared socket (SCHED_NONE): OCSP clients
  // often open a connection per request, and round-robin hand-off through the primary costs
  // an IPC message per connection.
  if (process.env.ROOTCA_CLUSTER_SCHEDULING !== 'rr') cluster.schedulingPolicy = cluster.SCHED_NONE;
  const stop = untilSignal(); // listening before `ready`: a SIGTERM right after it still stops the workers
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
  serveClusterMetrics();
  let stopping = false;
  const fork = (): Worker => cluster.fork(env);

  await new Promise<void>((resolve, reject) => {
    let listening = 0;
    let first: Listening | undefined;
    const onMessage = (
      worker: Worker,
      msg: { type?: string; message?: string; httpUrl?: string; httpsUrl?: string },
    ) => {
      if (msg?.type === FAILED) {
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
        reject(new CaError('SERVE_FAILED', `worker ${worker.id} could not start: ${msg.message}`));
      } else if (msg?.type === LISTENING && listening < workers) {
        first ??= { httpUrl: msg.httpUrl!, httpsUrl: msg.httpsUrl };
        if (++listening === workers) {
          ready({ ...first, workers });
          resolve();
        }
      }
    };
    cluster.on('message', onMessage);
    const restarts: number[] = [];
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > 10) {
        process.stderr.write(
          `rootca: workers keep exiting (${restarts.length} in a minute); not restarting worker ${worker.id}\n`,
        );
        return;
      }
      // 24x7: a worker that dies is replaced.
      process.stderr.write(`rootca: worker ${worker.id} exited (${signal ?? code}); starting a new one\n`);
      fork();
    });
    for (let i = 0; i < workers; i++) fork();
  });

  await stop;
  stopping = true;
  const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  await Promise.all(
    alive.map(
      (w) =>
        new Promise<void>((r) => {
          w.once('exit', () => r());
          w.process.kill('SIGTERM');
        }),
    ),
  );
}
