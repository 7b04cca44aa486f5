/**
 * Keeps a responder on the newest publication in the online store (issue 9, R-2.3 "24x7"):
 *
 * - it polls the store (every `pollMs`), and with PostgreSQL also LISTENs, so a new version is
 *   picked up within a moment of its import; a notice only triggers a poll, so a lost notice
 *   costs at most one poll interval;
 * - one poll at a time; a notice during a poll asks for one more afterwards;
 * - while the store cannot be reached it backs off (doubling up to `maxBackoffMs`) and the
 *   responder keeps answering from the version it holds in memory, reported as degraded;
 * - every `heartbeatMs` it records the process's heartbeat (never per request).
 *
 * The switch itself is the target's job (`adopt`: verify, build the new state fully, then swap
 * one reference), so a request is answered wholly from the old or wholly from the new version.
 */
import { Counter, Gauge, type Registry } from './prom-client-lean.ts';
import type { Clock } from '../clock.ts';
import type { Awaitable, ResponderHeartbeat, ServingStore } from './online-store.ts';

export interface FollowTarget {
  /** Whether `version` is worth fetching (newer than the one served, not refused before). */
  wants(version: number | undefined): boolean;
  /** Verifies and swaps in a publication; true when it switched. Does not throw. */
  adopt(row: { version: number; bytes: Buffer }, trustAnchors: Buffer[]): boolean;
}

export interface FollowerOptions {
  pollMs: number;
  /** Largest wait between attempts while the store is unreachable (default 5000 ms). */
  maxBackoffMs?: number;
  /** How often the heartbeat is written (default 5000 ms); 0: never. */
  heartbeatMs?: number;
  /** The heartbeat to write now (undefined: none). */
  heartbeat?: () => ResponderHeartbeat | undefined;
  clock: Clock;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void; error(o: object, msg: string): void };
  registry?: Registry;
}

export interface StoreConnection {
  /** The store answered the last attempt. */
  reachable: boolean;
  /** Push notices (LISTEN) are live; otherwise new versions come from polling alone. */
  notifications: 'listening' | 'polling' | 'reconnecting';
  /** When the store stopped answering (ISO), while unreachable. */
  unreachableSince?: string;
  lastError?: string;
  /** The last time the store answered (ISO). */
  lastContact?: string;
}

const isPromise = <T>(v: Awaitable<T>): v is Promise<T> => typeof (v as Promise<T>)?.then === 'function';

/** `f(v)` now when `v` is a plain value, after it resolves otherwise (SQLite stays synchronous). */
function then<T, R>(v: Awaitable<T>, f: (t: T) => Awaitable<R>): Awaitable<R> {
  return isPromise(v) ? v.then(f) : f(v);
}

export class PublicationFollower {
  private readonly maxBackoffMs: number;
  private failures = 0;
  private inFlight: Promise<boolean> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** The heartbeat on its way, if any (stop waits for it: a late one must not overwrite the final 'stopped'). */
  private beating: Promise<void> | undefined;
  private watcher: { close(): Promise<void> } | undefined;
  private stopped = false;
  private readonly conn: StoreConnection;
  /** The newest version the store held at the last successful poll. */
  private storeVersion: number | undefined;
  private contacted = false;
  private readonly up?: Gauge;
  private readonly errors?: Counter;
  private readonly switches?: Counter;

  constructor(
    private readonly store: ServingStore,
    private readonly target: FollowTarget,
    private readonly o: FollowerOptions,
  ) {
    this.maxBackoffMs = o.maxBackoffMs ?? 5000;
    this.conn = { reachable: true, notifications: store.watch ? 'reconnecting' : 'polling' };
    if (o.registry) {
      const registers = [o.registry];
      this.up = new Gauge({
        name: 'rootca_store_up',
        help: 'Whether the online store answered the last poll (1) or not (0)',
        registers,
        aggregator: 'min',
      });
      this.errors = new Counter({
        name: 'rootca_store_errors_total',
        help: 'Polls of the online store that failed',
        registers,
      });
      this.switches = new Counter({
        name: 'rootca_publication_switches_total',
        help: 'Times a newer publication was swapped in',
        registers,
      });
      this.up.set(1);
    }
  }

  /** Where the store connection stands (for /healthz). */
  connection(): StoreConnection {
    return { ...this.conn };
  }

