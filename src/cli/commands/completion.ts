/**
 * `rootca completion bash | zsh`: a completion script generated from the command definitions.
 * The program it runs in has every command defined (command-index.ts marks it `needsAll`), so
 * it walks its own root command instead of building another one.
 */
import { Argument, type Command } from 'commander';

/** Defines the `<shell>` argument and the action that prints the script for it. */
export function define(cmd: Command): void {
  cmd.addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh'])).action(async function (
    this: Command,
    shell: 'bash' | 'zsh',
  ) {
    const { bashCompletion, zshCompletion } = await import('../completion.ts');
    let program: Command = this;
    while (program.parent) program = program.parent;
    process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
  });
}
