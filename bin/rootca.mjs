#!/usr/bin/env node
// The rootca command. Runs the JavaScript that scripts/build.mjs compiled into dist/ (npm
// install, npm pack and npm test build it), loading only the command being run.
import { readFileSync } from 'node:fs';
import { checkoutBuildProblem } from './build-check.mjs';

const root = new URL('..', import.meta.url);
const problem = checkoutBuildProblem(root);
if (problem) {
  process.stderr.write(`rootca: ${problem}\n`);
  process.exit(1);
}
// A closed pipe (`| head`) is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2), version);
