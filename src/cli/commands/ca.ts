/**
 * `rootca ca …`: the CAs of this installation: list and show; renewal, re-key and the
 * certificates they made (CPS 5.6, R-9.1); how a CA ends: compromise and termination
 * (CPS 5.7.1, 5.8; ).
 */
import { Option, type Command } from 'commander';
import type { RekeyResult } from '../../lifecycle/rekey.ts';
import type { ChangeoverResult } from '../../lifecycle/renewal.ts';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../../pki/algorithms.ts';
import { derToPem } from '../../pki/pem.ts';
import { backupLine } from '../report-lines.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, usage, wholeNumber, withInstallation } from '../context.ts';
import { defineAnnounceTermination, defineCompromise, defineTerminate } from './ca/end-of-life.ts';

const KEY_ALGORITHMS: Record<string, KeyAlgorithm> = {
  'rsa-2048': { kind: 'rsa', modulusBits: 2048 },
  'rsa-3072': { kind: 'rsa', modulusBits: 3072 },
  'rsa-4096': { kind: 'rsa', modulusBits: 4096 },
  'ecdsa-p256': { kind: 'ecdsa', curve: 'P-256' },
  'ecdsa-p384': { kind: 'ecdsa', curve: 'P-384' },
};

const changeoverOptions = (c: Command) =>
  c
    .requiredOption('--ca <name>', 'the CA')
    .requiredOption('--operator <name>', 'the CA Administrator performing it')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
    .option(
      '--years <n>',
      'validity of the new certificate in years (default: as long as the current one)',
      wholeNumber('--years'),
    )
    .addOption(
      new Option('--signature-algorithm <alg>', "default: the CA's (SHA-1 becomes sha256WithRSAEncryption)").choices(
        Object.keys(SIGNATURE_ALGORITHMS),
      ),
    )
    .option('--credential <spec>', CREDENTIAL_HELP, collect, []);

function resultLines(title: string, r: ChangeoverResult): string[] {
  return [
    ...r.warnings.map((w) => `WARNING ${w}`),
    `${title} (ceremony #${r.ceremonyId})`,
    `  serial     ${r.serialHex}`,
    `  validity   ${r.notBefore.toISOString()} .. ${r.notAfter.toISOString()}`,
    `  key        ${r.keyId}`,
    `  signed by  custodians ${r.custodians.join(', ')}; witness ${r.witness}`,
    ...r.outputs.map((f) => `  wrote      ${f}`),
    `  transcript ${r.transcriptFile}`,
    backupLine(r.backup),
  ];
}

function jsonOf(r: ChangeoverResult) {
  const { certificateDer: _d, ...rest } = r;
  return rest;
}

function defineList(ca: Command): void {
  ca.command('list')
    .description('list CAs')
    .action(async function (this: Command) {
      const { listCas } = await import('../../installation/cas.ts');
      await withInstallation(this, (inst) => {
        const cas = listCas(inst);
        print(
          this,
          cas.map(({ certificateDer: _d, ...c }) => c),
          cas
            .map(
              (c) =>
                `${c.name.padEnd(14)} ${c.status.padEnd(8)} ${c.signatureAlgorithm.padEnd(24)} ${c.notAfter.slice(0, 10)}  ${c.subject}`,
            )
            .join('\n') || '(no CAs)',
        );
      });
    });
}

function defineShow(ca: Command): void {
  ca.command('show <name>')
    .description('show a CA; --pem prints its certificate')
    .option('--pem', 'print the certificate in PEM')
    .action(async function (this: Command, name: string, o: { pem?: boolean }) {
      const { getCa } = await import('../../installation/cas.ts');
      await withInstallation(this, (inst) => {
        const c = getCa(inst, name);
        if (o.pem) return void process.stdout.write(derToPem(c.certificateDer, 'CERTIFICATE'));
        const { certificateDer, ...rest } = c;
        print(
          this,
          { ...rest, certificatePem: derToPem(certificateDer, 'CERTIFICATE') },
          [
            `${c.name} (${c.status})`,
            `  subject    ${c.subject}`,
            `  serial     ${c.serialHex}`,
            `  validity   ${c.notBefore} .. ${c.notAfter}`,
            `  algorithm  ${c.signatureAlgorithm}${c.legacySha1 ? ' (LEGACY, R-1.3)' : ''}`,
            `  sha256     ${c.certificateSha256}`,
            `  key        ${c.keyId}: ${c.threshold} of ${c.custodians.length} custodians (${c.custodians.join(', ')})`,
          ].join('\n'),
        );
      });
    });
}

