/**
 * Optional live forwarding of the online side's events to a syslog collector, so a SIEM sees
 * them as they happen (CPS 5.4.1, 5.4.6 "automatically"): RFC 5424 messages over TCP with
 * octet-counting framing (RFC 6587 3.4.1 "MSG-LEN SP SYSLOG-MSG"), or over TLS (RFC 5425,
 * which uses the same framing). It never blocks or crashes serving: messages wait in a bounded
 * queue (the oldest is dropped when it is full, and counted), the connection is retried with
 * exponential backoff, and a message written to a connection that then fails may be lost
 * (syslog over TCP has no acknowledgement). The signed records still come home by
 * `rootca online export-records`; this is the live copy.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { Counter, Gauge, type Registry } from './prom-client-lean.ts';
import { CaError } from '../errors.ts';
import type { Awaitable, ServerEventKind, ServingStore } from './online-store.ts';

/** Where messages go: `tcp://HOST:PORT` or `tls://HOST:PORT` (with the CA that signed the collector's certificate). */
export interface SyslogTarget {
  protocol: 'tcp' | 'tls';
  host: string;
  port: number;
  /** PEM of the CA(s) the collector's certificate must chain to (tls). */
  ca?: Buffer;
}

/** Parses `--syslog URL` (`tcp://127.0.0.1:6514`, `tls://siem.example:6514`). */
export function parseSyslogTarget(url: string, ca?: Buffer): SyslogTarget {
  const m = /^(tcp|tls):\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(url);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new CaError('SYSLOG_TARGET_INVALID', `--syslog must be tcp://HOST:PORT or tls://HOST:PORT, got "${url}"`);
  if (m[1] === 'tcp' && ca) throw new CaError('SYSLOG_TARGET_INVALID', '--syslog-ca is for a tls:// collector');
  return { protocol: m[1] as 'tcp' | 'tls', host: m[2]!.replace(/^\[|\]$/g, ''), port, ca };
}

/** RFC 5424 6.2.1 severities used here. */
export const SEVERITY = { error: 3, warning: 4, notice: 5, info: 6 } as const;

/** Our SD-ID (RFC 5424 6.3.2 "name@<private enterprise number>"; 32473 is the documentation number of RFC 5612). */
export const SD_ID = 'rootca@32473';

