/**
 * The `rootca` command (CONVENTIONS 9): each command parses, calls one use case, prints.
 * Exit codes: 0 ok, 1 refused or failed, 2 usage. `--json` prints machine-readable results.
 */
import { Command, CommanderError } from 'commander';
import { CaError, exitCodeOf } from '../errors.ts';
import { reportCommanderError } from './usage-errors.ts';
import { applicationCommands } from './commands/application.ts';
import { archiveCommands } from './commands/archive.ts';
import { auditCommands } from './commands/audit.ts';
import { caCommands } from './commands/ca.ts';
import { docCommands } from './commands/doc.ts';
import { policyCommands } from './commands/policy.ts';
import { keyCommands } from './commands/key.ts';
import { lifecycleCommands } from './commands/lifecycle.ts';
import { lifecycleEndCommands } from './commands/lifecycle-end.ts';
import { onlineCommands } from './commands/online.ts';
import { operatorCommands } from './commands/operator.ts';
import { statusCommands } from './commands/status.ts';

export function buildProgram(): Command {
  const program = new Command('rootca')
    .description('Offline root CA: key ceremonies with M-of-N custody, issuance, people and procedure, audit')
    .option('--home <dir>', 'installation home (default: $ROOTCA_HOME or ./rootca-data)')
    .option('--json', 'print results as JSON')
    .showHelpAfterError()
    .configureOutput({ outputError: () => undefined }) // main() prints it once, with its [CODE]
    .exitOverride();
  caCommands(program);
  lifecycleCommands(program);
  lifecycleEndCommands(program);
  operatorCommands(program);
  applicationCommands(program);
  statusCommands(program);
  auditCommands(program);
  archiveCommands(program);
  onlineCommands(program);
  docCommands(program);
  policyCommands(program);
  keyCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return reportCommanderError(e);
    if (e instanceof CaError) {
      process.stderr.write(`rootca: ${e.message} [${e.code}]\n`);
      return exitCodeOf(e.code);
    }
    process.stderr.write(`rootca: unexpected error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}
