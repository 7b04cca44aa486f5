/** `rootca application …`: the RA workflow (R-3.5). */
import { createHash } from 'node:crypto';
import { type Command, Option } from 'commander';
import type { Application } from '../../issuance/applications.ts';
import {
  collect,
  CREDENTIAL_HELP,
  passphrasesFrom,
  print,
  readInput,
  wholeNumber,
  withInstallation,
} from '../context.ts';
import { addSubcaFlags, subcaOptionsFrom, type SubcaFlags } from '../subca-options.ts';

function summary(a: Application): string {
  return [
    `application #${a.id}: ${a.state}`,
    `  ${a.profile} from ${a.caName} for ${a.applicantOrganisation} <${a.applicantContact}>`,
    `  submitted ${a.submittedAt} (received by ${a.submittedBy})`,
    ...(a.decidedBy
      ? [
          `  ${a.state === 'rejected' ? 'rejected' : 'approved'} ${a.decidedAt} by ${a.decidedBy}${a.decisionReason ? `: ${a.decisionReason}` : ''}`,
        ]
      : []),
    ...(a.identification
      ? [
          `  identified by ${a.identification.documentType} ${a.identification.reference}, checked by ${a.identification.checkedBy}`,
        ]
      : []),
    ...(a.certificateId ? [`  issued as certificate #${a.certificateId} by ${a.issuedBy}`] : []),
    ...(a.acceptedAt ? [`  accepted ${a.acceptedAt}`] : []),
  ].join('\n');
}

/** csrDer stays bytes: --json prints its digest, the CSR itself only with --with-blobs. */
const json = (a: Application) => ({ ...a, csrSha256: createHash('sha256').update(a.csrDer).digest('hex') });

/** The use cases, loaded when a subcommand runs. */
const applications = () => import('../../issuance/applications.ts');

function defineSubmit(app: Command): void {
  const submit = app
    .command('submit')
    .description('receive an application (an RA officer records it)')
    .requiredOption('--by <name>', 'the Person in Charge of RA receiving it')
    .requiredOption('--ca <name>', 'issuing CA')
    .addOption(
      new Option('--profile <profile>', 'certificate profile')
        .choices(['subca', 'tsa', 'ta', 'ocsp'])
        .makeOptionMandatory(),
    )
    .requiredOption('--csr <file>', 'PKCS#10 request, PEM or DER')
    .requiredOption('--organisation <text>', 'applicant organisation')
    .requiredOption('--contact <text>', 'applicant contact (name, e-mail)')
    .option('--validity-days <n>', 'requested life in days', wholeNumber('--validity-days'))
    .option('--path-len <n>', 'subca: requested pathLenConstraint', wholeNumber('--path-len'))
    .option('--credential <spec>', CREDENTIAL_HELP, collect, []);
  addSubcaFlags(submit).action(async function (
    this: Command,
    o: SubcaFlags & {
      by: string;
      ca: string;
      profile: string;
      csr: string;
      organisation: string;
      contact: string;
      validityDays?: number;
      pathLen?: number;
      credential: string[];
    },
  ) {
    const csr = readInput(o.csr, 'CSR');
    const { submitApplication } = await applications();
    await withInstallation(this, async (inst) => {
      const a = await submitApplication(inst, {
        by: o.by,
        passphrases: passphrasesFrom(o.credential),
        caName: o.ca,
        profile: o.profile,
        csr,
        applicantOrganisation: o.organisation,
        applicantContact: o.contact,
        requested: {
          validityDays: o.validityDays,
          pathLenConstraint: o.pathLen,
          ...subcaOptionsFrom(o),
        },
      });
      print(this, json(a), summary(a));
    });
  });
}

function defineApprove(app: Command): void {
  app
    .command('approve <id>')
    .description(
      'approve an application, recording how the applicant was identified (another RA officer than the one who received it)',
    )
    .requiredOption('--by <name>', 'the Person in Charge of RA deciding')
    .requiredOption('--id-document <type>', 'identification document type (e.g. "certificate of registered matters")')
    .requiredOption('--id-reference <ref>', 'its reference number')
    .option('--notes <text>', 'what else was checked')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      id: string,
      o: { by: string; idDocument: string; idReference: string; notes?: string; credential: string[] },
    ) {
      const { approveApplication } = await applications();
      await withInstallation(this, async (inst) => {
        const a = await approveApplication(inst, {
          id: wholeNumber('id')(id),
          by: o.by,
          passphrases: passphrasesFrom(o.credential),
          identification: { documentType: o.idDocument, reference: o.idReference, notes: o.notes },
        });
        print(this, json(a), summary(a));
      });
    });
}

function defineReject(app: Command): void {
  app
    .command('reject <id>')
    .description('reject an application with a reason')
    .requiredOption('--by <name>', 'the Person in Charge of RA deciding')
    .requiredOption('--reason <text>', 'why')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, id: string, o: { by: string; reason: string; credential: string[] }) {
      const { rejectApplication } = await applications();
      await withInstallation(this, async (inst) => {
        const a = await rejectApplication(inst, {
          id: wholeNumber('id')(id),
          by: o.by,
          passphrases: passphrasesFrom(o.credential),
          reason: o.reason,
        });
        print(this, json(a), summary(a));
      });
    });
}

function defineAccept(app: Command): void {
  app
    .command('accept <id>')
    .description('record that the subscriber accepted the issued certificate (CPS 4.4)')
    .requiredOption('--by <name>', 'the Person in Charge of RA recording it')
    .option('--note <text>', 'how acceptance was given')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, id: string, o: { by: string; note?: string; credential: string[] }) {
      const { recordAcceptance } = await applications();
      await withInstallation(this, async (inst) => {
        const a = await recordAcceptance(inst, {
          id: wholeNumber('id')(id),
          by: o.by,
          passphrases: passphrasesFrom(o.credential),
          note: o.note,
        });
        print(this, json(a), summary(a));
      });
    });
}

function defineList(app: Command): void {
  app
    .command('list')
    .description('applications and their states')
    .action(async function (this: Command) {
      const { listApplications } = await applications();
      await withInstallation(this, (inst) => {
        const all = listApplications(inst);
        print(
          this,
          all.map(json),
          all
            .map(
              (a) =>
                `#${String(a.id).padEnd(4)} ${a.state.padEnd(10)} ${a.caName.padEnd(12)} ${a.profile.padEnd(6)} ${a.applicantOrganisation}`,
            )
            .join('\n') || '(no applications)',
        );
      });
    });
}

function defineShow(app: Command): void {
  app
    .command('show <id>')
    .description('one application')
    .action(async function (this: Command, id: string) {
      const { getApplication } = await applications();
      await withInstallation(this, (inst) => {
        const a = getApplication(inst, wholeNumber('id')(id));
        print(this, json(a), summary(a));
      });
    });
}

/** Defines `rootca application`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(app: Command): void {
  defineSubmit(app);
  defineApprove(app);
  defineReject(app);
  defineAccept(app);
  defineList(app);
  defineShow(app);
}
