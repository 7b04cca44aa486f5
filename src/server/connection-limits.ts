/**
 * How long a client may take and how many connections one address may hold, so slow or greedy
 * clients (a request head or body sent a byte at a time, idle keep-alive connections, a
 * thousand connections from one host) cannot take the responder's sockets from valid clients
 * (CPS 2.1 and: OCSP answered 24x7).
 *
 * The HTTP server (node:http through fastify) enforces the timeouts on the connections it
 * holds; the OCSP fast path enforces the same ones on the connections it still holds
 * (fast-path.ts); the per-address cap sits in front of both.
 */
import type { ServerOptions as HttpServerOptions } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { UsageError } from '../errors.ts';

export interface ConnectionLimits {
  /** Longest wait for a whole request head, from the request's first byte or the connection's start (RFC 9110 15.5.9: 408). */
  headersTimeoutMs: number;
  /** Longest wait for a whole request, head and body (a body sent a byte at a time ends here). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long (RFC 9112 9.8). */
  idleTimeoutMs: number;
  /** Open connections one client address may hold; more are closed at once (0: no cap). */
  maxConnectionsPerAddress: number;
}

/** Generous for any OCSP client or browser, short enough that a slow sender is gone in seconds. */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 5_000,
  maxConnectionsPerAddress: 100,
};

/** The defaults with `given` over them, checked. */
export function resolveConnectionLimits(given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const l = { ...DEFAULT_CONNECTION_LIMITS };
  for (const [k, v] of Object.entries(given) as [keyof ConnectionLimits, number | undefined][])
    if (v !== undefined) l[k] = v;
  for (const k of ['headersTimeoutMs', 'requestTimeoutMs', 'idleTimeoutMs'] as const) {
    if (!Number.isInteger(l[k]) || l[k] < 1)
      throw new UsageError('OPTION_VALUE_INVALID', `${k} must be a whole number of milliseconds above 0 (got ${l[k]})`);
  }
  if (!Number.isInteger(l.maxConnectionsPerAddress) || l.maxConnectionsPerAddress < 0)
    throw new UsageError(
      'OPTION_VALUE_INVALID',
      `maxConnectionsPerAddress must be a whole number, 0 for no cap (got ${l.maxConnectionsPerAddress})`,
    );
  if (l.headersTimeoutMs > l.requestTimeoutMs)
    throw new UsageError(
      'OPTIONS_CONFLICT',
      `the headers timeout (${l.headersTimeoutMs} ms) cannot be longer than the request timeout (${l.requestTimeoutMs} ms)`,
    );
  return l;
}

/**
 * Node's HTTP server checks the headers and request timeouts of its connections every
 * `connectionsCheckingInterval` (default 30 s, longer than the timeouts themselves): a quarter
 * of the headers timeout, at most a second, keeps a timed-out client's stay close to its limit.
 */
export function serverCreationOptions(l: ConnectionLimits): HttpServerOptions {
  return {
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
  };
}

/** fastify's own timeout options (it sets these on the server after creating it). */
export function fastifyTimeouts(l: ConnectionLimits): {
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
} {
  // connectionTimeout: a socket silent for a whole request's time (a client that stopped reading our answer) is closed.
  return {
    keepAliveTimeout: l.idleTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    connectionTimeout: l.requestTimeoutMs,
  };
}

/**
 * Caps the connections one remote address holds open on `server`: its current 'connection'
 * listeners (node:http's, TLS's, the OCSP fast path's) see only the connections within the
 * cap; one over it is closed at once, before a byte is read. Call after every other
 * 'connection' listener is in place.
 */
export function capConnectionsPerAddress(server: NetServer, max: number, onRefused: (address: string) => void): void {
  if (max <= 0) return;
  const handOverTo = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = open.get(address) ?? 0;
    if (n >= max) {
      socket.destroy();
      onRefused(address);
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
    for (const l of handOverTo) l.call(server, socket);
  });
}
