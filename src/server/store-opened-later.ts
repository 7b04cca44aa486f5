/**
 * An online store that could not be opened when the responder started (PostgreSQL unreachable):
 * every call tries to open it (one attempt at a time) and fails with STORE_UNAVAILABLE until it
 * can, then goes to the opened store. The responder meanwhile serves its verified local copy
 * (publication-cache.ts), and the follower's backoff paces the attempts (issue 9, CPS 2.1).
 */
import { CaError } from '../errors.ts';
import type { ServingStore } from './online-store.ts';

type Watcher = Parameters<NonNullable<ServingStore['watch']>>[0];

export class StoreOpenedLater implements ServingStore {
  private inner: ServingStore | undefined;
  private opening: Promise<ServingStore> | undefined;
  private closed = false;
  /** Watchers asked for before the store opened, started when it does. */
  private readonly watchers: { w: Watcher; handle?: { close(): Promise<void> }; closed: boolean }[] = [];

  constructor(
    readonly location: string,
    private readonly open: () => Promise<ServingStore>,
  ) {}

  private get(): Promise<ServingStore> {
    if (this.inner) return Promise.resolve(this.inner);
    this.opening ??= this.open().then(
      async (s) => {
        if (this.closed) {
          await s.close();
          throw new CaError('STORE_CLOSED', 'the store was closed');
        }
        this.inner = s;
        for (const x of this.watchers) if (!x.closed) x.handle = s.watch?.(x.w);
        return s;
      },
      (e) => {
        this.opening = undefined;
        throw e;
      },
    );
    return this.opening;
  }

  latest() {
    return this.get().then((s) => s.latest());
  }
  latestVersion() {
    return this.get().then((s) => s.latestVersion());
  }
  trustAnchors() {
    return this.get().then((s) => s.trustAnchors());
  }
  importVerified(bytes: Uint8Array, trustAnchors?: Buffer[]) {
    return this.get().then((s) => s.importVerified(bytes, trustAnchors));
  }
  lastImport() {
    return this.get().then((s) => s.lastImport());
  }
  recordAccessLogSegment(seg: { name: string; sha256: string; lines: number; closedAt: Date }) {
    return this.get().then((s) => s.recordAccessLogSegment(seg));
  }
  accessLogSegments(responder?: string) {
    return this.get().then((s) => s.accessLogSegments(responder));
  }
  recordServerEvent(kind: Parameters<ServingStore['recordServerEvent']>[0], detail: Record<string, unknown>) {
    return this.get().then((s) => s.recordServerEvent(kind, detail));
  }
  serverEvents() {
    return this.get().then((s) => s.serverEvents());
  }
  lastRecordsExport(source: string) {
    return this.get().then((s) => s.lastRecordsExport(source));
  }
  serverEventSeqBefore(at: string) {
    return this.get().then((s) => s.serverEventSeqBefore(at));
  }
  lastServerEventSeq() {
    return this.get().then((s) => s.lastServerEventSeq());
  }
  serverEventPage(afterSeq: number, toSeq: number, limit: number) {
    return this.get().then((s) => s.serverEventPage(afterSeq, toSeq, limit));
  }
  accessLogSegmentsAfter(from: { sha256: string } | { at: string }, responder?: string) {
    return this.get().then((s) => s.accessLogSegmentsAfter(from, responder));
  }
  heartbeat(h: Parameters<ServingStore['heartbeat']>[0]) {
    return this.get().then((s) => s.heartbeat(h));
  }
  responders(withinMs: number) {
    return this.get().then((s) => s.responders(withinMs));
  }

  /** Push notices once the store is open (until then the follower polls, which opens it). */
  watch(w: Watcher): { close(): Promise<void> } {
    const x: (typeof this.watchers)[number] = { w, closed: false };
    this.watchers.push(x);
    if (this.inner) x.handle = this.inner.watch?.(w);
    return {
      close: async () => {
        x.closed = true;
        await x.handle?.close();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner?.close();
  }
}

/**
 * Opens the store; when it cannot be reached and `hasLocalCopy()` says there is a copy to serve
 * meanwhile, a StoreOpenedLater instead (anything else, or no copy, is thrown as before).
 */
export async function openStoreOrLater(
  location: string,
  open: () => Promise<ServingStore>,
  hasLocalCopy: () => boolean,
): Promise<{ store: ServingStore; unreachable?: CaError }> {
  try {
    return { store: await open() };
  } catch (e) {
    if (!(e instanceof CaError) || e.code !== 'STORE_UNAVAILABLE' || !hasLocalCopy()) throw e;
    return { store: new StoreOpenedLater(location, open), unreachable: e };
  }
}
