#!/usr/bin/env node
// `npm start`: create (or reuse) the demo installation and say what it holds.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

register();
// A closed pipe (`| head`) is not an error worth a stack trace.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const { runDemo } = await import('../src/ca/demo.ts');
const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const home = resolve(process.env.ROOTCA_HOME ?? 'rootca-data');
const started = Date.now();
const r = await runDemo(home, join(repo, 'ceremonies'), (line) => process.stderr.write(`${line}\n`));
console.log(`${r.created ? 'Created' : 'Reusing'} demo installation in ${r.home}`);
console.log('Demo people: alice, bob, carol (CA Administrators, key custodians 2 of 3), olivia (Service Operation Manager, witness),');
console.log('             paula (Person Responsible), rita and ravi (RA officers), leo (Log Examiner).');
if (r.created) console.log('Their passphrases were random and are gone with this process: the demo shows what a ceremony makes; run your own for signing (README).');
if (r.cas.length < 4) console.log(`This demo installation is incomplete (${r.cas.length} of 4 roots; was it interrupted?). Delete ${r.home} and run npm start again.`);
console.log('');
for (const c of r.cas) {
  console.log(`${c.name.padEnd(12)} ${c.signatureAlgorithm.padEnd(24)} ${c.notBefore.slice(0, 10)}..${c.notAfter.slice(0, 10)}  ${c.subject}${c.legacySha1 ? '  [LEGACY SHA-1, R-1.3]' : ''}`);
  console.log(`${''.padEnd(12)} sha256 ${c.certificateSha256}  key ${c.threshold}-of-${c.custodians.length} (${c.custodians.join(', ')})`);
}
console.log('');
console.log(`Certificates: ${r.certificatesDir}/*.pem, *.der`);
console.log(`Look around:  npx rootca --home ${r.home} ca list | operator list | audit verify | transcript show 1`);
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
