/**
 * The embedded SQLite store of the offline CA side (better-sqlite3, WAL). Opening applies
 * pending migrations forward in one transaction each; a database written by a newer rootca
 * is refused rather than guessed at.
 */
import Database from 'better-sqlite3';
import { CaError } from '../errors.ts';
import type { Migration } from './migration.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

export interface OpenOptions {
  /** Create the file if missing (only `rootca init` does). */
  create?: boolean;
  migrations?: Migration[];
}

export function openDatabase(path: string, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: !options.create });
  } catch (e) {
    throw new CaError('STORE_NOT_FOUND', `no rootca database at ${path}: run \`rootca init --home DIR\` first`, {
      cause: e,
    });
  }
  db.pragma('journal_mode = WAL');
  // FULL: a committed issuance survives power loss, not only a process crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, options.migrations ?? MIGRATIONS);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, migrations: Migration[]): void {
  const current = schemaVersion(db);
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  if (current > latest) {
    throw new CaError(
      'STORE_TOO_NEW',
      `database schema version ${current} is newer than this rootca knows (${latest}); use a newer rootca`,
    );
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/** CPS 6.2.10: from here on, deleted rows are overwritten in the database file, not just unlinked. */
export function secureDelete(db: Db): void {
  db.pragma('secure_delete = ON');
}

/** Copies the WAL into the database and truncates it, so no old page image outlives a deletion. */
export function checkpointWal(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
}
