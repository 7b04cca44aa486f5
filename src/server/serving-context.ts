/**
 * What the routes of both listeners and the fast path share while `rootca serve` runs: the
 * publication served (one reference, `state`, swapped whole by adopt), the OCSP answer source,
 * the metrics and access log, and why service is degraded (/healthz, heartbeats).
 *
 * The current publication sits in one reference; a handler reads it once, so each request is
 * answered wholly from one version while a poll swaps in a newer one.
 *
 * What runs out (CRL and pre-signed OCSP nextUpdates, responder certificates) is watched by
 * expiry-watch.ts: service is degraded from the status margin before, and the metrics'
 * seconds-left gauges are set from it before every collection.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.ts';
import { verifyPublication, type VerifiedPublication } from '../publish/verify.ts';
import type { AccessLog } from './access-log.ts';
import type { ServerMetrics } from './metrics.ts';
import { DEFAULT_STATUS_MARGIN_SECONDS, ExpiryWatch } from './expiry-watch.ts';
import type { ServingState } from './ocsp-responder.ts';
import { PublicationOcspSource, type OcspSource } from './ocsp-source.ts';
import type { ServingStore } from './online-store.ts';
import type { StoreConnection } from './publication-follower.ts';
import { renderRepositoryPage } from './repository-page.ts';
import { bindResponders, type ResponderKey } from './responders.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The serving state and its services, shared by the routes of both listeners and the fast path. */
export class ServingContext {
  state: ServingState | undefined;
  private failed: { version: number; reason: string } | undefined;
  /** Set once the follower exists: why the store makes serving degraded (undefined: it does not). */
  storeProblem: () => string | undefined = () => undefined;
  storeConnection: () => StoreConnection | undefined = () => undefined;
  /** This responder's name (heartbeats, /healthz, metric label). */
  responderName = '';
  /** The last access-log failure (CPS 5.5.1 wants every request logged: degraded until it works again). */
  accessLogError: { at: number; message: string } | undefined;
  private readonly pages = new WeakMap<VerifiedPublication, { html: Buffer; etag: string }>();
  /** What runs out in the publication served, and the margin /healthz warns at. */
  readonly expiry: ExpiryWatch;
  ocspUrl = '/ocsp';
  /** The OCSP answers both front doors give (ocsp-source.ts). */
  readonly source: OcspSource;
  private readonly requestChildren = new Map<
    string,
    { count: { inc(): void }; latency: { observe(v: number): void } }
  >();
  private readonly ocspChildren = new Map<string, { inc(): void }>();

