/**
 * Reading an online record bundle (online-records-bundle.ts) from its file in chunks of 1 MiB:
 * the head is parsed, then one pass digests the whole file and each part as it streams by, so
 * memory stays flat in the size of the segments (only the server events, a small part, are
 * kept). `checkBundleContents` then says whether the bundle holds what its manifest says, and
 * `eachSegmentChunk` reads a segment again for storing, checking it did not change meanwhile.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CaError } from '../errors.ts';
import { sha256File } from '../util/digest.ts';
import {
  checkFormatLine,
  MAX_MANIFEST_BYTES,
  parseManifest,
  type OnlineRecordsEvent,
  type OnlineRecordsManifest,
  type OnlineRecordsSegment,
} from './online-records-bundle.ts';

const CHUNK = 1 << 20;
/** The server events are kept in memory (they go into one audit event): more than this is not a bundle of ours. */
export const MAX_EVENTS_BYTES = 64 << 20;

/** A part of the bundle file: where it starts and how long it is. */
interface Part {
  offset: number;
  length: number;
}

/** What one pass over a bundle file found. */
export interface ScannedBundle {
  manifest: OnlineRecordsManifest;
  /** SHA-256 of the whole file (the bundle's name in the archive and the audit log). */
  fileSha256: string;
  /** The events part as read, and its SHA-256. */
  events: Buffer;
  eventsSha256: string;
  /** Per segment of the manifest: where its bytes are and their SHA-256 (null: none carried). */
  segments: (Part & { sha256: string | null })[];
  /** The file ends before the parts announced, or goes on after them. */
  endProblem: CaError | null;
}

/** Reads `buf.length` bytes at `position` (fewer only at the end of the file). */
function readAt(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** The format line, the manifest's length and the manifest; returns it and where the parts start. */
function readHead(fd: number): { manifest: OnlineRecordsManifest; partsOffset: number } {
  const start = Buffer.alloc(64);
  const n = readAt(fd, start, 0);
  const nl1 = start.subarray(0, n).indexOf(10);
  checkFormatLine(start.subarray(0, nl1 < 0 ? n : nl1).toString('latin1'));
  const nl2 = start.subarray(0, n).indexOf(10, nl1 + 1);
  const lengthText = nl2 < 0 ? '' : start.subarray(nl1 + 1, nl2).toString('latin1');
  if (!/^[1-9]\d{0,8}$/.test(lengthText) || Number(lengthText) > MAX_MANIFEST_BYTES)
    throw new CaError('ONLINE_RECORDS_MALFORMED', `the manifest length "${lengthText}" is not a length of a manifest`);
  const manifestBytes = Buffer.alloc(Number(lengthText) + 1);
  const got = readAt(fd, manifestBytes, nl2 + 1);
  if (got < manifestBytes.length)
    throw new CaError(
      'ONLINE_RECORDS_TRUNCATED',
      `the bundle ends inside its manifest (${got} of ${lengthText} bytes)`,
    );
  if (manifestBytes.at(-1) !== 10)
    throw new CaError('ONLINE_RECORDS_MALFORMED', 'the manifest is not followed by a line feed');
  return { manifest: parseManifest(manifestBytes.subarray(0, -1)), partsOffset: nl2 + 1 + manifestBytes.length };
}

/** Where each part lies, in file order: the events, then each segment carried. */
function layout(
  m: OnlineRecordsManifest,
  partsOffset: number,
): { events: Part; segments: (Part | null)[]; end: number } {
  let at = partsOffset;
  const take = (length: number): Part => {
    const p = { offset: at, length };
    at += length;
    return p;
  };
  const events = take(m.body.events.length);
  const segments = m.body.segments.map((s) => (s.length === null ? null : take(s.length)));
  return { events, segments, end: at };
}

/** Digests the whole file and each part in one sequential pass of 1 MiB reads. */
function digestParts(
  fd: number,
  size: number,
  parts: Part[],
  keep: Part,
): { file: string; parts: string[]; kept: Buffer } {
  const file = createHash('sha256');
  const hashes: Hash[] = parts.map(() => createHash('sha256'));
  const kept = Buffer.alloc(Math.min(keep.length, Math.max(0, size - keep.offset)));
  const buf = Buffer.alloc(CHUNK);
  let i = 0;
  for (let pos = 0; pos < size; ) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
    if (n === 0) break;
    file.update(buf.subarray(0, n));
    const end = pos + n;
    while (i < parts.length && parts[i]!.offset < end) {
      const p = parts[i]!;
      const from = Math.max(p.offset, pos);
      const to = Math.min(p.offset + p.length, end);
      if (to > from) hashes[i]!.update(buf.subarray(from - pos, to - pos));
      if (p === keep && to > from) buf.copy(kept, from - p.offset, from - pos, to - pos);
      if (p.offset + p.length > end) break;
      i++;
    }
    pos = end;
  }
  return { file: file.digest('hex'), parts: hashes.map((h) => h.digest('hex')), kept };
}

