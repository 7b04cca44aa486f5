/** `rootca publish`: the signed publication file the online side imports. */
import type { Command } from 'commander';
import { passphrasesFrom, print, withInstallation } from '../context.ts';
import { ceremonyPeople } from '../options.ts';

/** Defines `rootca publish`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  ceremonyPeople(
    cmd
      .requiredOption('--out <file>', 'the publication file (never overwritten)')
      .requiredOption('--signer <ca>', 'the root whose key signs the manifest'),
  ).action(async function (
    this: Command,
    o: { out: string; signer: string; operator: string; witness: string; credential: string[] },
  ) {
    const { publish } = await import('../../status/publication.ts');
    await withInstallation(this, async (inst) => {
      const r = await publish(inst, {
        signerCa: o.signer,
        out: o.out,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
      });
      print(
        this,
        r,
        [
          ...r.interrupted.map((w) => `NOTE ${w.message}`),
          `Publication v${r.version}: ${r.items} items, signed by ${o.signer}`,
          r.notes.length ? '' : `  wrote ${r.path} (sha256 ${r.sha256})`,
          ...r.notes.map((n) => `  WARNING ${n}`),
          ...r.warnings.map((w) => `  WARNING ${w}`),
          `  transcript ${r.transcriptFile}`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });
  });
}
