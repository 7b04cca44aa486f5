/**
 * Inspection across the backup locations (CPS 5.5.3, 5.5.7): each set is checked in every
 * location by `inspect.ts`, then the locations are compared with each other, with the chain of
 * sets and with the live register, so a set missing, altered or present in one location only is
 * reported as a loss.
 */
import { join } from 'node:path';
import { listLocation, setNumber } from './files.ts';
import type { RecordCounts } from './format.ts';
import { type CheckOptions, checkSet, type Location, type SetCheck } from './inspect.ts';

/** A set the live register says was completed, and where it was written. */
export interface ExpectedSet {
  set: string;
  manifestSha256: string | null;
  locations: string[];
}

/** A set a restore gave up with an accepted loss (`archive restore --accept-loss-after AFTER`). */
export interface DroppedByRestore {
  set: string;
  after: string;
}

export interface SetSummary {
  name: string;
  number: number;
  created?: string;
  reason?: string;
  ceremonyId?: number | null;
  signer?: string;
  records?: RecordCounts;
  stamp?: SetCheck['stamp'];
  notStamped?: string;
  /** Per location label: ok, bad (with problems), missing, incomplete (interrupted while writing). */
  where: Record<string, 'ok' | 'bad' | 'missing' | 'incomplete'>;
}

export interface ArchiveReport {
  ok: boolean;
  locations: Location[];
  sets: SetSummary[];
  /** Losses and corruption: any of these makes the inspection fail. */
  problems: string[];
  /** Interrupted writes and other things to know that are not a loss. */
  warnings: string[];
  checks: (SetCheck & { location: string })[];
}

/** Every location's listing, and every set in it checked on its own; a missing location is a loss only when sets were written there. */
function checkLocations(locations: Location[], o: InspectOptions, problems: string[], warnings: string[]) {
  const checks: (SetCheck & { location: string })[] = [];
  const listings = locations.map((l) => ({ l, listing: listLocation(l.dir) }));
  for (const { l, listing } of listings) {
    if (!listing.exists) {
      (o.expected?.some((e) => e.locations.includes(l.dir)) ? problems : warnings).push(
        `${l.label} location ${l.dir} does not exist`,
      );
      continue;
    }
    for (const name of listing.sets) checks.push({ ...checkSet(join(l.dir, name), o), location: l.label });
    for (const other of listing.other) warnings.push(`${l.label}: ${other} is not a backup set (ignored)`);
  }
  return { listings, checks };
}

type Listings = ReturnType<typeof checkLocations>['listings'];
type LocatedCheck = SetCheck & { location: string };

/** One set across the locations: what its manifest says, and where it is good, bad, missing or incomplete. */
function summarizeSet(
  name: string,
  listings: Listings,
  checks: LocatedCheck[],
  problems: string[],
  warnings: string[],
): SetSummary {
  const here = checks.filter((c) => c.name === name);
  const good = here.find((c) => c.ok) ?? here[0]!;
  const m = good.manifest;
  const s: SetSummary = {
    name,
    number: setNumber(name),
    created: m?.created,
    reason: m?.reason,
    ceremonyId: m?.ceremonyId,
    signer: m?.signer.operator,
    records: m?.records,
    stamp: good.stamp,
    notStamped: m && !m.timeStamp.requested ? m.timeStamp.reason : undefined,
    where: {},
  };
  for (const { l, listing } of listings) {
    const c = here.find((x) => x.location === l.label);
    if (c) {
      s.where[l.label] = c.ok ? 'ok' : 'bad';
      for (const p of c.problems) problems.push(`${l.label} ${name}: ${p}`);
    } else if (listing.partials.includes(name)) {
      s.where[l.label] = 'incomplete';
      warnings.push(
        `${l.label} ${name}: the copy was interrupted before it was complete (${name}.partial); the set is complete elsewhere`,
      );
    } else {
      s.where[l.label] = 'missing';
      problems.push(
        `${l.label} ${name}: missing (the set is present in ${here.map((x) => x.location).join(', ')} only)`,
      );
    }
  }
  const digests = new Set(here.filter((c) => c.manifestSha256).map((c) => c.manifestSha256));
  if (digests.size > 1)
    problems.push(`${name}: the manifests differ between ${here.map((c) => c.location).join(' and ')}`);
  return s;
}

