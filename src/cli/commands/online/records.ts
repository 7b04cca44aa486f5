/** `rootca online records-key init | export-records`: the online side's records, signed for the offline side (CPS 5.4.1, 5.5.1). */
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CaError } from '../../../errors.ts';
import { collect, print, usage } from '../../context.ts';
import { STORE_HELP } from '../../options.ts';
import { hiddenPrompt } from '../../passphrases.ts';

/** The variable the records key's passphrase may come from (else a hidden prompt on a terminal). */
export const RECORDS_PASSPHRASE_ENV = 'ROOTCA_RECORDS_KEY_PASSPHRASE';

/** The records key's passphrase: the environment, else asked on a terminal (twice when `confirm`). */
async function recordsPassphrase(confirm: boolean): Promise<Buffer> {
  const env = process.env[RECORDS_PASSPHRASE_ENV];
  if (env !== undefined) return Buffer.from(env, 'utf8');
  if (!process.stdin.isTTY)
    usage(
      'CREDENTIAL_UNAVAILABLE',
      `no passphrase for the records key: set ${RECORDS_PASSPHRASE_ENV} or run on a terminal`,
    );
  const first = await hiddenPrompt('passphrase of the online records key: ');
  if (confirm && !first.equals(await hiddenPrompt('the same passphrase again: ')))
    usage('CREDENTIAL_UNAVAILABLE', 'the two passphrases differ');
  return first;
}

/** The access-log folders: --log-dir, else ocsp-access-log next to a SQLite store. */
export function logDirs(given: string[], sqlite: string | undefined): string[] {
  if (given.length) return given;
  return [
    sqlite
      ? join(dirname(resolve(sqlite)), 'ocsp-access-log')
      : usage('OPTION_REQUIRED', '--log-dir is needed with a PostgreSQL store'),
  ];
}

/** `online records-key init`. */
export function defineRecordsKey(online: Command): void {
  const key = online
    .command('records-key')
    .description('the Ed25519 key that signs the online record bundles (never a CA or responder key)');
  key
    .command('init')
    .description(
      `make a records key sealed under a passphrase (${RECORDS_PASSPHRASE_ENV} or a prompt) into a new 0600 file; prints the public key to register offline`,
    )
    .requiredOption('--key-file <file>', 'the new key file (never overwritten)')
    .requiredOption('--source <name>', 'the name the offline side keeps these records under (e.g. ocsp-tokyo-1)')
    .action(async function (this: Command, o: { keyFile: string; source: string }) {
      const { initRecordsKey } = await import('../../../records/online-records-key.ts');
      const passphrase = await recordsPassphrase(true);
      try {
        const r = initRecordsKey(o.keyFile, o.source, passphrase);
        const pub = `${o.keyFile}.pub.pem`;
        writeFileSync(pub, r.publicKeyPem, { flag: 'wx', mode: 0o644 });
        print(
          this,
          { source: o.source, keyFile: o.keyFile, publicKeyFile: pub, publicKeySha256: r.publicKeySha256 },
          `records key for ${o.source} in ${o.keyFile}; public key ${pub} (SHA-256 ${r.publicKeySha256})\n` +
            `register it offline: rootca audit online-key register --source ${o.source} --public-key ${basename(pub)} --by PR --witness SOM`,
        );
      } finally {
        passphrase.fill(0);
      }
    });
}

/** `online export-records`. */
export function defineExportRecords(online: Command): void {
  online
    .command('export-records')
    .description(
      'write a signed bundle of the server events and closed access-log segments after --since, for `rootca audit ingest-online`',
    )
    .requiredOption(
      '--since <when>',
      '"last" (where the last export of this source ended), an earlier bundle file (after its end: the last one ingested), "beginning", or a date/date-time',
    )
    .requiredOption('--key-file <file>', 'the records key (rootca online records-key init)')
    .requiredOption('--out <file>', 'the bundle to write (never overwritten)')
    .option('--store <spec>', STORE_HELP)
    .option(
      '--log-dir <dir>',
      'a folder holding segments (repeatable; default: ocsp-access-log next to the store)',
      collect,
      [],
    )
    .option('--responder <name>', 'with PostgreSQL: whose access-log chain')
    .action(async function (
      this: Command,
      o: { since: string; keyFile: string; out: string; store?: string; logDir: string[]; responder?: string },
    ) {
      const { sqlitePath, storeSpec, withStore, parseStoreLocation } = await import('../../online-store.ts');
      const { collectOnlineRecords, parseSince } = await import('../../../server/records-collect.ts');
      const { onlineRecordsBody } = await import('../../../records/online-records-bundle.ts');
      const { openRecordsKey, readRecordsKeyFile } = await import('../../../records/online-records-key.ts');
      const { bundleEndPoint } = await import('../../../records/online-records-read.ts');
      const { writeOnlineRecordsBundle } = await import('../../../records/online-records-write.ts');
      const { existsSync } = await import('node:fs');
      const spec = storeSpec(this, o.store);
      const path = sqlitePath(spec);
      if (!path && !o.responder) usage('OPTION_REQUIRED', '--responder NAME is needed with a PostgreSQL store');
      const dirs = logDirs(o.logDir, path);
      const { source } = readRecordsKeyFile(o.keyFile);
      const since = existsSync(o.since)
        ? { kind: 'point' as const, point: bundleEndPoint(o.since) }
        : parseSince(o.since, source);
      if (existsSync(o.out)) throw new CaError('OUTPUT_EXISTS', `${o.out} exists; a bundle is never overwritten`);
      const r = await withStore(
        spec,
        async (store) => {
          const c = await collectOnlineRecords(store, { dirs, responder: o.responder, since });
          const passphrase = await recordsPassphrase(false);
          let signer: ReturnType<typeof openRecordsKey>;
          try {
            signer = openRecordsKey(o.keyFile, passphrase);
          } finally {
            passphrase.fill(0);
          }
          const meta = { source, responder: o.responder, store: parseStoreLocation(spec).display, since: o.since };
          const body = onlineRecordsBody(c, { ...meta, now: new Date() });
          const written = await writeOnlineRecordsBundle(o.out, body, signer, c.parts);
          const summary = {
            source,
            sha256: written.sha256,
            bytes: written.bytes,
            after: c.after,
            to: c.to,
            events: c.events.count,
            segments: c.segments.length,
          };
          await store.recordServerEvent('records-export', { ...summary, file: basename(o.out), problems: c.problems });
          return { ...summary, out: o.out, problems: c.problems };
        },
        `export@${hostname()}`,
      );
      print(
        this,
        r,
        [
          `wrote ${r.out}: ${r.events} server event(s), ${r.segments} segment(s) of ${r.source}, ${r.bytes} bytes (SHA-256 ${r.sha256})`,
          ...r.problems.map((p) => `  WARNING ${p}: the offline side will refuse this bundle`),
        ].join('\n'),
      );
    });
}
