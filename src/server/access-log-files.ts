/**
 * The files of the OCSP access log (access-log.ts): segment names, writes and fsyncs off the
 * event loop, compressing a closed segment while counting its lines and hashing the result,
 * and claiming a dead process's segment for recovery.
 */
import { createHash } from 'node:crypto';
import {
  close,
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** An open segment's file name: hour, pid, sequence number. */
export const SEGMENT = /^ocsp-(\d{8}T\d{2}Z)-(\d+)-(\d+)\.log$/;

/** `YYYYMMDDTHHZ` of a time (a segment's hour). */
export function hourOf(d: Date): string {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}Z`;
}

/** All of `chunk` at the end of `fd` (opened for append), through the libuv thread pool. */
export function writeAll(fd: number, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      write(fd, chunk, off, chunk.length - off, null, (err, n) => {
        if (err) reject(err);
        else if (off + n < chunk.length) step(off + n);
        else resolve();
      });
    };
    step(0);
  });
}

/** fsync then close, off the event loop (a closed segment must be on disk before its digest is recorded). */
export function fsyncAndClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fsync(fd, (err) => {
      close(fd, (err2) => ((err ?? err2) ? reject(err ?? err2) : resolve()));
    });
  });
}

/** Whether process `pid` still runs (its segment is not an orphan). */
export function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Counts the lines of the chunks passing through. */
function lineCounter(): { stream: Transform; lines: () => number } {
  let lines = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
      cb(null, chunk);
    },
  });
  return { stream, lines: () => lines };
}

/**
 * Compresses a closed raw segment to `<raw>.gz` (through a temp file, fsync'd before the
 * rename, so a .gz is always complete): its SHA-256 and its lines, counted from the file itself.
 */
export async function compressSegment(rawPath: string): Promise<{ gzPath: string; sha256: string; lines: number }> {
  const gzPath = `${rawPath}.gz`;
  const tmpPath = `${gzPath}.tmp`;
  const hash = createHash('sha256');
  const count = lineCounter();
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(rawPath), count.stream, createGzip({ level: 6 }), tee, createWriteStream(tmpPath));
  await fsyncAndClose(openSync(tmpPath, 'r'));
  renameSync(tmpPath, gzPath);
  return { gzPath, sha256: hash.digest('hex'), lines: count.lines() };
}

/** The lines of a raw segment and the SHA-256 of its complete `.gz` (a segment compressed before a crash). */
export async function digestSegment(rawPath: string): Promise<{ gzPath: string; sha256: string; lines: number }> {
  const gzPath = `${rawPath}.gz`;
  let lines = 0;
  for await (const chunk of createReadStream(rawPath) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(gzPath) as AsyncIterable<Buffer>) hash.update(chunk);
  return { gzPath, sha256: hash.digest('hex'), lines };
}

/**
 * Claims a dead process's segment for recovery: the workers of a cluster start at once and
 * would otherwise compress the same file into the same temp file together. The claim is a
 * file created exclusively, holding the claimer's pid (a claim left by a dead claimer is
 * taken over). True when this process may recover `raw`.
 */
export function claimSegment(raw: string): boolean {
  const lock = `${raw}.claim`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (existsSync(raw)) return true; // not finished by another process meanwhile
      unlinkSync(lock);
      return false;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = 0;
      try {
        owner = Number(readFileSync(lock, 'utf8'));
      } catch {
        continue; // released meanwhile: try again
      }
      if (!owner || alive(owner)) return false; // being recovered (or the pid not written yet)
      try {
        unlinkSync(lock);
      } catch {
        // another process took it over first
      }
    }
  }
  return false;
}
