/**
 * What a process's resident memory is made of (issue 17 item 4), from /proc/PID/status: VmRSS,
 * the number judged, is RssAnon (the process's own heap: V8's, malloc's, stacks) plus RssFile
 * (pages of the node binary and shared libraries it touched: the same physical pages in every
 * process, about 45 MB of a rootca serve process) plus RssShmem.
 */
import { readFileSync } from 'node:fs';
import { groupPids } from './processes.ts';

/** One process's resident memory, MB (one decimal). */
export interface Resident {
  pid: number;
  rss: number;
  anon: number;
  file: number;
}

/**
 * When a started (or just loaded) process counts as idle: V8's memory reducer collects and
 * gives back what start-up or the load left about 8 s after allocation slows down
 * (--gc-memory-reducer-start-delay-ms=8000), as it does in a responder between busy hours;
 * 3 s after start a worker still holds start-up garbage, 3-5 MB of it in paired samples.
 */
export const IDLE_SETTLE_MS = 12_000;

const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/** The resident memory of each process of process group `pgid`, largest VmRSS first. */
export function groupResident(pgid: number): Resident[] {
  const out: Resident[] = [];
  for (const pid of groupPids(pgid)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      out.push({ pid, rss: mb(kb('VmRSS')), anon: mb(kb('RssAnon')), file: mb(kb('RssFile')) });
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => b.rss - a.rss);
}

/** `78.1 (own 32.4 + shared files 45.7), …` MB: VmRSS of each process, then what it is made of. */
export function formatResident(r: readonly Resident[]): string {
  return r.map((p) => `${p.rss} (own ${p.anon} + files ${p.file})`).join(', ');
}
