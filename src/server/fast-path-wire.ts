/**
 * What the fast path (fast-path.ts) keeps per answer: its bytes on the wire for the current
 * second (ocsp-http.ts writes them; max-age and Date change every second), its access-log
 * middle part, and the batched counts of the metrics (plain counters pushed into prom-client
 * once a second and before each exposition, not one prom-client call per request).
 */
import { ocspAccessFields } from './access-log.ts';
import type { ServerMetrics } from './metrics.ts';
import { hasCachingHeaders, ocspAccessEntry, ocspWire, ocspWireBytes } from './ocsp-http.ts';
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
  /** The latency series as prom-client stores it, once found (see observeAll). */
  series?: Series;
  seriesKey?: string;
};

/** One histogram series as prom-client 15 keeps it (lib/histogram.js createBaseValues; `hashMap` by label hash). */
interface Series {
  labels: Record<string, unknown>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** The parts of a prom-client 15 Histogram observeAll adds to (not in its typings). */
interface HistogramStore {
  hashMap?: Record<string, Series>;
  upperBounds?: number[];
}

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
      this.observeAll(c, s);
      s.n = 0;
      s.latencies.length = 0;
    }
  }

  /**
   * Observes `s.latencies` into the latency histogram exactly as one observe() each would: the
   * first through observe() (which makes the series), the rest added to the series prom-client
   * keeps (bucket, count, sum), in one pass. prom-client has no observe-n-values call, and its
   * observe() validates and hashes the labels every time: some 0.2-0.5 us each, so 15 000
   * answers a second held a worker's event loop for 3-8 ms once a second (a p99 spike) besides
   * the CPU. Where the series is not found in that form (another prom-client), every value
   * goes through observe(); fast-path-wire.test.ts compares both ways' exposition.
   */
  private observeAll(c: Children, s: Stats): void {
    const values = s.latencies;
    if (values.length === 0) return;
    c.latency.observe(values[0]!);
    const h = this.metrics.latency as unknown as HistogramStore;
    const bounds = h.upperBounds;
    const map = h.hashMap;
    let series = c.seriesKey !== undefined && map ? map[c.seriesKey] : undefined;
    if (series === undefined || series !== c.series) {
      series = undefined;
      for (const [key, v] of Object.entries(map ?? {})) {
        if (v?.labels?.route === s.route && Object.keys(v.labels).length === 1) {
          c.series = series = v;
          c.seriesKey = key;
          break;
        }
      }
    }
    if (
      series === undefined ||
      !Array.isArray(bounds) ||
      typeof series.sum !== 'number' ||
      typeof series.count !== 'number' ||
      typeof series.bucketValues !== 'object'
    ) {
      for (let i = 1; i < values.length; i++) c.latency.observe(values[i]!);
      return;
    }
    // prom-client's findBound: the first upper bound >= the value gets the count; none past the last (+Inf is `count`).
    // The sum in observe()'s order, so it is the same number to the last bit.
    const perBound = new Array<number>(bounds.length).fill(0);
    let sum = series.sum;
    for (let i = 1; i < values.length; i++) {
      const v = values[i]!;
      sum += v;
      for (let b = 0; b < bounds.length; b++) {
        if (v <= bounds[b]!) {
          perBound[b]!++;
          break;
        }
      }
    }
    series.sum = sum;
    series.count += values.length - 1;
    const buckets = series.bucketValues;
    for (let b = 0; b < bounds.length; b++) {
      if (perBound[b] && Object.hasOwn(buckets, bounds[b]!)) buckets[bounds[b]!]! += perBound[b]!;
    }
  }
}

/** The wire of an answer given once (a live answer, an error): its bytes made for the one connection that asked. */
class AnsweredOnce implements Wire {
  readonly clockSecond = 0;
  readonly dateSecond = 0;

  constructor(
    readonly answer: OcspAnswer,
    private readonly nowMs: number,
    private readonly dateMs: number,
    readonly stats: Stats,
    readonly logMiddle: string | undefined,
  ) {}

  get keepAlive(): Buffer {
    return ocspWireBytes(this.answer, this.nowMs, this.dateMs, 'keep-alive');
  }

  get close(): Buffer {
    return ocspWireBytes(this.answer, this.nowMs, this.dateMs, 'close');
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
    const stats = this.counts.statsFor(route, method, a);
    const logMiddle =
      caching && a.reason === undefined
        ? asciiOnly(ocspAccessFields(ocspAccessEntry(a, '', method, 200, version, 0)))
        : undefined;
    // The others (live answers, errors) are answered once: only the form the connection needs is made.
    if (!caching || a.source !== 'presigned') return new AnsweredOnce(a, nowMs, dateSecond * 1000, stats, logMiddle);
    const w: Wire = {
      clockSecond,
      dateSecond,
      ...ocspWire(a, nowMs, dateSecond * 1000),
      stats,
      answer: a,
      logMiddle,
    };
    this.kept.set(a, w);
    return w;
  }
}
