/**
 * Progress of a long step (issue 18 item 4: RSA key generation, unlocking a credential, backups,
 * CRL and pre-signed OCSP batches, imports, archive inspection). A use case marks the step; the
 * CLI decides whether anyone sees it (a terminal, not --json). Without a sink it costs nothing,
 * so tests and the server see no change.
 */

/** One step being done: `tick` after each of `total` items, `done` when it ends (also on failure). */
export interface ProgressTask {
  tick(detail?: string): void;
  done(): void;
}

/** Where steps are shown: the CLI installs one on a terminal. */
export interface ProgressSink {
  start(label: string, total?: number): ProgressTask;
}

const SILENT: ProgressTask = { tick() {}, done() {} };
let sink: ProgressSink | undefined;

/** Installs (or, with undefined, removes) the sink every later step reports to. */
export function setProgressSink(s: ProgressSink | undefined): void {
  sink = s;
}

/** Starts a step named for the operator (`generating the RSA-4096 key`), with `total` items if counted. */
export function progressTask(label: string, total?: number): ProgressTask {
  return sink ? sink.start(label, total) : SILENT;
}

/** Runs `fn` as one step. */
export async function withProgress<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
  const task = progressTask(label);
  try {
    return await fn();
  } finally {
    task.done();
  }
}
