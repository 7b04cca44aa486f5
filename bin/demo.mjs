#!/usr/bin/env node
// `npm start`: create (or reuse) the demo installation, import its publication into the
// online store, and serve the Repository and OCSP on localhost.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { stopWithParent } = await import('../src/installation/demo-process.ts');
let server;
// `npm start` runs us under `sh -c`: a SIGTERM to npm's pid (a process manager, a closed
// terminal) may reach neither the shell nor us. Stop on the signals, and when the parent goes.
stopWithParent(async () => {
  await server?.close();
});
const { runDemo, DEMO_PEOPLE } = await import('../src/installation/demo.ts');
const { openOnlineStore } = await import('../src/server/online-store.ts');
const { startServer } = await import('../src/server/app.ts');

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const home = resolve(process.env.ROOTCA_HOME ?? 'rootca-data');
const started = Date.now();
const r = await runDemo(home, join(repo, 'ceremonies'), (line) => process.stderr.write(`  ${line} ...\n`));
console.log(`${r.created ? 'Created' : 'Reusing'} demo installation in ${r.home}`);
console.log('Demo people:');
for (const p of DEMO_PEOPLE) console.log(`  ${p.name.padEnd(8)} ${p.displayName}`);
if (r.created)
  console.log(
    'Their passphrases were random and are gone with this process: the demo shows what the ceremonies make; run your own installation to sign (README).',
  );
if (r.cas.length < 4)
  console.log(
    `This demo installation is incomplete (${r.cas.length} of 4 roots; was it interrupted?). Delete ${r.home} and run npm start again.`,
  );
console.log('');
for (const c of r.cas) {
  console.log(
    `${c.name.padEnd(12)} ${c.signatureAlgorithm.padEnd(24)} ${c.notBefore.slice(0, 10)}..${c.notAfter.slice(0, 10)}  ${c.subject}${c.legacySha1 ? '  [LEGACY SHA-1, R-1.3]' : ''}`,
  );
  console.log(
    `${''.padEnd(12)} sha256 ${c.certificateSha256}  key ${c.threshold}-of-${c.custodians.length} (${c.custodians.join(', ')})`,
  );
}
console.log('');
console.log(`Root certificates: ${r.certificatesDir}/*.pem, *.der; transcripts: ${join(r.home, 'transcripts')}`);

// The online side: the store holds verified publications; the server never sees a root key.
const store = openOnlineStore(`sqlite:${join(r.home, 'online.db')}`);
if (r.publication)
  store.importPublication(
    readFileSync(r.publication),
    r.cas.map((c) => c.certificateDer),
  );
if (!store.latest()) {
  console.log('The online store has no publication; delete the demo folder and run npm start again.');
  process.exit(1);
}
const wanted = Number(process.env.PORT ?? 8080);
try {
  server = await startServer({
    store,
    port: wanted,
    logDir: join(r.home, 'ocsp-access-log'),
    logLevel: 'warn',
    logStream: process.stderr,
  });
} catch (e) {
  if (e.code !== 'EADDRINUSE') throw e;
  server = await startServer({
    store,
    port: 0,
    logDir: join(r.home, 'ocsp-access-log'),
    logLevel: 'warn',
    logStream: process.stderr,
  });
  console.log(
    `(port ${wanted} is busy; the demo certificates name http://127.0.0.1:${wanted} in their CRL and AIA URLs)`,
  );
}
console.log('');
console.log(`Repository:  ${server.httpUrl}/`);
console.log(`OCSP:        ${server.httpUrl}/ocsp   (POST application/ocsp-request, or GET /ocsp/<base64>)`);
console.log(`Health:      ${server.httpUrl}/healthz    Metrics: ${server.httpUrl}/metrics`);
console.log(`Try:         curl -s ${server.httpUrl}/crl/rootca2.crl | openssl crl -inform DER -noout -text`);
console.log(`(ready in ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops)`);
