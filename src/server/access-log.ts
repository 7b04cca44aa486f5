/**
 * The OCSP access log (CPS 5.5.1 archives it; kept 10 years, R-8.1). Every request at full
 * rate, so not a database row per request: JSON lines appended to a segment file per hour and
 * process, written in buffered chunks off the event loop; a closed segment is gzip-compressed, fsync'd, and its
 * SHA-256 is recorded in the store, chained to the segment recorded before it (the chain is
 * the `access_log_segments` table: prev_sha256 is chosen in the same transaction as the insert,
 * so several worker processes append to one chain without forking it).
 *
 * Files: `<dir>/ocsp-<YYYYMMDD>T<HH>Z-<pid>-<n>.log` while open, `….log.gz` once closed.
 * A segment left open by a process that died is closed by the next process that starts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import {
  alive,
  claimSegment,
  compressSegment,
  digestSegment,
  fsyncAndClose,
  hourOf,
  SEGMENT,
  writeAll,
} from './access-log-files.ts';
import type { AccessLogSegmentRecord, ServingStore } from './online-store.ts';

export interface AccessLogOptions {
  dir: string;
  /** Records a closed segment's digest (synchronously with SQLite, a promise with PostgreSQL). */
  store: Pick<ServingStore, 'recordAccessLogSegment'>;
  clock: Clock;
  /** Write the buffer out once it holds this many bytes (default 64 KiB). */
  flushBytes?: number;
  /** …or this often (default 1000 ms); also when the hour turns. */
  flushMs?: number;
  /** Reports problems (a log that cannot be written must be noticed, not crash the responder). */
  onError?: (e: unknown) => void;
}

interface OpenSegment {
  rawPath: string;
  fd: number;
}

/** One OCSP request as the access log keeps it. */
export interface OcspAccessEntry {
  ip: string;
  method: 'GET' | 'POST';
  http: number;
  /** good / revoked / unknown / mixed, or the OCSP error status. */
  outcome: string;
  source: string;
  ca?: string;
  hash?: string;
  serials: string[];
  nonce: boolean;
  version?: number;
  /** Response body bytes. */
  length: number;
  micros: number;
  reason?: string;
}

/** The fields of an OCSP line between "ip" and "us" (names, hex and numbers only: nothing to escape). */
export function ocspAccessFields(e: Omit<OcspAccessEntry, 'ip' | 'micros' | 'reason'>): string {
  let line = `,"m":"${e.method}","http":${e.http},"r":"${e.outcome}","src":"${e.source}"`;
  if (e.ca !== undefined) line += `,"ca":"${e.ca}"`;
  if (e.hash !== undefined) line += `,"h":"${e.hash}"`;
  if (e.serials.length) line += `,"sn":["${e.serials.join('","')}"]`;
  if (e.nonce) line += ',"n":true';
  if (e.version !== undefined) line += `,"v":${e.version}`;
  return `${line},"len":${e.length}`;
}

const US_FIELD = Buffer.from(',"us":', 'latin1');

/** Buffered, hourly, gzip-on-close, hash-chained access log of one process. */
export class AccessLog {
  private readonly o: Required<Omit<AccessLogOptions, 'onError'>> & Pick<AccessLogOptions, 'onError'>;
  private current: OpenSegment | undefined;
  private readonly buf: Buffer;
  private pos = 0;
  /** The open segment's hour ends at this time (ms); cheaper than formatting the hour per line. */
  private hourEnds = 0;
  private lastMs = -1;
  private lastIso = '';
  /** appendOcspPrepared's stamp as bytes, and its ip and fields parts (bytesOf). */
  private stampOf = '';
  private stampBytes = Buffer.alloc(0);
  private readonly partBytes = new Map<string, Buffer>();
  private seq = 0;
  /** The writer queue (see enqueue) and the bytes in it. */
  private writing: Promise<void> = Promise.resolve();
  private queued = 0;
  private reportedAt = 0;
  private closing: Promise<unknown> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(options: AccessLogOptions) {
    this.o = { flushBytes: 64 * 1024, flushMs: 1000, ...options };
    this.buf = Buffer.allocUnsafe(this.o.flushBytes + 64 * 1024);
    mkdirSync(this.o.dir, { recursive: true });
    this.timer = setInterval(() => this.tick(), this.o.flushMs);
    this.timer.unref();
    this.closing = this.recoverOrphans();
  }