/** Reads the bundle at `path` once: its manifest, the digest of the file and of each part. */
export function scanBundleFile(path: string): ScannedBundle {
  const fd = openSync(path, 'r');
  try {
    const { manifest, partsOffset } = readHead(fd);
    if (manifest.body.events.length > MAX_EVENTS_BYTES)
      throw new CaError('ONLINE_RECORDS_MALFORMED', `the server events part is over ${MAX_EVENTS_BYTES} bytes`);
    const size = fstatSync(fd).size;
    const where = layout(manifest, partsOffset);
    const carried = where.segments.filter((p): p is Part => p !== null);
    const d = digestParts(fd, size, [where.events, ...carried], where.events);
    let k = 1;
    const segments = where.segments.map((p) =>
      p ? { ...p, sha256: d.parts[k++]! } : { offset: 0, length: 0, sha256: null },
    );
    return {
      manifest,
      fileSha256: d.file,
      events: d.kept,
      eventsSha256: d.parts[0]!,
      segments,
      endProblem: endProblem(size, where.end, manifest.body.segments, where.segments),
    };
  } finally {
    closeSync(fd);
  }
}

/** TRUNCATED (naming the part cut) when the file is shorter than its parts; MALFORMED when bytes trail them. */
function endProblem(size: number, end: number, segs: OnlineRecordsSegment[], parts: (Part | null)[]): CaError | null {
  if (size > end)
    return new CaError('ONLINE_RECORDS_MALFORMED', `${size - end} byte(s) trail the last part of the bundle`);
  if (size === end) return null;
  const cut = segs.find((_, i) => parts[i] && parts[i]!.offset + parts[i]!.length > size);
  return new CaError(
    'ONLINE_RECORDS_TRUNCATED',
    `the bundle ends ${end - size} byte(s) early${cut ? `, inside segment ${cut.name}` : ''}: it was cut short`,
    { details: { size, expected: end, segment: cut?.name ?? null } },
  );
}

/** The chain runs from `after` to `to` with every segment carried (CHAIN_BROKEN / SEGMENT_MISSING). */
function checkChain(s: ScannedBundle): void {
  const body = s.manifest.body;
  let prev = body.after.segmentSha256;
  for (const seg of body.segments) {
    if (seg.prevSha256 !== prev)
      throw new CaError(
        'ONLINE_RECORDS_CHAIN_BROKEN',
        `segment ${seg.name} follows ${seg.prevSha256 || '(none)'}, expected ${prev || '(none)'}: a segment is missing between them`,
      );
    if (seg.length === null)
      throw new CaError(
        'ONLINE_RECORDS_SEGMENT_MISSING',
        `segment ${seg.name} (SHA-256 ${seg.sha256}) is recorded in the chain but its file was missing at export`,
        { details: { segment: seg.name, sha256: seg.sha256 } },
      );
    prev = seg.sha256;
  }
  if (prev !== body.to.segmentSha256)
    throw new CaError(
      'ONLINE_RECORDS_CHAIN_BROKEN',
      `the segments end at ${prev || '(none)'}, not at the bundle's end`,
    );
}

/**
 * The bundle holds what its manifest says: segments chained from `after` to `to`, each carried
 * whole with the SHA-256 its chain record names; the events part as digested, its events after
 * `after` in order up to `to`. Throws the first problem; returns the events.
 */
