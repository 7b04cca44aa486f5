/**
 * The V8 heap of a `rootca serve` process (issue 17 item 4: a responder process idle under
 * 80 MB and flat under load). Kept apart from cluster.ts so that main.ts can call it before it
 * loads the command: only node:v8 is imported. An operator's own flag (command line or
 * NODE_OPTIONS) wins over each setting here.
 */
import { setFlagsFromString } from 'node:v8';

const given = (execArgv: readonly string[], nodeOptions: string, ...flags: string[]) =>
  [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => flags.some((f) => a.startsWith(f)));

/**
 * Keeps this process's young generation at its initial 2 x 1 MiB, as the workers' flag
 * `--max-semi-space-size=1` does (cluster.ts): the serving process, or the cluster primary
 * that reads the store and verifies the publication before it forks, would otherwise grow it
 * to 2 x 8-16 MiB while it starts and keep it resident, 6 to 14 MB of a process that then
 * idles. The semi-space maximum is fixed when V8 starts, but the growth factor is read at each
 * scavenge that grows the young generation: with 1 it never grows. Returns whether it set it.
 */
export function keepYoungGenerationSmall(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (given(execArgv, nodeOptions, '--max-semi-space-size', '--semi-space-growth-factor')) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}

/** The old generation may grow to 1.5x what survived the last full collection. */
export const OLD_GENERATION_GROWING = '--heap-growing-percent=50';

/**
 * Lets the old generation grow by half of what the last full collection kept (at least V8's
 * 8 MiB step) before the next one, instead of V8's own factor (up to 4x). A worker under load
 * promotes a little of each request's garbage (about 20 bytes a request survive two
 * scavenges); with V8's factor that grew the heap between full collections from 22 to 43 MiB
 * in 90 s under a slow disk, 60-90 MiB in a 10-minute soak on a busy machine, and it is
 * resident until the next one (a worker at 123 MB RSS, idle). With 50%: 24-31 MiB, the worker
 * 76-83 MB under the same load. Read at each full collection, so it can be set at run time.
 * Returns whether it set it.
 */
export function keepOldGenerationTight(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (given(execArgv, nodeOptions, '--heap-growing-percent')) return false;
  setFlagsFromString(OLD_GENERATION_GROWING);
  return true;
}
