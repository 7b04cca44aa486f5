/**
 * The `--store` spelling of the online store: `sqlite:PATH` (or a bare path; one machine) or
 * `postgres://…` / `postgresql://…` (many responders on many machines, issue 9). Parsing is
 * kept apart from opening so that messages never show a password.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../clock.ts';
import { CaError } from '../errors.ts';
import { SqliteOnlineStore, type ServingStore } from './online-store.ts';
import { redactUrl } from './store-url.ts';

export { redactUrl };

export type StoreLocation =
  | { kind: 'sqlite'; path: string; display: string }
  | { kind: 'postgres'; url: string; display: string };

export function parseStoreLocation(spec: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      new URL(spec);
    } catch {
      throw new CaError(
        'STORE_UNSUPPORTED',
        `--store ${redactUrl(spec)}: not a valid PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)`,
      );
    }
    return { kind: 'postgres', url: spec, display: redactUrl(spec) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec))
    throw new CaError(
      'STORE_UNSUPPORTED',
      `--store ${redactUrl(spec)}: unknown store; use sqlite:PATH or postgres://…`,
    );
  const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
  if (path.length === 0) throw new CaError('STORE_UNSUPPORTED', 'the store path is empty (sqlite:PATH)');
  return { kind: 'sqlite', path, display: `sqlite:${path}` };
}

export interface OpenStoreOptions {
  clock?: Clock;
  /** The responder this process is (PostgreSQL keeps each responder's access-log chain and events apart). */
  responder?: string;
}

/** Opens either adapter; PostgreSQL runs its pending migrations first (under an advisory lock). */
export async function openServingStore(spec: string, options: OpenStoreOptions = {}): Promise<ServingStore> {
  const loc = parseStoreLocation(spec);
  // Loaded only for PostgreSQL: a responder on SQLite does not carry the pg driver (memory, start-up).
  if (loc.kind === 'postgres') return (await import('./pg-online-store.ts')).PgOnlineStore.open(loc.url, options);
  mkdirSync(dirname(loc.path), { recursive: true });
  return new SqliteOnlineStore(loc.path, options);
}