export function checkBundleContents(s: ScannedBundle): OnlineRecordsEvent[] {
  checkChain(s);
  if (s.endProblem) throw s.endProblem;
  const body = s.manifest.body;
  if (s.eventsSha256 !== body.events.sha256)
    throw new CaError(
      'ONLINE_RECORDS_EVENTS_TAMPERED',
      `the server events have SHA-256 ${s.eventsSha256}, but the signed manifest names ${body.events.sha256}: they were changed`,
    );
  body.segments.forEach((seg, i) => {
    const actual = s.segments[i]!.sha256;
    if (actual !== seg.sha256)
      throw new CaError(
        'ONLINE_RECORDS_SEGMENT_TAMPERED',
        `segment ${seg.name} has SHA-256 ${actual}, but the chain records ${seg.sha256}: the file was changed`,
        { details: { segment: seg.name, recorded: seg.sha256, actual } },
      );
  });
  return checkedEvents(s.events, body);
}

/** The events of the part, counted and in order after `after` up to `to` (CHAIN_BROKEN otherwise). */
function checkedEvents(part: Buffer, body: OnlineRecordsManifest['body']): OnlineRecordsEvent[] {
  const lines = part.toString('utf8').split('\n');
  if (lines.pop() !== '') throw new CaError('ONLINE_RECORDS_MALFORMED', 'the server events part does not end a line');
  let events: OnlineRecordsEvent[];
  try {
    events = lines.map((l) => JSON.parse(l) as OnlineRecordsEvent);
  } catch (e) {
    throw new CaError('ONLINE_RECORDS_MALFORMED', `a server event is not JSON: ${(e as Error).message}`);
  }
  if (events.length !== body.events.count)
    throw new CaError(
      'ONLINE_RECORDS_CHAIN_BROKEN',
      `${events.length} server events, the manifest counts ${body.events.count}`,
    );
  let seq = body.after.eventSeq;
  for (const e of events) {
    if (!Number.isInteger(e?.seq) || e.seq <= seq)
      throw new CaError('ONLINE_RECORDS_CHAIN_BROKEN', `server event ${e?.seq} does not follow event ${seq}`);
    seq = e.seq;
  }
  if (seq !== body.to.eventSeq)
    throw new CaError('ONLINE_RECORDS_CHAIN_BROKEN', `the server events end at ${seq}, not at the bundle's end`);
  return events;
}

/**
 * Reads segment `i` of a checked bundle again in chunks of 1 MiB, handing each to `take`, and
 * checks its SHA-256 once more: the file must not have changed since it was checked.
 */
export function eachSegmentChunk(path: string, s: ScannedBundle, i: number, take: (chunk: Buffer) => void): void {
  const seg = s.manifest.body.segments[i]!;
  const part = s.segments[i]!;
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    // One buffer for every chunk: `take` copies what it keeps (SQLite binds a copy), so no garbage piles up.
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let done = 0; done < part.length; ) {
      const chunk = buf.subarray(0, Math.min(CHUNK, part.length - done));
      if (readAt(fd, chunk, part.offset + done) < chunk.length)
        throw new CaError('ONLINE_RECORDS_TRUNCATED', `the bundle file shrank while segment ${seg.name} was stored`);
      hash.update(chunk);
      take(chunk);
      done += chunk.length;
    }
    if (hash.digest('hex') !== seg.sha256)
      throw new CaError(
        'ONLINE_RECORDS_SEGMENT_TAMPERED',
        `segment ${seg.name} changed in the bundle file after it was checked`,
        { details: { segment: seg.name, recorded: seg.sha256 } },
      );
  } finally {
    closeSync(fd);
  }
}

/** The end point of an earlier bundle (where `--since FILE` starts), reading its manifest only. */
export function bundleEndPoint(path: string): OnlineRecordsManifest['body']['to'] {
  const fd = openSync(path, 'r');
  try {
    return readHead(fd).manifest.body.to;
  } finally {
    closeSync(fd);
  }
}

/** A bundle file scanned, or why it could not be (then its SHA-256 alone, for the refusal). */
export type Scan =
  | { sha256: string; s: ScannedBundle; error?: undefined }
  | { sha256: string; s?: undefined; error: CaError };

/** Scans the bundle file once (online-records-read.ts); a file that is no bundle is kept as its refusal. */
export function scanned(file: string): Scan {
  try {
    const s = scanBundleFile(file);
    return { sha256: s.fileSha256, s };
  } catch (e) {
    if (!(e instanceof CaError)) throw e;
    return { sha256: sha256File(file).sha256, error: e };
  }
}
