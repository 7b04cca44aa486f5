/**
 * `npm run bench -- --soak SECONDS`: `rootca serve --workers 2` under the highest rate it
 * takes (wrk -t2 -c32 GET of a pre-signed answer, keep-alive, access log on) for SECONDS, in
 * slices of 30 s, with the resident memory of each of its processes after every slice. The
 * target (issue 17): each process under 80 MB idle (IDLE_SETTLE_MS after start), and flat
 * under the soak: the last slice's RSS within 10% (or 8 MB) of the first loaded slice's. Not
 * part of `npm test`.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test/helpers.ts';
import { setup } from './lib/fixture.ts';
import { wrk } from './lib/load.ts';
import { formatResident, groupResident, IDLE_SETTLE_MS } from './lib/memory.ts';
import { killAllNow, loadAverage, sleep, stopChild } from './lib/processes.ts';
import { startOurs } from './lib/servers.ts';

const SLICE_SECONDS = 30;
const IDLE_RSS_MB = 80;

/** Runs the soak for `seconds` and prints one line per slice and the verdicts. */
export async function soak(seconds: number): Promise<boolean> {
  const dir = tempDir('rootca-soak-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  process.stderr.write(`soak: setting up in ${dir}\n`);
  const f = await setup(dir, []);
  const ours = await startOurs(f, 'rootca-serve', logs);
  const url = ours.url + f.getPath;
  try {
    await sleep(IDLE_SETTLE_MS); // idle: V8's memory reducer has run (memory.ts)
    const idleResident = groupResident(ours.child.pid);
    const idle = idleResident.map((p) => p.rss);
    process.stdout.write(`soak: ${seconds} s of wrk -t2 -c32 GET ${f.getPath.slice(0, 24)}…\n`);
    // VmRSS is judged; beside it, each process's own memory and the pages of node and its libraries it shares.
    process.stdout.write(`idle: RSS ${formatResident(idleResident)} MB (load ${loadAverage()})\n`);
    const slices: number[][] = [];
    for (let t = 0; t < seconds; t += SLICE_SECONDS) {
      const l = await wrk(url, Math.min(SLICE_SECONDS, seconds - t), { pgid: ours.child.pid });
      const resident = groupResident(ours.child.pid);
      const rss = resident.map((p) => p.rss);
      slices.push(rss);
      const errors = Object.values(l.errors).reduce((n, v) => n + v, 0);
      process.stdout.write(
        `${String(t + SLICE_SECONDS).padStart(5)} s: ${Math.round(l.reqPerSec)} req/s, p99 ${l.p99ms} ms, ${errors} errors, RSS ${formatResident(resident)} MB (load ${l.loadAvg})\n`,
      );
    }
    await sleep(IDLE_SETTLE_MS);
    const after = groupResident(ours.child.pid);
    const first = Math.max(...slices[0]!);
    const last = Math.max(...slices.at(-1)!);
    const flat = last - first <= Math.max(8, first * 0.1);
    const idleOk = Math.max(...idle) < IDLE_RSS_MB;
    process.stdout.write(
      `idle after: RSS ${formatResident(after)} MB\nidle under ${IDLE_RSS_MB} MB per process: ${idleOk ? 'MET' : 'NOT MET'} (largest ${Math.max(...idle)} MB)\nflat under the soak: ${flat ? 'MET' : 'NOT MET'} (largest process ${first} MB after the first slice, ${last} MB after the last)\n`,
    );
    return flat && idleOk;
  } finally {
    await stopChild(ours.child);
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--soak');
if (at >= 0) {
  const seconds = Number(process.argv[at + 1] ?? 600);
  try {
    process.exitCode = (await soak(seconds)) ? 0 : 1;
  } catch (e) {
    process.stderr.write(`soak failed: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  } finally {
    killAllNow();
  }
}
