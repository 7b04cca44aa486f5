/** `rootca tsa init | list | stamp`: the internal time-stamping authority (CPS 5.5.5, R-8.3). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  collect,
  CREDENTIAL_HELP,
  passphrasesFrom,
  print,
  readInput,
  wholeNumber,
  withInstallation,
} from '../context.ts';
import { backupLine } from '../report-lines.ts';

/** Defines `rootca tsa`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(tsa: Command): void {
  defineInit(tsa);
  defineList(tsa);
  defineStamp(tsa);
}

/** `tsa init`: make the TSA key and have a root certify it. */
function defineInit(tsa: Command): void {
  tsa
    .command('init')
    .description(
      'make the TSA key (sealed 1-of-N to the holders) and have a root issue its certificate under the Time-Stamp CP',
    )
    .requiredOption('--ca <name>', 'the root that issues the TSA certificate')
    .requiredOption(
      '--holders <names>',
      'CA Administrators who each hold a sealed copy of the TSA key, comma-separated',
    )
    .requiredOption('--operator <name>', 'the CA Administrator performing it (one of the holders)')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
    .option('--common-name <text>', 'subject CN of the TSA certificate')
    .option('--organization <text>', 'subject O (default: the installation name)')
    .option('--country <cc>', 'subject C', 'JP')
    .option('--validity-days <n>', 'life of the TSA certificate', wholeNumber('--validity-days'))
    .option('--out <file>', 'also write the TSA certificate (PEM) here')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: {
        ca: string;
        holders: string;
        operator: string;
        witness: string;
        commonName?: string;
        organization?: string;
        country: string;
        validityDays?: number;
        out?: string;
        credential: string[];
      },
    ) {
      const { initTsa } = await import('../../records/tsa-setup.ts');
      await withInstallation(this, async (inst) => {
        const r = await initTsa(inst, {
          caName: o.ca,
          holders: o.holders.split(','),
          operator: o.operator,
          witness: o.witness,
          passphrases: passphrasesFrom(o.credential),
          commonName: o.commonName,
          organization: o.organization,
          country: o.country,
          validityDays: o.validityDays,
        });
        if (o.out) writeFileSync(o.out, r.certificatePem, { flag: 'wx' });
        const { certificateDer: _d, ...json } = r;
        print(
          this,
          json,
          [
            `TSA ${r.keyId} (${r.kind}) in service, certificate ${r.serialHex} from ${r.caName}, policy ${r.policyOid}`,
            `  holders    ${r.holders.join(', ')}`,
            `  notAfter   ${r.notAfter.toISOString()}`,
            ...(r.superseded.length ? [`  superseded ${r.superseded.join(', ')}`] : []),
            ...(o.out ? [`  wrote      ${o.out}`] : []),
            `  transcript ${r.transcriptFile}`,
            backupLine(r.backup),
          ].join('\n'),
        );
      });
    });
}

/** `tsa list`: the TSA keys and certificates, one line each. */
function defineList(tsa: Command): void {
  tsa
    .command('list')
    .description('TSA keys and certificates')
    .action(async function (this: Command) {
      const { listTsas } = await import('../../records/time-stamping.ts');
      await withInstallation(this, (inst) => {
        const all = listTsas(inst);
        print(
          this,
          all.map(({ certificateDer: _d, publicKeySpki: _k, ...t }) => t),
          all
            .map(
              (t) =>
                `${t.keyId.padEnd(32)} ${t.status.padEnd(10)} ${t.kind} ${t.caName} policy ${t.policyOid} holders ${t.holders.join(',')}`,
            )
            .join('\n') || '(no TSA)',
        );
      });
    });
}

/** `tsa stamp`: time-stamp a file with the internal TSA. */
function defineStamp(tsa: Command): void {
  tsa
    .command('stamp <file>')
    .description('time-stamp a file; writes an RFC 3161 TimeStampResp (openssl ts -verify -data FILE -in OUT …)')
    .requiredOption('--holder <name>', 'a holder of the TSA key')
    .requiredOption('--out <file>', 'the TimeStampResp (DER), never overwritten')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, file: string, o: { holder: string; out: string; credential: string[] }) {
      const data = readInput(file, 'input');
      const { stampWithTsa } = await import('../../records/time-stamping.ts');
      const { timeStampResponse } = await import('../../pki/tsp.ts');
      await withInstallation(this, async (inst) => {
        const r = await stampWithTsa(inst, {
          holder: o.holder,
          passphrases: passphrasesFrom(o.credential),
          data,
          what: resolve(file),
        });
        writeFileSync(o.out, timeStampResponse(r.token), { flag: 'wx' });
        print(
          this,
          { out: o.out, serial: r.serialHex, genTime: r.genTime, tsa: r.keyId },
          `Time-stamped ${file} at ${r.genTime.toISOString()} (serial ${r.serialHex}, ${r.keyId})\n  wrote ${o.out}`,
        );
      });
    });
}
