/**
 * Records archive, backups and restore (R-8; CPS 5.5, 5.7). The backup sets ARE the archive of
 * CPS 5.5.1: each holds a consistent snapshot of the store — issuance and revocation history,
 * CRL history, the self-signed and subscriber certificates, CRLs, transcripts and the audit
 * log — with a manifest signed by the operator who made the change and time-stamped by the
 * internal TSA (5.5.5). A set is written to the primary and the secondary location after every
 * issuance, revocation and CRL (5.5.4); `inspect` finds any loss (5.5.3), `copy` moves the
 * archive to fresh media (5.5.7), and `restore` rebuilds an installation that carries on where
 * the set stopped (5.7.2, 5.7.4).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { copySetFiles, writeBackupSet } from '../archive/backup.ts';
import { copyDurable, listLocation, mkdirDurable, PARTIAL_SUFFIX, renameDurable, setNumber } from '../archive/files.ts';
import { fsyncPath } from '../util/fsync.ts';
import { backupSetName, CONFIG_FILE as SET_CONFIG_FILE, DB_FILE as SET_DB_FILE, MANIFEST_FILE, type BackupManifest, type RecordCounts } from '../archive/format.ts';
import { checkSet, inspectLocations, type ArchiveReport, type DroppedByRestore, type ExpectedSet, type Location, type SetCheck } from '../archive/inspect.ts';
import { secondaryLocationWarnings } from '../archive/locations.ts';
import { integrityCheck } from '../archive/snapshot.ts';
import { systemClock, type Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import { auditConfigFile, CONFIG_FILE, DATABASE_FILE, openInstallation, type Installation } from '../installation/installation.ts';
import { findOperator } from '../people/operators.ts';
import { bringParticipant, lockAll, operationDigest, participantEvidence, type Participant, type PassphraseSource } from '../people/participants.ts';
import { checkDistinct } from '../people/permissions.ts';
import { timestampAvailability, tsaTimestamper } from './time-stamping.ts';
import { progressTask } from '../util/progress.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What became of the backup that followed a change; a failed backup never undoes the change. */
export interface BackupOutcome {
  ok: boolean;
  reason: string;
  set?: string;
  number?: number;
  /** The folders the set was written to. */
  locations: string[];
  manifestSha256?: string;
  stamped: boolean;
  notStampedReason?: string;
  tokenSerialHex?: string;
  /** Interrupted backups found and completed or abandoned first. */
  recovered: { set: string; outcome: 'completed' | 'abandoned' }[];
  error?: { code: string; message: string };
}

/** The configured primary and secondary locations, resolved against the home. */
export function archiveLocations(inst: Installation): Location[] {
  return [
    { label: 'primary', dir: resolve(inst.home, inst.config.archive.primary) },
    { label: 'secondary', dir: resolve(inst.home, inst.config.archive.secondary) },
  ];
}

/** Backups being written by this process (so recovery leaves them alone). */
const inFlight = new Set<string>();

let stepHook: ((name: string) => void) | undefined;

