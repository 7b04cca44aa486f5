/** `rootca doc …`: the CPS and CPs as versioned documents (R-10.1; CPS 1.5, 9.12). */
import type { Command } from 'commander';
import type { DocumentVersion } from '../../documents/documents.ts';
import { CaError } from '../../errors.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, readInput, usage, withInstallation } from '../context.ts';

function line(v: DocumentVersion): string {
  const what = v.version ? `${v.name} ${v.version}` : `${v.name} amendment #${v.id}`;
  const when = v.claimsUntil ? ` (claims until ${v.claimsUntil})` : '';
  return `${what}: ${v.status}${when} — ${v.critical ? 'critical' : 'non-critical'}: ${v.description.replace(/\s+/g, ' ')}`;
}

function detail(v: DocumentVersion): string {
  return [
    line(v),
    `  title: ${v.title}`,
    `  SHA-256 ${v.sha256}, ${v.size} bytes`,
    `  proposed ${v.proposedAt} by ${v.proposedBy}`,
    ...(v.decidedBy
      ? [
          `  ${v.state === 'rejected' ? 'rejected' : 'approved'} ${v.decidedAt} by ${v.decidedBy}${v.decisionReason ? `: ${v.decisionReason}` : ''}`,
        ]
      : []),
    ...(v.publishedBy ? [`  published as ${v.version} ${v.publishedAt} by ${v.publishedBy}`] : []),
    ...(v.noticedAt
      ? [`  in the Repository since ${v.noticedAt}; claims until ${v.claimsUntil}`]
      : v.state === 'published'
        ? ['  not in the Repository yet: run rootca publish (that starts the one-week claim period)']
        : []),
    ...v.claims.map(
      (c) => `  claim #${c.id} by ${c.claimant} (recorded ${c.recordedAt} by ${c.recordedBy}): ${c.text}`,
    ),
  ].join('\n');
}

/** The use cases, loaded when a subcommand runs. */
const documents = () => import('../../documents/documents.ts');

function definePropose(doc: Command): void {
  doc
    .command('propose')
    .description('propose a new version of a document (the Person Responsible); the Committee approves it')
    .requiredOption('--name <name>', 'cps, or cp-<name>')
    .requiredOption('--file <file>', 'the full text of the new version (UTF-8, Markdown)')
    .option('--critical', 'a critical amendment: raises the major version (CPS 9.12.1 (1))')
    .option('--non-critical', 'a non-critical amendment: raises the minor version (CPS 9.12.1 (2))')
    .requiredOption('--description <text>', 'what changed (goes into the version history)')
    .option('--title <text>', 'the document title (required for a new document)')
    .option(
      '--initial-version <x.yy>',
      'first version only: its number (e.g. 5.12 to take over an existing CPS); default 1.00',
    )
    .requiredOption('--by <name>', 'the Person Responsible for Services proposing it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: {
        name: string;
        file: string;
        critical?: boolean;
        nonCritical?: boolean;
        description: string;
        title?: string;
        initialVersion?: string;
        by: string;
        credential: string[];
      },
    ) {
      if (Boolean(o.critical) === Boolean(o.nonCritical))
        usage('OPTIONS_CONFLICT', 'give exactly one of --critical and --non-critical (CPS 9.12.1)');
      const text = readInput(o.file, 'document');
      const { proposeDocument } = await documents();
      await withInstallation(this, async (inst) => {
        const v = await proposeDocument(inst, {
          name: o.name,
          text,
          critical: Boolean(o.critical),
          description: o.description,
          title: o.title,
          initialVersion: o.initialVersion,
          by: o.by,
          passphrases: passphrasesFrom(o.credential),
        });
        print(this, v, `${detail(v)}\nnext: rootca doc approve ${v.name} --by <Committee member>`);
      });
    });
}

function defineApprove(doc: Command): void {
  doc
    .command('approve <name>')
    .description(
      'approve the open amendment (a member of the Certification Services Improvement Committee, not its proposer; CPS 1.5.4)',
    )
    .requiredOption('--by <name>', 'the Committee member approving')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, name: string, o: { by: string; credential: string[] }) {
      const { approveDocument } = await documents();
      await withInstallation(this, async (inst) => {
        const v = await approveDocument(inst, { name, by: o.by, passphrases: passphrasesFrom(o.credential) });
        print(this, v, `${detail(v)}\nnext: rootca doc publish ${v.name} --by <Person Responsible>`);
      });
    });
}

