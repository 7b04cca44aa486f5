/** `rootca issue`: a certificate from an approved application or directly from a CSR. */
import { Option, type Command } from 'commander';
import type { Installation } from '../../installation/installation.ts';
import type { IssueResult } from '../../issuance/issuance.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../../pki/algorithms.ts';
import type { IssuedProfileName } from '../../pki/profiles.ts';
import { addSubcaFlags, subcaOptionsFrom, type SubcaFlags } from '../subca-options.ts';
import { backupLine } from '../report-lines.ts';
import {
  collect,
  CREDENTIAL_HELP,
  passphrasesFrom,
  print,
  readInput,
  usage,
  wholeNumber,
  withInstallation,
} from '../context.ts';

/** Defines `rootca issue`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  addIssueOptions(cmd).action(async function (this: Command, o: IssueOptions) {
    const issuance = await import('../../issuance/issuance.ts');
    const { formatFindings } = await import('../../lint/index.ts');
    const run = issuanceFor(o, issuance);
    await withInstallation(this, async (inst) => {
      const r = await run(inst);
      reportIssued(this, o, r, formatFindings);
    });
  });
}

/** The parsed options of `rootca issue`. */
type IssueOptions = SubcaFlags & {
  operator: string;
  witness: string;
  application?: number;
  ca?: string;
  profile?: IssuedProfileName;
  csr?: string;
  out?: string;
  derOut?: string;
  requester?: string;
  validityDays?: number;
  pathLen?: number;
  digitalSignature?: boolean;
  nonRepudiation?: boolean;
  signatureAlgorithm?: SignatureAlgorithmName;
  allowLegacySha1?: boolean;
  credential: string[];
};

/** The options of `rootca issue`: who performs it, what to issue from, profile tweaks and outputs. */
function addIssueOptions(cmd: Command): Command {
  cmd
    .requiredOption('--operator <name>', 'the CA Administrator performing the issuance')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing the key operation')
    .option('--application <id>', 'an approved application (R-3.5)', wholeNumber('--application'))
    .option('--ca <name>', 'issuing CA (direct issuance)')
    .addOption(
      new Option('--profile <profile>', 'certificate profile (direct issuance)').choices([
        'subca',
        'tsa',
        'ta',
        'ocsp',
      ]),
    )
    .option('--csr <file>', 'PKCS#10 request, PEM or DER (direct issuance)')
    .option('--out <file>', 'write the certificate (PEM); never overwritten')
    .option('--der-out <file>', 'also write it as DER')
    .option('--requester <text>', 'applicant organisation / contact, recorded with the certificate')
    .option(
      '--validity-days <n>',
      'certificate life in days (profile default and maximum apply; clamped to the CA)',
      wholeNumber('--validity-days'),
    )
    .option('--path-len <n>', 'subca: basicConstraints pathLenConstraint', wholeNumber('--path-len'))
    .option('--digital-signature', 'subca: add digitalSignature to keyUsage')
    .option('--non-repudiation', 'tsa/ta: add nonRepudiation to keyUsage');
  return addSubcaFlags(cmd)
    .addOption(
      new Option('--signature-algorithm <alg>', 'override the CA default').choices(Object.keys(SIGNATURE_ALGORITHMS)),
    )
    .option('--allow-legacy-sha1', 'R-1.3: allow SHA-1 issuance (audited)')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, []);
}

/** Checks the options and chooses the issuance (from an application, or direct from a CSR) before the store opens. */
function issuanceFor(
  o: IssueOptions,
  { issueCertificate, issueFromApplication }: typeof import('../../issuance/issuance.ts'),
): (inst: Installation) => Promise<IssueResult> {
  const passphrases = passphrasesFrom(o.credential);
  const common = {
    operator: o.operator,
    witness: o.witness,
    passphrases,
    outPem: o.out,
    outDer: o.derOut,
    signatureAlgorithm: o.signatureAlgorithm,
    allowLegacySha1: o.allowLegacySha1,
  };
  let run: (inst: Installation) => Promise<IssueResult>;
  if (o.application !== undefined) {
    if (o.ca || o.profile || o.csr)
      usage(
        'OPTIONS_CONFLICT',
        '--application takes CA, profile and CSR from the application; do not give --ca/--profile/--csr',
      );
    // The approved request is the input: a purpose, policy or constraint given here would be ignored.
    if (Object.values(subcaOptionsFrom(o)).some((v) => v !== undefined))
      usage(
        'OPTIONS_CONFLICT',
        '--application issues what was approved; --purpose, --eku, --policy and name constraints go on application submit',
      );
    run = (inst) => issueFromApplication(inst, { ...common, applicationId: o.application! });
  } else {
    if (!o.ca || !o.profile || !o.csr)
      usage('OPTION_REQUIRED', 'give --application ID, or --ca, --profile and --csr for direct issuance');
    const csr = readInput(o.csr, 'CSR');
    run = (inst) =>
      issueCertificate(inst, {
        ...common,
        caName: o.ca!,
        profile: o.profile!,
        csr,
        requester: o.requester,
        validityDays: o.validityDays,
        pathLenConstraint: o.pathLen,
        digitalSignature: o.digitalSignature,
        nonRepudiation: o.nonRepudiation,
        ...subcaOptionsFrom(o),
      });
  }
  return run;
}

/** Prints the issued certificate: JSON fields, or the human summary with lint warnings and outputs. */
export function reportIssued(
  cmd: Command,
  o: { operator: string },
  r: IssueResult,
  formatFindings: typeof import('../../lint/index.ts').formatFindings,
): void {
  print(
    cmd,
    {
      certificateId: r.certificateId,
      serial: r.serialHex,
      subject: r.subject,
      notBefore: r.notBefore,
      notAfter: r.notAfter,
      clamped: r.clamped,
      notes: r.notes,
      lintWarnings: r.lintWarnings,
      outputs: r.outputs,
      custodians: r.custodians,
      witness: r.witness,
      transcript: r.transcriptFile,
      backup: r.backup,
      certificatePem: r.certificatePem,
    },
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
    ].join('\n'),
  );
}