/** Test hook: called after each step of every backup this process writes (the crash test kills the process there). */
export function onBackupStep(fn: ((name: string) => void) | undefined): void {
  stepHook = fn;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface BackupRow { number: number; set_name: string; status: string; manifest_sha256: string | null; details: string }

/**
 * Finishes what a crashed backup left: a set complete in one location and interrupted in the
 * other is copied from the good copy (after it verifies); a set that never got its manifest is
 * removed and marked abandoned. Only rows of processes that are gone are touched.
 */
function recoverInterrupted(inst: Installation, locations: Location[]): BackupOutcome['recovered'] {
  const out: BackupOutcome['recovered'] = [];
  const rows = inst.db.prepare("SELECT number, set_name, status, manifest_sha256, details FROM backups WHERE status = 'started' ORDER BY number").all() as BackupRow[];
  for (const row of rows) {
    if (inFlight.has(`${inst.home}:${row.number}`)) continue;
    const d = JSON.parse(row.details) as { pid?: number; host?: string; locations?: string[] };
    if (d.host === hostname() && d.pid !== undefined && d.pid !== process.pid && processAlive(d.pid)) continue;
    const dirs = d.locations ?? locations.map((l) => l.dir);
    const name = row.set_name;
    const good = dirs.map((dir) => join(dir, name)).filter((p) => existsSync(p)).find((p) => checkSet(p, { clock: inst.clock }).ok);
    if (good) {
      for (const dir of dirs.filter((x) => !existsSync(join(x, name)))) {
        rmSync(join(dir, name + PARTIAL_SUFFIX), { recursive: true, force: true });
        copySetFiles(good, join(dir, name + PARTIAL_SUFFIX));
        renameDurable(join(dir, name + PARTIAL_SUFFIX), join(dir, name));
      }
      const manifestSha256 = sha256(readFileSync(join(good, MANIFEST_FILE)));
      inst.db.transaction(() => {
        inst.db.prepare("UPDATE backups SET status = 'completed', finished_at = ?, manifest_sha256 = ?, details = json_set(details, '$.recovered', json('true')) WHERE number = ?")
          .run(inst.clock.now().toISOString(), manifestSha256, row.number);
        inst.audit.append({ actor: inst.systemActor, roles: [], action: 'archive.backup', target: name, outcome: 'success', details: { set: name, number: row.number, recovered: true, manifestSha256, note: 'an interrupted copy was completed from the verified one' } });
      }).immediate();
      out.push({ set: name, outcome: 'completed' });
    } else {
      for (const dir of dirs) rmSync(join(dir, name + PARTIAL_SUFFIX), { recursive: true, force: true });
      inst.db.transaction(() => {
        inst.db.prepare("UPDATE backups SET status = 'abandoned', finished_at = ? WHERE number = ?").run(inst.clock.now().toISOString(), row.number);
        inst.audit.append({ actor: inst.systemActor, roles: [], action: 'archive.backup', target: name, outcome: 'failed', details: { set: name, number: row.number, abandoned: true, note: 'interrupted before its manifest was written; the incomplete set was removed' } });
      }).immediate();
      out.push({ set: name, outcome: 'abandoned' });
    }
  }
  return out;
}

export interface BackupParams {
  /** The change: certificate.issue, certificate.revoke, crl.issue, ocsp.presign, tsa.init, archive.backup, archive.restore. */
  reason: string;
  ceremonyId: number | null;
  /** The operator who made the change, still authenticated: they sign the manifest. */
  operator: Participant;
  /** Test hook: called after each write step. */
  step?: (name: string) => void;
}

/**
 * Writes a backup set to the primary and secondary locations (CPS 5.5.4). Called at the end of
 * every successful issuance, revocation and CRL, before the participants' credentials are
 * locked. Never throws: a failure is audited (archive.backup, failed) and returned, and the
 * change it follows stands.
 */
export async function backupAfterChange(inst: Installation, p: BackupParams): Promise<BackupOutcome> {
  const locations = archiveLocations(inst);
  const outcome: BackupOutcome = { ok: false, reason: p.reason, locations: locations.map((l) => l.dir), stamped: false, recovered: [] };
  let number: number | undefined;
  try {
    if (locations[0]!.dir === locations[1]!.dir) throw new CaError('ARCHIVE_LOCATIONS_SAME', `archive.primary and archive.secondary are the same folder ${locations[0]!.dir}; the secondary must be elsewhere (CPS 5.5.4)`);
    outcome.recovered = recoverInterrupted(inst, locations);
    const created = inst.clock.now();
    const allocated = inst.db.transaction(() => {
      const n = ((inst.db.prepare('SELECT max(number) AS n FROM backups').get() as { n: number | null }).n ?? 0) + 1;
      const prev = inst.db.prepare("SELECT number, set_name, manifest_sha256 FROM backups WHERE status = 'completed' AND manifest_sha256 IS NOT NULL ORDER BY number DESC LIMIT 1").get() as BackupRow | undefined;
      const name = backupSetName(n, created);
      inst.db.prepare("INSERT INTO backups (number, set_name, reason, ceremony_id, status, started_at, signer, details) VALUES (?,?,?,?, 'started', ?,?,?)")
        .run(n, name, p.reason, p.ceremonyId, created.toISOString(), p.operator.operator.name, JSON.stringify({ pid: process.pid, host: hostname(), locations: locations.map((l) => l.dir) }));
      return { n, name, previous: prev ? { number: prev.number, set: prev.set_name, manifestSha256: prev.manifest_sha256! } : null };
    }).immediate();
    number = allocated.n;
    inFlight.add(`${inst.home}:${number}`);
    const step = p.step ?? stepHook ?? (() => {});
    step('allocated');
    outcome.number = number;
    outcome.set = allocated.name;
    const available = timestampAvailability(inst, p.operator.operator.name);
    const stamper = available.ok ? tsaTimestamper(inst, p.operator.credential) : undefined;
    const writing = progressTask(`writing backup ${allocated.name} to ${locations.length} locations`);
    const written = await writeBackupSet({
      db: inst.db, clock: inst.clock, configPath: join(inst.home, CONFIG_FILE), locations: locations.map((l) => l.dir),
      number, name: allocated.name, created, installation: inst.config.installation.name, reason: p.reason, ceremonyId: p.ceremonyId, previous: allocated.previous,
      signer: { operator: p.operator.operator.name, credentialKind: p.operator.operator.credential.kind, signingPublicKey: p.operator.operator.credential.signingPublicKey, sign: (d) => p.operator.credential.sign(d) },
      stamping: available.ok ? { tsaKeyId: available.tsa.keyId, tsaCertificateDer: available.tsa.certificateDer!, stamp: (d) => stamper!.stamp(d) } : { reason: available.reason },
      step,
    }).finally(() => writing.done());
    Object.assign(outcome, { ok: true, manifestSha256: written.manifestSha256, stamped: written.stamped, notStampedReason: written.notStampedReason, tokenSerialHex: written.tokenSerialHex });
    inst.db.transaction(() => {
      inst.db.prepare("UPDATE backups SET status = 'completed', finished_at = ?, manifest_sha256 = ?, stamped = ? WHERE number = ?")
        .run(inst.clock.now().toISOString(), written.manifestSha256, written.stamped ? 1 : 0, number);
      inst.audit.append({
        actor: p.operator.operator.name, roles: p.operator.operator.roles, action: 'archive.backup', target: allocated.name, outcome: 'success',
        details: {
          set: allocated.name, number, reason: p.reason, ceremonyId: p.ceremonyId, manifestSha256: written.manifestSha256, locations: outcome.locations,
          stamped: written.stamped, notStampedReason: written.notStampedReason ?? null, tokenSerial: written.tokenSerialHex ?? null,
          auditHead: written.manifest.audit, records: written.manifest.records,
        },
      });
    }).immediate();
    step('registered');
    return outcome;
  } catch (e) {
    const error = { code: e instanceof CaError ? e.code : ((e as NodeJS.ErrnoException).code ?? 'BACKUP_FAILED'), message: (e as Error).message };
    Object.assign(outcome, { ok: false, error });
    for (const l of number !== undefined ? locations : []) {
      try {
        rmSync(join(l.dir, `${outcome.set}${PARTIAL_SUFFIX}`), { recursive: true, force: true });
      } catch {
        // The location itself may be what failed.
      }
    }
    try {
      if (number !== undefined) {
        inst.db.prepare("UPDATE backups SET status = 'failed', finished_at = ?, details = json_set(details, '$.error', ?) WHERE number = ? AND status = 'started'").run(inst.clock.now().toISOString(), error.message, number);
      }
      inst.audit.append({ actor: p.operator.operator.name, roles: p.operator.operator.roles, action: 'archive.backup', target: outcome.set ?? 'archive', outcome: 'failed', details: { reason: p.reason, ceremonyId: p.ceremonyId, set: outcome.set ?? null, ...error } });
    } catch {
      // The store itself may be what failed; the outcome still says so.
    }
    return outcome;
  } finally {
    if (number !== undefined) inFlight.delete(`${inst.home}:${number}`);
  }
}

/** `rootca archive backup`: a backup on demand, signed by the CA Administrator who asks for it. Throws when it fails. */
export async function backupNow(inst: Installation, p: { operator: string; passphrases: PassphraseSource; step?: (name: string) => void }): Promise<BackupOutcome> {
  const digest = operationDigest({ kind: 'archive.backup', at: inst.clock.now().toISOString() });
  const who = await bringParticipant(inst, p.operator, p.passphrases, 'operator making a backup', digest, { operation: 'archive.backup', slot: 'operator' });
  if (!who) {
    inst.audit.append({ actor: p.operator, roles: [], action: 'archive.backup', target: 'archive', outcome: 'refused', details: { code: 'OPERATOR_ABSENT' } });
    throw new CaError('OPERATOR_ABSENT', `${p.operator} did not authenticate`);
  }
  try {
    const outcome = await backupAfterChange(inst, { reason: 'archive.backup', ceremonyId: null, operator: who, step: p.step });
    if (!outcome.ok) throw new CaError('BACKUP_FAILED', `the backup failed: ${outcome.error?.message}`, { details: { outcome } });
    return outcome;
  } finally {
    who.credential.lock();
  }
}

function registerExpectations(inst: Installation): ExpectedSet[] {
  return (inst.db.prepare("SELECT set_name, manifest_sha256, details FROM backups WHERE status = 'completed' ORDER BY number").all() as { set_name: string; manifest_sha256: string | null; details: string }[])
    .map((r) => ({ set: r.set_name, manifestSha256: r.manifest_sha256, locations: (JSON.parse(r.details) as { locations?: string[] }).locations ?? [] }));
}

/** Sets a restore gave up with an accepted loss, as the register records them (see recordDroppedSets). */
function registerDropped(inst: Installation): DroppedByRestore[] {
  return (inst.db.prepare("SELECT set_name, json_extract(details, '$.droppedByRestore.after') AS after FROM backups WHERE status = 'abandoned' AND json_extract(details, '$.droppedByRestore') IS NOT NULL ORDER BY number")
    .all() as { set_name: string; after: string }[]).map((r) => ({ set: r.set_name, after: r.after }));
}

/**
 * `rootca archive inspect` (CPS 5.5.3): verifies every set in the locations (the configured
 * ones by default) and, with a live installation, that every set its register completed is
 * still there. The inspection is itself audited.
 */
export function inspectArchive(inst: Installation | undefined, p: { locations?: Location[]; clock?: Clock } = {}): ArchiveReport {
  if (!inst && !p.locations?.length) throw new CaError('ARCHIVE_LOCATION_REQUIRED', 'name the backup locations to inspect (no installation to take them from)');
  const locations = p.locations?.length ? p.locations : archiveLocations(inst!);
  const report = inspectLocations(locations, {
    clock: p.clock ?? inst?.clock ?? systemClock,
    expected: inst ? registerExpectations(inst) : undefined,
    dropped: inst ? registerDropped(inst) : undefined,
    liveSignerKey: inst ? (name) => {
      const op = findOperator(inst, name);
      return op && { kind: op.credential.kind, spki: op.credential.signingPublicKey };
    } : undefined,
  });
  // CPS 5.5.4: a secondary on the same disk is not a loss yet, but one failure away from it.
  if (inst && !p.locations?.length) report.warnings.push(...secondaryLocationWarnings({ home: inst.home, primary: locations[0]!.dir, secondary: locations[1]!.dir }));
  inst?.audit.append({
    actor: inst.systemActor, roles: [], action: 'archive.inspect', target: locations.map((l) => l.dir).join(','), outcome: report.ok ? 'success' : 'failed',
    details: { sets: report.sets.length, problems: report.problems.slice(0, 50), warnings: report.warnings.length },
  });
  return report;
}

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
export function copyArchive(inst: Installation | undefined, p: { from?: Location[]; to: string; clock?: Clock }): CopyResult {
  const clock = p.clock ?? inst?.clock ?? systemClock;
  const from = p.from?.length ? p.from : inst ? archiveLocations(inst) : [];
  if (from.length === 0) throw new CaError('ARCHIVE_LOCATION_REQUIRED', 'name the backup locations to copy from');
  const to = resolve(p.to);
  if (existsSync(to) && readdirSync(to).length > 0) throw new CaError('OUTPUT_EXISTS', `${to} is not empty: copy to fresh media (an empty or new folder); nothing was overwritten`);
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
    if (!copy || copy.manifestSha256 !== original.manifestSha256) problems.push(`${name}: the copy's manifest differs from the original`);
  }
  const verified = problems.length === 0;
  inst?.audit.append({ actor: inst.systemActor, roles: [], action: 'archive.copy', target: to, outcome: verified ? 'success' : 'failed', details: { from: from.map((l) => l.dir), copied: copied.length, problems: problems.slice(0, 50) } });
  return { to, copied, verified, problems, report };
}

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
  return { set: c.name, verified: c.ok, problems: c.problems, ...(m ? { created: m.created, reason: m.reason, records: m.records, crlNumbers: m.crlNumbers } : {}) };
}

