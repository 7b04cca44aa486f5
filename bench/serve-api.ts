/**
 * The OCSP server started through its library entry point (`runServer`), for the one thing
 * `rootca serve` has no flag for: running without the OCSP access log (`logDir` undefined),
 * so bench/ocsp.ts can measure what the log costs. The same cluster code as `rootca serve`;
 * node:cluster re-runs this file (with the same arguments) in each worker.
 *
 *   node --import tsx bench/serve-api.ts --store sqlite:PATH --port N --workers N (--log-dir DIR | --no-access-log)
 */
import { parseArgs } from 'node:util';
import { runServer } from '../src/server/cluster.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    port: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'log-dir': { type: 'string' },
    'no-access-log': { type: 'boolean', default: false },
  },
});
if (!values.store || !values.port || (!values['log-dir'] && !values['no-access-log'])) {
  process.stderr.write(
    'usage: serve-api.ts --store sqlite:PATH --port N [--workers N] (--log-dir DIR | --no-access-log)\n',
  );
  process.exit(2);
}

await runServer(
  {
    store: values.store,
    host: '127.0.0.1',
    port: Number(values.port),
    logDir: values['no-access-log'] ? undefined : values['log-dir'],
    workers: Number(values.workers),
    logLevel: 'warn',
    logStream: process.stderr,
  },
  (l) =>
    process.stdout.write(
      `LISTENING ${l.httpUrl} workers=${l.workers} accessLog=${values['no-access-log'] ? 'off' : 'on'}\n`,
    ),
);
