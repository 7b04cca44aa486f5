/**
 * Records archive and backups (R-8; CPS 5.5). The backup sets ARE the archive of CPS 5.5.1: each
 * holds a consistent snapshot of the store — issuance and revocation history, CRL history, the
 * self-signed and subscriber certificates, CRLs, transcripts and the audit log — with a manifest
 * signed by the operator who made the change and time-stamped by the internal TSA (5.5.5). A set
 * is written to the primary and the secondary location after every issuance, revocation and CRL
 * (5.5.4). Inspecting and copying the archive is `archive-inspection.ts` (5.5.3, 5.5.7); restoring
 * an installation from a set is `restore.ts` (5.7.2, 5.7.4).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { copySetFiles, writeBackupSet } from '../archive/backup.ts';
import { PARTIAL_SUFFIX, renameDurable } from '../archive/files.ts';
import { backupSetName, MANIFEST_FILE } from '../archive/format.ts';
import { checkSet, type Location } from '../archive/inspect.ts';
import { CaError } from '../errors.ts';
import { CONFIG_FILE, type Installation } from '../installation/installation.ts';
import { bringParticipant, operationDigest, type Participant, type PassphraseSource } from '../people/participants.ts';
import {
  insertStartedBackup,
  lastCompletedBackup,
  markBackupAbandoned,
  markBackupCompleted,
  markBackupFailed,
  markBackupRecovered,
  nextBackupNumber,
  startedBackups,
} from '../store/backups.ts';
import { timestampAvailability, tsaTimestamper } from './time-stamping.ts';
import { progressTask } from '../util/progress.ts';
import { auditRefusal } from '../installation/refusal.ts';

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

/**
 * Finishes what a crashed backup left: a set complete in one location and interrupted in the
 * other is copied from the good copy (after it verifies); a set that never got its manifest is
 * removed and marked abandoned. Only rows of processes that are gone are touched.
 */
function recoverInterrupted(inst: Installation, locations: Location[]): BackupOutcome['recovered'] {
  const out: BackupOutcome['recovered'] = [];
  for (const row of startedBackups(inst.db)) {
    if (inFlight.has(`${inst.home}:${row.number}`)) continue;
    const d = JSON.parse(row.details) as { pid?: number; host?: string; locations?: string[] };
    if (d.host === hostname() && d.pid !== undefined && d.pid !== process.pid && processAlive(d.pid)) continue;
    const dirs = d.locations ?? locations.map((l) => l.dir);
    const name = row.set_name;
    const good = dirs
      .map((dir) => join(dir, name))
      .filter((p) => existsSync(p))
      .find((p) => checkSet(p, { clock: inst.clock }).ok);
    if (good) {
      for (const dir of dirs.filter((x) => !existsSync(join(x, name)))) {
        rmSync(join(dir, name + PARTIAL_SUFFIX), { recursive: true, force: true });
        copySetFiles(good, join(dir, name + PARTIAL_SUFFIX));
        renameDurable(join(dir, name + PARTIAL_SUFFIX), join(dir, name));
      }
      const manifestSha256 = sha256(readFileSync(join(good, MANIFEST_FILE)));
      inst.db
        .transaction(() => {
          markBackupRecovered(inst.db, row.number, inst.clock.now().toISOString(), manifestSha256);
          inst.audit.append({
            actor: inst.systemActor,
            roles: [],
            action: 'archive.backup',
            target: name,
            outcome: 'success',
            details: {
              set: name,
              number: row.number,
              recovered: true,
              manifestSha256,
              note: 'an interrupted copy was completed from the verified one',
            },
          });
        })
        .immediate();
      out.push({ set: name, outcome: 'completed' });
    } else {
      for (const dir of dirs) rmSync(join(dir, name + PARTIAL_SUFFIX), { recursive: true, force: true });
      inst.db
        .transaction(() => {
          markBackupAbandoned(inst.db, row.number, inst.clock.now().toISOString());
          inst.audit.append({
            actor: inst.systemActor,
            roles: [],
            action: 'archive.backup',
            target: name,
            outcome: 'failed',
            details: {
              set: name,
              number: row.number,
              abandoned: true,
              note: 'interrupted before its manifest was written; the incomplete set was removed',
            },
          });
        })
        .immediate();
      out.push({ set: name, outcome: 'abandoned' });
    }
  }
  return out;
}