/**
 * Inside the restore's transaction: the register keeps the dropped sets' numbers as
 * 'abandoned' rows marked droppedByRestore (so no later set reuses a number, and inspection
 * reports them as dropped rather than lost), and each CA's CRL number moves past any number a
 * dropped set's manifest states (RFC 5280 5.2.3: CRL numbers are "monotonically increasing").
 */
function recordDroppedSets(inst: Installation, x: { from: string; after: string; dropped: DroppedSet[]; at: string }): void {
  const insert = inst.db.prepare(`INSERT INTO backups (number, set_name, reason, ceremony_id, status, started_at, finished_at, details)
    VALUES (?,?,?,NULL,'abandoned',?,?,?) ON CONFLICT DO NOTHING`);
  const raise = inst.db.prepare('UPDATE crl_numbers SET last_number = max(last_number, ?) WHERE ca_id = (SELECT id FROM cas WHERE name = ?)');
  for (const d of x.dropped) {
    const details = { droppedByRestore: { after: x.after, from: x.from, verified: d.verified, problems: d.problems }, locations: [x.from] };
    insert.run(setNumber(d.set), d.set, d.reason ?? 'unknown', d.created ?? x.at, x.at, JSON.stringify(details));
    for (const [ca, n] of Object.entries(d.crlNumbers ?? {})) if (Number.isSafeInteger(n)) raise.run(n, ca);
  }
}

