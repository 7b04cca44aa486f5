/**
 * Running the server as a process: one process, or a node:cluster primary with N workers that
 * share the listening ports (each worker opens its own store connection, polls on its own and
 * writes its own access-log segments into the one chain). Graceful shutdown on SIGTERM/SIGINT:
 * stop accepting, finish requests, close the open access-log segment.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { CaError } from '../errors.ts';
import { startServer, type ServerOptions } from './app.ts';
import { serveClusterMetrics } from './metrics.ts';

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
    const server = await startServer(serverOptions);
    ready({ httpUrl: server.httpUrl, httpsUrl: server.httpsUrl, workers: 1 });
    await untilSignal();
    await server.close();
    return;
  }
  return runPrimary(serverOptions, workers, ready);
}

async function runWorker(options: ServerOptions): Promise<void> {
  const env = process.env;
  let server;
  try {
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
  await Promise.race([untilSignal(), new Promise((r) => process.once('disconnect', r))]);
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
  const env: Record<string, string> = { ROOTCA_SERVE_PORT: String(port === 0 ? await freePort(host) : port) };
  if (options.tls)
    env.ROOTCA_SERVE_HTTPS_PORT = String(options.tls.port === 0 ? await freePort(host) : (options.tls.port ?? 8443));
  // Workers accept connections themselves from the shared socket (SCHED_NONE): OCSP clients
  // often open a connection per request, and round-robin hand-off through the primary costs
  // an IPC message per connection.
  if (process.env.ROOTCA_CLUSTER_SCHEDULING !== 'rr') cluster.schedulingPolicy = cluster.SCHED_NONE;
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

  await untilSignal();
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
