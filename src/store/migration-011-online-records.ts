/**
 * Migration 11: the online side's records brought home (CPS 5.4.1, 5.5.1, 5.5.2). The public
 * keys that sign the online side's record bundles (registered once per source under a quorum),
 * the bundles ingested (their continuity points and server events), and the OCSP/Repository
 * access-log segments they carried, each kept with the date its retention ends.
 */
import type { Migration } from './migration.ts';

export const MIGRATION_011_ONLINE_RECORDS: Migration = {
  version: 11,
  description: 'online records: registered bundle-signing keys, ingested bundles, archived access-log segments',
  sql: `
    CREATE TABLE online_records_keys (
      id INTEGER PRIMARY KEY,
      source TEXT NOT NULL,
      public_key_sha256 TEXT NOT NULL,
      public_key_spki BLOB NOT NULL,
      registered_at TEXT NOT NULL,
      authorised_by TEXT NOT NULL,
      witness TEXT NOT NULL,
      UNIQUE (source, public_key_sha256)
    );
    CREATE TABLE online_records_bundles (
      id INTEGER PRIMARY KEY,
      source TEXT NOT NULL,
      sha256 TEXT NOT NULL UNIQUE,
      responder TEXT,
      signer_sha256 TEXT NOT NULL,
      created_at TEXT NOT NULL,
      after_event_seq INTEGER NOT NULL,
      after_segment_sha256 TEXT NOT NULL,
      to_event_seq INTEGER NOT NULL,
      to_segment_sha256 TEXT NOT NULL,
      events TEXT NOT NULL,
      ingested_at TEXT NOT NULL,
      ingested_by TEXT NOT NULL,
      retain_until TEXT NOT NULL
    );
    CREATE TABLE online_records_segments (
      id INTEGER PRIMARY KEY,
      bundle_id INTEGER NOT NULL REFERENCES online_records_bundles(id),
      source TEXT NOT NULL,
      name TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      prev_sha256 TEXT NOT NULL,
      lines INTEGER NOT NULL,
      closed_at TEXT NOT NULL,
      data BLOB NOT NULL,
      retain_until TEXT NOT NULL,
      UNIQUE (source, sha256)
    );
  `,
};
