/** `rootca token init | list`: HSM tokens whose PINs are generated and split M-of-N to custodians (CPS 6.4.1). */
import type { Command } from 'commander';
import { passphrasesFrom, print, readInput, usage, wholeNumber, withInstallation } from '../context.ts';
import { ceremonyPeople } from '../options.ts';

/** Defines `rootca token`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(token: Command): void {
  ceremonyPeople(
    token
      .command('init')
      .description(
        'initialise an empty token: its SO and user PINs are generated, split M-of-N to the holders and never shown',
      )
      .requiredOption('--module <path>', 'PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so')
      .requiredOption('--label <label>', 'label for the new token')
      .requiredOption('--holders <names>', 'comma-separated CA Administrators who receive PIN shares')
      .requiredOption('--threshold <m>', 'how many holders are needed to log in (>= 2)', wholeNumber('--threshold'))
      .option('--slot <index>', 'index of the empty slot to use (default: the first empty one)', wholeNumber('--slot'))
      .option(
        '--adopt-pin-file <file>',
        'adopt a token the vendor tools already initialised with this label: its temporary user PIN is in FILE and is replaced by a generated one',
      ),
  ).action(async function (
    this: Command,
    o: {
      module: string;
      label: string;
      holders: string;
      threshold: number;
      slot?: number;
      adoptPinFile?: string;
      operator: string;
      witness: string;
      credential: string[];
    },
  ) {
    const holders = o.holders
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    if (holders.length < 2) usage('OPTION_VALUE_INVALID', '--holders must name at least two custodians (CPS 6.4.1)');
    const adoptWithPin = o.adoptPinFile
      ? readInput(o.adoptPinFile, 'current PIN')
          .toString('latin1')
          .replace(/\r?\n$/, '')
      : undefined;
    const { initToken } = await import('../../custody/token-setup.ts');
    await withInstallation(this, async (inst) => {
      const r = await initToken(inst, {
        module: o.module,
        label: o.label,
        slotIndex: o.slot,
        adoptWithPin: adoptWithPin === undefined ? undefined : Buffer.from(adoptWithPin, 'latin1'),
        holders,
        threshold: o.threshold,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
      });
      print(
        this,
        r,
        `Token ${r.label} (serial ${r.serial}) initialised; its PINs are held ${r.threshold}-of-${r.holders.length} by ${r.holders.join(', ')}`,
      );
    });
  });
  token
    .command('list')
    .description('tokens registered in this installation')
    .action(async function (this: Command) {
      const { listTokenRecords } = await import('../../custody/hsm-tokens.ts');
      await withInstallation(this, (inst) => {
        const tokens = listTokenRecords(inst);
        print(
          this,
          tokens,
          tokens
            .map(
              (t) =>
                `${t.label.padEnd(20)} serial ${t.serial}  ${t.threshold}-of-${t.holders.length} ${t.holders.join(',')}  ${t.status}  ${t.module}`,
            )
            .join('\n') || '(none)',
        );
      });
    });
}
