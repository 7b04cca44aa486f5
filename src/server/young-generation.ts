/**
 * The V8 young generation of a `rootca serve` process (issue 17 item 4: a responder process
 * idle under 80 MB). Kept apart from cluster.ts so that main.ts can call it before it loads
 * the command: only node:v8 is imported.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Keeps this process's young generation at its initial 2 x 1 MiB, as the workers' flag
 * `--max-semi-space-size=1` does (cluster.ts): the serving process, or the cluster primary
 * that reads the store and verifies the publication before it forks, would otherwise grow it
 * to 2 x 8-16 MiB while it starts and keep it resident, 6 to 14 MB of a process that then
 * idles. The semi-space maximum is fixed when V8 starts, but the growth factor is read at each
 * scavenge that grows the young generation: with 1 it never grows. An operator's
 * --max-semi-space-size or --semi-space-growth-factor (command line or NODE_OPTIONS) wins.
 * Returns whether it set the factor.
 */
export function keepYoungGenerationSmall(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some(
    (a) => a.startsWith('--max-semi-space-size') || a.startsWith('--semi-space-growth-factor'),
  );
  if (!given) setFlagsFromString('--semi-space-growth-factor=1');
  return !given;
}
