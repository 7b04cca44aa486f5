/** `rootca key destroy`: destroy a CA's private key everywhere it is held (CPS 6.2.10). */
import type { Command } from 'commander';
import { passphrasesFrom, print, withInstallation } from '../context.ts';
import { ceremonyPeople } from '../options.ts';
import { backupLine } from '../report-lines.ts';

/** Defines `rootca key`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(key: Command): void {
  ceremonyPeople(
    key
      .command('destroy')
      .description(
        "destroy a CA's private key everywhere it is held, with the quorum and a witness; the CA can never sign again",
      )
      .requiredOption('--ca <name>', 'the CA whose key is destroyed')
      .requiredOption('--reason <text>', 'why (recorded in the audit log and transcript)'),
  ).action(async function (
    this: Command,
    o: { ca: string; reason: string; operator: string; witness: string; credential: string[] },
  ) {
    const { destroyKeyCeremony } = await import('../../custody/key-destruction.ts');
    await withInstallation(this, async (inst) => {
      const r = await destroyKeyCeremony(inst, {
        caName: o.ca,
        reason: o.reason,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
      });
      print(
        this,
        { ca: o.ca, keyId: r.keyId, destroyedIn: r.destroyedIn, transcript: r.transcriptFile, backup: r.backup },
        [
          `Key ${r.keyId} of ${o.ca} destroyed in: ${r.destroyedIn.join(', ')}`,
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
        ].join('\n'),
      );
    });
  });
}
