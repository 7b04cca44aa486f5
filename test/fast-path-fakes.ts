/**
 * Fakes for driving the OCSP fast path (src/server/fast-path.ts) without sockets: a
 * pre-signed answer whose 40-byte body is one tag byte repeated (so a test reads which answer
 * went out from its last byte), the fast path installed in front of a bare event emitter, and
 * a turn of the event loop (answers are written after it, FastPathServer.writeAnswersLater).
 */
import type { EventEmitter } from 'node:events';
import { systemClock } from '../src/clock.ts';
import { installFastPath } from '../src/server/fast-path.ts';
import { createMetrics } from '../src/server/metrics.ts';
import type { OcspAnswer, ServingState } from '../src/server/ocsp-responder.ts';
import type { OcspSource } from '../src/server/ocsp-source.ts';

const now = Date.now();

/** A pre-signed answer valid now, its body 40 bytes of `tag`. */
export function taggedAnswer(tag: number): OcspAnswer {
  return {
    body: Buffer.alloc(40, tag),
    source: 'presigned',
    outcome: 'good',
    cacheable: true,
    thisUpdate: new Date(now - 3_600_000),
    nextUpdate: new Date(now + 86_400_000),
    serials: [String(tag)],
    nonce: false,
  };
}

/** The fast path in front of `server` (a bare emitter standing for the HTTP server), answering from `source`. */
export function fastPathOn(server: EventEmitter, source: OcspSource) {
  return installFastPath(
    server as never,
    {
      state: () => ({ version: 1 }) as unknown as ServingState,
      source,
      clock: systemClock,
      metrics: createMetrics(),
      bodyLimit: 65536,
      limits: { idleTimeoutMs: 5000, headersTimeoutMs: 10000, requestTimeoutMs: 30000 },
    },
    'connection',
  );
}

/** Resolves after the current turn of the event loop (its check phase). */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
