/**
 * `rootca archive restore` (CPS 5.7.2, 5.7.4): rebuilds an installation from a backup set that
 * carries on where the set stopped — the newest set, never silently an older one — and records
 * the restore as the next event of the same audit chain.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { copySetFiles } from '../archive/backup.ts';
import { copyDurable, listLocation, mkdirDurable, PARTIAL_SUFFIX, renameDurable, setNumber } from '../archive/files.ts';
import {
  CONFIG_FILE as SET_CONFIG_FILE,
  DB_FILE as SET_DB_FILE,
  type BackupManifest,
  type RecordCounts,
} from '../archive/format.ts';
import { checkSet, type SetCheck } from '../archive/inspect.ts';
import { inspectLocations } from '../archive/inspect-locations.ts';
import { systemClock, type Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import {
  auditConfigFile,
  CONFIG_FILE,
  DATABASE_FILE,
  openInstallation,
  type Installation,
} from '../installation/installation.ts';
import {
  bringParticipant,
  lockAll,
  operationDigest,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import { checkDistinct } from '../people/permissions.ts';
import { insertDroppedBackup, settleRestoredRegister } from '../store/backups.ts';
import { advanceAllCrlNumbers, raiseCrlNumberTo } from '../store/crls.ts';
import { countRows, crlNumbersByCa, integrityCheck } from '../store/snapshot.ts';
import { fsyncPath } from '../util/fsync.ts';
import { archiveLocations, backupAfterChange, type BackupOutcome } from './backups.ts';

/** What `rootca archive restore` is asked to do, and by whom. */
export interface RestoreParams {
  /** A backup location (a folder of sets). */
  from: string;
  /** The new installation home; refused if it exists and is not empty. */
  home: string;
  /**
   * Restore this set although newer sets exist in `from`, and accept losing what they hold.
   * Without it only the newest set is restored, and a newest set that fails verification
   * stops the restore (CPS 5.5: records are kept; a restore never goes back in time silently).
   */
  acceptLossAfter?: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** Skip this many CRL numbers per CA (when CRLs may have been issued after the set was made). */
  crlNumberAdvance?: number;
  clock?: Clock;
}

/** A set newer than the restored one, left out by an accepted loss: what it was and why it was not used. */
export interface DroppedSet {
  set: string;
  verified: boolean;
  problems: string[];
  created?: string;
  reason?: string;
  /** As its manifest states (not verified when `verified` is false). */
  records?: RecordCounts;
  crlNumbers?: Record<string, number>;
}

/** The restored installation: the set it came from, what was given up, and its first backup. */
export interface RestoreResult {
  home: string;
  set: string;
  manifest: BackupManifest;
  manifestSha256: string;
  /** Newer sets given up with --accept-loss-after (empty when the newest set was restored). */
  dropped: DroppedSet[];
  auditHead: { seq: number; hash: string };
  crlNumbers: Record<string, number>;
  certificates: number;
  /** Sets copied into the restored installation's own archive locations. */
  reseeded: { location: string; sets: number }[];
  backup: BackupOutcome;
  warnings: string[];
}

function droppedSet(c: SetCheck): DroppedSet {
  const m = c.manifest;
  return {
    set: c.name,
    verified: c.ok,
    problems: c.problems,
    ...(m ? { created: m.created, reason: m.reason, records: m.records, crlNumbers: m.crlNumbers } : {}),
  };
}

/**
 * Inside the restore's transaction: the register keeps the dropped sets' numbers as
 * 'abandoned' rows marked droppedByRestore (so no later set reuses a number, and inspection
 * reports them as dropped rather than lost), and each CA's CRL number moves past any number a
 * dropped set's manifest states (RFC 5280 5.2.3: CRL numbers are "monotonically increasing").
 */
