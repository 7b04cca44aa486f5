/** `rootca audit export | verify-bundle | evidence | verify-evidence`: what an auditor takes away and checks offline. */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, readInput, withInstallation } from '../../context.ts';
import { plural } from '../../report-lines.ts';

/** `audit export`: the signed log bundle an auditor checks offline. */
export function defineExport(audit: Command): void {
  audit
    .command('export')
    .description(
      'write a self-verifying bundle for offline media (CPS 5.4.5): events, checkpoints, audit keys, reviews, manifest',
    )
    .requiredOption('--to <dir>', 'a new or empty folder (nothing is overwritten)')
    .requiredOption('--examiner <name>', 'the Log Examiner exporting')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { to: string; examiner: string; credential: string[] }) {
      const { exportAuditBundle } = await import('../../../records/audit-review.ts');
      await withInstallation(this, async (inst) => {
        const r = await exportAuditBundle(inst, {
          to: o.to,
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
        });
        const v = r.verification;
        print(
          this,
          { dir: r.dir, manifestSha256: r.manifestSha256, manifest: r.manifest, verified: v.ok, problems: v.problems },
          [
            `exported ${plural(r.manifest.treeSize, 'event')} and ${plural(r.manifest.checkpoints, 'checkpoint')} to ${r.dir}`,
            `  manifest SHA-256 ${r.manifestSha256}`,
            ...(v.ok ? v.checked.map((c) => `  ok    ${c}`) : v.problems.map((p) => `  FAIL  ${p}`)),
          ].join('\n'),
        );
        if (!v.ok) process.exitCode = 1;
      });
    });
}

/** `audit verify-bundle`: check an exported bundle without the installation. */
export function defineVerifyBundle(audit: Command): void {
  audit
    .command('verify-bundle <dir>')
    .description(
      'check an export bundle offline, without the database: manifest, chain, tree, checkpoints; --checkpoint adds ones you kept',
    )
    .option(
      '--checkpoint <file>',
      'a checkpoint file kept from earlier: must be a prefix of the bundle (repeatable)',
      collect,
      [],
    )
    .action(async function (this: Command, dir: string, o: { checkpoint: string[] }) {
      const { verifyAuditBundle } = await import('../../../audit/bundle.ts');
      const kept = o.checkpoint.map((f) => ({ file: basename(f), text: readInput(f, 'checkpoint').toString('utf8') }));
      const v = verifyAuditBundle(dir, { kept });
      print(
        this,
        v,
        [
          v.ok ? `bundle OK: ${dir}` : `bundle NOT OK: ${dir}`,
          ...v.checked.map((c) => `  ok    ${c}`),
          ...v.problems.map((p) => `  FAIL  ${p}`),
          ...v.kept.filter((k) => !k.ok).map((k) => `  FAIL  ${k.problem}`),
        ].join('\n'),
      );
      if (!v.ok) process.exitCode = 1;
    });
}

/** `audit evidence`: the evidence package for an audit period. */
export function defineEvidence(audit: Command): void {
  audit
    .command('evidence')
    .description(
      "gather a period's evidence for a WebTrust auditor (CPS 8, R-11.1): audit-log bundle and inclusion proofs, checkpoints, transcripts, certificates, CRLs, summary.md, manifest.json",
    )
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD, UTC) or date-time')
    .requiredOption('--to <date>', 'last day (YYYY-MM-DD, UTC, whole day) or date-time')
    .requiredOption('--out <dir>', 'a new or empty folder (nothing is overwritten)')
    .requiredOption('--examiner <name>', 'the Log Examiner gathering it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: { from: string; to: string; out: string; examiner: string; credential: string[] },
    ) {
      const { exportEvidence } = await import('../../../records/audit-evidence.ts');
      await withInstallation(this, async (inst) => {
        const r = await exportEvidence(inst, {
          from: o.from,
          to: o.to,
          out: o.out,
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
        });
        const m = r.manifest;
        const v = r.verification;
        print(
          this,
          { dir: r.dir, manifestSha256: r.manifestSha256, manifest: m, verified: v.ok, problems: v.problems },
          [
            `evidence for ${m.period.from} .. ${m.period.to} written to ${r.dir}: ${plural(m.auditLog.events, 'event')} with proofs, ${plural(m.transcripts.length, 'transcript')}, ${plural(m.certificates.length, 'certificate')}, ${plural(m.crls.length, 'CRL')}`,
            `  manifest SHA-256 ${r.manifestSha256}`,
            ...(v.ok ? ['  verified'] : v.problems.map((p) => `  FAIL  ${p}`)),
          ].join('\n'),
        );
        if (!v.ok) process.exitCode = 1;
      });
    });
}

/** `audit verify-evidence`: check an evidence package without the installation. */
export function defineVerifyEvidence(audit: Command): void {
  audit
    .command('verify-evidence <dir>')
    .description(
      'check an evidence folder offline, without the database: manifest, summary, audit-log bundle, proofs, transcripts, certificates and CRLs against their roots',
    )
    .action(async function (this: Command, dir: string) {
      const { verifyEvidence } = await import('../../../records/evidence-verify.ts');
      const v = verifyEvidence(dir);
      print(
        this,
        v,
        [
          v.ok ? `evidence OK: ${v.dir}` : `evidence NOT OK: ${v.dir}`,
          ...v.checked.map((c) => `  ok    ${c}`),
          ...v.problems.map((p) => `  FAIL  ${p}`),
        ].join('\n'),
      );
      if (!v.ok) process.exitCode = 1;
    });
}
