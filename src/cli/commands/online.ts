/** `rootca online import | status | verify-log | records-key | export-records`: the online store: publications, the OCSP access log and the records sent home. */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { collect, print, usage, wholeNumber } from '../context.ts';
import { STORE_HELP } from '../options.ts';
import { defineExportRecords, defineRecordsKey, logDirs } from './online/records.ts';

/** Defines `rootca online`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(online: Command): void {
  defineImport(online);
  defineStatus(online);
  defineVerifyLog(online);
  defineRecordsKey(online);
  defineExportRecords(online);
}

/** `online import`: verify and import a publication file. */
function defineImport(online: Command): void {
  online
    .command('import <file>')
    .description('verify a publication file against the trust anchors and import it (refused whole on any failure)')
    .option('--store <spec>', STORE_HELP)
    .option(
      '--trust <file>',
      'root certificate (PEM or DER) to trust; needed on the first import (repeatable)',
      collect,
      [],
    )
    .action(async function (this: Command, file: string, o: { store?: string; trust: string[] }) {
      const { importOne, storeSpec, trustAnchors, withStore } = await import('../online-store.ts');
      const trust = trustAnchors(o.trust);
      const r = await withStore(
        storeSpec(this, o.store),
        (store) => importOne(store, file, trust),
        `import@${hostname()}`,
      );
      print(this, r.json, r.text);
    });
}

/** `online status`: responders seen recently and the last import. */
function defineStatus(online: Command): void {
  online
    .command('status')
    .description('the responders seen recently (version served, health), and the last import')
    .option('--store <spec>', STORE_HELP)
    .option(
      '--within <seconds>',
      'list responders whose last heartbeat is at most this old',
      wholeNumber('--within'),
      30,
    )
    .action(async function (this: Command, o: { store?: string; within: number }) {
      const { parseStoreLocation, storeSpec, withStore } = await import('../online-store.ts');
      const spec = storeSpec(this, o.store);
      const { responders, lastImport, latest } = await withStore(spec, async (store) => ({
        responders: await store.responders(o.within * 1000),
        lastImport: await store.lastImport(),
        latest: await store.latestVersion(),
      }));
      const behind = responders.filter((r) => r.version !== latest);
      const lines = [
        `Store        ${parseStoreLocation(spec).display}`,
        lastImport
          ? `Last import  version ${lastImport.version} at ${lastImport.importedAt} (SHA-256 ${lastImport.sha256})`
          : 'Last import  none',
        `Responders   ${responders.length} seen in the last ${o.within} s${behind.length ? `; ${behind.length} not on version ${latest ?? '-'}` : ''}`,
        ...responders.map(
          (r) =>
            `  ${r.name.padEnd(24)} pid ${String(r.pid).padEnd(8)} version ${String(r.version ?? '-').padEnd(5)} ${r.status.padEnd(11)} seen ${r.seenAt}  ${r.url ?? ''}${r.problems.length ? `\n      ${r.problems.join('\n      ')}` : ''}`,
        ),
      ];
      print(
        this,
        { store: parseStoreLocation(spec).display, lastImport: lastImport ?? null, responders },
        lines.join('\n'),
      );
    });
}

/** `online verify-log`: check the OCSP access-log chain. */
function defineVerifyLog(online: Command): void {
  online
    .command('verify-log')
    .description(
      'check the OCSP access-log chain: every closed segment present with its SHA-256, each linked to the one before',
    )
    .option('--store <spec>', STORE_HELP)
    .option(
      '--log-dir <dir>',
      'a folder holding segments (repeatable: e.g. the live folder and archive copies; default: ocsp-access-log next to the store)',
      collect,
      [],
    )
    .option('--responder <name>', 'with PostgreSQL: whose chain (each responder has its own)')
    .action(async function (this: Command, o: { store?: string; logDir: string[]; responder?: string }) {
      const { sqlitePath, storeSpec, withStore } = await import('../online-store.ts');
      const { verifyAccessLogChain } = await import('../../server/access-log.ts');
      const spec = storeSpec(this, o.store);
      const path = sqlitePath(spec);
      if (!path && !o.responder)
        usage(
          'OPTION_REQUIRED',
          '--responder NAME is needed with a PostgreSQL store (each responder has its own chain; `rootca online status` lists them)',
        );
      const dir = logDirs(o.logDir, path);
      const records = await withStore(spec, async (store) => store.accessLogSegments(o.responder));
      const problems = verifyAccessLogChain(dir, records);
      print(
        this,
        { segments: records.length, lines: records.reduce((n, r) => n + r.lines, 0), problems },
        problems.length
          ? problems.join('\n')
          : `OK: ${records.length} segment(s), ${records.reduce((n, r) => n + r.lines, 0)} request(s), chain intact`,
      );
      if (problems.length) process.exitCode = 1;
    });
}