/** The chain: each set names the completed set before it, so a set lost from every location is still noticed. */
function chainProblems(checks: LocatedCheck[], problems: string[]): void {
  const byName = new Map(checks.filter((c) => c.manifest).map((c) => [c.name, c]));
  for (const c of byName.values()) {
    const prev = c.manifest!.previous;
    if (!prev) continue;
    const found = checks.filter((x) => x.name === prev.set);
    if (found.length === 0)
      problems.push(`${prev.set}: missing from every location (named as the previous set by ${c.name})`);
    else if (!found.some((x) => x.manifestSha256 === prev.manifestSha256))
      problems.push(`${prev.set}: its manifest is not the one ${c.name} names as previous`);
  }
}

/** The live register: every completed set must be where it was written, with the manifest recorded. */
function registerProblems(
  expected: ExpectedSet[],
  listings: Listings,
  checks: LocatedCheck[],
  names: string[],
  problems: string[],
): void {
  for (const e of expected) {
    for (const { l } of listings.filter(({ l }) => e.locations.includes(l.dir))) {
      const c = checks.find((x) => x.name === e.set && x.location === l.label);
      if (!c && !names.includes(e.set))
        problems.push(`${l.label} ${e.set}: missing (the register says it was written there)`);
      else if (c && e.manifestSha256 && c.manifestSha256 !== e.manifestSha256)
        problems.push(`${l.label} ${e.set}: its manifest is not the one the register recorded`);
    }
  }
}

/** A loss the operator accepted at a restore is recorded, not found: it is moved to the warnings, not failed. */
function separateAccepted(
  locations: Location[],
  dropped: DroppedByRestore[] | undefined,
  problems: string[],
  warnings: string[],
): string[] {
  const accepted = (p: string) =>
    dropped?.find(
      (d) =>
        p.startsWith(`${d.set}:`) ||
        locations.some((l) => p.startsWith(`${l.label} ${d.set}:`)) ||
        p.endsWith(`by ${d.set})`) ||
        p.endsWith(`${d.set} names as previous`),
    );
  const found = problems.filter((p) => !accepted(p));
  for (const p of problems.filter((x) => accepted(x)))
    warnings.push(`${p} (dropped by the restore that accepted the loss after ${accepted(p)!.after})`);
  return found;
}

type InspectOptions = CheckOptions & { expected?: ExpectedSet[]; dropped?: DroppedByRestore[] };

/** Verifies every set in every location and compares the locations, the chain of sets and the register (CPS 5.5.3). */
export function inspectLocations(locations: Location[], o: InspectOptions): ArchiveReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const { listings, checks } = checkLocations(locations, o, problems, warnings);
  const names = [...new Set(listings.flatMap(({ listing }) => listing.sets))].sort(
    (a, b) => setNumber(a) - setNumber(b) || a.localeCompare(b),
  );
  const sets = names.map((name) => summarizeSet(name, listings, checks, problems, warnings));
  // Interrupted sets that never got a manifest: not a loss, nothing was promised.
  for (const { l, listing } of listings) {
    for (const name of listing.partials.filter((n) => !names.includes(n)))
      warnings.push(`${l.label} ${name}: incomplete set (interrupted before it was finished); ignored`);
  }
  chainProblems(checks, problems);
  registerProblems(o.expected ?? [], listings, checks, names, problems);
  const found = separateAccepted(locations, o.dropped, problems, warnings);
  return {
    ok: found.length === 0,
    locations,
    sets,
    problems: [...new Set(found)],
    warnings: [...new Set(warnings)],
    checks,
  };
}