function defineRenew(ca: Command): void {
  changeoverOptions(
    ca
      .command('renew')
      .description(
        'renew the CA certificate: same key, new self-signed certificate and validity (ceremony with quorum and witness)',
      ),
  )
    .option('--out <file>', 'write the new certificate (PEM); never overwritten')
    .action(async function (
      this: Command,
      o: {
        ca: string;
        operator: string;
        witness: string;
        years?: number;
        signatureAlgorithm?: SignatureAlgorithmName;
        out?: string;
        credential: string[];
      },
    ) {
      const { renewCa } = await import('../../lifecycle/renewal.ts');
      await withInstallation(this, async (inst) => {
        const r = await renewCa(inst, {
          caName: o.ca,
          operator: o.operator,
          witness: o.witness,
          years: o.years,
          signatureAlgorithm: o.signatureAlgorithm,
          out: o.out,
          passphrases: passphrasesFrom(o.credential),
        });
        print(
          this,
          jsonOf(r),
          [
            ...resultLines(`Renewed ${r.caName}: same key, new certificate`, r),
            ...(r.outputs.length ? [] : [r.certificatePem.trimEnd()]),
          ].join('\n'),
        );
      });
    });
}

function defineRekey(ca: Command): void {
  changeoverOptions(
    ca
      .command('rekey')
      .description(
        're-key the CA: new key (M-of-N), new self-signed certificate, link certificates OldWithNew and NewWithOld (RFC 4210 4.4)',
      ),
  )
    .option(
      '--holder <name>',
      "custodian of the new key (repeatable; default: the current key's custodians)",
      collect,
      [],
    )
    .option(
      '--threshold <m>',
      "custodians needed to activate the new key (default: the current key's)",
      wholeNumber('--threshold'),
    )
    .addOption(
      new Option('--key-algorithm <alg>', 'the new key (default: as the current key)').choices(
        Object.keys(KEY_ALGORITHMS),
      ),
    )
    .option('--out-dir <dir>', 'write NAME.pem, NAME-oldwithnew.pem, NAME-newwithold.pem here; never overwritten')
    .action(async function (
      this: Command,
      o: {
        ca: string;
        operator: string;
        witness: string;
        years?: number;
        signatureAlgorithm?: SignatureAlgorithmName;
        holder: string[];
        threshold?: number;
        keyAlgorithm?: string;
        outDir?: string;
        credential: string[];
      },
    ) {
      const { rekeyCa } = await import('../../lifecycle/rekey.ts');
      await withInstallation(this, async (inst) => {
        const r: RekeyResult = await rekeyCa(inst, {
          caName: o.ca,
          operator: o.operator,
          witness: o.witness,
          years: o.years,
          signatureAlgorithm: o.signatureAlgorithm,
          holders: o.holder,
          threshold: o.threshold,
          keyAlgorithm: o.keyAlgorithm ? KEY_ALGORITHMS[o.keyAlgorithm] : undefined,
          outDir: o.outDir,
          passphrases: passphrasesFrom(o.credential),
        });
        print(
          this,
          {
            ...jsonOf(r),
            previousKeyId: r.previousKeyId,
            newKeyCustodians: r.newKeyCustodians,
            links: r.links.map(({ certificateDer: _d, ...l }) => l),
          },
          [
            ...resultLines(`Re-keyed ${r.caName}: new key ${r.keyId} replaces ${r.previousKeyId} (retired)`, r),
            `  new key    activated by ${r.newKeyCustodians.join(', ')}`,
            ...r.links.map((l) => `  link       ${l.kind} ${l.serialHex} valid to ${l.notAfter.toISOString()}`),
            '  next: rootca crl issue and rootca ocsp presign with the new key, then rootca publish; give relying parties the new root and both link certificates',
          ].join('\n'),
        );
      });
    });
}

function defineChangeovers(ca: Command): void {
  ca.command('changeovers <name>')
    .description(
      "certificates the CA's renewals and re-keys made; --pem KIND prints the newest of a kind (renewed, new-with-new, old-with-new, new-with-old)",
    )
    .option('--pem <kind>', 'print the newest certificate of this kind in PEM')
    .action(async function (this: Command, name: string, o: { pem?: string }) {
      const { changeoverCertificates } = await import('../../lifecycle/ca-certificate-history.ts');
      await withInstallation(this, (inst) => {
        const list = changeoverCertificates(inst, name);
        if (o.pem) {
          const c = list.filter((x) => x.kind === o.pem).at(-1);
          if (!c) usage('SELECTION_NOT_FOUND', `${name} has no ${o.pem} certificate`);
          return void process.stdout.write(derToPem(c.der, 'CERTIFICATE'));
        }
        print(
          this,
          list.map(({ der: _d, ...c }) => c),
          list
            .map(
              (c) =>
                `${c.createdAt.slice(0, 10)} ${c.kind.padEnd(13)} ${c.serialHex} ${c.notBefore.slice(0, 10)}..${c.notAfter.slice(0, 10)} key ${c.subjectKeyId} signed by ${c.signerKeyId}`,
            )
            .join('\n') || '(no changeovers)',
        );
      });
    });
}

/** Defines `rootca ca`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(ca: Command): void {
  defineList(ca);
  defineShow(ca);
  defineRenew(ca);
  defineRekey(ca);
  defineChangeovers(ca);
  defineCompromise(ca);
  defineAnnounceTermination(ca);
  defineTerminate(ca);
}
