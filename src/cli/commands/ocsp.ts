/** `rootca ocsp presign | responder | export`: pre-signed OCSP responses for what a key issued, signed by its responder. */
import type { Command } from 'commander';
import { passphrasesFrom, print, withInstallation } from '../context.ts';
import { ceremonyPeople, RETIRED_KEY, RETIRED_KEY_HELP } from '../options.ts';
import { backupLine } from '../report-lines.ts';
import { defineDelegatedKeyCommands } from './ocsp/delegated-key.ts';

/** Defines `rootca ocsp`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(ocsp: Command): void {
  ceremonyPeople(
    ocsp
      .command('presign')
      .description('pre-sign OCSP responses (SHA-1 and SHA-256 CertIDs) for every certificate the signing key issued')
      .requiredOption('--ca <name>', 'the CA')
      .option(RETIRED_KEY, RETIRED_KEY_HELP),
  ).action(async function (
    this: Command,
    o: { ca: string; retiredKey?: string | true; operator: string; witness: string; credential: string[] },
  ) {
    const { presignOcsp } = await import('../../status/ceremonies.ts');
    await withInstallation(this, async (inst) => {
      const r = await presignOcsp(inst, {
        caName: o.ca,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        retiredKey: o.retiredKey,
      });
      const other = r.otherKey.length
        ? `\n  ${r.otherKey.length} certificates of ${o.ca} were issued by another of its keys: ${o.retiredKey ? 'run it without --retired-key' : 'rootca ocsp presign --ca ' + o.ca + ' --retired-key'} for them`
        : '';
      print(
        this,
        r,
        [
          ...r.interrupted.map((w) => `NOTE ${w.message}`),
          `${r.responses} OCSP responses pre-signed for ${r.certificates} certificates of ${o.ca}${other}`,
          ...r.notes.map((n) => `  WARNING ${n}`),
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
        ].join('\n'),
      );
    });
  });

  defineDelegatedKeyCommands(
    ocsp
      .command('responder')
      .description('the delegated responder keys that sign pre-signed responses (RFC 6960 4.2.2.2; BR 6.1.7)'),
    'ocsp',
  );

  ocsp
    .command('export')
    .description('write the current pre-signed responses again (DER, <serial>-<hash>.ocsp); nothing is signed')
    .requiredOption('--ca <name>', 'the CA')
    .requiredOption('--out-dir <dir>', 'an existing folder')
    .option('--serial <hex>', 'only this certificate')
    .action(async function (this: Command, o: { ca: string; outDir: string; serial?: string }) {
      const { exportOcspResponses } = await import('../../status/export.ts');
      await withInstallation(this, (inst) => {
        const files = exportOcspResponses(inst, { caName: o.ca, serial: o.serial, outDir: o.outDir });
        print(this, files, files.map((f) => `wrote ${f.path}`).join('\n'));
      });
    });
}
