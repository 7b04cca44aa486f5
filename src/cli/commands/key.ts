/**
 * `rootca key destroy` (CPS 6.2.10) and `rootca token init | list`: HSM tokens whose PINs are
 * generated and split M-of-N to custodians (CPS 6.4.1).
 */
import type { Command } from 'commander';
import { listTokenRecords } from '../../ca/hsm-tokens.ts';
import { destroyKeyCeremony } from '../../ca/key-destruction.ts';
import { initToken } from '../../ca/token-setup.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, readInput, usage, wholeNumber, withInstallation } from '../context.ts';
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

  const token = program.command('token').description('PKCS#11 tokens (HSM partitions) holding CA keys');
  token.command('init')
    .description('initialise an empty token: its SO and user PINs are generated, split M-of-N to the holders and never shown')
    .requiredOption('--module <path>', 'PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so')
    .requiredOption('--label <label>', 'label for the new token')
    .requiredOption('--holders <names>', 'comma-separated CA Administrators who receive PIN shares')
    .requiredOption('--threshold <m>', 'how many holders are needed to log in (>= 2)', wholeNumber('--threshold'))
    .option('--slot <index>', 'index of the empty slot to use (default: the first empty one)', wholeNumber('--slot'))
    .option('--adopt-pin-file <file>', 'adopt a token the vendor tools already initialised with this label: its temporary user PIN is in FILE and is replaced by a generated one')
    .requiredOption('--operator <name>', 'the CA Administrator performing it')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { module: string; label: string; holders: string; threshold: number; slot?: number; adoptPinFile?: string; operator: string; witness: string; credential: string[] }) {
      const holders = o.holders.split(',').map((h) => h.trim()).filter(Boolean);
      if (holders.length < 2) usage('OPTION_VALUE_INVALID', '--holders must name at least two custodians (CPS 6.4.1)');
      const adoptWithPin = o.adoptPinFile ? readInput(o.adoptPinFile, 'current PIN').toString('latin1').replace(/\r?\n$/, '') : undefined;
      await withInstallation(this, async (inst) => {
        const r = await initToken(inst, { module: o.module, label: o.label, slotIndex: o.slot, adoptWithPin: adoptWithPin === undefined ? undefined : Buffer.from(adoptWithPin, 'latin1'), holders, threshold: o.threshold, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential) });
        print(this, r, `Token ${r.label} (serial ${r.serial}) initialised; its PINs are held ${r.threshold}-of-${r.holders.length} by ${r.holders.join(', ')}`);
      });
    });
  token.command('list').description('tokens registered in this installation').action(async function (this: Command) {
    await withInstallation(this, (inst) => {
      const tokens = listTokenRecords(inst);
      print(this, tokens, tokens.map((t) => `${t.label.padEnd(20)} serial ${t.serial}  ${t.threshold}-of-${t.holders.length} ${t.holders.join(',')}  ${t.status}  ${t.module}`).join('\n') || '(none)');
    });
  });
}
