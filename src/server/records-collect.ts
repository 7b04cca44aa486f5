/**
 * What `rootca online export-records` takes from the online store (CPS 5.4.1, 5.5.1): the
 * server events and the closed access-log segments after a starting point, with the file of
 * each segment read from the log folders. The points (last event seq, last segment SHA-256)
 * before and after the selection let the offline side check the bundle follows the last one.
 * A segment whose file is missing is carried without its bytes, and one whose bytes do not
 * match its record is carried as found: the offline side refuses both, and records why.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaError } from '../errors.ts';
import type { AccessLogSegmentRecord, ServingStore } from './online-store.ts';

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

/** The records after the starting point, with the points before and at their end. */
export interface CollectedRecords {
  after: RecordsPoint;
  to: RecordsPoint;
  events: { seq: number; at: string; kind: string; pid: number; detail: Record<string, unknown> }[];
  segments: (AccessLogSegmentRecord & { data: Buffer | null })[];
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

/** The end point of this source's last export, from its `records-export` server event. */
function lastExportPoint(events: CollectedRecords['events'], source: string): RecordsPoint {
  const last = events.filter((e) => e.kind === 'records-export' && e.detail.source === source).at(-1);
  if (!last)
    throw new CaError(
      'ONLINE_RECORDS_GAP',
      `no earlier export of source ${source} in this store: use --since beginning for the first bundle`,
    );
  return last.detail.to as RecordsPoint;
}

/** Index of the first item after the start point (by seq / by digest) or at or after the time. */
function startIndexes(
  events: CollectedRecords['events'],
  segments: AccessLogSegmentRecord[],
  since: RecordsSince,
): { event: number; segment: number } {
  if (since.kind === 'beginning') return { event: 0, segment: 0 };
  if (since.kind === 'time')
    return {
      event: indexOr(
        events.findIndex((e) => e.at >= since.at),
        events.length,
      ),
      segment: indexOr(
        segments.findIndex((s) => s.closedAt >= since.at),
        segments.length,
      ),
    };
  const point = since.kind === 'point' ? since.point : lastExportPoint(events, since.source);
  const seg = point.segmentSha256 === '' ? -1 : segments.findIndex((s) => s.sha256 === point.segmentSha256);
  if (point.segmentSha256 !== '' && seg < 0)
    throw new CaError('ONLINE_RECORDS_GAP', `the starting point's segment ${point.segmentSha256} is not in this chain`);
  return {
    event: indexOr(
      events.findIndex((e) => e.seq > point.eventSeq),
      events.length,
    ),
    segment: seg + 1,
  };
}

const indexOr = (i: number, otherwise: number) => (i < 0 ? otherwise : i);

/** Reads a segment's file from the first folder that has it; null when none does. */
function segmentBytes(dirs: string[], name: string): Buffer | null {
  const path = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  return path ? readFileSync(path) : null;
}

/** Collects the records after `since` (events of the whole store; segments of `responder`'s chain with PostgreSQL). */
export async function collectOnlineRecords(
  store: ServingStore,
  o: { dirs: string[]; responder?: string; since: RecordsSince },
): Promise<CollectedRecords> {
  const events = (await store.serverEvents()).map((e) => ({
    seq: e.seq,
    at: e.at,
    kind: e.kind,
    pid: e.pid,
    detail: e.detail,
  }));
  const chain = await store.accessLogSegments(o.responder);
  const start = startIndexes(events, chain, o.since);
  const after = {
    eventSeq: start.event > 0 ? events[start.event - 1]!.seq : 0,
    segmentSha256: start.segment > 0 ? chain[start.segment - 1]!.sha256 : '',
  };
  const problems: string[] = [];
  const segments = chain.slice(start.segment).map((s) => {
    const data = segmentBytes(o.dirs, s.name);
    if (!data) problems.push(`${s.name}: file missing`);
    else if (createHash('sha256').update(data).digest('hex') !== s.sha256)
      problems.push(`${s.name}: SHA-256 does not match the record ${s.sha256}`);
    return { ...s, data };
  });
  const picked = events.slice(start.event);
  return {
    after,
    to: {
      eventSeq: picked.at(-1)?.seq ?? after.eventSeq,
      segmentSha256: segments.at(-1)?.sha256 ?? after.segmentSha256,
    },
    events: picked,
    segments,
    problems,
  };
}