/** RFC 5424 6.3.3: '"', '\' and ']' in a PARAM-VALUE are escaped with '\'. */
const sdValue = (v: string) => v.replace(/["\\\]]/g, (c) => `\\${c}`);

/** A printable-ASCII header field of at most `max` characters, or the NILVALUE. */
const field = (v: string | undefined, max: number) => {
  const s = (v ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return s.length ? s : '-';
};

/** One message in the RFC 5424 format (6: HEADER SP STRUCTURED-DATA [SP MSG]). */
export function formatSyslog5424(m: {
  facility: number;
  severity: number;
  at: Date;
  hostname?: string;
  app: string;
  procId?: string;
  msgId?: string;
  params?: Record<string, string | number>;
  message: string;
}): string {
  const pri = m.facility * 8 + m.severity;
  const params = Object.entries(m.params ?? {})
    .filter(([k]) => /^[\x21-\x7e]{1,32}$/.test(k) && !/[= \]"]/.test(k))
    .map(([k, v]) => ` ${k}="${sdValue(String(v))}"`)
    .join('');
  const sd = params ? `[${SD_ID}${params}]` : '-';
  const head = `<${pri}>1 ${m.at.toISOString()} ${field(m.hostname, 255)} ${field(m.app, 48)} ${field(m.procId, 128)} ${field(m.msgId, 32)}`;
  // MSG: no line ends (a collector that splits on them would see two messages).
  return `${head} ${sd} ${m.message.replace(/[\r\n]+/g, ' ')}`;
}

/** RFC 6587 3.4.1 octet counting: "MSG-LEN SP SYSLOG-MSG". */
export function octetFrame(msg: string): Buffer {
  const body = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/** How `rootca serve --syslog` forwards. */
export interface SyslogForwarderOptions {
  target: SyslogTarget;
  /** RFC 5424 APP-NAME (default rootca). */
  app?: string;
  hostname?: string;
  /** RFC 5424 facility (default 16, local0). */
  facility?: number;
  /** Messages kept while the collector is away (default 10000); the oldest go first. */
  maxQueue?: number;
  /** First and largest wait between connection attempts (defaults 500 ms, 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Reports connection problems (at most one per failed attempt). */
  onError?: (e: Error) => void;
}

/** The forwarder of one process: `send` never throws and never waits. */
export class SyslogForwarder {
  private readonly queue: Buffer[] = [];
  private socket: Socket | undefined;
  private connected = false;
  private writable = true;
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** One report per outage, not one per attempt. */
  private reported = false;
  /** Messages dropped because the queue was full, and written to a connection. */
  dropped = 0;
  sent = 0;
  private readonly o: Required<Omit<SyslogForwarderOptions, 'onError' | 'hostname'>> &
    Pick<SyslogForwarderOptions, 'onError' | 'hostname'>;

  constructor(options: SyslogForwarderOptions) {
    this.o = { app: 'rootca', facility: 16, maxQueue: 10_000, minBackoffMs: 500, maxBackoffMs: 30_000, ...options };
    this.backoff = this.o.minBackoffMs;
    this.connect();
  }

  /** Queues one event; sent as soon as the collector is connected. */
  send(e: { msgId: string; severity: number; message: string; params?: Record<string, string | number> }): void {
    if (this.closed) return;
    try {
      const msg = formatSyslog5424({
        facility: this.o.facility,
        severity: e.severity,
        at: new Date(),
        hostname: this.o.hostname ?? osHostname(),
        app: this.o.app,
        procId: String(process.pid),
        msgId: e.msgId,
        params: e.params,
        message: e.message,
      });
      this.queue.push(octetFrame(msg));
      while (this.queue.length > this.o.maxQueue) {
        this.queue.shift();
        this.dropped++;
      }
      this.drain();
    } catch (err) {
      this.o.onError?.(err as Error);
    }
  }

  /** Queue length, counts and whether the collector is connected (for /metrics and tests). */
  stats(): { queued: number; sent: number; dropped: number; connected: boolean } {
    return { queued: this.queue.length, sent: this.sent, dropped: this.dropped, connected: this.connected };
  }

  /** Adds rootca_syslog_* series to a registry. */
  register(registry: Registry): void {
    const self = this;
    new Counter({
      name: 'rootca_syslog_dropped_total',
      help: 'Events not forwarded to the syslog collector: the queue was full while it was away',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.dropped);
      },
    });
    new Gauge({
      name: 'rootca_syslog_queue',
      help: 'Events waiting for the syslog collector',
      registers: [registry],
      collect() {
        this.set(self.queue.length);
      },
    });
    new Gauge({
      name: 'rootca_syslog_connected',
      help: '1 while connected to the syslog collector',
      registers: [registry],
      collect() {
        this.set(self.connected ? 1 : 0);
      },
    });
  }

  private connect(): void {
    if (this.closed) return;
    const t = this.o.target;
    const s =
      t.protocol === 'tls'
        ? tlsConnect({
            host: t.host,
            port: t.port,
            ca: t.ca,
            servername: /^[\d.:]+$/.test(t.host) ? undefined : t.host,
          })
        : tcpConnect({ host: t.host, port: t.port });
    this.socket = s;
    s.setNoDelay(true);
    s.once(t.protocol === 'tls' ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      this.writable = true;
      this.backoff = this.o.minBackoffMs;
      this.reported = false;
      this.drain();
    });
    s.on('drain', () => {
      this.writable = true;
      this.drain();
    });
    s.on('error', (e) => {
      if (this.reported) return;
      this.reported = true;
      this.o.onError?.(e);
    });
    s.on('data', () => undefined); // a collector says nothing; read anyway so the socket is not stalled
    s.once('close', () => {
      this.connected = false;
      this.socket = undefined;
      this.retry();
    });
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, this.backoff);
    this.timer.unref();
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs);
  }

  private drain(): void {
    const s = this.socket;
    while (s && this.connected && this.writable && this.queue.length) {
      const frame = this.queue.shift()!;
      this.sent++;
      this.writable = s.write(frame);
    }
  }

  /** Sends what is queued (waiting at most `waitMs` for the collector), then closes. */
  async close(waitMs = 1000): Promise<void> {
    const until = Date.now() + waitMs;
    while (this.queue.length && this.connected && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    this.closed = true;
    this.connected = false;
    if (this.timer) clearTimeout(this.timer);
    const s = this.socket;
    if (!s) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(() => {
        s.destroy();
        resolve();
      }, waitMs);
      done.unref();
      s.end(() => {
        clearTimeout(done);
        resolve();
      });
    });
  }
}

const KIND_SEVERITY: Record<string, number> = {
  start: SEVERITY.notice,
  stop: SEVERITY.notice,
  import: SEVERITY.notice,
  'import-refused': SEVERITY.warning,
  'records-export': SEVERITY.info,
};

/** The scalar fields of an event's detail, as SD-PARAMs. */
function scalarParams(detail: Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(detail))
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (typeof v === 'boolean' || v === null) out[k] = String(v);
  return out;
}

/**
 * The store, with every server event it records and every access-log segment it chains also
 * sent to `fwd` (after the store has it: the store stays the record, syslog the live copy).
 */
export function forwardingEvents<S extends ServingStore>(store: S, fwd: SyslogForwarder): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'recordServerEvent')
        return (kind: ServerEventKind, detail: Record<string, unknown>) =>
          afterward(target.recordServerEvent(kind, detail), () =>
            fwd.send({
              msgId: kind,
              severity: KIND_SEVERITY[kind] ?? SEVERITY.info,
              params: scalarParams(detail),
              message: `${kind} ${JSON.stringify(detail)}`,
            }),
          );
      if (prop === 'recordAccessLogSegment')
        return (s: Parameters<ServingStore['recordAccessLogSegment']>[0]) =>
          afterward(target.recordAccessLogSegment(s), (rec) =>
            fwd.send({
              msgId: 'segment',
              severity: SEVERITY.info,
              params: { name: rec.name, sha256: rec.sha256, prevSha256: rec.prevSha256, lines: rec.lines },
              message: `access-log segment ${rec.name} closed: ${rec.lines} request(s), SHA-256 ${rec.sha256}`,
            }),
          );
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Runs `then` with the value once it is there (at once for SQLite's plain values), keeping the value's form. */
function afterward<T>(value: Awaitable<T>, then: (v: T) => void): Awaitable<T> {
  if (value instanceof Promise)
    return value.then((v) => {
      then(v);
      return v;
    });
  then(value);
  return value;
}
