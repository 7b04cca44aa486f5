/**
 * The one OCSP answer source (CONVENTIONS 8: the `OcspSource` port; Boulder's `ocsp.Source`)
 * that both front doors ask — the fast path (fast-path.ts) and the fastify route
 * (ocsp-route.ts): given a request, by its cache key (`g<url>` for a GET, `p<body>` for a POST)
 * and its DER, the answer with what the access log and the metrics need (outcome, source, CA,
 * serials, nonce, reason). The answer is pre-signed, from the publication being served, or
 * signed live by a delegated responder (answerOcspRequest decides); pre-signed answers to
 * repeated requests are kept by request bytes, so a repeated request is one Map lookup.
 *
 * Never a stale answer: a kept answer is dropped once past its nextUpdate, and the request is
 * decided again — signed live by the issuer's delegated responder, or tryLater when there is
 * none (ocsp-responder.ts). Every tryLater decided here is reported (`onTryLater`: the
 * rootca_ocsp_trylater_total metric), whichever front door asked.
 */
import type { VerifiedPublication } from '../publish/verify.ts';
import { answerOcspRequest, type OcspAnswer, type ServingState } from './ocsp-responder.ts';

/** The port: answers for OCSP requests, from whatever `state` serves at `now`. */
export interface OcspSource {
  /** The answer kept for a request seen before (the hot path: no parsing, no allocation). */
  cached(key: string, state: ServingState | undefined, now: Date): OcspAnswer | undefined;
  /** Decides the answer to DER request bytes (never throws) and keeps it when it may be reused. */
  answer(key: string, state: ServingState | undefined, der: Uint8Array, now: Date): OcspAnswer;
  /** Forgets kept answers (a new publication is served). */
  clear(): void;
  /** Longest request key that is kept (a longer POST body is answered, not kept). */
  readonly maxKeyLength: number;
}

/**
 * Answers to repeated identical requests (RFC 5019 clients send the same bytes for the same
 * certificate, and GET URLs repeat): pre-signed answers without a nonce, keyed by the request
 * bytes, valid for the publication they came from and until their nextUpdate; and the tryLater
 * of a pre-signed response past its nextUpdate, valid for its publication (time only moves on
 * and the publication's responders only expire, so it stays tryLater; clients told tryLater
 * come back, and are answered without parsing again). Skips parsing on the hot path; bounded
 * in entries and key size.
 */
export class PresignedAnswerCache {
  private readonly map = new Map<string, { publication: VerifiedPublication; answer: OcspAnswer }>();
  constructor(
    private readonly maxEntries = 10_000,
    readonly maxKeyLength = 1024,
  ) {}

  /** The kept answer, when it is still for the publication served and not past its nextUpdate. */
  get(key: string, state: ServingState | undefined, now: Date): OcspAnswer | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    // A kept tryLater has no nextUpdate (undefined < now is false): it stays for its publication.
    if (hit.publication !== state?.publication || hit.answer.nextUpdate! < now) {
      this.map.delete(key);
      return undefined;
    }
    return hit.answer;
  }

  /** Forgets everything (a new publication is served: old answers must not keep the old one alive). */
  clear(): void {
    this.map.clear();
  }

  /** Keeps `answer` when it is a pre-signed one to a request without a nonce, or the tryLater of a stale one. */
  offer(key: string, state: ServingState | undefined, answer: OcspAnswer): void {
    const stale = answer.outcome === 'tryLater' && answer.ca !== undefined;
    if (!state || !((answer.source === 'presigned' && !answer.nonce) || stale)) return;
    if (key.length === 0 || key.length > this.maxKeyLength) return;
    if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, { publication: state.publication, answer });
  }
}

/** The adapter `rootca serve` uses: the publication's pre-signed responses, else its delegated responders. */
export class PublicationOcspSource implements OcspSource {
  private readonly kept = new PresignedAnswerCache();

  /**
   * `liveValiditySeconds`: life of a live-signed response (answerOcspRequest's default when
   * undefined); `onTryLater`: told the issuer (undefined: no publication) of each tryLater.
   */
  constructor(
    private readonly liveValiditySeconds?: number,
    private readonly onTryLater?: (issuer: string | undefined) => void,
  ) {}

  get maxKeyLength(): number {
    return this.kept.maxKeyLength;
  }

  cached(key: string, state: ServingState | undefined, now: Date): OcspAnswer | undefined {
    const a = this.kept.get(key, state, now);
    if (a !== undefined && a.source === 'error') this.onTryLater?.(a.ca); // a kept tryLater counts too
    return a;
  }

  answer(key: string, state: ServingState | undefined, der: Uint8Array, now: Date): OcspAnswer {
    const a = answerOcspRequest(state, der, now, { liveValiditySeconds: this.liveValiditySeconds });
    if (a.outcome === 'tryLater') this.onTryLater?.(a.ca);
    this.kept.offer(key, state, a);
    return a;
  }

  clear(): void {
    this.kept.clear();
  }
}

/**
 * The DER request in a GET URL (RFC 6960 A.1: base64 of the DER, URL-encoded; url-safe base64,
 * RFC 4648 5, accepted as well), or why there is none: `httpStatus` 414 for a URL longer than
 * `limit` bytes of request can make, otherwise `reason` (the answer is malformedRequest).
 */
export function decodeOcspGetPath(
  rawUrl: string,
  prefix: string,
  limit: number,
): { der?: Buffer; httpStatus?: number; reason?: string } {
  const q = rawUrl.indexOf('?');
  const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const enc = path.slice(prefix.length);
  if (enc.length > Math.ceil(limit / 3) * 4 * 3) return { httpStatus: 414, reason: 'request URI too long' };
  let b64: string;
  try {
    b64 = decodeURIComponent(enc);
  } catch {
    return { reason: 'bad percent-encoding' };
  }
  b64 = b64.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.replace(/=+$/, '').length % 4 === 1) return { reason: 'not base64' };
  return { der: Buffer.from(b64, 'base64') };
}
