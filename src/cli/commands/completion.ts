/** `rootca completion bash | zsh`: a completion script generated from the command definitions. */
import { Argument, type Command } from 'commander';

export function define(cmd: Command): void {
  cmd
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action(async function (this: Command, shell: 'bash' | 'zsh') {
      const { buildProgram } = await import('../main.ts');
      const { bashCompletion, zshCompletion } = await import('../completion.ts');
      const program = await buildProgram({ version: this.parent?.version() ?? '', load: 'all' });
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
