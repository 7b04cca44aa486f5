/** `rootca crl issue`: the CA's next CRL (R-4.2). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { passphrasesFrom, print, withInstallation } from '../context.ts';
import { ceremonyPeople, RETIRED_KEY, RETIRED_KEY_HELP } from '../options.ts';
import { backupLine } from '../report-lines.ts';

export function define(crl: Command): void {
  ceremonyPeople(crl.command('issue').description('issue the CA\'s next CRL').requiredOption('--ca <name>', 'the CA').option('--out <file>', 'also write the CRL (DER) here').option(RETIRED_KEY, RETIRED_KEY_HELP))
    .action(async function (this: Command, o: { ca: string; out?: string; retiredKey?: string | true; operator: string; witness: string; credential: string[] }) {
      const { issueCrl } = await import('../../ca/status-ceremonies.ts');
      await withInstallation(this, async (inst) => {
        const r = await issueCrl(inst, { caName: o.ca, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential), retiredKey: o.retiredKey });
        if (o.out) writeFileSync(o.out, r.der, { flag: 'wx' });
        print(this, { crlNumber: r.crlNumber, entries: r.entries, thisUpdate: r.thisUpdate, nextUpdate: r.nextUpdate, sha256: r.sha256, transcript: r.transcriptFile, backup: r.backup },
          `CRL #${r.crlNumber} of ${o.ca}: ${r.entries} entries, ${r.thisUpdate.toISOString()} .. ${r.nextUpdate.toISOString()}${o.out ? `\n  wrote ${o.out}` : ''}\n  transcript ${r.transcriptFile}\n${backupLine(r.backup)}`);
      });
    });
}
