/** `rootca ca compromise | announce-termination | terminate`: how a CA ends (CPS 5.7.1, 5.8; ). */
import type { Command } from 'commander';
import { backupLine, publicationLines } from '../../report-lines.ts';
import { collect, CREDENTIAL_HELP, isoTime, passphrasesFrom, print, withInstallation } from '../../context.ts';
import { ceremonyPeople, publicationOptions } from '../../options.ts';

/** `ca compromise`: the CA-key compromise runbook (CPS 5.7.1). */
export function defineCompromise(ca: Command): void {
  ceremonyPeople(
    publicationOptions(
      ca
        .command('compromise')
        .description(
          'CA-key compromise runbook (CPS 5.7.1): revoke everything the CA issued (cACompromise), sign a last CRL and OCSP responses, mark the CA compromised so its key signs nothing more',
        )
        .requiredOption('--ca <name>', 'the compromised CA')
        .requiredOption('--by <name>', 'the Person Responsible who determined the compromise')
        .option(
          '--compromised-at <time>',
          'when the key was (or may have been) compromised, ISO 8601: the invalidity date of every entry',
        ),
    ),
  ).action(async function (
    this: Command,
    o: {
      ca: string;
      by: string;
      compromisedAt?: string;
      publishOut?: string;
      publishSigner?: string;
      operator: string;
      witness: string;
      credential: string[];
    },
  ) {
    const compromisedAt = isoTime('--compromised-at', o.compromisedAt);
    const { declareCaCompromise } = await import('../../../lifecycle/compromise.ts');
    await withInstallation(this, async (inst) => {
      const r = await declareCaCompromise(inst, {
        caName: o.ca,
        authoriser: o.by,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        compromisedAt,
        publishOut: o.publishOut,
        publishSigner: o.publishSigner,
      });
      print(
        this,
        r,
        [
          `${o.ca} is marked COMPROMISED${r.resumed ? ' (an interrupted run was completed)' : ''}; its key signs nothing more`,
          `  revoked now (cACompromise): ${r.revoked.length ? r.revoked.join(', ') : 'none left'}`,
          `  last CRL #${r.crlNumber}, next update ${r.crlNextUpdate.toISOString()}; ${r.ocspResponses} last OCSP responses`,
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
          ...publicationLines(r.publication),
          '  next: notify the root programs and relying parties (CPS 5.7.1); plan the replacement root',
        ].join('\n'),
      );
    });
  });
}

/** `ca announce-termination`: the notice of a CA's termination (CPS 5.8). */
export function defineAnnounceTermination(ca: Command): void {
  ca.command('announce-termination')
    .description("record the notice of a CA's termination, at least 3 months ahead (CPS 5.8)")
    .requiredOption('--ca <name>', 'the CA to terminate')
    .requiredOption('--date <YYYY-MM-DD>', 'the termination date announced to Subscribers and relying parties')
    .requiredOption('--by <name>', 'the Person Responsible announcing it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { ca: string; date: string; by: string; credential: string[] }) {
      const { announceTermination } = await import('../../../lifecycle/termination-notice.ts');
      await withInstallation(this, async (inst) => {
        const n = await announceTermination(inst, {
          caName: o.ca,
          date: o.date,
          authoriser: o.by,
          passphrases: passphrasesFrom(o.credential),
        });
        print(
          this,
          n,
          `Termination of ${n.caName} announced for ${n.terminationDate} (notice #${n.id}, given ${n.announcedAt} by ${n.announcedBy})\n  rootca ca terminate --ca ${n.caName} can run from that date`,
        );
      });
    });
}

/** `ca terminate`: end a CA on its announced date (CPS 5.8). */
export function defineTerminate(ca: Command): void {
  ceremonyPeople(
    publicationOptions(
      ca
        .command('terminate')
        .description(
          'terminate a CA (CPS 5.8): revoke all it issued (cessationOfOperation), final CRL and OCSP, destroy the key under quorum and witness, mark it terminated; resumes an interrupted run',
        )
        .requiredOption('--ca <name>', 'the CA to terminate')
        .requiredOption('--by <name>', 'the Person Responsible deciding it'),
    ),
  ).action(async function (
    this: Command,
    o: {
      ca: string;
      by: string;
      publishOut?: string;
      publishSigner?: string;
      operator: string;
      witness: string;
      credential: string[];
    },
  ) {
    const { terminateCa } = await import('../../../lifecycle/termination.ts');
    await withInstallation(this, async (inst) => {
      const r = await terminateCa(inst, {
        caName: o.ca,
        authoriser: o.by,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        publishOut: o.publishOut,
        publishSigner: o.publishSigner,
      });
      print(
        this,
        r,
        [
          `${o.ca} is TERMINATED${r.resumed ? ' (an interrupted run was completed)' : ''}; its key is destroyed`,
          `  revoked now (cessationOfOperation): ${r.revoked.length ? r.revoked.join(', ') : 'none left'}`,
          ...(r.crlNumber !== null
            ? [
                `  final CRL #${r.crlNumber}, next update ${r.crlNextUpdate!.toISOString()}; ${r.ocspResponses} final OCSP responses`,
              ]
            : []),
          ...(r.transcriptFile ? [`  transcript ${r.transcriptFile}`] : []),
          ...(r.backup ? [backupLine(r.backup)] : []),
          ...publicationLines(r.publication),
        ].join('\n'),
      );
    });
  });
}
