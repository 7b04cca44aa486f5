/**
 * What `rootca online export-records` takes from the online store (CPS 5.4.1, 5.5.1): the
 * server events and the closed access-log segments after a starting point, selected in SQL
 * (the store's records queries), with each segment's file found in the log folders. The
 * events are read page by page and each file in chunks, twice: once here to digest them for
 * the signed manifest, once when the bundle is written (online-records-write.ts), so memory
 * stays flat. The points (last event seq, last segment SHA-256) before and after the selection
 * let the offline side check the bundle follows the last one. A segment whose file is missing
 * is carried without its bytes, and one whose bytes do not match its record is carried as
 * found: the offline side refuses both, and records why.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { CaError } from '../errors.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { sha256File } from '../util/digest.ts';
import type { AccessLogSegmentRecord, OnlineServerEvent, ServingStore } from './online-store.ts';
/** A continuity point: the last server event and the last access-log segment before a selection. */
export interface RecordsPoint {
  eventSeq: number;
  segmentSha256: string;
}

/** Where a selection starts: the beginning, the end of the last export of this source, a point (an earlier bundle's end), or a time. */
export type RecordsSince =
  | { kind: 'beginning' }
  | { kind: 'last'; source: string }
  | { kind: 'point'; point: RecordsPoint }
  | { kind: 'time'; at: string };

/** The records after the starting point: the points before and at their end, and the parts to stream. */
export interface CollectedRecords {
  after: RecordsPoint;
  to: RecordsPoint;
  events: { count: number; length: number; sha256: string };
  /** Each segment's chain record and the length of its file (null: missing). */
  segments: (AccessLogSegmentRecord & { length: number | null })[];
  /** The events part, then each segment carried, in bundle order. */
  parts: CollectedPart[];
  /** Segments missing or not matching their record (also visible to the offline side). */
  problems: string[];
}

/** `beginning`, `last`, or a date (YYYY-MM-DD, UTC) / date-time. */
export function parseSince(v: string, source: string): RecordsSince {
  if (v === 'beginning') return { kind: 'beginning' };
  if (v === 'last') return { kind: 'last', source };
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t))
    throw new CaError('DATE_INVALID', `--since must be "beginning", "last", a date or a date-time, got "${v}"`);
  return { kind: 'time', at: new Date(t).toISOString() };
}

/** A part of the bundle to stream: its chunks, and the length and SHA-256 they had when first read. */
export interface CollectedPart {
  name: string;
  length: number;
  sha256: string;
  chunks(): AsyncIterable<Buffer>;
}

/**
 * A segment file read in chunks of 1 MiB into one reused buffer: each chunk is valid until the
 * next is asked for (the bundle writer hashes and writes it synchronously first), so reading a
 * large file leaves no garbage behind and the process's memory stays flat.
 */
function fileChunks(path: string): () => AsyncIterable<Buffer> {
  return async function* () {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) yield buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  };
}

/** One server event as its line in the bundle's events part: canonical JSON, LF. */
const eventLine = (e: OnlineServerEvent) =>
  Buffer.from(`${canonicalJson({ seq: e.seq, at: e.at, kind: e.kind, pid: e.pid, detail: e.detail })}\n`, 'utf8');

/** Server events are read from the store this many at a time. */
const EVENT_PAGE = 500;

/** The events in (afterSeq, toSeq], one line each, page by page. */
async function* eventLines(store: ServingStore, afterSeq: number, toSeq: number): AsyncIterable<Buffer> {
  for (let seq = afterSeq; seq < toSeq; ) {
    const page = await store.serverEventPage(seq, toSeq, EVENT_PAGE);
    if (page.length === 0) return;
    for (const e of page) yield eventLine(e);
    seq = page.at(-1)!.seq;
  }
}

/** Digests a stream of chunks: its length and SHA-256, and how many chunks (lines, for events). */
async function digest(chunks: AsyncIterable<Buffer>): Promise<{ count: number; length: number; sha256: string }> {
  const hash = createHash('sha256');
  let count = 0;
  let length = 0;
  for await (const c of chunks) {
    hash.update(c);
    length += c.length;
    count++;
  }
  return { count, length, sha256: hash.digest('hex') };
}

/** Where the selection starts: the last event and segment digest before it (found in SQL). */
async function startPoint(
  store: ServingStore,
  since: RecordsSince,
): Promise<{ eventSeq: number; from: { sha256: string } | { at: string } }> {
  if (since.kind === 'beginning') return { eventSeq: 0, from: { sha256: '' } };
  if (since.kind === 'time') return { eventSeq: await store.serverEventSeqBefore(since.at), from: { at: since.at } };
  const point = since.kind === 'point' ? since.point : await lastExportPoint(store, since.source);
  return { eventSeq: point.eventSeq, from: { sha256: point.segmentSha256 } };
}

/** The end point of this source's last export, from its `records-export` server event. */
async function lastExportPoint(store: ServingStore, source: string): Promise<RecordsPoint> {
  const last = await store.lastRecordsExport(source);
  if (!last)
    throw new CaError(
      'ONLINE_RECORDS_GAP',
      `no earlier export of source ${source} in this store: use --since beginning for the first bundle`,
    );
  return last.to as RecordsPoint;
}

/** A segment's file in the first folder that has it, with its length and SHA-256 as read now; null when none has it. */
function segmentFile(dirs: string[], name: string): { path: string; length: number; sha256: string } | null {
  const path = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  if (!path) return null;
  const d = sha256File(path);
  return { path, length: d.size, sha256: d.sha256 };
}

/** Collects the records after `since` (events of the whole store; segments of `responder`'s chain with PostgreSQL). */
export async function collectOnlineRecords(
  store: ServingStore,
  o: { dirs: string[]; responder?: string; since: RecordsSince },
): Promise<CollectedRecords> {
  const start = await startPoint(store, o.since);
  const chain = await store.accessLogSegmentsAfter(start.from, o.responder);
  if (!chain)
    throw new CaError(
      'ONLINE_RECORDS_GAP',
      `the starting point's segment ${'sha256' in start.from ? start.from.sha256 : ''} is not in this chain`,
    );
  const toSeq = Math.max(start.eventSeq, await store.lastServerEventSeq());
  const events = await digest(eventLines(store, start.eventSeq, toSeq));
  const parts: CollectedPart[] = [
    { name: 'the server events', ...events, chunks: () => eventLines(store, start.eventSeq, toSeq) },
  ];
  const problems: string[] = [];
  const segments: CollectedRecords['segments'] = [];
  for (const s of chain.segments) {
    const file = segmentFile(o.dirs, s.name);
    if (!file) problems.push(`${s.name}: file missing`);
    else {
      if (file.sha256 !== s.sha256) problems.push(`${s.name}: SHA-256 does not match the record ${s.sha256}`);
      parts.push({
        name: `segment ${s.name}`,
        length: file.length,
        sha256: file.sha256,
        chunks: fileChunks(file.path),
      });
    }
    segments.push({ ...s, length: file ? file.length : null });
  }
  return {
    after: { eventSeq: start.eventSeq, segmentSha256: chain.afterSha256 },
    to: { eventSeq: toSeq, segmentSha256: chain.segments.at(-1)?.sha256 ?? chain.afterSha256 },
    events,
    segments,
    parts,
    problems,
  };
}