/** The change a backup follows, and the operator who signs its manifest. */
export interface BackupParams {
  /** The change: certificate.issue, certificate.revoke, crl.issue, ocsp.presign, tsa.init, archive.backup, archive.restore. */
  reason: string;
  ceremonyId: number | null;
  /** The operator who made the change, still authenticated: they sign the manifest. */
  operator: Participant;
  /** Test hook: called after each write step. */
  step?: (name: string) => void;
}

/** The number and name a backup takes, and the completed set it chains to. */
interface AllocatedBackup {
  n: number;
  name: string;
  previous: { number: number; set: string; manifestSha256: string } | null;
}

/** Takes the next backup number and registers the set as started, so an interrupted write can be recovered later. */
function allocateBackup(inst: Installation, p: BackupParams, locations: Location[], created: Date): AllocatedBackup {
  return inst.db
    .transaction(() => {
      const n = nextBackupNumber(inst.db);
      const prev = lastCompletedBackup(inst.db);
      const name = backupSetName(n, created);
      insertStartedBackup(inst.db, {
        number: n,
        set_name: name,
        reason: p.reason,
        ceremony_id: p.ceremonyId,
        started_at: created.toISOString(),
        signer: p.operator.operator.name,
        details: JSON.stringify({ pid: process.pid, host: hostname(), locations: locations.map((l) => l.dir) }),
      });
      return {
        n,
        name,
        previous: prev ? { number: prev.number, set: prev.set_name, manifestSha256: prev.manifest_sha256! } : null,
      };
    })
    .immediate();
}

/** Writes the allocated set to every location, signed by the operator and stamped by the TSA when it can stamp. */
async function writeAllocatedSet(
  inst: Installation,
  p: BackupParams,
  locations: Location[],
  allocated: AllocatedBackup,
  created: Date,
  step: (name: string) => void,
) {
  const available = timestampAvailability(inst, p.operator.operator.name);
  const stamper = available.ok ? tsaTimestamper(inst, p.operator.credential) : undefined;
  const writing = progressTask(`writing backup ${allocated.name} to ${locations.length} locations`);
  return writeBackupSet({
    db: inst.db,
    clock: inst.clock,
    configPath: join(inst.home, CONFIG_FILE),
    locations: locations.map((l) => l.dir),
    number: allocated.n,
    name: allocated.name,
    created,
    installation: inst.config.installation.name,
    reason: p.reason,
    ceremonyId: p.ceremonyId,
    previous: allocated.previous,
    signer: {
      operator: p.operator.operator.name,
      credentialKind: p.operator.operator.credential.kind,
      signingPublicKey: p.operator.operator.credential.signingPublicKey,
      sign: (d) => p.operator.credential.sign(d),
    },
    stamping: available.ok
      ? {
          tsaKeyId: available.tsa.keyId,
          tsaCertificateDer: available.tsa.certificateDer!,
          stamp: (d) => stamper!.stamp(d),
        }
      : { reason: available.reason },
    step,
  }).finally(() => writing.done());
}

/** Marks the written set completed and audits it in one transaction, so the store never counts a set the log lacks. */
function registerBackup(
  inst: Installation,
  p: BackupParams,
  allocated: AllocatedBackup,
  written: Awaited<ReturnType<typeof writeBackupSet>>,
  locationDirs: string[],
): void {
  inst.db
    .transaction(() => {
      markBackupCompleted(
        inst.db,
        allocated.n,
        inst.clock.now().toISOString(),
        written.manifestSha256,
        written.stamped,
      );
      inst.audit.append({
        actor: p.operator.operator.name,
        roles: p.operator.operator.roles,
        action: 'archive.backup',
        target: allocated.name,
        outcome: 'success',
        details: {
          set: allocated.name,
          number: allocated.n,
          reason: p.reason,
          ceremonyId: p.ceremonyId,
          manifestSha256: written.manifestSha256,
          locations: locationDirs,
          stamped: written.stamped,
          notStampedReason: written.notStampedReason ?? null,
          tokenSerial: written.tokenSerialHex ?? null,
          auditHead: written.manifest.audit,
          records: written.manifest.records,
        },
      });
    })
    .immediate();
}