/**
 * The set to restore from a location's complete sets: the newest, which must verify; an older
 * one only when named by `acceptLossAfter`, with every newer set listed as dropped. Refuses
 * RESTORE_NEWEST_UNVERIFIED (naming the set, its exact failures and the newest set that does
 * verify), BACKUP_SET_UNKNOWN and BACKUP_SET_UNVERIFIED; nothing is written before this.
 */
function chooseRestoreSet(from: string, sets: string[], partials: string[], acceptLossAfter: string | undefined, clock: Clock): { chosen: SetCheck; dropped: DroppedSet[] } {
  const newestFirst = [...sets].sort((a, b) => setNumber(b) - setNumber(a) || b.localeCompare(a));
  if (newestFirst.length === 0) throw new CaError('NO_VERIFIED_BACKUP', `no complete set in ${from} (there are none)`);
  const check = (name: string) => checkSet(join(from, name), { clock });
  if (acceptLossAfter !== undefined) {
    if (!sets.includes(acceptLossAfter)) throw new CaError('BACKUP_SET_UNKNOWN', `no complete set ${acceptLossAfter} in ${from}${partials.includes(acceptLossAfter) ? ' (it is incomplete)' : ''}; nothing was restored`);
    const chosen = check(acceptLossAfter);
    if (!chosen.ok) throw new CaError('BACKUP_SET_UNVERIFIED', `${acceptLossAfter} in ${from} does not verify: ${chosen.problems.join('; ')}; nothing was restored`, { details: { set: acceptLossAfter, problems: chosen.problems } });
    const newer = newestFirst.slice(0, newestFirst.indexOf(acceptLossAfter)).reverse();
    return { chosen, dropped: newer.map((n) => droppedSet(check(n))) };
  }
  const newest = check(newestFirst[0]!);
  if (newest.ok) return { chosen: newest, dropped: [] };
  const fallback = newestFirst.slice(1).find((n) => check(n).ok);
  throw new CaError('RESTORE_NEWEST_UNVERIFIED', [
    `the newest set ${newest.name} in ${from} does not verify: ${newest.problems.join('; ')}.`,
    'Nothing was restored: an older set would go back in time and lose what was recorded after it (CPS 5.5).',
    fallback
      ? `The newest set that verifies is ${fallback}; to restore it and accept losing everything after it, run again with --accept-loss-after ${fallback} (recorded in the restored audit log).`
      : 'No older set verifies either.',
  ].join(' '), { details: { set: newest.name, problems: newest.problems, newestVerified: fallback ?? null } });
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
  if (existsSync(home) && readdirSync(home).length > 0) throw new CaError('INSTALLATION_EXISTS', `${home} exists and is not empty; restore into a new home (nothing was changed)`);
  const from = resolve(p.from);
  const listing = listLocation(from);
  if (!listing.exists) throw new CaError('ARCHIVE_NOT_FOUND', `no backup location at ${from}`);
  const { chosen, dropped } = chooseRestoreSet(from, listing.sets, listing.partials, p.acceptLossAfter, clock);
  const manifest = chosen.manifest!;
  const warnings: string[] = [];
  if (dropped.length) warnings.push(`loss accepted: ${dropped.map((d) => `${d.set}${d.verified ? '' : ' (did not verify)'}`).join(', ')} not restored; anything done after ${chosen.name} is not in the restored system`);

  const homeExisted = existsSync(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  copyDurable(join(chosen.dir, SET_DB_FILE), join(home, `${DATABASE_FILE}.restoring`));
  renameDurable(join(home, `${DATABASE_FILE}.restoring`), join(home, DATABASE_FILE));
  copyDurable(join(chosen.dir, SET_CONFIG_FILE), join(home, CONFIG_FILE));
  fsyncPath(home);

  let inst: Installation | undefined;
  const present: Participant[] = [];
  try {
    inst = openInstallation(home, { clock, auditConfigChange: false });
    const integrity = integrityCheck(inst.db);
    if (integrity !== 'ok') throw new CaError('RESTORE_CORRUPT', `the restored store fails PRAGMA integrity_check: ${integrity}`);
    const v = inst.audit.verify();
    if (!v.ok) throw new CaError('RESTORE_AUDIT_BROKEN', `the restored audit log does not verify at event ${v.firstBad?.position}: ${v.firstBad?.problem}`);
    const head = inst.audit.head();
    if (head.seq !== manifest.audit.seq || head.hash !== manifest.audit.hash) throw new CaError('RESTORE_AUDIT_BROKEN', `the restored audit log ends at event ${head.seq}, the manifest says ${manifest.audit.seq}`);

    const digest = operationDigest({ kind: 'archive.restore', from, set: chosen.name, manifestSha256: chosen.manifestSha256 });
    checkDistinct('archive.restore', { operator: [p.operator], witness: [p.witness] });
    const operator = await bringParticipant(inst, p.operator, p.passphrases, `operator restoring ${chosen.name}`, digest, { operation: 'archive.restore', slot: 'operator' });
    if (!operator) throw new CaError('OPERATOR_ABSENT', `the CA Administrator ${p.operator} did not authenticate`);
    present.push(operator);
    const witness = await bringParticipant(inst, p.witness, p.passphrases, `witness of restoring ${chosen.name}`, digest, { operation: 'archive.restore', slot: 'witness' });
    if (!witness) throw new CaError('WITNESS_ABSENT', `the witness ${p.witness} did not authenticate (CPS 5.2.2)`);
    present.push(witness);

    const advance = p.crlNumberAdvance ?? 0;
    const live = inst;
    live.db.transaction(() => {
      live.db.prepare("UPDATE backups SET status = 'completed', finished_at = coalesce(finished_at, ?), manifest_sha256 = ? WHERE set_name = ?").run(manifest.created, chosen.manifestSha256, chosen.name);
      live.db.prepare("UPDATE backups SET status = 'abandoned' WHERE status = 'started'").run();
      if (advance > 0) live.db.prepare('UPDATE crl_numbers SET last_number = last_number + ?').run(advance);
      recordDroppedSets(live, { from, after: chosen.name, dropped, at: clock.now().toISOString() });
      live.audit.append({
        actor: [operator.operator.name, witness.operator.name].join(','), roles: [...new Set([...operator.operator.roles, ...witness.operator.roles])], action: 'archive.restore', target: live.config.installation.name, outcome: 'success',
        details: {
          from, set: chosen.name, manifestSha256: chosen.manifestSha256, restoredAuditHead: manifest.audit, crlNumberAdvance: advance, home,
          lossAccepted: p.acceptLossAfter === undefined ? null : { after: chosen.name, dropped },
          ...participantEvidence(digest, [{ role: 'operator', p: operator }, { role: 'witness', p: witness }]),
        },
      });
    }).immediate();
    // The set's config may differ from what the log last saw: recorded after the restore event.
    auditConfigFile(live);

    // The restored installation's own archive: the verified sets it descends from.
    const reseeded: RestoreResult['reseeded'] = [];
    const verified = inspectLocations([{ label: 'source', dir: from }], { clock }).checks.filter((c) => c.ok && c.manifest!.number <= manifest.number);
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
    const backup = await backupAfterChange(inst, { reason: 'archive.restore', ceremonyId: null, operator });
    if (!backup.ok) warnings.push(`the first backup of the restored system failed: ${backup.error?.message}`);
    const crlNumbers = Object.fromEntries((inst.db.prepare('SELECT c.name, n.last_number FROM crl_numbers n JOIN cas c ON c.id = n.ca_id ORDER BY c.name').all() as { name: string; last_number: number }[]).map((r) => [r.name, r.last_number]));
    return {
      home, set: chosen.name, manifest, manifestSha256: chosen.manifestSha256!, dropped, auditHead: head, crlNumbers,
      certificates: (inst.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n, reseeded, backup, warnings,
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