  /** Appends one entry (a JSON line; undefined fields are left out). Never throws. */
  append(entry: Record<string, unknown>): void {
    if (this.stopped) return;
    try {
      const json = JSON.stringify(entry);
      this.appendLine(this.stamp(), json === '{}' ? '}' : `,${json.slice(1)}`);
    } catch (e) {
      this.o.onError?.(e);
    }
  }

  /**
   * The hot path: one OCSP request, formatted by hand (about ten times cheaper than
   * JSON.stringify of an object; CPS 5.5.1 wants every request at full rate). Strings that
   * could hold anything (ip, reason) are JSON-escaped; the rest are names, hex and numbers.
   */
  appendOcsp(e: OcspAccessEntry): void {
    if (this.stopped) return;
    try {
      const why = e.reason !== undefined ? `,"why":${JSON.stringify(e.reason)}}` : '}';
      this.appendLine(this.stamp(), `,"ip":${JSON.stringify(e.ip ?? '')}${ocspAccessFields(e)},"us":${e.micros}${why}`);
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /**
   * The same line as appendOcsp, from parts the caller prepared once per answer: `ipField`
   * (`,"ip":"…"`) and `fields` (ocspAccessFields of an entry without a reason), both plain
   * ASCII (the caller checks), copied as they are; `nowMs` the caller's clock reading. The
   * OCSP fast path's way of logging every request without formatting each one.
   */
  appendOcspPrepared(ipField: string, fields: string, micros: number, nowMs?: number): void {
    if (this.stopped) return;
    try {
      const stamp = this.stamp(nowMs);
      // Copied as bytes: the stamp's made again once per ms, the parts kept by bytesOf.
      if (stamp !== this.stampOf) {
        this.stampOf = stamp;
        this.stampBytes = Buffer.from(stamp, 'latin1');
      }
      const ip = this.bytesOf(ipField);
      const middle = this.bytesOf(fields);
      const us = Number.isSafeInteger(micros) && micros >= 0 ? micros : 0;
      if (this.pos + this.stampBytes.length + ip.length + middle.length + 24 > this.buf.length) this.flush();
      const b = this.buf;
      let p = this.pos;
      b.set(this.stampBytes, p);
      p += this.stampBytes.length;
      b.set(ip, p);
      p += ip.length;
      b.set(middle, p);
      p += middle.length;
      b.set(US_FIELD, p);
      p += US_FIELD.length;
      // "us" in decimal digits (at most 16 for a safe integer), then `}` and the line end.
      let digits = 1;
      for (let x = us; x >= 10; x = Math.floor(x / 10)) digits++;
      for (let i = digits - 1, x = us; i >= 0; i--, x = Math.floor(x / 10)) b[p + i] = 0x30 + (x % 10);
      p += digits;
      b[p++] = 0x7d;
      b[p++] = 0x0a;
      this.pos = p;
      if (p >= this.o.flushBytes) this.flush();
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /** A prepared part's latin1 bytes, kept (the same few parts come back on every request). */
  private bytesOf(part: string): Buffer {
    let b = this.partBytes.get(part);
    if (b === undefined) {
      if (this.partBytes.size >= 4096) this.partBytes.clear();
      b = Buffer.from(part, 'latin1');
      this.partBytes.set(part, b);
    }
    return b;
  }

  /** `{"t":"<ISO time>"` for now, rotating the segment when the hour has turned. */
  private stamp(nowMs?: number): string {
    const ms = nowMs ?? this.o.clock.now().getTime();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = `{"t":"${new Date(ms).toISOString()}"`;
    }
    if (this.current && ms >= this.hourEnds) this.rotate().catch(() => undefined);
    if (!this.current) this.open(ms);
    return this.lastIso;
  }

  private appendLine(stamp: string, rest: string): void {
    // Worst case 3 bytes per UTF-16 unit; flush first when the line might not fit.
    if (this.pos + (stamp.length + rest.length + 1) * 3 > this.buf.length) this.flush();
    if ((stamp.length + rest.length + 1) * 3 > this.buf.length) {
      this.enqueue(this.current!.fd, Buffer.from(`${stamp}${rest}\n`, 'utf8'));
    } else {
      this.pos += this.buf.write(stamp, this.pos, 'utf8');
      this.pos += this.buf.write(rest, this.pos, 'utf8');
      this.buf[this.pos++] = 0x0a;
    }
    if (this.pos >= this.o.flushBytes) this.flush();
  }

  /** Closes the open segment now (tests, shutdown, rotation); resolves with its chain record. */
  async closeSegmentNow(): Promise<AccessLogSegmentRecord | undefined> {
    return this.rotate();
  }

  /**
   * Closes the open segment and stops the timer; waits for every pending close. A segment whose
   * record could not be written (the store is away) is reported to onError and left on disk,
   * compressed, for the next start to record: shutting down does not wait for the store.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.rotate().catch(() => undefined); // reported to onError by rotate()
    this.stopped = true;
    await this.closing.catch(() => undefined);
  }

  private tick(): void {
    try {
      if (this.current && this.o.clock.now().getTime() >= this.hourEnds) this.rotate().catch(() => undefined);
      else this.flush();
    } catch (e) {
      this.o.onError?.(e);
    }
  }

  private open(ms: number): void {
    const hour = hourOf(new Date(ms));
    this.hourEnds = (Math.floor(ms / 3_600_000) + 1) * 3_600_000;
    const rawPath = join(this.o.dir, `ocsp-${hour}-${process.pid}-${++this.seq}.log`);
    this.current = { rawPath, fd: openSync(rawPath, 'a') };
  }

  /** Hands the buffered lines to the writer queue (copied: the buffer is reused at once). */
  private flush(): void {
    if (!this.current || this.pos === 0) return;
    this.enqueue(this.current.fd, Buffer.from(this.buf.subarray(0, this.pos)));
    this.pos = 0;
  }

  /**
   * Writes happen in order, off the event loop: on a busy or slow disk a synchronous write
   * stalled every request behind it (seconds at p99). A failed write is reported and its
   * lines are lost, as before; a queue that keeps growing is reported once per 64 MiB.
   */
  private enqueue(fd: number, chunk: Buffer): void {
    this.queued += chunk.length;
    if (this.queued > this.reportedAt + 64 * 1024 * 1024) {
      this.reportedAt = this.queued;
      this.o.onError?.(new Error(`OCSP access log: ${Math.round(this.queued / 1048576)} MiB waiting for the disk`));
    } else if (this.queued < this.reportedAt / 2) this.reportedAt = 0;
    this.writing = this.writing
      .then(() => writeAll(fd, chunk))
      .catch((e) => this.o.onError?.(e))
      .finally(() => {
        this.queued -= chunk.length;
      });
  }

  /** Detaches the open segment and queues its close; the next append opens a new one. */
  private rotate(): Promise<AccessLogSegmentRecord | undefined> {
    const seg = this.current;
    if (!seg)
      return this.closing.then(
        () => undefined,
        () => undefined,
      );
    this.flush();
    this.current = undefined;
    const written = this.writing; // every line of this segment, queued before now
    const p = this.closing
      .catch(() => undefined)
      .then(async () => {
        await written;
        await fsyncAndClose(seg.fd);
        return this.finish(seg.rawPath);
      });
    this.closing = p.catch((e) => this.o.onError?.(e));
    return p;
  }

  /** gzip, fsync, rename, record in the chain, remove the raw file. Lines are counted from the file itself. */
  private async finish(rawPath: string): Promise<AccessLogSegmentRecord> {
    const { gzPath, sha256, lines } = await compressSegment(rawPath);
    const name = gzPath.slice(this.o.dir.length + 1);
    // The raw file goes only once the record is written: if recording fails, the next start adopts the segment.
    let rec: AccessLogSegmentRecord;
    try {
      rec = await this.o.store.recordAccessLogSegment({ name, sha256, lines, closedAt: this.o.clock.now() });
    } catch (e) {
      throw new Error(`segment ${name} is kept on disk and recorded at the next start: ${(e as Error)?.message ?? e}`, {
        cause: e,
      });
    }
    unlinkSync(rawPath);
    return rec;
  }

  /**
   * A process died after compressing a segment (the .gz is complete: it is fsync'd before the
   * rename) but perhaps before recording it: record it unless it is recorded already, then
   * remove the raw file.
   */
  private async adopt(rawPath: string): Promise<void> {
    const { gzPath, sha256, lines } = await digestSegment(rawPath);
    try {
      await this.o.store.recordAccessLogSegment({
        name: gzPath.slice(this.o.dir.length + 1),
        sha256,
        lines,
        closedAt: this.o.clock.now(),
      });
    } catch (e) {
      if (!/UNIQUE/i.test(String((e as Error).message))) throw e; // recorded before the crash
    }
    unlinkSync(rawPath);
  }

  /** Closes segments left open by processes that are gone (a crash must not lose the log). */
  private async recoverOrphans(): Promise<void> {
    for (const f of readdirSync(this.o.dir)) {
      if (f.endsWith('.gz.tmp')) {
        // A temp file whose raw segment is gone belongs to no recovery (finish() rewrites the others).
        const m = SEGMENT.exec(f.slice(0, -'.gz.tmp'.length));
        const raw = join(this.o.dir, f.slice(0, -'.gz.tmp'.length));
        if (m && !alive(Number(m[2])) && !existsSync(raw)) unlinkSync(join(this.o.dir, f));
        continue;
      }
      const m = SEGMENT.exec(f);
      if (!m || alive(Number(m[2]))) continue;
      const raw = join(this.o.dir, f);
      try {
        if (!claimSegment(raw)) continue;
      } catch (e) {
        this.o.onError?.(e);
        continue;
      }
      try {
        if (existsSync(`${raw}.gz`)) await this.adopt(raw);
        else await this.finish(raw);
      } catch (e) {
        this.o.onError?.(e);
      } finally {
        try {
          unlinkSync(`${raw}.claim`);
        } catch {
          // already gone
        }
      }
    }
  }
}

/**
 * Checks the chain offline: every recorded segment's file exists with its SHA-256 (looked up
 * in each of `dirs`: segments may have been moved to archive media), and each record names the
 * one before it. Returns the problems found (empty when intact).
 */
export function verifyAccessLogChain(dirs: string | string[], records: AccessLogSegmentRecord[]): string[] {
  const problems: string[] = [];
  let prev = '';
  for (const r of records) {
    if (r.prevSha256 !== prev)
      problems.push(`${r.name}: chain broken (prev ${r.prevSha256 || '(none)'}, expected ${prev || '(none)'})`);
    const p = (Array.isArray(dirs) ? dirs : [dirs]).map((d) => join(d, r.name)).find((x) => existsSync(x));
    if (!p) problems.push(`${r.name}: file missing`);
    else {
      const digest = createHash('sha256').update(readFileSync(p)).digest('hex');
      if (digest !== r.sha256) problems.push(`${r.name}: SHA-256 ${digest} does not match the record ${r.sha256}`);
    }
    prev = r.sha256;
  }
  return problems;
}
