/** `rootca audit …` and `rootca transcript …`: the evidence an auditor reads (CPS 5.4, 8). */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { readAuditLog } from '../../ca/audit-access.ts';
import { openInstallation } from '../../ca/installation.ts';
import { listOperators } from '../../ca/operators.ts';
import { renderTranscriptMarkdown, verifyTranscript } from '../../ca/transcript.ts';
import { loadTranscript } from '../../ca/transcripts.ts';
import { CaError } from '../../errors.ts';
import { collect, CREDENTIAL_HELP, homeOf, passphrasesFrom, print, readInput, usage, wholeNumber, withInstallation } from '../context.ts';

export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log (CPS 5.4)');
  audit.command('verify').description('recompute the hash chain; report the first bad position (shows no event contents)').action(async function (this: Command) {
    await withInstallation(this, (inst) => {
      const v = inst.audit.verify();
      print(this, v, v.ok ? `audit log OK: ${v.events} events, head ${v.headHash}` : `audit log BROKEN at event ${v.firstBad!.position}: ${v.firstBad!.problem}`);
      if (!v.ok) process.exitCode = 1;
    });
  });
  audit.command('list')
    .description('print events (a Log Examiner only, CPS 5.4.4; the read is recorded)')
    .requiredOption('--examiner <name>', 'the Log Examiner reading')
    .option('--from <n>', 'first event', wholeNumber('--from'), 1)
    .option('--to <n>', 'last event', wholeNumber('--to'))
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { examiner: string; from: number; to?: number; credential: string[] }) {
      await withInstallation(this, async (inst) => {
        const events = await readAuditLog(inst, { examiner: o.examiner, passphrases: passphrasesFrom(o.credential), from: o.from, to: o.to });
        print(this, events, events.map((e) => `${String(e.seq).padStart(5)} ${e.at} ${e.outcome.padEnd(8)} ${e.action.padEnd(26)} ${e.target.padEnd(16)} ${e.actor}`).join('\n'));
      });
    });

  const transcript = program.command('transcript').description('signed ceremony transcripts');
  transcript.command('verify <file>')
    .description('check a transcript offline: every participant\'s signatures; with --home also their registered keys; --output NAME=FILE compares outputs')
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
      const files = new Map(o.output.map((spec) => {
        const i = spec.indexOf('=');
        if (i < 1) usage(`--output ${spec}: expected NAME=FILE`);
        return [spec.slice(0, i), readInput(spec.slice(i + 1), 'output')] as const;
      }));
      let registeredKeys: Map<string, Buffer> | undefined;
      if (o.againstInstallation) {
        const inst = openInstallation(homeOf(this));
        try {
          registeredKeys = new Map(listOperators(inst).map((op) => [op.name, op.credential.signingPublicKey]));
        } finally {
          inst.close();
        }
      }
      const v = verifyTranscript(body, { files, registeredKeys });
      print(this, v, [v.ok ? `transcript OK: ${file}` : `transcript NOT OK: ${file}`, ...v.checked.map((c) => `  ok    ${c}`), ...v.problems.map((p) => `  FAIL  ${p}`)].join('\n'));
      if (!v.ok) process.exitCode = 1;
    });
  transcript.command('show <ceremony>').description('print a stored transcript as Markdown (or JSON with --json)').action(async function (this: Command, id: string) {
    await withInstallation(this, (inst) => {
      const t = loadTranscript(inst, wholeNumber('ceremony')(id));
      print(this, t, renderTranscriptMarkdown(t));
    });
  });
}
