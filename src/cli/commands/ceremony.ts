/** `rootca ceremony run`: a root key ceremony from its YAML file. */
import type { Command } from 'commander';
import { CaError } from '../../errors.ts';
import {
  collect,
  CREDENTIAL_HELP,
  passphrasesFrom,
  print,
  readInput,
  wholeNumber,
  withInstallation,
} from '../context.ts';
import { parseCredentialOptions } from '../passphrases.ts';

/** Defines `rootca ceremony`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(ceremony: Command): void {
  ceremony
    .command('run <file>')
    .description('run a root key ceremony file (YAML): generate the key, split activation M-of-N, self-sign')
    .option('--out-dir <dir>', 'folder that relative output paths resolve against', '.')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, file: string, o: { outDir: string; credential: string[] }) {
      parseCredentialOptions(o.credential); // usage errors before anything else
      let bytes: Buffer;
      try {
        bytes = readInput(file, 'ceremony');
      } catch (e) {
        throw new CaError('CEREMONY_FILE_UNREADABLE', (e as Error).message);
      }
      const { loadRootCeremony, runRootCeremony } = await import('../../lifecycle/root-ceremony.ts');
      await withInstallation(this, async (inst) => {
        const loaded = loadRootCeremony(inst, bytes, file);
        const r = await runRootCeremony(inst, {
          ceremony: loaded,
          baseDir: o.outDir,
          passphrases: passphrasesFrom(o.credential),
        });
        print(
          this,
          {
            ca: r.caName,
            keyId: r.keyId,
            serial: r.serialHex,
            subject: r.subject,
            notBefore: r.notBefore,
            notAfter: r.notAfter,
            outputs: r.outputs,
            custodians: r.custodians,
            witness: r.witness,
            warnings: r.warnings,
            transcript: r.transcriptFile,
            interrupted: r.interrupted,
          },
          [
            ...r.interrupted.map((w) => `NOTE ${w.message}`),
            ...r.warnings.map((w) => `WARNING ${w}`),
            `Root CA ${r.caName} created (ceremony #${r.ceremonyId})`,
            `  subject    ${r.subject}`,
            `  serial     ${r.serialHex}`,
            `  validity   ${r.notBefore.toISOString()} .. ${r.notAfter.toISOString()}`,
            `  key        ${r.keyId} (activated once by ${r.custodians.join(', ')}; witness ${r.witness}; deactivated)`,
            ...r.outputs.map((f) => `  wrote      ${f}`),
            `  transcript ${r.transcriptFile}`,
          ].join('\n'),
        );
      });
    });

  ceremony
    .command('resume <id>')
    .description(
      'finish a ceremony a crash interrupted: write the outputs of one that committed, or close one that did not as abandoned (removing its partial files)',
    )
    .action(async function (this: Command, id: string) {
      const { resumeCeremony } = await import('../../operation/durable-outputs.ts');
      await withInstallation(this, (inst) => {
        const r = resumeCeremony(inst, wholeNumber('<id>')(id));
        print(this, r, r.message);
        if (r.state === 'outputs-pending' || r.state === 'partly-committed') process.exitCode = 1;
      });
    });
}
