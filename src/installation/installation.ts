/**
 * An installation home: the SQLite store and the config file, opened together with the audit
 * log, the clock and the random source every use case receives.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { secondaryLocationWarnings } from '../archive/locations.ts';
import { AuditLog } from '../audit/log.ts';
import { systemClock, type Clock } from '../clock.ts';
import {
  defaultInstallationConfig,
  parseInstallationConfig,
  renderInstallationConfig,
  type InstallationConfig,
} from '../config/installation.ts';
import { CaError } from '../errors.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { metaValue, setMetaValue } from '../store/meta.ts';
import { sha256Hex } from '../util/digest.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE, restrictDatabaseFiles, restrictToOwner } from '../util/file-modes.ts';

export const DATABASE_FILE = 'rootca.db';
export const CONFIG_FILE = 'rootca.yaml';

export interface Installation {
  home: string;
  db: Db;
  config: InstallationConfig;
  audit: AuditLog;
  clock: Clock;
  /** CSPRNG bytes (serials, key ids). */
  random(n: number): Buffer;
  /** Who runs this process, for events no operator authenticated (e.g. `system:root`). */
  systemActor: string;
  close(): void;
}

export interface OpenInstallationOptions {
  clock?: Clock;
  /**
   * Record an edit of rootca.yaml as an audit event on open (default true). Restore turns it
   * off until it has checked the restored log against its backup manifest, then records it.
   */
  auditConfigChange?: boolean;
}

/** `ROOTCA_HOME`, else `./rootca-data`. */
export function defaultHome(): string {
  return resolve(process.env.ROOTCA_HOME ?? 'rootca-data');
}

/** Creates a new installation; refuses an existing one (nothing is overwritten). `warnings`: what the operator should fix. */
export function initInstallation(
  home: string,
  p: { name: string; baseUrl?: string; scryptLog2N?: number } & OpenInstallationOptions,
): Installation & { warnings: string[] } {
  const dir = resolve(home);
  if (existsSync(join(dir, DATABASE_FILE)) || existsSync(join(dir, CONFIG_FILE))) {
    throw new CaError('INSTALLATION_EXISTS', `${dir} already holds a rootca installation; nothing was changed`);
  }
  // Issue 14 item 3: the home holds wrapped keys and sealed shares; 0700 even if it existed (e.g. 0755).
  ensurePrivateDir(dir);
  const config = defaultInstallationConfig(p.name);
  if (p.baseUrl) config.repository.baseUrl = p.baseUrl;
  if (p.scryptLog2N !== undefined) config.credentials.scryptLog2N = p.scryptLog2N;
  const configText = Buffer.from(renderInstallationConfig(config));
  writeFileSync(join(dir, CONFIG_FILE), configText, { flag: 'wx', mode: 0o600 });
  const inst = open(dir, config, { ...p, create: true });
  const warnings = secondaryLocationWarnings({
    home: dir,
    primary: resolve(dir, config.archive.primary),
    secondary: resolve(dir, config.archive.secondary),
  });
  inst.audit.append({
    actor: inst.systemActor,
    roles: [],
    action: 'installation.init',
    target: p.name,
    outcome: 'success',
    details: { home: dir, warnings },
  });
  recordConfigChange(inst, configText);
  return Object.assign(inst, { warnings });
}

export function openInstallation(home: string, options: OpenInstallationOptions = {}): Installation {
  const dir = resolve(home);
  const configPath = join(dir, CONFIG_FILE);
  if (!existsSync(join(dir, DATABASE_FILE))) {
    throw new CaError(
      'INSTALLATION_NOT_FOUND',
      `no rootca installation in ${dir}: run \`rootca init --home ${home}\` first`,
    );
  }
  const configText = readFileSync(configPath);
  const config = parseInstallationConfig(configText.toString('utf8'), configPath);
  const inst = open(dir, config, options);
  if (options.auditConfigChange !== false) recordConfigChange(inst, configText);
  return inst;
}

/** Records the config file's digest now if it changed since last seen (see recordConfigChange). */
export function auditConfigFile(inst: Installation): void {
  recordConfigChange(inst, readFileSync(join(inst.home, CONFIG_FILE)));
}

/**
 * CPS 5.4.1: configuration changes are audit events. The config file is edited outside the
 * program, so each open compares its digest with the one last seen and records any change.
 */
function recordConfigChange(inst: Installation, configText: Buffer): void {
  const now = sha256Hex(configText);
  const previous = metaValue(inst.db, 'config_sha256');
  if (previous === now) return;
  inst.db
    .transaction(() => {
      setMetaValue(inst.db, 'config_sha256', now);
      inst.audit.append({
        actor: inst.systemActor,
        roles: [],
        action: previous !== undefined ? 'config.changed' : 'config.recorded',
        target: CONFIG_FILE,
        outcome: 'success',
        details: { previousSha256: previous ?? null, sha256: now, config: inst.config },
      });
    })
    .immediate();
}

function open(
  dir: string,
  config: InstallationConfig,
  options: OpenInstallationOptions & { create?: boolean },
): Installation {
  const dbPath = join(dir, DATABASE_FILE);
  // SQLite gives the WAL and SHM files the database's mode: an empty 0600 file first, so none
  // of the three is ever readable by others, whatever the umask (issue 14 item 3).
  if (options.create) writeFileSync(dbPath, '', { flag: 'wx', mode: PRIVATE_FILE_MODE });
  restrictToOwner(dbPath);
  const db = openDatabase(dbPath, { create: options.create });
  restrictDatabaseFiles(dbPath);
  const clock = options.clock ?? systemClock;
  return {
    home: dir,
    db,
    config,
    audit: new AuditLog(db, clock),
    clock,
    random: (n) => randomBytes(n),
    systemActor: `system:${safeUser()}`,
    close: () => db.close(),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
