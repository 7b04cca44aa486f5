/**
 * The cluster primary's side of /metrics (metrics.ts is the workers' side): a worker asks for
 * the whole cluster's exposition text and the primary sums every worker's registry (prom-client
 * AggregatorRegistry). prom-client is loaded on the first request, not at start: the primary
 * only forks and watches its workers, and idle memory counts per process (issue 17 item 4).
 */
import cluster from 'node:cluster';

/** The IPC message types between a worker (request) and the primary (response). */
export const METRICS_REQ = 'rootca:metrics-req';
export const METRICS_RES = 'rootca:metrics-res';

/** In the cluster primary: answers workers' requests for the aggregated metrics. */
export function serveClusterMetrics(): void {
  let aggregator: Promise<{ clusterMetrics(): Promise<string> }> | undefined;
  cluster.on('message', (worker, msg: { type?: string; id?: number }) => {
    if (msg?.type !== METRICS_REQ) return;
    // Constructed before its first request: it listens for the workers' answers.
    aggregator ??= import('./prom-client-lean.ts').then(({ AggregatorRegistry }) => new AggregatorRegistry());
    aggregator
      .then((a) => a.clusterMetrics())
      .then(
        (text) => worker.isConnected() && worker.send({ type: METRICS_RES, id: msg.id, text }),
        () => worker.isConnected() && worker.send({ type: METRICS_RES, id: msg.id, text: '' }),
      );
  });
}
