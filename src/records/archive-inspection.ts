/**
 * Looking after the archive (CPS 5.5.3, 5.5.7): `rootca archive inspect` finds any loss in the
 * backup locations, against the register of the sets made; `rootca archive copy` moves the
 * archive to fresh media and proves the copy.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { copySetFiles } from '../archive/backup.ts';
import { mkdirDurable, PARTIAL_SUFFIX, renameDurable } from '../archive/files.ts';
import type { Location } from '../archive/inspect.ts';
import {
  inspectLocations,
  type ArchiveReport,
  type DroppedByRestore,
  type ExpectedSet,
} from '../archive/inspect-locations.ts';
import { secondaryLocationWarnings } from '../archive/locations.ts';
import { systemClock, type Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { findOperator } from '../people/operators.ts';
import { backupsDroppedByRestore, completedBackups } from '../store/backups.ts';
import { archiveLocations } from './backups.ts';

function registerExpectations(inst: Installation): ExpectedSet[] {
  return completedBackups(inst.db).map((r) => ({
    set: r.set_name,
    manifestSha256: r.manifest_sha256,
    locations: (JSON.parse(r.details) as { locations?: string[] }).locations ?? [],
  }));
}

/** Sets a restore gave up with an accepted loss, as the register records them (see recordDroppedSets). */
function registerDropped(inst: Installation): DroppedByRestore[] {
  return backupsDroppedByRestore(inst.db).map((r) => ({ set: r.set_name, after: r.after }));
}

/**
 * `rootca archive inspect` (CPS 5.5.3): verifies every set in the locations (the configured
 * ones by default) and, with a live installation, that every set its register completed is
 * still there. The inspection is itself audited.
 */
export function inspectArchive(
  inst: Installation | undefined,
  p: { locations?: Location[]; clock?: Clock } = {},
): ArchiveReport {
  if (!inst && !p.locations?.length)
    throw new CaError(
      'ARCHIVE_LOCATION_REQUIRED',
      'name the backup locations to inspect (no installation to take them from)',
    );
  const locations = p.locations?.length ? p.locations : archiveLocations(inst!);
  const report = inspectLocations(locations, {
    clock: p.clock ?? inst?.clock ?? systemClock,
    expected: inst ? registerExpectations(inst) : undefined,
    dropped: inst ? registerDropped(inst) : undefined,
    liveSignerKey: inst
      ? (name) => {
          const op = findOperator(inst, name);
          return op && { kind: op.credential.kind, spki: op.credential.signingPublicKey };
        }
      : undefined,
  });
  // CPS 5.5.4: a secondary on the same disk is not a loss yet, but one failure away from it.
  if (inst && !p.locations?.length)
    report.warnings.push(
      ...secondaryLocationWarnings({ home: inst.home, primary: locations[0]!.dir, secondary: locations[1]!.dir }),
    );
  inst?.audit.append({
    actor: inst.systemActor,
    roles: [],
    action: 'archive.inspect',
    target: locations.map((l) => l.dir).join(','),
    outcome: report.ok ? 'success' : 'failed',
    details: { sets: report.sets.length, problems: report.problems.slice(0, 50), warnings: report.warnings.length },
  });
  return report;
}

/** What `rootca archive copy` copied, and whether the copy verifies as the original. */
export interface CopyResult {
  to: string;
  copied: string[];
  /** True when every set was copied and the copy verifies with the same manifests. */
  verified: boolean;
  problems: string[];
  report: ArchiveReport;
}

/**
 * `rootca archive copy --to DIR` (CPS 5.5.7 "copied to fresh media"): every set, from a
 * location where it verifies, into DIR (which must be new or empty); then the copy is
 * inspected on its own and compared manifest by manifest.
 */
export function copyArchive(
  inst: Installation | undefined,
  p: { from?: Location[]; to: string; clock?: Clock },
): CopyResult {
  const clock = p.clock ?? inst?.clock ?? systemClock;
  const from = p.from?.length ? p.from : inst ? archiveLocations(inst) : [];
  if (from.length === 0) throw new CaError('ARCHIVE_LOCATION_REQUIRED', 'name the backup locations to copy from');
  const to = resolve(p.to);
  if (existsSync(to) && readdirSync(to).length > 0)
    throw new CaError(
      'OUTPUT_EXISTS',
      `${to} is not empty: copy to fresh media (an empty or new folder); nothing was overwritten`,
    );
  const source = inspectLocations(from, { clock });
  const problems: string[] = [];
  const copied: string[] = [];
  mkdirDurable(to);
  for (const s of source.sets) {
    const good = source.checks.find((c) => c.name === s.name && c.ok);
    if (!good) {
      problems.push(`${s.name}: no verified copy in ${from.map((l) => l.label).join(' or ')}; not copied`);
      continue;
    }
    copySetFiles(good.dir, join(to, s.name + PARTIAL_SUFFIX));
    renameDurable(join(to, s.name + PARTIAL_SUFFIX), join(to, s.name));
    copied.push(s.name);
  }
  const report = inspectLocations([{ label: 'copy', dir: to }], { clock });
  problems.push(...report.problems);
  for (const name of copied) {
    const original = source.checks.find((c) => c.name === name && c.ok)!;
    const copy = report.checks.find((c) => c.name === name);
    if (!copy || copy.manifestSha256 !== original.manifestSha256)
      problems.push(`${name}: the copy's manifest differs from the original`);
  }
  const verified = problems.length === 0;
  inst?.audit.append({
    actor: inst.systemActor,
    roles: [],
    action: 'archive.copy',
    target: to,
    outcome: verified ? 'success' : 'failed',
    details: { from: from.map((l) => l.dir), copied: copied.length, problems: problems.slice(0, 50) },
  });
  return { to, copied, verified, problems, report };
}
