/** `rootca archive backup | inspect | copy | restore`: the records archive (R-8; CPS 5.5, 5.7). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Location } from '../../archive/inspect.ts';
import type { ArchiveReport } from '../../archive/inspect-locations.ts';
import type { Installation } from '../../installation/installation.ts';
import { withProgress } from '../../util/progress.ts';
import {
  announceInstallation,
  collect,
  CREDENTIAL_HELP,
  homeOf,
  passphrasesFrom,
  print,
  usage,
  warnIfHomeFromCurrentFolder,
  wholeNumber,
  withInstallation,
} from '../context.ts';
import { backupLine } from '../report-lines.ts';

function formatReport(r: ArchiveReport): string {
  const lines: string[] = [];
  lines.push(`Locations: ${r.locations.map((l) => `${l.label} ${l.dir}`).join('; ')}`);
  for (const s of r.sets) {
    const where = Object.entries(s.where)
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
    lines.push(`${s.name}  ${where}`);
    if (s.reason)
      lines.push(
        `  ${s.created}  ${s.reason}${s.ceremonyId ? ` (ceremony #${s.ceremonyId})` : ''}  signed by ${s.signer}`,
      );
    lines.push(
      `  ${s.stamp ? `time-stamped ${s.stamp.genTime} by ${s.stamp.tsa} (serial ${s.stamp.serialHex})` : `not time-stamped${s.notStamped ? `: ${s.notStamped}` : ''}`}`,
    );
    if (s.records) {
      const c = s.records;
      lines.push(
        `  holds: ${c.caCertificates} CA certificates, ${c.issuedCertificates} issued certificates, ${c.revocations} revocations, ${c.crls} CRLs, ${c.ocspResponses} OCSP responses, ${c.transcripts} transcripts, ${c.auditEvents} audit events`,
      );
    }
  }
  if (r.sets.length === 0) lines.push('(no backup sets)');
  for (const w of r.warnings) lines.push(`WARNING ${w}`);
  for (const p of r.problems) lines.push(`LOSS ${p}`);
  lines.push(r.ok ? `OK: ${r.sets.length} sets verified, nothing lost` : `FAILED: ${r.problems.length} problem(s)`);
  return lines.join('\n');
}

/** The installation at --home when there is one (inspect and copy also work on bare folders). */
async function withOptionalInstallation<T>(
  cmd: Command,
  fn: (inst: Installation | undefined) => Promise<T> | T,
): Promise<T> {
  const home = homeOf(cmd);
  const { DATABASE_FILE, openInstallation } = await import('../../installation/installation.ts');
  if (!existsSync(join(home, DATABASE_FILE))) return fn(undefined);
  warnIfHomeFromCurrentFolder(cmd);
  const inst = openInstallation(home);
  announceInstallation(inst);
  try {
    return await fn(inst);
  } finally {
    inst.close();
  }
}

const locationsOf = (dirs: string[]): Location[] => dirs.map((d) => ({ label: d, dir: resolve(d) }));

/** Defines `rootca archive`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(archive: Command): void {
  defineBackup(archive);
  defineInspect(archive);
  defineCopy(archive);
  defineRestore(archive);
}

/** `archive backup`: a backup set now, signed by the operator. */
function defineBackup(archive: Command): void {
  archive
    .command('backup')
    .description(
      'write a backup set to the primary and secondary locations now (also done after every issuance, revocation and CRL)',
    )
    .requiredOption('--operator <name>', 'the CA Administrator who signs the manifest')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { operator: string; credential: string[] }) {
      const { backupNow } = await import('../../records/backups.ts');
      await withInstallation(this, async (inst) => {
        const r = await backupNow(inst, { operator: o.operator, passphrases: passphrasesFrom(o.credential) });
        print(
          this,
          r,
          [
            `Backup ${r.set} written`,
            backupLine(r),
            ...r.recovered.map((x) => `  interrupted backup ${x.set}: ${x.outcome}`),
          ].join('\n'),
        );
      });
    });
}

