/**
 * `rootca compromise report` and `rootca ca compromise | announce-termination | terminate`:
 * how a certificate or a CA ends (CPS 5.7.1, 5.7.3, 5.8; ).
 */
import { Command } from 'commander';
import { declareCaCompromise, reportKeyCompromise } from '../../ca/compromise.ts';
import { announceTermination, terminateCa } from '../../ca/termination.ts';
import type { PublishResult } from '../../ca/publication.ts';
import { backupLine } from './archive.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, readInput, usage, withInstallation } from '../context.ts';

const people = (c: Command) => c
  .requiredOption('--operator <name>', 'the CA Administrator performing it')
  .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
  .option('--credential <spec>', CREDENTIAL_HELP, collect, []);

const publication = (c: Command) => c
  .option('--publish-out <file>', 'write the publication file for the online side here (never overwritten)')
  .option('--publish-signer <ca>', 'the root that signs the publication: another active root');

const time = (flag: string, v?: string): Date | undefined => {
  if (v === undefined) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? usage('OPTION_VALUE_INVALID', `${flag} ${v} is not an ISO 8601 time`) : d;
};

const publicationLines = (p?: PublishResult) => p
  ? [`  publication v${p.version}: ${p.path} (sha256 ${p.sha256})`, ...p.warnings.map((w) => `  WARNING ${w}`), '  next: import the file on the online side']
  : ['  no publication written: run rootca publish --signer <another root>, then import it on the online side'];