/** Records a failed backup (partial folders removed, marked failed, audited); never throws: the change stands. */
function recordBackupFailure(
  inst: Installation,
  p: BackupParams,
  locations: Location[],
  outcome: BackupOutcome,
  number: number | undefined,
  e: unknown,
): void {
  const error = {
    code: e instanceof CaError ? e.code : ((e as NodeJS.ErrnoException).code ?? 'BACKUP_FAILED'),
    message: (e as Error).message,
  };
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
      markBackupFailed(inst.db, number, inst.clock.now().toISOString(), error.message);
    }
    inst.audit.append({
      actor: p.operator.operator.name,
      roles: p.operator.operator.roles,
      action: 'archive.backup',
      target: outcome.set ?? 'archive',
      outcome: 'failed',
      details: { reason: p.reason, ceremonyId: p.ceremonyId, set: outcome.set ?? null, ...error },
    });
  } catch {
    // The store itself may be what failed; the outcome still says so.
  }
}

/**
 * Writes a backup set to the primary and secondary locations (CPS 5.5.4). Called at the end of
 * every successful issuance, revocation and CRL, before the participants' credentials are
 * locked. Never throws: a failure is audited (archive.backup, failed) and returned, and the
 * change it follows stands.
 */
export async function backupAfterChange(inst: Installation, p: BackupParams): Promise<BackupOutcome> {
  const locations = archiveLocations(inst);
  const outcome: BackupOutcome = {
    ok: false,
    reason: p.reason,
    locations: locations.map((l) => l.dir),
    stamped: false,
    recovered: [],
  };
  let number: number | undefined;
  try {
    if (locations[0]!.dir === locations[1]!.dir)
      throw new CaError(
        'ARCHIVE_LOCATIONS_SAME',
        `archive.primary and archive.secondary are the same folder ${locations[0]!.dir}; the secondary must be elsewhere (CPS 5.5.4)`,
      );
    outcome.recovered = recoverInterrupted(inst, locations);
    const created = inst.clock.now();
    const allocated = allocateBackup(inst, p, locations, created);
    number = allocated.n;
    inFlight.add(`${inst.home}:${number}`);
    const step = p.step ?? stepHook ?? (() => {});
    step('allocated');
    outcome.number = number;
    outcome.set = allocated.name;
    const written = await writeAllocatedSet(inst, p, locations, allocated, created, step);
    Object.assign(outcome, {
      ok: true,
      manifestSha256: written.manifestSha256,
      stamped: written.stamped,
      notStampedReason: written.notStampedReason,
      tokenSerialHex: written.tokenSerialHex,
    });
    registerBackup(inst, p, allocated, written, outcome.locations);
    step('registered');
    return outcome;
  } catch (e) {
    recordBackupFailure(inst, p, locations, outcome, number, e);
    return outcome;
  } finally {
    if (number !== undefined) inFlight.delete(`${inst.home}:${number}`);
  }
}

/** `rootca archive backup`: a backup on demand, signed by the CA Administrator who asks for it. Throws when it fails. */
export async function backupNow(
  inst: Installation,
  p: { operator: string; passphrases: PassphraseSource; step?: (name: string) => void },
): Promise<BackupOutcome> {
  const digest = operationDigest({ kind: 'archive.backup', at: inst.clock.now().toISOString() });
  const who = await bringParticipant(inst, p.operator, p.passphrases, 'operator making a backup', digest, {
    operation: 'archive.backup',
    slot: 'operator',
  });
  if (!who) {
    const e = new CaError('OPERATOR_ABSENT', `${p.operator} did not authenticate`);
    auditRefusal(inst, { action: 'archive.backup', target: 'archive', actor: p.operator }, e);
    throw e;
  }
  try {
    const outcome = await backupAfterChange(inst, {
      reason: 'archive.backup',
      ceremonyId: null,
      operator: who,
      step: p.step,
    });
    if (!outcome.ok)
      throw new CaError('BACKUP_FAILED', `the backup failed: ${outcome.error?.message}`, { details: { outcome } });
    return outcome;
  } finally {
    who.credential.lock();
  }
}
