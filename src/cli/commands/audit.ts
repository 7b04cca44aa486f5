/** `rootca audit …`: the audit log and the evidence an auditor reads (CPS 5.4, 8). */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { AuditVerification } from '../../audit/trail-verifier.ts';
import {
  collect,
  CREDENTIAL_HELP,
  passphrasesFrom,
  print,
  readInput,
  wholeNumber,
  withInstallation,
} from '../context.ts';
import { plural } from '../report-lines.ts';
import { defineEvidence, defineExport, defineVerifyBundle, defineVerifyEvidence } from './audit/evidence.ts';
import { defineIngestOnline, defineOnlineKey } from './audit/online-records.ts';

/** The text form of a verification: counts and hashes only, never event contents. */
function verificationText(v: AuditVerification): string {
  const cps = v.checkpoints;
  const lines = [
    v.ok
      ? `audit log OK: ${v.events} events, head ${v.headHash}`
      : v.firstBad
        ? `audit log BROKEN at event ${v.firstBad.position}: ${v.firstBad.problem}`
        : 'audit log NOT OK: a checkpoint does not verify',
    `  tree: size ${v.treeSize}, root ${v.rootHash}`,
    cps.checked === 0
      ? '  checkpoints: none yet (rootca audit checkpoint signs the tree head)'
      : `  checkpoints: ${cps.verified} of ${cps.checked} verified${cps.latest ? `, latest #${cps.latest.number} at size ${cps.latest.treeSize}` : ''}${cps.uncovered ? `; ${plural(cps.uncovered, 'event')} after it ${cps.uncovered === 1 ? 'is' : 'are'} covered by the chain only` : ''}`,
    ...cps.problems.map((p) => `  FAIL  checkpoint ${p.checkpoint}: ${p.problem}`),
  ];
  return lines.join('\n');
}

const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function defineVerify(audit: Command): void {
  audit
    .command('verify')
    .description(
      'recompute the hash chain, the Merkle tree and every checkpoint; report the first bad position (shows no event contents)',
    )
    .option(
      '--state',
      'also cross-check the state tables (certificates, revocations, CRLs, keys, operators, publications) against the log; the check is audited',
    )
    .action(async function (this: Command, o: { state?: boolean }) {
      if (o.state) {
        const { formatStateMismatches, verifyAuditState } = await import('../../records/audit-state.ts');
        return withInstallation(this, (inst) => {
          const r = verifyAuditState(inst);
          const counts = Object.entries(r.state.checked)
            .map(([k, c]) => `${k} ${c.rows} rows/${c.events} events`)
            .join(', ');
          print(
            this,
            r,
            [
              verificationText(r.chain),
              r.state.ok ? `state OK: ${counts}` : `state NOT OK (${r.state.mismatches.length} mismatches):`,
              ...formatStateMismatches(r.state).map((l) => `  ${l}`),
            ].join('\n'),
          );
          if (!r.ok) process.exitCode = 1;
        });
      }
      await withInstallation(this, (inst) => {
        const v = inst.audit.verify();
        print(this, v, verificationText(v));
        if (!v.ok) process.exitCode = 1;
      });
    });
}

function defineList(audit: Command): void {
  audit
    .command('list')
    .description('print events (a Log Examiner only, CPS 5.4.4; the read is recorded)')
    .requiredOption('--examiner <name>', 'the Log Examiner reading')
    .option('--from <n>', 'first event', wholeNumber('--from'), 1)
    .option('--to <n>', 'last event', wholeNumber('--to'))
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { examiner: string; from: number; to?: number; credential: string[] }) {
      const { readAuditLog } = await import('../../records/audit-access.ts');
      await withInstallation(this, async (inst) => {
        const events = await readAuditLog(inst, {
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
          from: o.from,
          to: o.to,
        });
        print(
          this,
          events,
          events
            .map(
              (e) =>
                `${String(e.seq).padStart(5)} ${e.at} ${e.outcome.padEnd(8)} ${e.action.padEnd(26)} ${e.target.padEnd(16)} ${e.actor}`,
            )
            .join('\n'),
        );
      });
    });
}

