#!/usr/bin/env node
// Compiles the CLI to dist/ (issue 18: start-up): one ES module per command and per use case
// it loads, so `rootca` runs JavaScript and loads only the command it runs. npm packages stay
// imports (installed beside it). Run by `npm install` (prepare), `npm pack` and `npm test`.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dist = `${repo}dist`;

rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: repo,
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  splitting: true, // each dynamic import() of a command or use case becomes its own file
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  tsconfig: 'tsconfig.json', // legacy decorators of the ASN.1 schemas, as tsx runs them
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
// What the sources looked like when this was built: test/helpers.ts refuses a stale build.
writeFileSync(`${dist}/BUILT`, `${new Date().toISOString()}\n`);