function recordDroppedSets(
  inst: Installation,
  x: { from: string; after: string; dropped: DroppedSet[]; at: string },
): void {
  for (const d of x.dropped) {
    const details = {
      droppedByRestore: { after: x.after, from: x.from, verified: d.verified, problems: d.problems },
      locations: [x.from],
    };
    insertDroppedBackup(inst.db, {
      number: setNumber(d.set),
      set_name: d.set,
      reason: d.reason ?? 'unknown',
      started_at: d.created ?? x.at,
      finished_at: x.at,
      details: JSON.stringify(details),
    });
    for (const [ca, n] of Object.entries(d.crlNumbers ?? {}))
      if (Number.isSafeInteger(n)) raiseCrlNumberTo(inst.db, ca, n);
  }
}

/**
 * The set to restore from a location's complete sets: the newest, which must verify; an older
 * one only when named by `acceptLossAfter`, with every newer set listed as dropped. Refuses
 * RESTORE_NEWEST_UNVERIFIED (naming the set, its exact failures and the newest set that does
 * verify), BACKUP_SET_UNKNOWN and BACKUP_SET_UNVERIFIED; nothing is written before this.
 */
function chooseRestoreSet(
  from: string,
  sets: string[],
  partials: string[],
  acceptLossAfter: string | undefined,
  clock: Clock,
): { chosen: SetCheck; dropped: DroppedSet[] } {
  const newestFirst = [...sets].sort((a, b) => setNumber(b) - setNumber(a) || b.localeCompare(a));
  if (newestFirst.length === 0) throw new CaError('NO_VERIFIED_BACKUP', `no complete set in ${from} (there are none)`);
  const check = (name: string) => checkSet(join(from, name), { clock });
  if (acceptLossAfter !== undefined) {
    if (!sets.includes(acceptLossAfter))
      throw new CaError(
        'BACKUP_SET_UNKNOWN',
        `no complete set ${acceptLossAfter} in ${from}${partials.includes(acceptLossAfter) ? ' (it is incomplete)' : ''}; nothing was restored`,
      );
    const chosen = check(acceptLossAfter);
    if (!chosen.ok)
      throw new CaError(
        'BACKUP_SET_UNVERIFIED',
        `${acceptLossAfter} in ${from} does not verify: ${chosen.problems.join('; ')}; nothing was restored`,
        { details: { set: acceptLossAfter, problems: chosen.problems } },
      );
    const newer = newestFirst.slice(0, newestFirst.indexOf(acceptLossAfter)).reverse();
    return { chosen, dropped: newer.map((n) => droppedSet(check(n))) };
  }
  const newest = check(newestFirst[0]!);
  if (newest.ok) return { chosen: newest, dropped: [] };
  const fallback = newestFirst.slice(1).find((n) => check(n).ok);
  throw new CaError(
    'RESTORE_NEWEST_UNVERIFIED',
    [
      `the newest set ${newest.name} in ${from} does not verify: ${newest.problems.join('; ')}.`,
      'Nothing was restored: an older set would go back in time and lose what was recorded after it (CPS 5.5).',
      fallback
        ? `The newest set that verifies is ${fallback}; to restore it and accept losing everything after it, run again with --accept-loss-after ${fallback} (recorded in the restored audit log).`
        : 'No older set verifies either.',
    ].join(' '),
    { details: { set: newest.name, problems: newest.problems, newestVerified: fallback ?? null } },
  );
}

/**
 * `rootca archive restore --from DIR --home NEW` (CPS 5.7.2, 5.7.4): rebuilds an installation
 * (store and config) from the newest set in DIR — never silently an older one — checks it
 * again in place (integrity, audit chain ending where the manifest says), and records the
 * restore as the next event of the same audit chain, with a CA Administrator and a Service
 * Operation Manager who authenticate against the restored registry. An older set is restored
 * only with `acceptLossAfter`; the event then lists every set dropped and what it held, the
 * register keeps their numbers (so no later set reuses one) and CRL numbers move past any
 * a dropped set used (RFC 5280 5.2.3: CRL numbers only grow). Serials stay reserved and CRL
 * numbers keep growing because both live in the restored store. The verified sets are copied
 * into the restored installation's own locations, and a first backup of the restored system follows.
 */
