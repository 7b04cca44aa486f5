/** `rootca audit online-key register | ingest-online`: the online side's records brought home (CPS 5.4.1, 5.5.1, 5.5.2). */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, readInput, usage, withInstallation } from '../../context.ts';

/** `audit online-key list | register`: the public keys that sign a source's bundles, registered under a quorum. */
export function defineOnlineKey(audit: Command): void {
  const key = audit
    .command('online-key')
    .description('the public keys that sign the online side’s record bundles, one or more per source');
  key
    .command('list')
    .description('registered records keys, and where each source stands (the end of its last bundle ingested)')
    .action(async function (this: Command) {
      const { listOnlineRecordsSources } = await import('../../../records/online-records.ts');
      await withInstallation(this, (inst) => {
        const rows = listOnlineRecordsSources(inst);
        print(
          this,
          rows,
          rows.length
            ? rows
                .map(
                  (r) =>
                    `${r.source.padEnd(20)} ${r.publicKeySha256.slice(0, 16)}…  registered ${r.registeredAt.slice(0, 10)} by ${r.authorisedBy}+${r.witness}  ${r.lastBundle ? `last bundle ${r.lastBundle.ingestedAt.slice(0, 10)}: up to event ${r.lastBundle.to.eventSeq}, segment ${r.lastBundle.to.segmentSha256.slice(0, 16) || '(none)'}` : 'nothing ingested yet'}`,
                )
                .join('\n')
            : 'no online records key registered yet (rootca audit online-key register)',
        );
      });
    });
  key
    .command('register')
    .description(
      'register the public key of `rootca online records-key init` for a source (Person Responsible approves, Service Operation Manager witnesses)',
    )
    .requiredOption('--source <name>', 'the source the key signs for (as given to records-key init)')
    .requiredOption('--public-key <file>', 'the public key (PEM or DER), e.g. records.key.pub.pem')
    .requiredOption('--by <name>', 'the Person Responsible approving it')
    .requiredOption('--witness <name>', 'the Service Operation Manager present')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: { source: string; publicKey: string; by: string; witness: string; credential: string[] },
    ) {
      const publicKey = readInput(o.publicKey, 'public key');
      const { registerOnlineRecordsKey } = await import('../../../records/online-records.ts');
      await withInstallation(this, async (inst) => {
        const r = await registerOnlineRecordsKey(inst, {
          source: o.source,
          publicKey,
          authoriser: o.by,
          witness: o.witness,
          passphrases: passphrasesFrom(o.credential),
        });
        print(this, r, `online records key ${r.publicKeySha256} registered for ${r.source} (event ${r.auditSeq})`);
      });
    });
}

/** `audit ingest-online BUNDLE`. */
export function defineIngestOnline(audit: Command): void {
  audit
    .command('ingest-online <bundle>')
    .description(
      'verify an online record bundle (registered signer, signature, continuity with the last one, segment digests) and archive it: one audit event; any failure is refused and audited',
    )
    .requiredOption('--examiner <name>', 'the Log Examiner collecting it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, file: string, o: { examiner: string; credential: string[] }) {
      // The bundle is streamed from its file, never read whole: only check it can be read.
      const { accessSync, constants } = await import('node:fs');
      try {
        accessSync(file, constants.R_OK);
      } catch (e) {
        usage('INPUT_UNREADABLE', `cannot read bundle file ${file}: ${(e as NodeJS.ErrnoException).code}`);
      }
      const { backupLine } = await import('../../report-lines.ts');
      const { ingestOnlineRecords } = await import('../../../records/online-records.ts');
      await withInstallation(this, async (inst) => {
        const r = await ingestOnlineRecords(inst, {
          file,
          fileName: basename(file),
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
        });
        print(
          this,
          r,
          [
            `ingested ${r.source}: ${r.events} server event(s), ${r.segments} segment(s) (${r.lines} requests) up to event ${r.to.eventSeq}, segment ${r.to.segmentSha256 || '(none)'}; kept until ${r.retainUntil.slice(0, 10)} (event ${r.auditSeq})`,
            backupLine(r.backup),
          ].join('\n'),
        );
      });
    });
}