function defineKey(audit: Command): void {
  const key = audit
    .command('key')
    .description('the audit key that signs checkpoints (a service key held by Log Examiners, never a CA key)');
  key
    .command('init')
    .description(
      'make a new audit key sealed 1-of-N to the holders; retires the active one (old checkpoints keep verifying)',
    )
    .requiredOption('--holders <names>', 'Log Examiners who may sign checkpoints, comma-separated')
    .requiredOption('--by <name>', 'the Person Responsible approving it')
    .requiredOption('--witness <name>', 'the Service Operation Manager present')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { holders: string; by: string; witness: string; credential: string[] }) {
      const { initAuditKey } = await import('../../records/audit-checkpoints.ts');
      await withInstallation(this, async (inst) => {
        const r = await initAuditKey(inst, {
          holders: list(o.holders),
          authoriser: o.by,
          witness: o.witness,
          passphrases: passphrasesFrom(o.credential),
        });
        print(
          this,
          r,
          [
            `audit key ${r.keyId} (${r.kind}) made; holders ${r.holders.join(', ')}`,
            `  public key SHA-256 ${r.publicKeySha256}`,
            ...(r.retired ? [`  retired ${r.retired}`] : []),
            r.publicKeyPem.trimEnd(),
          ].join('\n'),
        );
      });
    });
  key
    .command('list')
    .description('audit keys: id, status, fingerprint and holders')
    .action(async function (this: Command) {
      const { listAuditKeys } = await import('../../records/audit-checkpoints.ts');
      await withInstallation(this, (inst) => {
        const keys = listAuditKeys(inst);
        print(
          this,
          keys,
          keys.length
            ? keys
                .map(
                  (k) =>
                    `${k.keyId.padEnd(24)} ${k.status.padEnd(8)} ${k.kind.padEnd(8)} ${k.publicKeySha256.slice(0, 16)}…  ${k.holders.join(', ')}`,
                )
                .join('\n')
            : 'no audit key yet',
        );
      });
    });
}

function defineCheckpoint(audit: Command): void {
  audit
    .command('checkpoint')
    .description(
      'sign the current tree head with the audit key; writes checkpoints/checkpoint-N.json for auditors to keep',
    )
    .requiredOption('--examiner <name>', 'a Log Examiner holding the audit key')
    .option(
      '--tsa-holder <name>',
      'a holder of the internal TSA key (a CA Administrator) who time-stamps the checkpoint (CPS 5.5.5)',
    )
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { examiner: string; tsaHolder?: string; credential: string[] }) {
      const { openTimestamper } = await import('../../records/time-stamping.ts');
      const { createCheckpoint } = await import('../../records/audit-checkpoints.ts');
      await withInstallation(this, async (inst) => {
        const passphrases = passphrasesFrom(o.credential);
        const timestamper = o.tsaHolder
          ? await openTimestamper(inst, { holder: o.tsaHolder, passphrases, purpose: 'audit checkpoint' })
          : undefined;
        let r;
        try {
          r = await createCheckpoint(inst, { examiner: o.examiner, passphrases, timestamper });
        } finally {
          timestamper?.close();
        }
        const b = r.checkpoint.body;
        print(
          this,
          { file: r.file, ...r.content },
          `checkpoint #${r.checkpoint.number}: size ${b.treeSize}, root ${b.rootHash}, signed with ${r.checkpoint.keyId}${r.checkpoint.timeStampToken ? ', time-stamped' : ''}\n  ${r.file}`,
        );
      });
    });
}

function defineProve(audit: Command): void {
  audit
    .command('prove')
    .description(
      'RFC 9162 inclusion proof of one event (a Log Examiner only, CPS 5.4.4); verified before it is printed',
    )
    .requiredOption('--event <n>', 'the event (seq)', wholeNumber('--event'))
    .option(
      '--size <n>',
      "tree size to prove against (default: the latest checkpoint covering the event, else today's log)",
      wholeNumber('--size'),
    )
    .requiredOption('--examiner <name>', 'the Log Examiner asking')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: { event: number; size?: number; examiner: string; credential: string[] },
    ) {
      const { proveEvent } = await import('../../records/audit-proofs.ts');
      await withInstallation(this, async (inst) => {
        const proof = await proveEvent(inst, {
          event: o.event,
          size: o.size,
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
        });
        process.stdout.write(`${JSON.stringify(proof, null, 2)}\n`);
        if (!proof.verified) process.exitCode = 1;
      });
    });
}

