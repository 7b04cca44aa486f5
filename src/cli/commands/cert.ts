/** `rootca cert list`: the certificates a CA issued, with their status. */
import type { Command } from 'commander';
import { derToPem } from '../../pki/pem.ts';
import { print, usage, withInstallation } from '../context.ts';

/** Defines `rootca cert`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cert: Command): void {
  cert
    .command('list')
    .description('certificates a CA issued, with their status')
    .option('--ca <name>', 'only this CA')
    .option('--pem <serial>', 'print one certificate in PEM')
    .action(async function (this: Command, o: { ca?: string; pem?: string }) {
      const { listIssued } = await import('../../issuance/certificates.ts');
      await withInstallation(this, (inst) => {
        const certs = listIssued(inst, o.ca);
        if (o.pem) {
          const c = certs.find((x) => x.serialHex === o.pem!.toLowerCase());
          if (!c) usage('SELECTION_NOT_FOUND', `no certificate with serial ${o.pem}`);
          return void process.stdout.write(derToPem(c.der, 'CERTIFICATE'));
        }
        print(
          this,
          certs.map(({ der: _d, ...c }) => c),
          certs
            .map(
              (c) =>
                `${c.caName.padEnd(12)} ${c.serialHex} ${c.profile.padEnd(6)} ${(c.revocation ? `revoked ${c.revocation.revokedAt.slice(0, 10)} ${c.revocation.reason}` : 'good').padEnd(36)} ${c.subject}`,
            )
            .join('\n') || '(none)',
        );
      });
    });
}
