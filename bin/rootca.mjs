#!/usr/bin/env node
// The rootca command: TypeScript sources run through tsx (no build step to forget).
import { register } from 'tsx/esm/api';
import { readFileSync } from 'node:fs';
import { fileURLToPath as toPath } from 'node:url';

// The repository's tsconfig (decorators for the ASN.1 schemas), whatever the working folder.
register({ tsconfig: toPath(new URL('../tsconfig.json', import.meta.url)) });
// A closed pipe (`| head`) is not an error worth a stack trace.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), version);
