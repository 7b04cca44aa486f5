// A Node test reporter for scripts/run-tests.mjs: writes one JSON line per file started, file
// finished and test finished (with its duration), so the runner can print a heartbeat while
// files run and the slowest tests at the end. It prints nothing itself; `spec` does that.
const isFile = (data) => data.nesting === 0 && typeof data.file === 'string' && data.name === data.file;

export default async function* timingReporter(source) {
  for await (const { type, data } of source) {
    if (type === 'test:dequeue' && isFile(data))
      yield `${JSON.stringify({ ev: 'start', file: data.file, at: Date.now() })}\n`;
    else if (type === 'test:complete' && isFile(data))
      yield `${JSON.stringify({ ev: 'done', file: data.file, at: Date.now() })}\n`;
    else if ((type === 'test:pass' || type === 'test:fail') && data.details?.type !== 'suite' && !isFile(data)) {
      yield `${JSON.stringify({ ev: 'test', file: data.file, name: data.name, ms: data.details?.duration_ms ?? 0, ok: type === 'test:pass' })}\n`;
    }
  }
}
