/** `npm run docs`: writes docs/cli.md from the command definitions (src/cli/reference.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../src/cli/main.ts';
import { cliReference } from '../src/cli/reference.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const file = fileURLToPath(new URL('../docs/cli.md', import.meta.url));
writeFileSync(file, cliReference(await buildProgram({ version, load: 'all' })));
process.stdout.write(`wrote ${file}\n`);
