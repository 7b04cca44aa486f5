/** `rootca status`: each CA's remaining life against what it issues, and whether key changeover is due (CPS 5.6, R-9.1). */
import type { Command } from 'commander';
import { print, withInstallation } from '../context.ts';

/** Defines `rootca status`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  cmd.option('--ca <name>', 'only this CA').action(async function (this: Command, o: { ca?: string }) {
    const { changeoverStates } = await import('../../lifecycle/changeover.ts');
    await withInstallation(this, (inst) => {
      const states = changeoverStates(inst, o.ca);
      print(
        this,
        states,
        states
          .map((s) =>
            [
              `${s.ca} (${s.status})${s.changeoverDue ? '  CHANGEOVER DUE' : ''}`,
              `  notAfter        ${s.notAfter} (${s.remainingDays} days left)`,
              `  longest issued  ${s.longestValidity ? `${s.longestValidity.days} days (${s.longestValidity.profile} default)` : 'none (no profile issuable)'}${s.longestMaximum ? `; maximum ${s.longestMaximum.days} days (${s.longestMaximum.profile})` : ''}`,
              `  changeover      ${s.advice}`,
            ].join('\n'),
          )
          .join('\n') || '(no CAs)',
      );
    });
  });
}
