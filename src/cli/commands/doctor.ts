/** `rootca doctor`: loose file modes, interrupted ceremonies, state that does not answer to the log (issue 14). */
import type { Command } from 'commander';
import { print, withInstallation } from '../context.ts';

/** Defines `rootca doctor`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  cmd.action(async function (this: Command) {
    const { runDoctor } = await import('../../installation/doctor.ts');
    await withInstallation(this, (inst) => {
      const r = runDoctor(inst);
      print(
        this,
        r,
        r.findings.length
          ? r.findings.map((f) => `${f.severity.toUpperCase()} ${f.topic}: ${f.message}`).join('\n')
          : 'no problems found: file modes, interrupted ceremonies, audit log and state tables',
      );
      if (!r.ok) process.exitCode = 1;
    });
  });
}
