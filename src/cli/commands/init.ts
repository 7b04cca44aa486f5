/** `rootca init`: a new installation. */
import type { Command } from 'commander';
import { announceInstallation, homeOf, print, warnIfHomeFromCurrentFolder } from '../context.ts';

/** Defines `rootca init`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  cmd
    .option('--name <name>', 'installation name', 'rootca')
    .option('--base-url <url>', 'repository base URL named in issued certificates (http://)')
    .action(async function (this: Command, o: { name: string; baseUrl?: string }) {
      const { initInstallation } = await import('../../installation/installation.ts');
      warnIfHomeFromCurrentFolder(this);
      const inst = initInstallation(homeOf(this), { name: o.name, baseUrl: o.baseUrl });
      announceInstallation(inst);
      inst.close();
      print(
        this,
        { home: inst.home, name: o.name, warnings: inst.warnings },
        [`Created installation "${o.name}" in ${inst.home}`, ...inst.warnings.map((w) => `WARNING ${w}`)].join('\n'),
      );
    });
}