export function lifecycleEndCommands(program: Command): void {
  people(program.command('compromise').description('compromise handling (CPS 5.7)')
    .command('report').description('a subscriber key-compromise report: revoke at once (keyCompromise), CRL and OCSP in the same session, then the publication file (CPS 5.7.3)')
    .requiredOption('--ca <name>', 'the issuing CA')
    .requiredOption('--serial <hex>', 'serial number of the certificate whose key is compromised')
    .option('--proof <file>', 'the report signed with the compromised key: a CSR made with that key')
    .option('--approved-by <name>', 'or: the Person in Charge of RA who accepted the report')
    .option('--invalidity-date <time>', 'when the key was (suspected) compromised, ISO 8601')
    .requiredOption('--publish-out <file>', 'the publication file to write (never overwritten)')
    .option('--publish-signer <ca>', 'the root that signs the publication (default: the issuing CA)'))
    .action(async function (this: Command, o: { ca: string; serial: string; proof?: string; approvedBy?: string; invalidityDate?: string; publishOut: string; publishSigner?: string; operator: string; witness: string; credential: string[] }) {
      if (!o.proof === !o.approvedBy) usage('OPTIONS_CONFLICT', 'give exactly one of --proof FILE (signed by the compromised key) or --approved-by RA-OFFICER');
      const proof = o.proof ? readInput(o.proof, 'key-compromise proof') : undefined;
      const invalidityDate = time('--invalidity-date', o.invalidityDate);
      await withInstallation(this, async (inst) => {
        const r = await reportKeyCompromise(inst, { caName: o.ca, serial: o.serial, proof, approvedBy: o.approvedBy, invalidityDate, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential), publishOut: o.publishOut, publishSigner: o.publishSigner });
        const v = r.revocation;
        print(this, { serial: v.serialHex, revokedAt: v.revokedAt, reason: v.reason, crlNumber: v.crl?.crlNumber ?? null, ocspResponses: v.ocspResponses, transcript: v.transcriptFile, publication: r.publication }, [
          `Revoked ${o.ca} ${v.serialHex} (keyCompromise) at ${v.revokedAt.toISOString()}`,
          `  CRL #${v.crl!.crlNumber} issued (${v.crl!.entries} entries); ${v.ocspResponses} OCSP responses re-signed`,
          `  transcript ${v.transcriptFile}`,
          backupLine(v.backup),
          ...publicationLines(r.publication),
        ].join('\n'));
      });
    });

  const ca = program.commands.find((c) => c.name() === 'ca');
  if (!ca) throw new Error('the ca command must be registered before the lifecycle-end commands');

  people(publication(ca.command('compromise').description('CA-key compromise runbook (CPS 5.7.1): revoke everything the CA issued (cACompromise), sign a last CRL and OCSP responses, mark the CA compromised so its key signs nothing more')
    .requiredOption('--ca <name>', 'the compromised CA')
    .requiredOption('--by <name>', 'the Person Responsible who determined the compromise')
    .option('--compromised-at <time>', 'when the key was (or may have been) compromised, ISO 8601: the invalidity date of every entry')))
    .action(async function (this: Command, o: { ca: string; by: string; compromisedAt?: string; publishOut?: string; publishSigner?: string; operator: string; witness: string; credential: string[] }) {
      const compromisedAt = time('--compromised-at', o.compromisedAt);
      await withInstallation(this, async (inst) => {
        const r = await declareCaCompromise(inst, { caName: o.ca, authoriser: o.by, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential), compromisedAt, publishOut: o.publishOut, publishSigner: o.publishSigner });
        print(this, r, [
          `${o.ca} is marked COMPROMISED${r.resumed ? ' (an interrupted run was completed)' : ''}; its key signs nothing more`,
          `  revoked now (cACompromise): ${r.revoked.length ? r.revoked.join(', ') : 'none left'}`,
          `  last CRL #${r.crlNumber}, next update ${r.crlNextUpdate.toISOString()}; ${r.ocspResponses} last OCSP responses`,
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
          ...publicationLines(r.publication),
          '  next: notify the root programs and relying parties (CPS 5.7.1); plan the replacement root',
        ].join('\n'));
      });
    });

  ca.command('announce-termination').description('record the notice of a CA\'s termination, at least 3 months ahead (CPS 5.8)')
    .requiredOption('--ca <name>', 'the CA to terminate')
    .requiredOption('--date <YYYY-MM-DD>', 'the termination date announced to Subscribers and relying parties')
    .requiredOption('--by <name>', 'the Person Responsible announcing it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { ca: string; date: string; by: string; credential: string[] }) {
      await withInstallation(this, async (inst) => {
        const n = await announceTermination(inst, { caName: o.ca, date: o.date, authoriser: o.by, passphrases: passphrasesFrom(o.credential) });
        print(this, n, `Termination of ${n.caName} announced for ${n.terminationDate} (notice #${n.id}, given ${n.announcedAt} by ${n.announcedBy})\n  rootca ca terminate --ca ${n.caName} can run from that date`);
      });
    });

  people(publication(ca.command('terminate').description('terminate a CA (CPS 5.8): revoke all it issued (cessationOfOperation), final CRL and OCSP, destroy the key under quorum and witness, mark it terminated; resumes an interrupted run')
    .requiredOption('--ca <name>', 'the CA to terminate')
    .requiredOption('--by <name>', 'the Person Responsible deciding it')))
    .action(async function (this: Command, o: { ca: string; by: string; publishOut?: string; publishSigner?: string; operator: string; witness: string; credential: string[] }) {
      await withInstallation(this, async (inst) => {
        const r = await terminateCa(inst, { caName: o.ca, authoriser: o.by, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential), publishOut: o.publishOut, publishSigner: o.publishSigner });
        print(this, r, [
          `${o.ca} is TERMINATED${r.resumed ? ' (an interrupted run was completed)' : ''}; its key is destroyed`,
          `  revoked now (cessationOfOperation): ${r.revoked.length ? r.revoked.join(', ') : 'none left'}`,
          ...(r.crlNumber !== null ? [`  final CRL #${r.crlNumber}, next update ${r.crlNextUpdate!.toISOString()}; ${r.ocspResponses} final OCSP responses`] : []),
          ...(r.transcriptFile ? [`  transcript ${r.transcriptFile}`] : []),
          ...(r.backup ? [backupLine(r.backup)] : []),
          ...publicationLines(r.publication),
        ].join('\n'));
      });
    });
}
