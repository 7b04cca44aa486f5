/**
 * Prometheus metrics (prom-client): HTTP requests by route and status, OCSP responses by
 * certificate status and source, request latency, the publication being served, and connections
 * refused by the per-address cap (connection-limits.ts), and what runs out (expiry-watch.ts):
 * per issuer the seconds left until the earliest CRL and pre-signed OCSP nextUpdate and until
 * each responder certificate expires (negative once past), the status margin, and the tryLater
 * answers given (deploy/monitoring/rootca-alerts.yml alerts on them). Each server has its own
 * registry; in a cluster the workers' registries are summed by the primary (prom-client
 * AggregatorRegistry, cluster-metrics.ts; the seconds left take the smallest) and any worker's
 * /metrics shows the total.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from './prom-client-lean.ts';
import { METRICS_REQ as REQ, METRICS_RES as RES } from './cluster-metrics.ts';

export interface ServerMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  ocspResponses: Counter<'cert_status' | 'source'>;
  latency: Histogram<'route'>;
  publicationVersion: Gauge;
  /** Connections closed at once because their address held its cap (connection-limits.ts). */
  connectionsRefused: Counter;
  /** tryLater answers by issuer (`none`: no publication yet): a stale pre-signed response and no live responder. */
  ocspTryLater: Counter<'issuer'>;
  /** Seconds until the issuer's earliest CRL nextUpdate. */
  crlRemaining: Gauge<'issuer'>;
  /** Seconds until the issuer's earliest pre-signed OCSP response nextUpdate. */
  ocspRemaining: Gauge<'issuer'>;
  /** Seconds until a responder certificate expires (`role`: live or published). */
  responderRemaining: Gauge<'issuer' | 'serial' | 'role'>;
  /** The status margin: /healthz is degraded when something runs out within it. */
  statusMargin: Gauge;
  /** The exposition text: this process's, or the whole cluster's in a cluster worker. */
  text(): Promise<string>;
  /**
   * Runs `flush` before every collection (exposition, or the cluster primary asking): for
   * counts kept in plain variables on a hot path (the OCSP fast path). Returns the remover.
   */
  beforeCollect(flush: () => void): () => void;
}

/** The metrics of one server, in a registry of its own (in a cluster worker, its text is the whole cluster's). */
export function createMetrics(options: { cluster?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  const flushers = new Set<() => void>();
  // Registered first, so its collect() brings every batched count in before any metric is read.
  const httpRequests = new Counter({
    name: 'rootca_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
    collect() {
      for (const f of flushers) f();
    },
  });
  const ocspResponses = new Counter({
    name: 'rootca_ocsp_responses_total',
    help: 'OCSP responses by certificate status and source',
    labelNames: ['cert_status', 'source'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'rootca_http_request_duration_seconds',
    help: 'Request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const publicationVersion = new Gauge({
    name: 'rootca_publication_version',
    help: 'Version of the publication being served (0: none)',
    registers: [registry],
    aggregator: 'max',
  });
  const connectionsRefused = new Counter({
    name: 'rootca_connections_refused_total',
    help: 'Connections closed at once: their client address already held the most open connections allowed',
    registers: [registry],
  });
  const expiry = expiryMetrics(registry);
  // In a cluster worker, the whole cluster's text, asked of the primary.
  const text = options.cluster && cluster.isWorker ? clusterText(registry) : () => registry.metrics();
  const beforeCollect = (flush: () => void) => {
    flushers.add(flush);
    return () => {
      flushers.delete(flush);
    };
  };
  return {
    registry,
    httpRequests,
    ocspResponses,
    latency,
    publicationVersion,
    connectionsRefused,
    ...expiry,
    text,
    beforeCollect,
  };
}

/** A cluster worker's exposition text: the primary's aggregate of every worker (this worker's own after 3 s without an answer). */
function clusterText(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's listener for the primary's requests
  let next = 0;
  const pending = new Map<number, (s: string) => void>();
  process.on('message', (msg: { type?: string; id?: number; text?: string }) => {
    if (msg?.type === RES && typeof msg.id === 'number') {
      pending.get(msg.id)?.(msg.text ?? '');
      pending.delete(msg.id);
    }
  });
  return () =>
    new Promise<string>((resolve) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        void registry.metrics().then(resolve);
      }, 3000);
      pending.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      process.send!({ type: REQ, id });
    });
}

/** The metrics of what runs out, and the tryLater count (set by the serving context before each collection). */
function expiryMetrics(registry: Registry) {
  const left = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['issuer'] as const, registers: [registry], aggregator: 'min' });
  return {
    ocspTryLater: new Counter({
      name: 'rootca_ocsp_trylater_total',
      help: 'OCSP tryLater answers by issuer: its pre-signed response is past nextUpdate and no live delegated responder can sign (none: no publication yet)',
      labelNames: ['issuer'] as const,
      registers: [registry],
    }),
    crlRemaining: left(
      'rootca_crl_next_update_remaining_seconds',
      "Seconds until the earliest nextUpdate of the issuer's CRLs served (negative: past)",
    ),
    ocspRemaining: left(
      'rootca_ocsp_next_update_remaining_seconds',
      "Seconds until the earliest nextUpdate of the issuer's pre-signed OCSP responses served (negative: past)",
    ),
    responderRemaining: new Gauge({
      name: 'rootca_responder_certificate_remaining_seconds',
      help: 'Seconds until an OCSP responder certificate expires (role live: signing here; published: in the publication)',
      labelNames: ['issuer', 'serial', 'role'] as const,
      registers: [registry],
      aggregator: 'min',
    }),
    statusMargin: new Gauge({
      name: 'rootca_status_margin_seconds',
      help: 'The status margin (serve --status-margin): /healthz is degraded when something runs out within it',
      registers: [registry],
      aggregator: 'max',
    }),
  };
}