export async function restoreInstallation(p: RestoreParams): Promise<RestoreResult> {
  const clock = p.clock ?? systemClock;
  const home = resolve(p.home);
  if (existsSync(home) && readdirSync(home).length > 0)
    throw new CaError(
      'INSTALLATION_EXISTS',
      `${home} exists and is not empty; restore into a new home (nothing was changed)`,
    );
  const from = resolve(p.from);
  const listing = listLocation(from);
  if (!listing.exists) throw new CaError('ARCHIVE_NOT_FOUND', `no backup location at ${from}`);
  const { chosen, dropped } = chooseRestoreSet(from, listing.sets, listing.partials, p.acceptLossAfter, clock);
  const manifest = chosen.manifest!;
  const warnings: string[] = [];
  if (dropped.length)
    warnings.push(
      `loss accepted: ${dropped.map((d) => `${d.set}${d.verified ? '' : ' (did not verify)'}`).join(', ')} not restored; anything done after ${chosen.name} is not in the restored system`,
    );

  const homeExisted = existsSync(home);
  placeSetInHome(chosen.dir, home);
  let inst: Installation | undefined;
  const present: Participant[] = [];
  try {
    inst = openInstallation(home, { clock, auditConfigChange: false });
    const head = checkRestoredStore(inst, manifest);
    const digest = operationDigest({
      kind: 'archive.restore',
      from,
      set: chosen.name,
      manifestSha256: chosen.manifestSha256,
    });
    const [operator, witness] = await bringRestoreParticipants(inst, p, chosen.name, digest, present);
    recordRestore(inst, { p, from, home, chosen, dropped, digest, clock, operator, witness });
    // The set's config may differ from what the log last saw: recorded after the restore event.
    auditConfigFile(inst);
    const reseeded = reseedArchive(inst, from, manifest.number, clock);
    const backup = await backupAfterChange(inst, { reason: 'archive.restore', ceremonyId: null, operator });
    if (!backup.ok) warnings.push(`the first backup of the restored system failed: ${backup.error?.message}`);
    return {
      home,
      set: chosen.name,
      manifest,
      manifestSha256: chosen.manifestSha256!,
      dropped,
      auditHead: head,
      crlNumbers: crlNumbersByCa(inst.db),
      certificates: countRows(inst.db, 'certificates'),
      reseeded,
      backup,
      warnings,
    };
  } catch (e) {
    // Nothing half-restored is left behind: the new home is removed again.
    lockAll(present);
    present.length = 0;
    inst?.close();
    inst = undefined;
    if (homeExisted) for (const f of readdirSync(home)) rmSync(join(home, f), { recursive: true, force: true });
    else rmSync(home, { recursive: true, force: true });
    throw e;
  } finally {
    lockAll(present);
    inst?.close();
  }
}

/**
 * Settles the restored register, moves CRL numbers past any a dropped set used, records the
 * dropped sets and appends the archive.restore event, all in one transaction.
 */
function recordRestore(
  live: Installation,
  r: {
    p: RestoreParams;
    from: string;
    home: string;
    chosen: SetCheck;
    dropped: DroppedSet[];
    digest: Buffer;
    clock: Clock;
    operator: Participant;
    witness: Participant;
  },
): void {
  const { p, from, home, chosen, dropped, digest, clock, operator, witness } = r;
  const manifest = chosen.manifest!;
  const advance = p.crlNumberAdvance ?? 0;
  live.db
    .transaction(() => {
      settleRestoredRegister(live.db, chosen.name, manifest.created, chosen.manifestSha256!);
      if (advance > 0) advanceAllCrlNumbers(live.db, advance);
      recordDroppedSets(live, { from, after: chosen.name, dropped, at: clock.now().toISOString() });
      live.audit.append({
        actor: [operator.operator.name, witness.operator.name].join(','),
        roles: [...new Set([...operator.operator.roles, ...witness.operator.roles])],
        action: 'archive.restore',
        target: live.config.installation.name,
        outcome: 'success',
        details: {
          from,
          set: chosen.name,
          manifestSha256: chosen.manifestSha256,
          restoredAuditHead: manifest.audit,
          crlNumberAdvance: advance,
          home,
          lossAccepted: p.acceptLossAfter === undefined ? null : { after: chosen.name, dropped },
          ...participantEvidence(digest, [
            { role: 'operator', p: operator },
            { role: 'witness', p: witness },
          ]),
        },
      });
    })
    .immediate();
}