/** `archive inspect`: verify every set; works without an installation given --location. */
function defineInspect(archive: Command): void {
  archive
    .command('inspect')
    .description(
      'verify every backup set in both locations and report any loss; exit 1 when something is missing or altered (CPS 5.5.3)',
    )
    .option('--location <dir>', 'inspect this folder instead of the configured locations (repeatable)', collect, [])
    .action(async function (this: Command, o: { location: string[] }) {
      const { inspectArchive } = await import('../../records/archive-inspection.ts');
      await withOptionalInstallation(this, async (inst) => {
        if (!inst && o.location.length === 0)
          usage('OPTION_REQUIRED', 'no installation here: give --home or --location DIR');
        const r = await withProgress('verifying every backup set', () =>
          inspectArchive(inst, { locations: locationsOf(o.location) }),
        );
        const { checks: _c, ...json } = r;
        print(this, json, formatReport(r));
        if (!r.ok) process.exitCode = 1;
      });
    });
}

/** `archive copy`: copy the verified sets to fresh media. */
function defineCopy(archive: Command): void {
  archive
    .command('copy')
    .description('copy every verified set to fresh media and verify the copy (CPS 5.5.7)')
    .requiredOption('--to <dir>', 'an empty or new folder')
    .option('--from <dir>', 'copy from this folder instead of the configured locations (repeatable)', collect, [])
    .action(async function (this: Command, o: { to: string; from: string[] }) {
      const { copyArchive } = await import('../../records/archive-inspection.ts');
      await withOptionalInstallation(this, async (inst) => {
        if (!inst && o.from.length === 0) usage('OPTION_REQUIRED', 'no installation here: give --home or --from DIR');
        const r = await withProgress(`copying the backup sets to ${o.to} and verifying the copy`, () =>
          copyArchive(inst, { from: locationsOf(o.from), to: o.to }),
        );
        print(
          this,
          { to: r.to, copied: r.copied, verified: r.verified, problems: r.problems },
          [
            `Copied ${r.copied.length} sets to ${r.to}`,
            ...r.problems.map((p) => `PROBLEM ${p}`),
            r.verified ? 'OK: the copy verifies' : 'FAILED: the copy does not verify',
          ].join('\n'),
        );
        if (!r.verified) process.exitCode = 1;
      });
    });
}

/** `archive restore`: rebuild an installation from a backup location; runs without one open. */
function defineRestore(archive: Command): void {
  archive
    .command('restore')
    .description('rebuild an installation at --home (new) from the newest set in --from, which must verify (CPS 5.7.2)')
    .requiredOption('--from <dir>', 'a backup location (e.g. the secondary)')
    .option(
      '--accept-loss-after <set>',
      'restore this older set and accept losing every newer one (recorded in the restored audit log)',
    )
    .requiredOption('--operator <name>', 'the CA Administrator performing it')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
    .option(
      '--crl-number-advance <n>',
      'skip this many CRL numbers per CA (CRLs may have been issued after the set)',
      wholeNumber('--crl-number-advance'),
    )
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: {
        from: string;
        acceptLossAfter?: string;
        operator: string;
        witness: string;
        crlNumberAdvance?: number;
        credential: string[];
      },
    ) {
      const { restoreInstallation } = await import('../../records/restore.ts');
      warnIfHomeFromCurrentFolder(this);
      const r = await restoreInstallation({
        from: o.from,
        home: homeOf(this),
        acceptLossAfter: o.acceptLossAfter,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        crlNumberAdvance: o.crlNumberAdvance,
      });
      print(
        this,
        {
          home: r.home,
          set: r.set,
          manifestSha256: r.manifestSha256,
          auditHead: r.auditHead,
          crlNumbers: r.crlNumbers,
          certificates: r.certificates,
          dropped: r.dropped,
          reseeded: r.reseeded,
          warnings: r.warnings,
          backup: r.backup,
        },
        [
          ...r.warnings.map((w) => `WARNING ${w}`),
          `Restored ${r.home} from ${r.set} (${r.manifest.created}, ${r.manifest.reason})`,
          `  audit log continues after event ${r.auditHead.seq}; ${r.certificates} certificates; CRL numbers ${
            Object.entries(r.crlNumbers)
              .map(([k, v]) => `${k} #${v}`)
              .join(', ') || 'none yet'
          }`,
          ...r.reseeded.map((x) => `  archive    ${x.sets} sets copied to ${x.location}`),
          backupLine(r.backup),
        ].join('\n'),
      );
    });
}
