/** Lines several commands print the same way: the backup after a change, the publication file written. */
import type { BackupOutcome } from '../records/backups.ts';
import type { PublishResult } from '../status/publication.ts';

/** One line about the backup that followed a change; a failure is also written to stderr (CPS 5.5.4). */
export function backupLine(b: BackupOutcome | undefined): string {
  if (!b) return '';
  if (!b.ok) {
    const line = `WARNING the backup after this change FAILED (${b.error?.code}: ${b.error?.message}); the change stands. Run \`rootca archive backup\` once the cause is fixed (CPS 5.5.4)`;
    process.stderr.write(`rootca: ${line}\n`);
    return `  ${line}`;
  }
  return `  backup     ${b.set} -> ${b.locations.join(' + ')}${b.stamped ? ` (time-stamped, token ${b.tokenSerialHex})` : ` (not time-stamped: ${b.notStampedReason})`}`;
}

/** What an end-of-life runbook says about its publication file. */
export const publicationLines = (p?: PublishResult) =>
  p
    ? [
        `  publication v${p.version}: ${p.path} (sha256 ${p.sha256})`,
        ...p.warnings.map((w) => `  WARNING ${w}`),
        '  next: import the file on the online side',
      ]
    : ['  no publication written: run rootca publish --signer <another root>, then import it on the online side'];

/** `3 events`, `1 event`: counts in report lines read as sentences. */
export const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
