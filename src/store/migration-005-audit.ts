/**
 * Migration 5: the audit log as a verifiable log (R-7, R-11.1; CPS 5.4). The events stay in
 * `audit_events` (each one is a leaf of an RFC 9162 Merkle tree computed from them); these
 * tables hold what signs and reviews that tree: the audit key (a service key, never a CA
 * key), signed checkpoints of the tree head, and the Log Examiners' review records.
 */
import type { Migration } from './migration.ts';

export const MIGRATION_005_AUDIT: Migration = {
  version: 5,
  description: 'audit evidence: audit keys, signed checkpoints of the Merkle tree head, review records',
  sql: `
    -- The audit key signs checkpoints. Its private key is sealed 1-of-N to Log Examiners
    -- (audit_key_envelopes); one key is active at a time, retired keys keep verifying old checkpoints.
    CREATE TABLE audit_keys (
      key_id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('ed25519','p256','p384')),
      public_key_spki BLOB NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active','retired')),
      created_at TEXT NOT NULL,
      authorised_by TEXT NOT NULL,
      witness TEXT NOT NULL,
      retired_at TEXT
    );
    CREATE UNIQUE INDEX audit_keys_one_active ON audit_keys (status) WHERE status = 'active';
    -- Only retiring a key is an allowed change.
    CREATE TRIGGER audit_keys_only_retire BEFORE UPDATE ON audit_keys
      WHEN NEW.key_id IS NOT OLD.key_id OR NEW.kind IS NOT OLD.kind OR NEW.public_key_spki IS NOT OLD.public_key_spki
        OR NEW.created_at IS NOT OLD.created_at OR NEW.authorised_by IS NOT OLD.authorised_by OR NEW.witness IS NOT OLD.witness
        OR OLD.status = 'retired'
      BEGIN SELECT RAISE(ABORT, 'audit keys change only from active to retired'); END;
    CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys
      BEGIN SELECT RAISE(ABORT, 'audit keys are kept'); END;

    CREATE TABLE audit_key_envelopes (
      key_id TEXT NOT NULL REFERENCES audit_keys(key_id),
      holder TEXT NOT NULL,
      sealed BLOB NOT NULL,
      PRIMARY KEY (key_id, holder)
    );

    -- Signed tree heads. body is the canonical JSON that was signed; the columns repeat it for queries.
    CREATE TABLE audit_checkpoints (
      number INTEGER PRIMARY KEY,
      tree_size INTEGER NOT NULL,
      root_hash TEXT NOT NULL,
      at TEXT NOT NULL,
      body TEXT NOT NULL,
      key_id TEXT NOT NULL REFERENCES audit_keys(key_id),
      signature BLOB NOT NULL,
      timestamp_token BLOB,
      examiner TEXT NOT NULL,
      file TEXT
    );
    CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;

    -- CPS 5.4.2: a Log Examiner's review of a range of events and what they found.
    CREATE TABLE audit_reviews (
      id INTEGER PRIMARY KEY,
      from_seq INTEGER NOT NULL,
      to_seq INTEGER NOT NULL,
      findings TEXT NOT NULL,
      examiner TEXT NOT NULL,
      reviewed_at TEXT NOT NULL,
      log_verified INTEGER NOT NULL,
      tree_size INTEGER NOT NULL,
      root_hash TEXT NOT NULL,
      audit_seq INTEGER NOT NULL
    );
    CREATE TRIGGER audit_reviews_no_update BEFORE UPDATE ON audit_reviews
      BEGIN SELECT RAISE(ABORT, 'audit reviews are append-only'); END;
    CREATE TRIGGER audit_reviews_no_delete BEFORE DELETE ON audit_reviews
      BEGIN SELECT RAISE(ABORT, 'audit reviews are append-only'); END;
  `,
};
