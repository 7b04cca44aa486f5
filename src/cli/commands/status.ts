/** `rootca revoke | crl | ocsp | publish | cert`: status information for relying parties (R-2, R-4). */
import { Command, Option } from 'commander';
import { listIssued } from '../../ca/certificates.ts';
import { publish } from '../../ca/publication.ts';
import { REVOCATION_REASONS, revokeCertificate } from '../../ca/revocation.ts';
import { issueCrl, presignOcsp } from '../../ca/status-ceremonies.ts';
import { derToPem } from '../../pki/pem.ts';
import { writeFileSync } from 'node:fs';
import { backupLine } from './archive.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, readInput, usage, withInstallation } from '../context.ts';

const people = (c: Command) => c
  .requiredOption('--operator <name>', 'the CA Administrator performing it')
  .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
  .option('--credential <spec>', CREDENTIAL_HELP, collect, []);

const RETIRED_KEY = '--retired-key [key-id]';
const RETIRED_KEY_HELP = 'sign with the key retired at a re-key (its custodians), for what it issued; status only (CPS 5.6)';

export function statusCommands(program: Command): void {
  people(program.command('revoke')
    .description('revoke a certificate; a CRL and fresh OCSP responses follow in the same session unless --defer-crl')
    .requiredOption('--ca <name>', 'the issuing CA')
    .requiredOption('--serial <hex>', 'serial number of the certificate')
    .addOption(new Option('--reason <reason>', 'revocation reason (R-4.1)').choices([...REVOCATION_REASONS, 'unspecified', 'certificateHold', 'removeFromCRL']).makeOptionMandatory())
    .option('--invalidity-date <time>', 'when the key was (suspected) compromised, ISO 8601')
    .option('--approved-by <name>', 'the RA officer who approved the request')
    .option('--key-compromise-proof <file>', 'keyCompromise from the subscriber: a CSR signed by the compromised key (CPS 5.7.3)')
    .option('--defer-crl', 'record the revocation only; issue the CRL and OCSP responses later'))
    .action(async function (this: Command, o: { ca: string; serial: string; reason: string; invalidityDate?: string; approvedBy?: string; keyCompromiseProof?: string; deferCrl?: boolean; operator: string; witness: string; credential: string[] }) {
      const invalidityDate = o.invalidityDate ? new Date(o.invalidityDate) : undefined;
      if (invalidityDate && Number.isNaN(invalidityDate.getTime())) usage('OPTION_VALUE_INVALID', `--invalidity-date ${o.invalidityDate} is not an ISO 8601 time`);
      const proof = o.keyCompromiseProof ? readInput(o.keyCompromiseProof, 'key-compromise proof') : undefined;
      await withInstallation(this, async (inst) => {
        const r = await revokeCertificate(inst, { caName: o.ca, serial: o.serial, reason: o.reason, invalidityDate, approvedBy: o.approvedBy, keyCompromiseProof: proof, deferCrl: o.deferCrl, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential) });
        print(this, { serial: r.serialHex, revokedAt: r.revokedAt, reason: r.reason, crlNumber: r.crl?.crlNumber ?? null, ocspResponses: r.ocspResponses, transcript: r.transcriptFile, backup: r.backup }, [
          `Revoked ${o.ca} ${r.serialHex} (${r.reason}) at ${r.revokedAt.toISOString()}`,
          r.crl ? `  CRL #${r.crl.crlNumber} issued (${r.crl.entries} entries, next update ${r.crl.nextUpdate.toISOString()}); ${r.ocspResponses} OCSP responses re-signed` : '  CRL deferred: issue it with `rootca crl issue` and re-sign OCSP within 24 hours (BR 4.9.10)',
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
          '  next: rootca publish, then import the file on the online side',
        ].join('\n'));
      });
    });

  const crl = program.command('crl').description('certificate revocation lists (R-4.2)');
  people(crl.command('issue').description('issue the CA\'s next CRL').requiredOption('--ca <name>', 'the CA').option('--out <file>', 'also write the CRL (DER) here').option(RETIRED_KEY, RETIRED_KEY_HELP))
    .action(async function (this: Command, o: { ca: string; out?: string; retiredKey?: string | true; operator: string; witness: string; credential: string[] }) {
      await withInstallation(this, async (inst) => {
        const r = await issueCrl(inst, { caName: o.ca, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential), retiredKey: o.retiredKey });
        if (o.out) writeFileSync(o.out, r.der, { flag: 'wx' });
        print(this, { crlNumber: r.crlNumber, entries: r.entries, thisUpdate: r.thisUpdate, nextUpdate: r.nextUpdate, sha256: r.sha256, transcript: r.transcriptFile, backup: r.backup },
          `CRL #${r.crlNumber} of ${o.ca}: ${r.entries} entries, ${r.thisUpdate.toISOString()} .. ${r.nextUpdate.toISOString()}${o.out ? `\n  wrote ${o.out}` : ''}\n  transcript ${r.transcriptFile}\n${backupLine(r.backup)}`);
      });
    });

  people(program.command('ocsp').description('OCSP (R-2.3)').command('presign').description('pre-sign OCSP responses (SHA-1 and SHA-256 CertIDs) for every certificate the signing key issued').requiredOption('--ca <name>', 'the CA').option(RETIRED_KEY, RETIRED_KEY_HELP))
    .action(async function (this: Command, o: { ca: string; retiredKey?: string | true; operator: string; witness: string; credential: string[] }) {
      await withInstallation(this, async (inst) => {
        const r = await presignOcsp(inst, { caName: o.ca, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential), retiredKey: o.retiredKey });
        const other = r.otherKey.length ? `\n  ${r.otherKey.length} certificates of ${o.ca} were issued by another of its keys: ${o.retiredKey ? 'run it without --retired-key' : 'rootca ocsp presign --ca ' + o.ca + ' --retired-key'} for them` : '';
        print(this, r, `${r.responses} OCSP responses pre-signed for ${r.certificates} certificates of ${o.ca}${other}\n  transcript ${r.transcriptFile}\n${backupLine(r.backup)}`);
      });
    });

  people(program.command('publish').description('write the signed publication file for the online side (R-2.4)')
    .requiredOption('--out <file>', 'the publication file (never overwritten)')
    .requiredOption('--signer <ca>', 'the root whose key signs the manifest'))
    .action(async function (this: Command, o: { out: string; signer: string; operator: string; witness: string; credential: string[] }) {
      await withInstallation(this, async (inst) => {
        const r = await publish(inst, { signerCa: o.signer, out: o.out, operator: o.operator, witness: o.witness, passphrases: passphrasesFrom(o.credential) });
        print(this, r, [`Publication v${r.version}: ${r.items} items, signed by ${o.signer}`, `  wrote ${r.path} (sha256 ${r.sha256})`, ...r.warnings.map((w) => `  WARNING ${w}`), `  transcript ${r.transcriptFile}`].join('\n'));
      });
    });

  program.command('cert').description('issued certificates')
    .command('list').description('certificates a CA issued, with their status').option('--ca <name>', 'only this CA').option('--pem <serial>', 'print one certificate in PEM')
    .action(async function (this: Command, o: { ca?: string; pem?: string }) {
      await withInstallation(this, (inst) => {
        const certs = listIssued(inst, o.ca);
        if (o.pem) {
          const c = certs.find((x) => x.serialHex === o.pem!.toLowerCase());
          if (!c) usage('SELECTION_NOT_FOUND', `no certificate with serial ${o.pem}`);
          return void process.stdout.write(derToPem(c.der, 'CERTIFICATE'));
        }
        print(this, certs.map(({ der: _d, ...c }) => c), certs.map((c) => `${c.caName.padEnd(12)} ${c.serialHex} ${c.profile.padEnd(6)} ${(c.revocation ? `revoked ${c.revocation.revokedAt.slice(0, 10)} ${c.revocation.reason}` : 'good').padEnd(36)} ${c.subject}`).join('\n') || '(none)');
      });
    });
}