function defineConsistency(audit: Command): void {
  audit
    .command('consistency')
    .description(
      "prove a kept checkpoint file is a prefix of today's log (RFC 9162 consistency proof, JSON); exit 1 naming the problem when it is not",
    )
    .requiredOption('--from <file>', 'the checkpoint file (checkpoint-N.json) an auditor kept')
    .option('--size <n>', "prove against the first N events (default: all of today's log)", wholeNumber('--size'))
    .requiredOption('--examiner <name>', 'the Log Examiner asking')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (this: Command, o: { from: string; size?: number; examiner: string; credential: string[] }) {
      const text = readInput(o.from, 'checkpoint').toString('utf8');
      const { checkConsistency } = await import('../../records/audit-proofs.ts');
      await withInstallation(this, async (inst) => {
        const r = await checkConsistency(inst, {
          checkpointText: text,
          checkpointName: basename(o.from),
          size: o.size,
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
        });
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        if (!r.ok) {
          process.stderr.write(`rootca: checkpoint ${basename(o.from)} is NOT a prefix of the log: ${r.problem}\n`);
          process.exitCode = 1;
        }
      });
    });
}

function defineIngest(audit: Command): void {
  audit
    .command('ingest <file>')
    .description(
      "add each non-empty line of another system's log (syslog RFC 5424/3164 or raw) as its own event; prints counts only (CPS 5.4.7)",
    )
    .requiredOption(
      '--source <name>',
      'where the lines come from (events are ingest.<source>), e.g. room-access, core-switch',
    )
    .requiredOption('--examiner <name>', 'the Log Examiner collecting them')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      file: string,
      o: { source: string; examiner: string; credential: string[] },
    ) {
      const data = readInput(file, 'log');
      const { ingestLog } = await import('../../records/audit-review.ts');
      await withInstallation(this, async (inst) => {
        const r = await ingestLog(inst, {
          data,
          fileName: basename(file),
          source: o.source,
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
        });
        print(this, r, `ingested ${r.events} lines from ${r.source} (${r.parsed} as syslog, ${r.raw} kept raw)`);
      });
    });
}

function defineReview(audit: Command): void {
  audit
    .command('review')
    .description('record that a Log Examiner reviewed events N..M and what they found (CPS 5.4.2)')
    .requiredOption('--from <n>', 'first event reviewed', wholeNumber('--from'))
    .requiredOption('--to <n>', 'last event reviewed', wholeNumber('--to'))
    .requiredOption('--findings <text>', 'what the review found ("no exceptions" is a finding)')
    .requiredOption('--examiner <name>', 'the Log Examiner')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: { from: number; to: number; findings: string; examiner: string; credential: string[] },
    ) {
      const { recordReview } = await import('../../records/audit-review.ts');
      await withInstallation(this, async (inst) => {
        const r = await recordReview(inst, {
          from: o.from,
          to: o.to,
          findings: o.findings,
          examiner: o.examiner,
          passphrases: passphrasesFrom(o.credential),
        });
        print(
          this,
          r,
          `review #${r.id} of events ${r.from}..${r.to} recorded (event ${r.auditSeq}); log ${r.logVerified ? 'verified' : 'DID NOT verify'}`,
        );
      });
    });
}

function definePurge(audit: Command): void {
  audit
    .command('purge')
    .description('remove events before a date: refused (CPS 5.4.3 keeps them 10 years; this version keeps them all)')
    .requiredOption('--before <date>', 'YYYY-MM-DD')
    .action(async function (this: Command, o: { before: string }) {
      const { purgeAuditEvents } = await import('../../records/audit-review.ts');
      await withInstallation(this, (inst) => purgeAuditEvents(inst, { before: o.before }));
    });
}

/** Defines `rootca audit`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(audit: Command): void {
  defineVerify(audit);
  defineList(audit);
  defineKey(audit);
  defineCheckpoint(audit);
  defineProve(audit);
  defineConsistency(audit);
  defineIngest(audit);
  defineOnlineKey(audit);
  defineIngestOnline(audit);
  defineReview(audit);
  definePurge(audit);
  defineExport(audit);
  defineVerifyBundle(audit);
  defineEvidence(audit);
  defineVerifyEvidence(audit);
}
