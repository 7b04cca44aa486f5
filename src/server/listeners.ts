/**
 * The listeners of `rootca serve` (app.ts starts them): HTTP and HTTPS, each with the OCSP fast
 * path in front of fastify (on HTTPS it reads the TLS socket once the handshake is done), every
 * route and the per-address cap.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import {
  capConnectionsPerAddress,
  fastifyTimeouts,
  serverCreationOptions,
  type ConnectionLimits,
} from './connection-limits.ts';
import { continueWhenBodyIsRead } from './expect-continue.ts';
import { installFastPath } from './fast-path.ts';
import { registerHttpBasics, registerOcspRoutes } from './ocsp-route.ts';
import { registerOperationsRoutes, registerRepositoryRoutes } from './repository-routes.ts';
import type { ServingContext } from './serving-context.ts';

/** The HTTPS listener's certificate, key and port (8443 unless given). */
export interface TlsListener {
  cert: string | Buffer;
  key: string | Buffer;
  port?: number;
}

/** Undo steps of a start, run in reverse order at close or when the start fails. */
export type Cleanup = (() => Promise<void> | void)[];

/** A listener's URL as printed and recorded (IPv6 hosts in brackets). */
function urlOf(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Every route of one listener. */
function registerRoutes(app: FastifyInstance, ctx: ServingContext): void {
  registerHttpBasics(app, ctx);
  registerOcspRoutes(app, ctx);
  registerRepositoryRoutes(app, ctx);
  registerOperationsRoutes(app, ctx);
}

/**
 * Well-formed OCSP requests are answered before fastify (fast-path.ts); all else reaches it.
 * `event`: where the server takes a connection ('secureConnection' for HTTPS: after the handshake).
 */
function withFastPath(
  app: FastifyInstance,
  ctx: ServingContext,
  limits: ConnectionLimits,
  event: 'connection' | 'secureConnection',
): void {
  const fastPath = installFastPath(
    app.server,
    {
      state: () => ctx.state,
      source: ctx.source,
      clock: ctx.clock,
      metrics: ctx.metrics,
      accessLog: ctx.accessLog,
      bodyLimit: ctx.opts.ocspBodyLimit,
      limits,
    },
    event,
  );
  app.addHook('preClose', (done) => {
    fastPath.close();
    done();
  });
}

/** The HTTP listener: fastify's routes, with the OCSP fast path in front of them. */
export async function listenHttp(
  http: FastifyInstance,
  ctx: ServingContext,
  limits: ConnectionLimits,
  host: string,
  port: number,
  refused: (address: string) => void,
): Promise<string> {
  registerRoutes(http, ctx);
  continueWhenBodyIsRead(http.server);
  withFastPath(http, ctx, limits, 'connection');
  capConnectionsPerAddress(http.server, limits.maxConnectionsPerAddress, refused); // in front of the fast path
  await http.listen({ host, port });
  return urlOf('http', host, (http.server.address() as { port: number }).port);
}

/** The fastify options both listeners share. */
export function fastifyOptions(limits: ConnectionLimits) {
  return {
    // One access-log line per OCSP request is written by AccessLog; pino keeps to events and errors.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 8192, ignoreTrailingSlash: true },
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    ...fastifyTimeouts(limits),
  };
}

/** The HTTPS listener: fastify's routes, with the OCSP fast path on the TLS sockets. */
export async function listenHttps(
  tls: TlsListener,
  common: ReturnType<typeof fastifyOptions>,
  ctx: ServingContext,
  limits: ConnectionLimits,
  host: string,
  refused: (address: string) => void,
  cleanup: Cleanup,
): Promise<string> {
  // handshakeTimeout: a TLS handshake is part of getting the request head in.
  const https = Fastify({
    ...common,
    loggerInstance: ctx.log,
    https: {
      cert: tls.cert,
      key: tls.key,
      handshakeTimeout: limits.headersTimeoutMs,
      ...serverCreationOptions(limits),
    },
  });
  cleanup.push(() => https.close());
  registerRoutes(https, ctx);
  continueWhenBodyIsRead(https.server);
  withFastPath(https, ctx, limits, 'secureConnection');
  capConnectionsPerAddress(https.server, limits.maxConnectionsPerAddress, refused);
  await https.listen({ host, port: tls.port ?? 8443 });
  return urlOf('https', host, (https.server.address() as { port: number }).port);
}
