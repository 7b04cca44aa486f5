/** `rootca key ...`: CA private key life cycle outside ceremonies — destruction (CPS 6.2.10). */
import type { Command } from 'commander';
import { destroyKeyCeremony } from '../../ca/key-destruction.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, withInstallation } from '../context.ts';
import { backupLine } from './archive.ts';

export function keyCommands(program: Command): void {
  const key = program.command('key').description('CA private keys: destruction (CPS 6.2.10)');
  key.command('destroy')
    .description('destroy a CA\'s private key everywhere it is held, with the quorum and a witness; the CA can never sign again')
    .requiredOption('--ca <name>', 'the CA whose key is destroyed')
    .requiredOption('--reason <text>', 'why (recorded in the audit log and transcript)')
    .requiredOption('--operator <name>', 'the CA Administrator performing it')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { ca: string; reason: string; operator: string; witness: string; credential: string[] }) {
      await withInstallation(this, async (inst) => {
        const r = await destroyKeyCeremony(inst, { caName: o.ca, reason: o.reason, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential) });
        print(this, { ca: o.ca, keyId: r.keyId, destroyedIn: r.destroyedIn, transcript: r.transcriptFile, backup: r.backup }, [
          `Key ${r.keyId} of ${o.ca} destroyed in: ${r.destroyedIn.join(', ')}`,
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
        ].join('\n'));
      });
    });
}
