/**
 * What the fast path (fast-path.ts) keeps per answer: its bytes on the wire for the current
 * second (ocsp-http.ts writes them; max-age and Date change every second), its access-log
 * middle part, and the batched counts of the metrics (plain counters pushed into prom-client
 * once a second and before each exposition, not one prom-client call per request).
 */
import { ocspAccessFields } from './access-log.ts';
import type { ServerMetrics } from './metrics.ts';
import { hasCachingHeaders, ocspAccessEntry, ocspWire } from './ocsp-http.ts';
import type { OcspAnswer } from './ocsp-responder.ts';

/** One route/outcome combination's counts since the last flush. */
export interface Stats {
  route: string;
  method: 'GET' | 'POST';
  outcome: string;
  source: string;
  n: number;
  /** Latencies (s) since the last flush, observed into the histogram at flush time. */
  latencies: number[];
}

/** The wire form of one answer for one second (max-age and Date change every second). */
export interface Wire {
  clockSecond: number;
  dateSecond: number;
  keepAlive: Buffer;
  close: Buffer;
  stats: Stats;
  /** Access-log fields between the ip and "us" (ocspAccessFields); undefined: the line is made from `answer`. */
  logMiddle?: string;
  answer: OcspAnswer;
}

/** `s` when it is printable ASCII (appendOcspPrepared copies it byte for byte), else undefined. */
export const asciiOnly = (s: string): string | undefined => (/^[\x20-\x7e]*$/.test(s) ? s : undefined);

type Children = {
  count: { inc(n: number): void };
  ocsp: { inc(n: number): void };
  latency: { observe(v: number): void };
};

/** The fast path's request counts, batched and flushed into the server's metrics. */
export class FastPathCounts {
  private readonly byKey = new Map<string, Stats>();
  /** prom-client label children, cached: prom-client hashes label objects otherwise. */
  private readonly children = new Map<Stats, Children>();

  constructor(private readonly metrics: ServerMetrics) {}

  /** The counts of one route, method and answer kind. */
  statsFor(route: string, method: 'GET' | 'POST', a: OcspAnswer): Stats {
    const k = `${route} ${method} ${a.outcome} ${a.source}`;
    let s = this.byKey.get(k);
    if (!s) {
      s = { route, method, outcome: a.outcome, source: a.source, n: 0, latencies: [] };
      this.byKey.set(k, s);
    }
    return s;
  }

  /** Pushes the counts since the last flush into prom-client. */
  flush(): void {
    const m = this.metrics;
    for (const s of this.byKey.values()) {
      if (s.n === 0) continue;
      let c = this.children.get(s);
      if (!c) {
        c = {
          count: m.httpRequests.labels(s.route, s.method, '200'),
          ocsp: m.ocspResponses.labels(s.outcome, s.source),
          latency: m.latency.labels(s.route),
        };
        this.children.set(s, c);
      }
      c.count.inc(s.n);
      c.ocsp.inc(s.n);
      for (const v of s.latencies) c.latency.observe(v);
      s.n = 0;
      s.latencies.length = 0;
    }
  }
}

/** The wire forms of answers; a pre-signed answer's is kept for the second it was made in. */
export class FastPathWires {
  private readonly kept = new WeakMap<OcspAnswer, Wire>();

  constructor(private readonly counts: FastPathCounts) {}

  /** The answer's bytes for this second (`nowMs` the serving clock, Date the system's). */
  wireFor(a: OcspAnswer, route: string, method: 'GET' | 'POST', nowMs: number, version: number | undefined): Wire {
    const clockSecond = Math.floor(nowMs / 1000);
    const dateSecond = Math.floor(Date.now() / 1000);
    const cached = this.kept.get(a);
    if (
      cached &&
      cached.clockSecond === clockSecond &&
      cached.dateSecond === dateSecond &&
      cached.stats.route === route &&
      cached.stats.method === method
    )
      return cached;
    const caching = hasCachingHeaders(a);
    const w: Wire = {
      clockSecond: caching ? clockSecond : 0,
      dateSecond: caching ? dateSecond : 0,
      ...ocspWire(a, nowMs, dateSecond * 1000),
      stats: this.counts.statsFor(route, method, a),
      answer: a,
      logMiddle:
        caching && a.reason === undefined
          ? asciiOnly(ocspAccessFields(ocspAccessEntry(a, '', method, 200, version, 0)))
          : undefined,
    };
    if (caching && a.source === 'presigned') this.kept.set(a, w); // the others are answered once
    return w;
  }
}