  /**
   * Why serving is degraded because of the store (undefined: it is not). `source`: where the
   * served version came from ('memory', or 'the local copy' when it was loaded at start).
   */
  problem(servedVersion: number | undefined, source = 'memory'): string | undefined {
    if (this.conn.reachable) {
      // Versions never move backwards (a store restored from an older backup, or emptied, would
      // otherwise un-revoke certificates: revocation is final, CPS 4.9): say so instead.
      if (servedVersion === undefined || !this.contacted || (this.storeVersion ?? 0) >= servedVersion) return undefined;
      const holds =
        this.storeVersion === undefined ? 'holds no publication' : `holds version ${this.storeVersion} only`;
      return `the online store ${this.store.location} ${holds}, older than version ${servedVersion} served from ${source}; not going back: import version ${servedVersion} or a newer one`;
    }
    const serving =
      servedVersion === undefined ? 'nothing to serve yet' : `serving version ${servedVersion} from ${source}`;
    return `the online store ${this.store.location} is unreachable since ${this.conn.unreachableSince} (${this.conn.lastError}); ${serving}`;
  }

  /** Starts polling, listening and the heartbeat. */
  start(): void {
    this.schedule(this.o.pollMs);
    this.watcher = this.store.watch?.({
      onVersion: (v) => {
        if (this.target.wants(v)) void this.pollNow();
      },
      onConnection: (up, error) => {
        this.conn.notifications = up ? 'listening' : 'reconnecting';
        if (up)
          void this.pollNow(); // notices sent while away are lost
        else this.o.log.warn({ err: error }, 'online store notifications lost; polling until they are back');
      },
    });
    const every = this.o.heartbeatMs ?? 5000;
    if (every > 0 && this.o.heartbeat) {
      this.heartbeatTimer = setInterval(() => void this.beat(), every);
      this.heartbeatTimer.unref();
    }
  }

  /** Looks for a newer publication now; true when it switched. Synchronous for a synchronous store. */
  pollNow(): Awaitable<boolean> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    const r = this.attempt();
    if (!isPromise(r)) return r;
    this.inFlight = r.finally(() => {
      this.inFlight = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.pollNow();
      }
    });
    return this.inFlight;
  }

  /** Writes the heartbeat now (skipped while one is still on its way). */
  async beat(): Promise<void> {
    const h = this.o.heartbeat?.();
    if (!h || this.beating || this.stopped) return;
    this.beating = (async () => {
      try {
        await this.store.heartbeat(h);
      } catch {
        // The poll reports an unreachable store; a missed heartbeat shows in `online status` by itself.
      } finally {
        this.beating = undefined;
      }
    })();
    return this.beating;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeatTimer);
    await this.watcher?.close();
    await this.inFlight?.catch(() => undefined);
    await this.beating;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const r = this.pollNow();
      const next = () =>
        this.schedule(
          this.failures === 0 ? this.o.pollMs : Math.min(this.maxBackoffMs, this.o.pollMs * 2 ** (this.failures - 1)),
        );
      if (isPromise(r)) void r.finally(next);
      else next();
    }, ms);
    this.timer.unref();
  }

  private attempt(): Awaitable<boolean> {
    try {
      const r = then(this.store.latestVersion(), (latest) => {
        this.storeVersion = latest;
        this.contacted = true;
        if (!this.target.wants(latest)) return false;
        return then(this.store.latest(), (row) =>
          row ? then(this.store.trustAnchors(), (anchors) => this.target.adopt(row, anchors)) : false,
        );
      });
      return isPromise(r)
        ? r.then(
            (ok) => this.succeeded(ok),
            (e) => this.failed(e),
          )
        : this.succeeded(r);
    } catch (e) {
      return this.failed(e);
    }
  }

  private succeeded(switched: boolean): boolean {
    if (!this.conn.reachable) this.o.log.info({ store: this.store.location }, 'online store reachable again');
    this.failures = 0;
    Object.assign(this.conn, {
      reachable: true,
      unreachableSince: undefined,
      lastError: undefined,
      lastContact: this.o.clock.now().toISOString(),
    });
    this.up?.set(1);
    if (switched) {
      this.switches?.inc();
      void this.beat();
    }
    return switched;
  }

  private failed(e: unknown): false {
    const message = (e as Error)?.message || String(e);
    if (this.conn.reachable) {
      this.conn.unreachableSince = this.o.clock.now().toISOString();
      this.o.log.error({ err: message, store: this.store.location }, 'online store unreachable; serving from memory');
    }
    this.failures++;
    this.conn.reachable = false;
    this.conn.lastError = message;
    this.up?.set(0);
    this.errors?.inc();
    return false;
  }
}
