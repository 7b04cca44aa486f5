// Module hooks for test/trace-imports.mjs: report each resolved module, change nothing.
import { writeSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  writeSync(2, `loaded ${r.url}\n`);
  return r;
}
