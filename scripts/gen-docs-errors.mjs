#!/usr/bin/env node
/**
 * Writes docs/errors.md from the error catalogue (src/errors/catalogue.ts).
 * `--check` writes nothing and exits 1 when the committed file differs (for CI).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(repo, 'docs', 'errors.md');
const { renderErrorsMarkdown } = await tsImport('../src/errors/markdown.ts', import.meta.url);
const text = renderErrorsMarkdown();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    /* missing counts as different */
  }
  if (current !== text) {
    process.stderr.write('docs/errors.md differs from the catalogue: run node scripts/gen-docs-errors.mjs\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
