/**
 * The servers the OCSP benches compare: `rootca serve` (HTTP and HTTPS, the delegated
 * responder), the same cluster through its library entry point (access log on or off), and
 * nginx serving the same bytes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../test/helpers.ts';
import type { Fixture } from './fixture.ts';
import { type Child, freePort, http, startChild, waitFor } from './processes.ts';

/** Worker processes of ours and of nginx. */
export const SERVE_WORKERS = 2;

/** A server under test: its process group and URLs. */
export interface Server {
  child: Child;
  url: string;
  /** HTTPS, on the same certificate for every server. */
  httpsUrl?: string;
}

/** `rootca serve --workers N` with HTTPS and the delegated responder (the access log is always on). */
export async function startOurs(f: Fixture, name: string, logs: string, workers = SERVE_WORKERS): Promise<Server> {
  const port = await freePort();
  const httpsPort = await freePort();
  const out = join(logs, `${name}.out`);
  const err = join(logs, `${name}.err`);
  const child = startChild(
    name,
    process.execPath,
    [
      join(REPO, 'bin', 'rootca.mjs'),
      'serve',
      '--store',
      f.store,
      '--port',
      String(port),
      '--workers',
      String(workers),
      '--tls-cert',
      f.tlsCert,
      '--tls-key',
      f.tlsKey,
      '--https-port',
      String(httpsPort),
      '--responder-cert',
      f.responderPem,
      '--responder-key',
      f.responderKey,
      '--log-level',
      'warn',
      '--poll-ms',
      '60000',
    ],
    { cwd: REPO, out, err },
  ); // cwd: tsx finds tsconfig.json (legacy decorators) only from there
  await waitFor('rootca serve', () => readFileSync(out, 'utf8').includes('Serving publication'), child, 60_000, err);
  return { child, url: `http://127.0.0.1:${port}`, httpsUrl: `https://127.0.0.1:${httpsPort}` };
}

/** The same cluster through runServer() (bench/serve-api.ts), with the access log on or off. */
export async function startApi(f: Fixture, name: string, logs: string, accessLog: boolean): Promise<Server> {
  const port = await freePort();
  const out = join(logs, `${name}.out`);
  const err = join(logs, `${name}.err`);
  const child = startChild(
    name,
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'bench', 'serve-api.ts'),
      '--store',
      f.store,
      '--port',
      String(port),
      '--workers',
      String(SERVE_WORKERS),
      ...(accessLog ? ['--log-dir', join(f.dir, `access-log-${name}`)] : ['--no-access-log']),
    ],
    { cwd: REPO, out, err },
  );
  await waitFor(name, () => readFileSync(out, 'utf8').includes('LISTENING'), child, 60_000, err);
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * nginx with SERVE_WORKERS workers serving the same pre-signed bytes as a static file at the
 * same path, over HTTP and HTTPS (the same certificate as ours), with its access log on
 * (buffer=64k: nginx's batched writes, as ours are). POST /ocsp gets the same file (an
 * error_page redirect turns nginx's 405 for a POST to a file into a GET of it), so POST is
 * compared on the same terms too.
 */
export async function startNginx(f: Fixture, presigned: Buffer): Promise<Server> {
  const prefix = join(f.dir, 'nginx');
  const file = join(prefix, 'www', f.getPath);
  for (const d of ['www/ocsp', 'logs', 'tmp']) mkdirSync(join(prefix, d), { recursive: true });
  writeFileSync(file, presigned);
  writeFileSync(join(prefix, 'www', 'presigned.der'), presigned);
  // nginx workers run as nobody when started by root: they must be able to read the files.
  for (const d of [f.dir, prefix, join(prefix, 'www'), join(prefix, 'www', 'ocsp'), join(prefix, 'logs')])
    chmodSync(d, 0o777);
  for (const p of [file, join(prefix, 'www', 'presigned.der'), f.tlsCert, f.tlsKey]) chmodSync(p, 0o644);
  const port = await freePort();
  const httpsPort = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `# bench/lib/servers.ts: the same pre-signed bytes as a static file at the same path.
worker_processes ${SERVE_WORKERS};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${prefix}/logs/access.log combined buffer=64k flush=1s;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  sendfile on;
  tcp_nodelay on;
  # Not below wrk's request count per connection, so nginx is not made to reconnect (Node's server has no such limit).
  keepalive_requests 10000000;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  types { }
  default_type application/ocsp-response;
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${f.tlsCert};
    ssl_certificate_key ${f.tlsKey};
    ssl_protocols TLSv1.3;
    root ${prefix}/www;
    location /ocsp/ { }
    location = /ocsp { error_page 405 =200 /presigned.der; return 405; }
    location = /presigned.der { internal; }
  }
}
`,
  );
  const base = ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs', 'error.log')];
  const t = spawnSync('nginx', ['-t', ...base], { encoding: 'utf8', timeout: 15_000 });
  if (t.status !== 0) throw new Error(`nginx -t refuses the bench configuration:\n${t.stderr}`);
  const child = startChild('nginx', 'nginx', base, { cwd: prefix, err: join(prefix, 'logs', 'stderr.log') });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'nginx',
    async () => (await http(url + f.getPath)).status === 200,
    child,
    20_000,
    join(prefix, 'logs', 'error.log'),
  );
  return { child, url, httpsUrl: `https://127.0.0.1:${httpsPort}` };
}
