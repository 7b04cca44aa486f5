#!/usr/bin/env node
// Compiles the CLI to dist/ (issue 18: start-up): one ES module per command and per use case
// it loads, so `rootca` runs JavaScript and loads only the command it runs. npm packages stay
// imports (installed beside it), but Kysely: the store's query builder is bundled, tree-shaken
// into the chunks that use it, because loading the package's few hundred modules cost every
// command that opens the store about 0.1 s. Run by `npm install` (prepare), `npm pack` and
// `npm test`.
import { build } from 'esbuild';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const { dependencies } = JSON.parse(readFileSync(`${repo}package.json`, 'utf8'));
const BUNDLED = ['kysely'];
const external = Object.keys(dependencies)
  .filter((d) => !BUNDLED.includes(d))
  .flatMap((d) => [d, `${d}/*`]);
const dist = `${repo}dist`;
// Built beside dist/ and swapped in, so a rootca already running (a test, a server) never
// finds half a build.
const fresh = `${dist}.building-${process.pid}`;
const old = `${dist}.old-${process.pid}`;

await build({
  absWorkingDir: repo,
  entryPoints: ['src/cli/main.ts'],
  outdir: fresh,
  outbase: 'src',
  bundle: true,
  splitting: true, // each dynamic import() of a command or use case becomes its own file
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  tsconfig: 'tsconfig.json', // legacy decorators of the ASN.1 schemas, as tsx runs them
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
// When this was built: bin/build-check.mjs refuses a dist/ older than the sources.
writeFileSync(`${fresh}/BUILT`, `${new Date().toISOString()}\n`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(fresh, dist);
rmSync(old, { recursive: true, force: true });
