/**
 * Shows the long steps use cases mark (src/util/progress.ts) as a progress line on stderr, only
 * on a terminal and never with --json (issue 18 item 4), so scripts and logs see no change.
 * One line at a time: a step started inside another (unlocking a credential during a backup)
 * takes the line until it ends, then the outer step shows again.
 */
import type { ProgressSink, ProgressTask } from '../util/progress.ts';

/** The sink for this run, or undefined when nobody is watching a terminal. */
export async function terminalProgress(
  json: boolean,
  stream: NodeJS.WriteStream = process.stderr,
): Promise<(ProgressSink & { close(): void }) | undefined> {
  if (json || !stream.isTTY) return undefined;
  const { default: cliProgress } = await import('cli-progress');
  interface Shown {
    label: string;
    total?: number;
    value: number;
    bar: InstanceType<typeof cliProgress.SingleBar>;
  }
  const stack: Shown[] = [];
  const show = (s: Shown) => {
    s.bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          s.total === undefined
            ? `${s.label} … {duration_formatted}`
            : `${s.label} [{bar}] {value}/{total} {duration_formatted}`,
        barsize: 24,
        clearOnComplete: true, // the command's own output follows, as without a terminal
        hideCursor: false, // an interrupted run must not leave the cursor hidden
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    s.bar.start(s.total ?? 1, s.value);
  };
  const sink = {
    start(label: string, total?: number): ProgressTask {
      stack.at(-1)?.bar.stop();
      const s = { label, total, value: 0 } as Shown;
      stack.push(s);
      show(s);
      let ended = false;
      return {
        tick() {
          s.value++;
          if (!ended && stack.at(-1) === s) s.bar.update(s.value);
        },
        done() {
          if (ended) return;
          ended = true;
          const i = stack.indexOf(s);
          if (i < 0) return;
          const wasShown = i === stack.length - 1;
          stack.splice(i, 1);
          if (!wasShown) return;
          s.bar.stop();
          const outer = stack.at(-1);
          if (outer) show(outer);
        },
      };
    },
    /** Clears whatever is still shown (a step a failure left open). */
    close() {
      stack.at(-1)?.bar.stop();
      stack.length = 0;
    },
  };
  return sink;
}