  /** Counts a request (label children cached: prom-client hashes label objects otherwise). */
  countRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let c = this.requestChildren.get(key);
    if (!c) {
      c = {
        count: this.metrics.httpRequests.labels(route, method, String(status)),
        latency: this.metrics.latency.labels(route),
      };
      this.requestChildren.set(key, c);
    }
    c.count.inc();
    c.latency.observe(seconds);
  }

  /** Counts an OCSP answer by its outcome and source. */
  countOcsp(outcome: string, source: string): void {
    const key = `${outcome} ${source}`;
    let c = this.ocspChildren.get(key);
    if (!c) {
      c = this.metrics.ocspResponses.labels(outcome, source);
      this.ocspChildren.set(key, c);
    }
    c.inc();
  }

  constructor(
    readonly store: ServingStore,
    readonly clock: Clock,
    readonly metrics: ServerMetrics,
    readonly log: FastifyBaseLogger,
    readonly responderKeys: ResponderKey[],
    readonly accessLog: AccessLog | undefined,
    readonly opts: { liveValiditySeconds?: number; ocspBodyLimit: number; statusMarginSeconds?: number },
  ) {
    this.source = new PublicationOcspSource(opts.liveValiditySeconds, (issuer) =>
      metrics.ocspTryLater.labels(issuer ?? 'none').inc(),
    );
    this.expiry = new ExpiryWatch(responderKeys, opts.statusMarginSeconds ?? DEFAULT_STATUS_MARGIN_SECONDS);
    metrics.beforeCollect(() => this.setExpiryMetrics());
  }

  /** The seconds-left gauges at this moment (run before every collection). */
  private setExpiryMetrics(): void {
    const m = this.metrics;
    const now = this.clock.now().getTime();
    const left = (t: number) => Math.round((t - now) / 1000);
    for (const g of [m.crlRemaining, m.ocspRemaining, m.responderRemaining]) g.reset();
    m.statusMargin.set(this.expiry.marginSeconds);
    const st = this.state;
    if (!st) return;
    const d = this.expiry.of(st.publication);
    for (const e of d.issuers) {
      if (e.crl) m.crlRemaining.labels(e.issuer).set(left(e.crl.nextUpdate.getTime()));
      const first = e.ocspNextUpdates[0];
      if (first !== undefined) m.ocspRemaining.labels(e.issuer).set(left(first));
    }
    for (const r of d.responders)
      m.responderRemaining.labels(r.issuer, r.serialHex, r.role).set(left(r.notAfter.getTime()));
  }

  /** FollowTarget: a version newer than the one served that was not refused before. */
  wants(latest: number | undefined): boolean {
    return !(latest === undefined || (this.state && latest <= this.state.version) || this.failed?.version === latest);
  }

  /**
   * FollowTarget: verifies a publication from the store and swaps it in. The new state is
   * built whole first and then set in one assignment: a request reads `state` once, so it is
   * answered wholly from the old or wholly from the new version.
   */
  adopt(row: { version: number; bytes: Buffer }, trustAnchors: Buffer[], verified?: VerifiedPublication): boolean {
    if (!this.wants(row.version)) return false;
    const now = this.clock.now();
    try {
      // Only what passed the import is in the store: a root-signed copy imported before issue 15 is still served.
      const publication = verified ?? verifyPublication(row.bytes, { trustAnchors, now, acceptRootSigned: true });
      const { byCa, problems } = bindResponders(publication, this.responderKeys, now);
      for (const p of problems) this.log.warn({ problem: p }, 'delegated responder not used');
      this.state = { publication, version: publication.manifest.version, responders: byCa };
      this.source.clear();
      this.failed = undefined;
      this.metrics.publicationVersion.set(publication.manifest.version);
      this.log.info(
        {
          version: publication.manifest.version,
          createdAt: publication.manifest.createdAt,
          responders: [...byCa.keys()],
        },
        'serving publication',
      );
      return true;
    } catch (e) {
      this.failed = { version: row.version, reason: (e as Error).message };
      this.log.error(
        { version: row.version, err: (e as Error).message },
        'publication in the store refused; still serving the previous one',
      );
      return false;
    }
  }

  page(pub: VerifiedPublication): { html: Buffer; etag: string } {
    let p = this.pages.get(pub);
    if (!p) {
      const html = Buffer.from(renderRepositoryPage(pub, { ocspUrl: this.ocspUrl }), 'utf8');
      p = { html, etag: `"${sha256(html)}"` };
      this.pages.set(pub, p);
    }
    return p;
  }

  /** Why the service is degraded (empty: ready). */
  problems(now: Date): string[] {
    const out: string[] = [];
    const storeProblem = this.storeProblem();
    if (storeProblem) out.push(storeProblem);
    if (this.failed) out.push(`publication ${this.failed.version} was refused: ${this.failed.reason}`);
    if (this.accessLogError && now.getTime() - this.accessLogError.at < 15 * 60_000)
      out.push(`OCSP access log: ${this.accessLogError.message}`);
    const st = this.state;
    if (!st) return out;
    const signsLive = (issuer: string) => {
      const r = st.responders.get(issuer)?.cert;
      return r !== undefined && now >= r.notBefore && now <= r.notAfter;
    };
    out.push(...this.expiry.problems(st.publication, now, signsLive));
    return out;
  }
}