/** The set's store and config copied into the new home, durably (the store under a temporary name first). */
function placeSetInHome(setDir: string, home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  copyDurable(join(setDir, SET_DB_FILE), join(home, `${DATABASE_FILE}.restoring`));
  renameDurable(join(home, `${DATABASE_FILE}.restoring`), join(home, DATABASE_FILE));
  copyDurable(join(setDir, SET_CONFIG_FILE), join(home, CONFIG_FILE));
  fsyncPath(home);
}

/** The restored store checked again in place: integrity, and an audit chain ending where the manifest says. Returns the head. */
function checkRestoredStore(inst: Installation, manifest: BackupManifest): { seq: number; hash: string } {
  const integrity = integrityCheck(inst.db);
  if (integrity !== 'ok')
    throw new CaError('RESTORE_CORRUPT', `the restored store fails PRAGMA integrity_check: ${integrity}`);
  const v = inst.audit.verify();
  if (!v.ok)
    throw new CaError(
      'RESTORE_AUDIT_BROKEN',
      `the restored audit log does not verify at event ${v.firstBad?.position}: ${v.firstBad?.problem}`,
    );
  const head = inst.audit.head();
  if (head.seq !== manifest.audit.seq || head.hash !== manifest.audit.hash)
    throw new CaError(
      'RESTORE_AUDIT_BROKEN',
      `the restored audit log ends at event ${head.seq}, the manifest says ${manifest.audit.seq}`,
    );
  return head;
}

/** The CA Administrator and the witness (CPS 5.2.2), authenticated against the restored registry; each is added to `present`. */
async function bringRestoreParticipants(
  inst: Installation,
  p: RestoreParams,
  set: string,
  digest: Buffer,
  present: Participant[],
): Promise<[Participant, Participant]> {
  checkDistinct('archive.restore', { operator: [p.operator], witness: [p.witness] });
  const operator = await bringParticipant(inst, p.operator, p.passphrases, `operator restoring ${set}`, digest, {
    operation: 'archive.restore',
    slot: 'operator',
  });
  if (!operator) throw new CaError('OPERATOR_ABSENT', `the CA Administrator ${p.operator} did not authenticate`);
  present.push(operator);
  const witness = await bringParticipant(inst, p.witness, p.passphrases, `witness of restoring ${set}`, digest, {
    operation: 'archive.restore',
    slot: 'witness',
  });
  if (!witness) throw new CaError('WITNESS_ABSENT', `the witness ${p.witness} did not authenticate (CPS 5.2.2)`);
  present.push(witness);
  return [operator, witness];
}

/** The restored installation's own archive: the verified sets it descends from, copied into its locations. */
function reseedArchive(inst: Installation, from: string, upTo: number, clock: Clock): RestoreResult['reseeded'] {
  const reseeded: RestoreResult['reseeded'] = [];
  const verified = inspectLocations([{ label: 'source', dir: from }], { clock }).checks.filter(
    (c) => c.ok && c.manifest!.number <= upTo,
  );
  for (const loc of archiveLocations(inst)) {
    if (loc.dir === from) continue;
    let n = 0;
    mkdirDurable(loc.dir);
    for (const c of verified) {
      if (existsSync(join(loc.dir, c.name))) continue;
      rmSync(join(loc.dir, c.name + PARTIAL_SUFFIX), { recursive: true, force: true });
      copySetFiles(c.dir, join(loc.dir, c.name + PARTIAL_SUFFIX));
      renameDurable(join(loc.dir, c.name + PARTIAL_SUFFIX), join(loc.dir, c.name));
      n++;
    }
    reseeded.push({ location: loc.dir, sets: n });
  }
  return reseeded;
}
