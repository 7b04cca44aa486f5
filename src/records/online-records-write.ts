/**
 * Writing an online record bundle (format: online-records-bundle.ts) as a stream. The head,
 * signed first, names every part's length and SHA-256, so the parts are digested before it
 * (server/records-collect.ts does: the events page by page from the store, each segment file
 * in chunks) and streamed after it; each is digested again on the way out and the export fails,
 * leaving no file, if one changed in between. Memory stays flat in the size of the segments.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { CaError } from '../errors.ts';
import { encodeBundleHead, type OnlineRecordsBody } from './online-records-bundle.ts';

/** A part to stream after the head: its chunks, and the length and SHA-256 the head names for it. */
export interface BundlePart {
  name: string;
  length: number;
  sha256: string;
  chunks(): AsyncIterable<Buffer>;
}

/** The bundle file being written (synchronous writes: a chunk is out before the next is read), with the SHA-256 and size of what went into it. */
class BundleOut {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(readonly fd: number) {}

  put(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    for (let done = 0; done < chunk.length; ) done += writeSync(this.fd, chunk, done);
  }
}

/** Streams one part, checking it is still what the head says. */
async function streamPart(out: BundleOut, part: BundlePart): Promise<void> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of part.chunks()) {
    hash.update(chunk);
    length += chunk.length;
    out.put(chunk);
  }
  const sha256 = hash.digest('hex');
  if (length !== part.length || sha256 !== part.sha256)
    throw new CaError(
      'ONLINE_RECORDS_SEGMENT_TAMPERED',
      `${part.name} changed during the export (${length} bytes, SHA-256 ${sha256}; ${part.length} bytes, ${part.sha256} when it was read first): export again`,
    );
}

/**
 * Writes a new bundle file `out` (never overwritten, 0644): the signed head, then each part.
 * Returns the file's SHA-256 and size; on any failure the partial file is removed.
 */
export async function writeOnlineRecordsBundle(
  out: string,
  body: OnlineRecordsBody,
  signer: Parameters<typeof encodeBundleHead>[1],
  parts: BundlePart[],
): Promise<{ sha256: string; bytes: number }> {
  const head = encodeBundleHead(body, signer);
  const w = new BundleOut(openSync(out, 'wx', 0o644));
  try {
    w.put(head);
    for (const p of parts) await streamPart(w, p);
  } catch (e) {
    closeSync(w.fd);
    rmSync(out, { force: true });
    throw e;
  }
  closeSync(w.fd);
  return { sha256: w.hash.digest('hex'), bytes: w.bytes };
}
