/** `rootca transcript verify | show`: signed ceremony transcripts. */
import type { Command } from 'commander';
import { CaError } from '../../errors.ts';
import {
  announceInstallation,
  collect,
  homeOf,
  print,
  readInput,
  usage,
  wholeNumber,
  withInstallation,
} from '../context.ts';

/** Defines `rootca transcript`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(transcript: Command): void {
  transcript
    .command('verify <file>')
    .description(
      "check a transcript offline: every participant's signatures; with --home also their registered keys; --output NAME=FILE compares outputs",
    )
    .option('--output <spec>', 'NAME=FILE: check a file against the output of that name (repeatable)', collect, [])
    .option('--against-installation', 'also check the signing keys against the operators registered in --home')
    .action(async function (this: Command, file: string, o: { output: string[]; againstInstallation?: boolean }) {
      let body: unknown;
      try {
        body = JSON.parse(readInput(file, 'transcript').toString('utf8'));
      } catch (e) {
        if (e instanceof SyntaxError) throw new CaError('TRANSCRIPT_INVALID', `${file} is not JSON: ${e.message}`);
        throw e;
      }
      const files = new Map(
        o.output.map((spec) => {
          const i = spec.indexOf('=');
          if (i < 1) usage('OPTION_VALUE_INVALID', `--output ${spec}: expected NAME=FILE`);
          return [spec.slice(0, i), readInput(spec.slice(i + 1), 'output')] as const;
        }),
      );
      let registeredKeys: Map<string, Buffer> | undefined;
      if (o.againstInstallation) {
        const { openInstallation } = await import('../../installation/installation.ts');
        const { listOperators } = await import('../../people/operators.ts');
        const inst = openInstallation(homeOf(this));
        announceInstallation(inst);
        try {
          registeredKeys = new Map(listOperators(inst).map((op) => [op.name, op.credential.signingPublicKey]));
        } finally {
          inst.close();
        }
      }
      const { verifyTranscript } = await import('../../records/transcript.ts');
      const v = verifyTranscript(body, { files, registeredKeys });
      print(
        this,
        v,
        [
          v.ok ? `transcript OK: ${file}` : `transcript NOT OK: ${file}`,
          ...v.checked.map((c) => `  ok    ${c}`),
          ...v.problems.map((p) => `  FAIL  ${p}`),
        ].join('\n'),
      );
      if (!v.ok) process.exitCode = 1;
    });
  transcript
    .command('show <ceremony>')
    .description('print a stored transcript as Markdown (or JSON with --json)')
    .action(async function (this: Command, id: string) {
      const { renderTranscriptMarkdown } = await import('../../records/transcript.ts');
      const { loadTranscript } = await import('../../records/transcript-store.ts');
      await withInstallation(this, (inst) => {
        const t = loadTranscript(inst, wholeNumber('ceremony')(id));
        print(this, t, renderTranscriptMarkdown(t));
      });
    });
}
