/**
 * The prom-client classes rootca uses, required one by one. prom-client's index also loads
 * its default process metrics, which pull in @opentelemetry/api: over a hundred modules and
 * about 1.5 MB of heap in every server process, for metrics rootca never registers (issue 17
 * item 4: a responder process idle under 80 MB). prom-client 15 has no `exports` map, so its
 * lib files are the package's public layout; the types are the index's.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry: typeof Prom.Registry = load('prom-client/lib/registry.js');
export type Registry = Prom.Registry;
export const Counter: typeof Prom.Counter = load('prom-client/lib/counter.js');
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge: typeof Prom.Gauge = load('prom-client/lib/gauge.js');
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram: typeof Prom.Histogram = load('prom-client/lib/histogram.js');
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const AggregatorRegistry: typeof Prom.AggregatorRegistry = load('prom-client/lib/cluster.js');
