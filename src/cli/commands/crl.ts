/** `rootca crl issue`: the CA's next CRL. */
import type { Command } from 'commander';
import { passphrasesFrom, print, wholeNumber, withInstallation } from '../context.ts';
import { ceremonyPeople, RETIRED_KEY, RETIRED_KEY_HELP } from '../options.ts';
import { backupLine } from '../report-lines.ts';

/** Defines `rootca crl`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(crl: Command): void {
  ceremonyPeople(
    crl
      .command('issue')
      .description("issue the CA's next CRL")
      .requiredOption('--ca <name>', 'the CA')
      .option('--out <file>', 'also write the CRL (DER) here')
      .option(RETIRED_KEY, RETIRED_KEY_HELP),
  ).action(async function (
    this: Command,
    o: {
      ca: string;
      out?: string;
      retiredKey?: string | true;
      operator: string;
      witness: string;
      credential: string[];
    },
  ) {
    const { issueCrl } = await import('../../status/ceremonies.ts');
    await withInstallation(this, async (inst) => {
      // --out is checked before anyone authenticates and written before the backup (issue 14 item 2).
      const r = await issueCrl(inst, {
        caName: o.ca,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        retiredKey: o.retiredKey,
        out: o.out,
      });
      print(
        this,
        {
          crlNumber: r.crlNumber,
          entries: r.entries,
          thisUpdate: r.thisUpdate,
          nextUpdate: r.nextUpdate,
          sha256: r.sha256,
          outputs: r.outputs,
          notes: r.notes,
          transcript: r.transcriptFile,
          backup: r.backup,
          interrupted: r.interrupted,
        },
        [
          ...r.interrupted.map((w) => `NOTE ${w.message}`),
          `CRL #${r.crlNumber} of ${o.ca}: ${r.entries} entries, ${r.thisUpdate.toISOString()} .. ${r.nextUpdate.toISOString()}`,
          ...r.outputs.map((f) => `  wrote ${f}`),
          ...r.notes.map((n) => `  WARNING ${n}`),
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
        ].join('\n'),
      );
    });
  });

  crl
    .command('export')
    .description('write a stored CRL again (the latest, or --number N); nothing is signed')
    .requiredOption('--ca <name>', 'the CA')
    .requiredOption('--out <file>', 'the file to write (never overwritten)')
    .option('--number <n>', 'that CRL number instead of the latest', wholeNumber('--number'))
    .option('--pem', 'PEM instead of DER')
    .action(async function (this: Command, o: { ca: string; out: string; number?: number; pem?: boolean }) {
      const { exportCrl } = await import('../../status/export.ts');
      await withInstallation(this, (inst) => {
        const r = exportCrl(inst, { caName: o.ca, crlNumber: o.number, out: o.out, pem: o.pem });
        print(this, r, `CRL #${r.crlNumber} of ${o.ca}: wrote ${r.path} (sha256 ${r.sha256})`);
      });
    });
}
