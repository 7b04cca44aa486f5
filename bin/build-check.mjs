// Whether dist/ can run: built at all, and, in a source checkout (src/ present, as in a clone;
// an installed package has no src/), not older than the sources, so nobody runs or tests
// yesterday's code after editing a .ts file.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest modification time of the .ts files under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Why dist/ under `root` (a file: URL) cannot run, or undefined when it can. */
export function checkoutBuildProblem(root) {
  const dir = fileURLToPath(root);
  const stamp = join(dir, 'dist', 'BUILT');
  if (!existsSync(stamp)) return `not built: run \`npm run build\` in ${dir} (npm install does it)`;
  const src = join(dir, 'src');
  if (existsSync(src) && newestSource(src) > statSync(stamp).mtimeMs) {
    return `dist/ is older than src/: run \`npm run build\` in ${dir} (npm test does it)`;
  }
  return undefined;
}
