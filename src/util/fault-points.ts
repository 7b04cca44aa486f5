/**
 * Crash injection for the never-half-done tests (issue 14). Every step that makes state
 * durable (a commit, an fsync'd file, a rename) calls `faultPoint(name)`:
 * - `ROOTCA_FAULT_AT=name` kills the process right there with SIGKILL: no `finally`, no exit
 *   handler runs, as after a power cut or `kill -9`;
 * - `ROOTCA_FAULT_TRACE=file` appends each point reached, so a test can first list the points
 *   of a command and then kill it at every one of them.
 * With neither variable set (every real run) it does nothing.
 */
import { appendFileSync } from 'node:fs';

export function faultPoint(name: string): void {
  const trace = process.env.ROOTCA_FAULT_TRACE;
  if (trace) appendFileSync(trace, `${name}\n`);
  if (process.env.ROOTCA_FAULT_AT !== name) return;
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered before the call returns; never run on if it were not.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}
