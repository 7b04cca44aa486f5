/** `rootca revoke`: revoke a certificate, with its CRL and OCSP responses in the same session. */
import { Option, type Command } from 'commander';
import { REVOCATION_REASON_CODES } from '../../pki/crl.ts';
import { isoTime, passphrasesFrom, print, readInput, withInstallation } from '../context.ts';
import { ceremonyPeople } from '../options.ts';
import { backupLine } from '../report-lines.ts';

/** Defines `rootca revoke`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  ceremonyPeople(
    cmd
      .requiredOption('--ca <name>', 'the issuing CA')
      .requiredOption('--serial <hex>', 'serial number of the certificate')
      .addOption(
        new Option('--reason <reason>', 'revocation reason (R-4.1)')
          .choices([...Object.keys(REVOCATION_REASON_CODES), 'unspecified', 'certificateHold', 'removeFromCRL'])
          .makeOptionMandatory(),
      )
      .option('--invalidity-date <time>', 'when the key was (suspected) compromised, ISO 8601')
      .option('--approved-by <name>', 'the RA officer who approved the request')
      .option(
        '--key-compromise-proof <file>',
        'keyCompromise from the subscriber: a CSR signed by the compromised key (CPS 5.7.3)',
      )
      .option('--defer-crl', 'record the revocation only; issue the CRL and OCSP responses later'),
  ).action(async function (
    this: Command,
    o: {
      ca: string;
      serial: string;
      reason: string;
      invalidityDate?: string;
      approvedBy?: string;
      keyCompromiseProof?: string;
      deferCrl?: boolean;
      operator: string;
      witness: string;
      credential: string[];
    },
  ) {
    const invalidityDate = isoTime('--invalidity-date', o.invalidityDate);
    const proof = o.keyCompromiseProof ? readInput(o.keyCompromiseProof, 'key-compromise proof') : undefined;
    const { revokeCertificate } = await import('../../status/revocation.ts');
    await withInstallation(this, async (inst) => {
      const r = await revokeCertificate(inst, {
        caName: o.ca,
        serial: o.serial,
        reason: o.reason,
        invalidityDate,
        approvedBy: o.approvedBy,
        keyCompromiseProof: proof,
        deferCrl: o.deferCrl,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
      });
      print(
        this,
        {
          serial: r.serialHex,
          revokedAt: r.revokedAt,
          reason: r.reason,
          crlNumber: r.crl?.crlNumber ?? null,
          ocspResponses: r.ocspResponses,
          transcript: r.transcriptFile,
          backup: r.backup,
        },
        [
          `Revoked ${o.ca} ${r.serialHex} (${r.reason}) at ${r.revokedAt.toISOString()}`,
          r.crl
            ? `  CRL #${r.crl.crlNumber} issued (${r.crl.entries} entries, next update ${r.crl.nextUpdate.toISOString()}); ${r.ocspResponses} OCSP responses re-signed`
            : '  CRL deferred: issue it with `rootca crl issue` and re-sign OCSP within 24 hours (BR 4.9.10)',
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
          '  next: rootca publish, then import the file on the online side',
        ].join('\n'),
      );
    });
  });
}
