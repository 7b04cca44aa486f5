/** The rows of the online records (server events, segment chain) as both online stores give them to the port. */

/** A closed access-log segment as recorded in the chain. */
export interface AccessLogSegmentRecord {
  name: string;
  sha256: string;
  /** SHA-256 of the segment recorded before this one ('' for the first). */
  prevSha256: string;
  lines: number;
  closedAt: string;
}

/** A server event as both stores give it (CPS 5.4.1). */
export interface OnlineServerEvent {
  seq: number;
  at: string;
  kind: string;
  pid: number;
  detail: Record<string, unknown>;
}

/** A segment row of either store as the chain record the port gives. */
export const segmentRecord = (r: {
  name: string;
  sha256: string;
  prev_sha256: string;
  lines: number;
  closed_at: string;
}): AccessLogSegmentRecord => ({
  name: r.name,
  sha256: r.sha256,
  prevSha256: r.prev_sha256,
  lines: r.lines,
  closedAt: r.closed_at,
});
