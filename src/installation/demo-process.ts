/**
 * How the `npm start` demo process ends (issue 20.1). npm runs the script under `sh -c`; a
 * signal sent to npm's pid alone (a process manager, a closed terminal) may not reach us, and
 * we would go on serving as an orphan. So: stop on SIGINT, SIGTERM and SIGHUP, and also when
 * the parent process is gone (our parent pid changes), whatever killed it.
 */

/** Exit code for a stop by signal: 128 + its number, as a shell reports it. */
const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const PARENT_POLL_MS = 500;
/** A stuck close (an open keep-alive connection) must not keep the process alive. */
const CLOSE_GRACE_MS = 3000;

/** Runs `close` once and exits on a signal or when the parent exits. */
export function stopWithParent(
  close: () => Promise<void>,
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => exit(code), CLOSE_GRACE_MS).unref();
    close().then(
      () => exit(code),
      () => exit(code),
    );
  };
  for (const [signal, code] of Object.entries(SIGNAL_EXIT)) process.on(signal, () => stop(code));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop(SIGNAL_EXIT.SIGHUP!);
  }, PARENT_POLL_MS).unref();
}
