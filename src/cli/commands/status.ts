/**
 * `rootca status`: per CA what is due and when — CRL, pre-signed OCSP, responder and
 * publication certificates, revocations not yet published, changeover (CPS 4.9.7, 4.9.9, 5.6)
 * — with an exit code for monitoring; `rootca status ceremony` re-signs what is due.
 */
import type { Command } from 'commander';
import type { DueItem, DueLevel, StatusReport } from '../../status/due.ts';
import type { StatusPlan } from '../../status/status-ceremony.ts';
import { passphrasesFrom, print, withInstallation } from '../context.ts';
import { ceremonyPeople } from '../options.ts';
import { backupLine } from '../report-lines.ts';

/** Exit codes of `rootca status` (docs/status-and-publication.md): 0 nothing due, 3 a warning, 4 something overdue. */
export const STATUS_EXIT: Record<DueLevel, number> = { ok: 0, warning: 3, error: 4 };

const MARK: Record<DueLevel, string> = { ok: 'ok     ', warning: 'WARNING', error: 'ERROR  ' };

function itemLine(i: DueItem): string {
  const dates = [i.expires ? `until ${i.expires}` : '', i.dueAt ? `due ${i.dueAt}` : ''].filter(Boolean).join(', ');
  return `  ${MARK[i.level]} ${i.what}${dates ? ` (${dates})` : ''}: ${i.message}`;
}

function reportText(r: StatusReport): string {
  const cas = r.cas.map((c) => {
    const s = c.changeover;
    return [
      `${c.ca} (${c.status})${s.changeoverDue ? '  CHANGEOVER DUE' : ''}`,
      `  notAfter        ${s.notAfter} (${s.remainingDays} days left)`,
      `  longest issued  ${s.longestValidity ? `${s.longestValidity.days} days (${s.longestValidity.profile} default)` : 'none (no profile issuable)'}${s.longestMaximum ? `; maximum ${s.longestMaximum.days} days (${s.longestMaximum.profile})` : ''}`,
      `  changeover      ${s.advice}`,
      ...c.items.filter((i) => i.kind !== 'changeover').map(itemLine),
    ].join('\n');
  });
  const docs = r.documents.length ? ['documents', ...r.documents.map(itemLine)].join('\n') : '';
  const summary = `status at ${r.at}: ${r.level === 'ok' ? 'nothing due' : r.level === 'warning' ? 'due within the margin (exit 3)' : 'OVERDUE (exit 4)'}`;
  return [...cas, docs, summary].filter(Boolean).join('\n');
}

function planText(p: StatusPlan, dryRun: boolean): string[] {
  return [
    `${dryRun ? 'would sign' : 'signed'} for ${p.ca} (${p.signatures} signatures):`,
    ...(p.crl ? [`  CRL: the next CRL (${p.crl})`] : []),
    ...p.certificates.map(
      (c) =>
        `  ${c.profile} certificate: a successor of ${c.serialHex} (${c.why}) for key ${c.keyId}, with its OCSP sha1 + sha256`,
    ),
    ...p.ocsp.map((o) => `  OCSP ${o.serialHex} sha1 + sha256 (${o.why})`),
    ...(p.publication ? [`  publication v${p.publication.version} (${p.publication.why})`] : ['  nothing is due']),
    ...p.notHere.map((n) => `  not here: ${n}`),
  ];
}

/** Defines `rootca status` and `rootca status ceremony` (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  cmd.option('--ca <name>', 'only this CA').action(async function (this: Command, o: { ca?: string }) {
    const { statusReport } = await import('../../status/due.ts');
    await withInstallation(this, (inst) => {
      const r = statusReport(inst, o.ca);
      print(
        this,
        {
          ...r,
          exitCode: STATUS_EXIT[r.level],
          cas: r.cas.map(({ work, ...c }) => ({
            ...c,
            due: {
              crl: work.crl,
              ocsp: work.ocsp.map((x) => ({ serialHex: x.certificate.serialHex, why: x.why })),
              retiredKey: work.retiredKey,
              certificates: work.certificates.map((x) => ({
                profile: x.profile,
                serialHex: x.serialHex,
                notAfter: x.notAfter,
              })),
              publication: work.publication,
            },
          })),
        },
        r.cas.length ? reportText(r) : '(no CAs)',
      );
      process.exitCode = STATUS_EXIT[r.level];
    });
  });
  defineCeremony(cmd);
}

function defineCeremony(cmd: Command): void {
  ceremonyPeople(
    cmd
      // The CA is an argument: commander gives a --ca after `ceremony` to `status --ca`.
      .command('ceremony <ca>')
      .description(
        'one quorum ceremony re-signs what is due for a CA (CRL, OCSP, responder and publication certificates) and writes one publication file',
      )
      .requiredOption('--out <file>', 'the publication file to write (never overwritten)')
      .option('--dry-run', 'list exactly what would be signed; sign nothing, ask nobody'),
  ).action(async function (
    this: Command,
    ca: string,
    opts: { out: string; dryRun?: boolean; operator: string; witness: string; credential: string[] },
  ) {
    const o = { ...opts, ca };
    const { planStatusCeremony, runStatusCeremony } = await import('../../status/status-ceremony.ts');
    await withInstallation(this, async (inst) => {
      if (o.dryRun) {
        const plan = planStatusCeremony(inst, o.ca);
        print(this, { dryRun: true, plan }, planText(plan, true).join('\n'));
        return;
      }
      const r = await runStatusCeremony(inst, {
        caName: o.ca,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        out: o.out,
      });
      print(
        this,
        r,
        [
          ...r.interrupted.map((w) => `NOTE ${w.message}`),
          ...planText(r.plan, false),
          ...r.certificates.map((c) => `  ${c.profile} certificate ${c.serialHex} until ${c.notAfter} (after ${c.of})`),
          ...(r.crl ? [`  CRL #${r.crl.crlNumber} until ${r.crl.nextUpdate}`] : []),
          ...(r.ocspResponses ? [`  ${r.ocspResponses} OCSP responses`] : []),
          ...r.outputs.map((f) => `  wrote ${f}`),
          ...(r.publication?.warnings ?? []).map((w) => `  publication WARNING ${w}`),
          ...r.notes.map((n) => `  WARNING ${n}`),
          `  transcript ${r.transcriptFile}`,
          backupLine(r.backup),
        ].join('\n'),
      );
    });
  });
}
