/**
 * `npm run bench`: every bench of this folder, one after another, each in a process of its own
 * (start-up, OCSP against its peers, responders over PostgreSQL, the offline bench, and
 * `ocsp presign` of 1,000 certificates). `npm run bench -- --soak SECONDS` runs only the memory soak (bench/soak.ts).
 * Not part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const args = process.argv.slice(2);
const soak = args.indexOf('--soak');
const benches =
  soak >= 0
    ? [['soak.ts', '--soak', args[soak + 1] ?? '600']]
    : [['startup.ts'], ['ocsp.ts'], ['responders.ts'], ['offline.ts'], ['offline-presign.ts']];
let failed = 0;
for (const [file, ...rest] of benches) {
  const path = join(here, file!);
  if (!existsSync(path)) continue;
  const r = spawnSync(process.execPath, ['--import', 'tsx', path, ...rest], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench: ${file} exited ${r.status ?? r.signal}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
