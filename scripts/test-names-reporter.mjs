// A Node test reporter for scripts/each-test-alone.mjs: one JSON line per test (not suite, not
// file) that finished, with its name, whether it passed and why it was skipped, so the script
// can list a file's tests (a pattern that matches none skips them all) and check one run alone.
const isFile = (data) => data.nesting === 0 && typeof data.file === 'string' && data.name === data.file;

export default async function* testNamesReporter(source) {
  for await (const { type, data } of source) {
    if ((type === 'test:pass' || type === 'test:fail') && data.details?.type !== 'suite' && !isFile(data)) {
      const line = { name: data.name, nesting: data.nesting, ok: type === 'test:pass', skip: data.skip ?? null };
      yield `${JSON.stringify(line)}\n`;
    }
  }
}
