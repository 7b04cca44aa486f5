/** `rootca init | ceremony | ca | csr | issue`: the installation, its roots, and issuance. */
import { Command, Option } from 'commander';
import { getCa, listCas } from '../../ca/cas.ts';
import { initInstallation } from '../../ca/installation.ts';
import { issueCertificate, issueFromApplication, type IssueResult } from '../../ca/issuance.ts';
import { loadRootCeremony, runRootCeremony } from '../../ca/root-ceremony.ts';
import { CaError } from '../../errors.ts';
import { formatFindings } from '../../lint/index.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../../pki/algorithms.ts';
import { formatCsrInspection, inspectCsr } from '../../pki/csr.ts';
import { derToPem } from '../../pki/pem.ts';
import { backupLine } from './archive.ts';
import { EXT_KEY_USAGES, type IssuedProfileName } from '../../pki/profiles.ts';
import { collect, CREDENTIAL_HELP, homeOf, passphrasesFrom, print, readInput, usage, wholeNumber, withInstallation } from '../context.ts';
import { parseCredentialOptions } from '../passphrases.ts';

export function caCommands(program: Command): void {
  program
    .command('init')
    .description('create a new installation (SQLite store + config file)')
    .option('--name <name>', 'installation name', 'rootca')
    .option('--base-url <url>', 'repository base URL named in issued certificates (http://)')
    .action(function (this: Command, o: { name: string; baseUrl?: string }) {
      const inst = initInstallation(homeOf(this), { name: o.name, baseUrl: o.baseUrl });
      inst.close();
      print(this, { home: inst.home, name: o.name }, `Created installation "${o.name}" in ${inst.home}`);
    });

  program.command('ceremony').description('key ceremonies')
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
      await withInstallation(this, async (inst) => {
        const loaded = loadRootCeremony(inst, bytes, file);
        const r = await runRootCeremony(inst, { ceremony: loaded, baseDir: o.outDir, passphrases: passphrasesFrom(o.credential) });
        print(this, { ca: r.caName, keyId: r.keyId, serial: r.serialHex, subject: r.subject, notBefore: r.notBefore, notAfter: r.notAfter, outputs: r.outputs, custodians: r.custodians, witness: r.witness, warnings: r.warnings, transcript: r.transcriptFile },
          [
            ...r.warnings.map((w) => `WARNING ${w}`),
            `Root CA ${r.caName} created (ceremony #${r.ceremonyId})`,
            `  subject    ${r.subject}`,
            `  serial     ${r.serialHex}`,
            `  validity   ${r.notBefore.toISOString()} .. ${r.notAfter.toISOString()}`,
            `  key        ${r.keyId} (activated once by ${r.custodians.join(', ')}; witness ${r.witness}; deactivated)`,
            ...r.outputs.map((f) => `  wrote      ${f}`),
            `  transcript ${r.transcriptFile}`,
          ].join('\n'));
      });
    });

  const ca = program.command('ca').description('the CAs of this installation');
  ca.command('list').description('list CAs').action(async function (this: Command) {
    await withInstallation(this, (inst) => {
      const cas = listCas(inst);
      print(this, cas.map(({ certificateDer: _d, ...c }) => c),
        cas.map((c) => `${c.name.padEnd(14)} ${c.status.padEnd(8)} ${c.signatureAlgorithm.padEnd(24)} ${c.notAfter.slice(0, 10)}  ${c.subject}`).join('\n') || '(no CAs)');
    });
  });
  ca.command('show <name>').description('show a CA; --pem prints its certificate').option('--pem', 'print the certificate in PEM').action(async function (this: Command, name: string, o: { pem?: boolean }) {
    await withInstallation(this, (inst) => {
      const c = getCa(inst, name);
      if (o.pem) return void process.stdout.write(derToPem(c.certificateDer, 'CERTIFICATE'));
      const { certificateDer, ...rest } = c;
      print(this, { ...rest, certificatePem: derToPem(certificateDer, 'CERTIFICATE') }, [
        `${c.name} (${c.status})`, `  subject    ${c.subject}`, `  serial     ${c.serialHex}`, `  validity   ${c.notBefore} .. ${c.notAfter}`,
        `  algorithm  ${c.signatureAlgorithm}${c.legacySha1 ? ' (LEGACY, R-1.3)' : ''}`, `  sha256     ${c.certificateSha256}`,
        `  key        ${c.keyId}: ${c.threshold} of ${c.custodians.length} custodians (${c.custodians.join(', ')})`,
      ].join('\n'));
    });
  });

  program.command('csr').description('certificate signing requests (PKCS#10)')
    .command('inspect <file>').description('show a CSR (PEM or DER) and every reason it would be refused; exit 1 if any')
    .action(async function (this: Command, file: string) {
      const i = inspectCsr(readInput(file, 'CSR'));
      print(this, { subject: i.requested.subjectText, publicKey: i.publicKey.algorithm, signatureValid: i.signatureValid, problems: i.problems }, formatCsrInspection(i));
      if (i.problems.length) process.exitCode = 1;
    });

  program
    .command('issue')
    .description('issue a certificate: from an approved --application, or directly from --ca/--profile/--csr where config allows (lint, sign once, lint again)')
    .requiredOption('--operator <name>', 'the CA Administrator performing the issuance')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing the key operation')
    .option('--application <id>', 'an approved application (R-3.5)', wholeNumber('--application'))
    .option('--ca <name>', 'issuing CA (direct issuance)')
    .addOption(new Option('--profile <profile>', 'certificate profile (direct issuance)').choices(['subca', 'tsa', 'ta', 'ocsp']))
    .option('--csr <file>', 'PKCS#10 request, PEM or DER (direct issuance)')
    .option('--out <file>', 'write the certificate (PEM); never overwritten')
    .option('--der-out <file>', 'also write it as DER')
    .option('--requester <text>', 'applicant organisation / contact, recorded with the certificate')
    .option('--validity-days <n>', 'certificate life in days (profile default and maximum apply; clamped to the CA)', wholeNumber('--validity-days'))
    .option('--path-len <n>', 'subca: basicConstraints pathLenConstraint', wholeNumber('--path-len'))
    .option('--digital-signature', 'subca: add digitalSignature to keyUsage')
    .option('--non-repudiation', 'tsa/ta: add nonRepudiation to keyUsage')
    .option('--eku <purpose>', `subca: extended key usage (repeatable): ${Object.keys(EXT_KEY_USAGES).join(', ')} or a dotted OID`, collect, [])
    .option('--permit-dns <name>', 'subca: name constraints, permitted DNS subtree (repeatable)', collect, [])
    .option('--exclude-dns <name>', 'subca: name constraints, excluded DNS subtree (repeatable)', collect, [])
    .option('--policy <oid>', 'extra Certificate Policy OID (registered for the CA, or 2.23.140.1.*) (repeatable)', collect, [])
    .addOption(new Option('--signature-algorithm <alg>', 'override the CA default').choices(Object.keys(SIGNATURE_ALGORITHMS)))
    .option('--allow-legacy-sha1', 'R-1.3: allow SHA-1 issuance (audited)')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: {
      operator: string; witness: string; application?: number; ca?: string; profile?: IssuedProfileName; csr?: string; out?: string; derOut?: string; requester?: string; validityDays?: number; pathLen?: number;
      digitalSignature?: boolean; nonRepudiation?: boolean; eku: string[]; permitDns: string[]; excludeDns: string[]; policy: string[]; signatureAlgorithm?: SignatureAlgorithmName; allowLegacySha1?: boolean; credential: string[];
    }) {
      const passphrases = passphrasesFrom(o.credential);
      const common = { operator: o.operator, witness: o.witness, passphrases, outPem: o.out, outDer: o.derOut, signatureAlgorithm: o.signatureAlgorithm, allowLegacySha1: o.allowLegacySha1 };
      let run: (inst: Parameters<typeof issueCertificate>[0]) => Promise<IssueResult>;
      if (o.application !== undefined) {
        if (o.ca || o.profile || o.csr) usage('OPTIONS_CONFLICT', '--application takes CA, profile and CSR from the application; do not give --ca/--profile/--csr');
        run = (inst) => issueFromApplication(inst, { ...common, applicationId: o.application! });
      } else {
        if (!o.ca || !o.profile || !o.csr) usage('OPTION_REQUIRED', 'give --application ID, or --ca, --profile and --csr for direct issuance');
        const csr = readInput(o.csr, 'CSR');
        const eku = o.eku.map((e) => EXT_KEY_USAGES[e] ?? (/^[0-2](\.\d+)+$/.test(e) ? e : usage('OPTION_VALUE_INVALID', `--eku ${e}: expected one of ${Object.keys(EXT_KEY_USAGES).join(', ')} or a dotted OID`)));
        run = (inst) => issueCertificate(inst, {
          ...common, caName: o.ca!, profile: o.profile!, csr, requester: o.requester, validityDays: o.validityDays, pathLenConstraint: o.pathLen, digitalSignature: o.digitalSignature,
          nonRepudiation: o.nonRepudiation, extKeyUsage: eku, permittedDnsNames: o.permitDns, excludedDnsNames: o.excludeDns, extraPolicyOids: o.policy,
        });
      }
      await withInstallation(this, async (inst) => {
        const r = await run(inst);
        print(this, { certificateId: r.certificateId, serial: r.serialHex, subject: r.subject, notBefore: r.notBefore, notAfter: r.notAfter, clamped: r.clamped, notes: r.notes, lintWarnings: r.lintWarnings, outputs: r.outputs, custodians: r.custodians, witness: r.witness, transcript: r.transcriptFile, backup: r.backup, certificatePem: r.certificatePem },
          [
            ...r.notes.map((n) => `NOTE ${n}`),
            `Issued certificate #${r.certificateId}`,
            `  subject    ${r.subject}`,
            `  serial     ${r.serialHex}`,
            `  validity   ${r.notBefore.toISOString()} .. ${r.notAfter.toISOString()}${r.clamped ? ' (clamped to the CA)' : ''}`,
            `  signed     once; key activated by ${r.custodians.join(', ')}; operator ${o.operator}; witness ${r.witness}`,
            ...(r.lintWarnings.length ? [`  lint warnings:\n${formatFindings(r.lintWarnings).replace(/^/gm, '    ')}`] : []),
            ...r.outputs.map((f) => `  wrote      ${f}`),
            `  transcript ${r.transcriptFile}`,
            backupLine(r.backup),
            ...(r.outputs.length ? [] : [r.certificatePem.trimEnd()]),
          ].join('\n'));
      });
    });
}
