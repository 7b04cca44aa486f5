/** `rootca compromise report`: a subscriber's key-compromise report (CPS 5.7.3). A CA's own compromise is `rootca ca compromise`. */
import type { Command } from 'commander';
import { isoTime, passphrasesFrom, print, readInput, usage, withInstallation } from '../context.ts';
import { ceremonyPeople } from '../options.ts';
import { backupLine, publicationLines } from '../report-lines.ts';

/** Defines `rootca compromise`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(compromise: Command): void {
  ceremonyPeople(
    compromise
      .command('report')
      .description(
        'a subscriber key-compromise report: revoke at once (keyCompromise), CRL and OCSP in the same session, then the publication file (CPS 5.7.3)',
      )
      .requiredOption('--ca <name>', 'the issuing CA')
      .requiredOption('--serial <hex>', 'serial number of the certificate whose key is compromised')
      .option(
        '--proof <file>',
        'the report signed with the compromised key: a new CSR made with that key whose challengePassword or CN is "compromise SERIAL TIME" (UTC, within 24 hours; never a CSR on file, never one used before)',
      )
      .option('--approved-by <name>', 'or: the Person in Charge of RA who accepted the report')
      .option('--invalidity-date <time>', 'when the key was (suspected) compromised, ISO 8601')
      .requiredOption('--publish-out <file>', 'the publication file to write (never overwritten)')
      .option('--publish-signer <ca>', 'the root that signs the publication (default: the issuing CA)'),
  ).action(async function (
    this: Command,
    o: {
      ca: string;
      serial: string;
      proof?: string;
      approvedBy?: string;
      invalidityDate?: string;
      publishOut: string;
      publishSigner?: string;
      operator: string;
      witness: string;
      credential: string[];
    },
  ) {
    if (!o.proof === !o.approvedBy)
      usage(
        'OPTIONS_CONFLICT',
        'give exactly one of --proof FILE (signed by the compromised key) or --approved-by RA-OFFICER',
      );
    const proof = o.proof ? readInput(o.proof, 'key-compromise proof') : undefined;
    const invalidityDate = isoTime('--invalidity-date', o.invalidityDate);
    const { reportKeyCompromise } = await import('../../lifecycle/compromise.ts');
    await withInstallation(this, async (inst) => {
      const r = await reportKeyCompromise(inst, {
        caName: o.ca,
        serial: o.serial,
        proof,
        approvedBy: o.approvedBy,
        invalidityDate,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        publishOut: o.publishOut,
        publishSigner: o.publishSigner,
      });
      const v = r.revocation;
      print(
        this,
        {
          serial: v.serialHex,
          revokedAt: v.revokedAt,
          reason: v.reason,
          crlNumber: v.crl?.crlNumber ?? null,
          ocspResponses: v.ocspResponses,
          transcript: v.transcriptFile,
          publication: r.publication,
        },
        [
          `Revoked ${o.ca} ${v.serialHex} (keyCompromise) at ${v.revokedAt.toISOString()}`,
          `  CRL #${v.crl!.crlNumber} issued (${v.crl!.entries} entries); ${v.ocspResponses} OCSP responses re-signed`,
          `  transcript ${v.transcriptFile}`,
          backupLine(v.backup),
          ...publicationLines(r.publication),
        ].join('\n'),
      );
    });
  });
}