function defineReject(doc: Command): void {
  doc
    .command('reject <name>')
    .description('reject the open amendment (the Committee), with a reason')
    .requiredOption('--by <name>', 'the Committee member deciding')
    .requiredOption('--reason <text>', 'why')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, name: string, o: { by: string; reason: string; credential: string[] }) {
      const { rejectDocument } = await documents();
      await withInstallation(this, async (inst) => {
        const v = await rejectDocument(inst, {
          name,
          by: o.by,
          reason: o.reason,
          passphrases: passphrasesFrom(o.credential),
        });
        print(this, v, detail(v));
      });
    });
}

function definePublish(doc: Command): void {
  doc
    .command('publish <name>')
    .description(
      'give the approved amendment its version number and add it to the version history; the next rootca publish carries it to the Repository',
    )
    .requiredOption('--by <name>', 'the Person Responsible for Services')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, name: string, o: { by: string; credential: string[] }) {
      const { publishDocument } = await documents();
      await withInstallation(this, async (inst) => {
        const v = await publishDocument(inst, { name, by: o.by, passphrases: passphrasesFrom(o.credential) });
        print(
          this,
          v,
          `${detail(v)}\nnext: rootca publish … (the publication file is the notice; the one-week claim period starts with it)`,
        );
      });
    });
}

function defineClaim(doc: Command): void {
  doc
    .command('claim <name>')
    .description(
      'record a claim against a published version during its one-week claim period (an RA officer; CPS 9.12.2)',
    )
    .option('--version <x.yy>', 'the version claimed against (default: the newest)')
    .requiredOption('--claimant <text>', 'who makes the claim (organisation, contact)')
    .requiredOption('--text <text>', 'the claim')
    .requiredOption('--by <name>', 'the Person in Charge of RA recording it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      name: string,
      o: { version?: string; claimant: string; text: string; by: string; credential: string[] },
    ) {
      const { recordClaim } = await documents();
      await withInstallation(this, async (inst) => {
        const v = await recordClaim(inst, {
          name,
          version: o.version,
          claimant: o.claimant,
          text: o.text,
          by: o.by,
          passphrases: passphrasesFrom(o.credential),
        });
        print(this, v, detail(v));
      });
    });
}

function defineList(doc: Command): void {
  doc
    .command('list')
    .description(
      'every document version and its state: proposed, approved, rejected, published-awaiting-repository, published-in-claim-period, accepted, disputed',
    )
    .action(async function (this: Command) {
      const { listDocumentVersions } = await documents();
      await withInstallation(this, (inst) => {
        const all = listDocumentVersions(inst);
        print(this, all, all.length ? all.map(line).join('\n') : 'no documents yet (rootca doc propose …)');
      });
    });
}

function defineShow(doc: Command): void {
  doc
    .command('show <name>')
    .description("one document: every version with its history and claims; --text prints a version's text")
    .option('--version <x.yy>', 'with --text: the version (default: the newest published)')
    .option('--text', 'print the text of a version (or, with no published version, of the open amendment)')
    .action(async function (this: Command, name: string, o: { version?: string; text?: boolean }) {
      const { documentText, listDocumentVersions } = await documents();
      await withInstallation(this, (inst) => {
        const versions = listDocumentVersions(inst, name);
        if (versions.length === 0) throw new CaError('DOCUMENT_UNKNOWN', `no document named ${name}`);
        if (o.text) {
          const published = versions.filter((v) => v.state === 'published');
          const version = o.version ?? published[published.length - 1]?.version ?? undefined;
          process.stdout.write(documentText(inst, name, version));
          return;
        }
        print(this, versions, versions.map(detail).join('\n'));
      });
    });
}

/** Defines `rootca doc`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(doc: Command): void {
  definePropose(doc);
  defineApprove(doc);
  defineReject(doc);
  definePublish(doc);
  defineClaim(doc);
  defineList(doc);
  defineShow(doc);
}
