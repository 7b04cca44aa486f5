/** `rootca csr inspect`: what a CSR asks for and every reason it would be refused. */
import type { Command } from 'commander';
import { print, readInput } from '../context.ts';

/** Defines `rootca csr`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(csr: Command): void {
  csr
    .command('inspect <file>')
    .description('show a CSR (PEM or DER) and every reason it would be refused; exit 1 if any')
    .action(async function (this: Command, file: string) {
      const { formatCsrInspection, inspectCsr } = await import('../../pki/csr.ts');
      const i = inspectCsr(readInput(file, 'CSR'));
      print(
        this,
        {
          subject: i.requested.subjectText,
          publicKey: i.publicKey.algorithm,
          signatureValid: i.signatureValid,
          problems: i.problems,
        },
        formatCsrInspection(i),
      );
      if (i.problems.length) process.exitCode = 1;
    });
}
