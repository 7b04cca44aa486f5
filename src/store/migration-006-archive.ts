/**
 * Migration 6: records archive and trusted time-stamps (R-8; CPS 5.5). The backups table is
 * the register of backup sets (intent first: a row is 'started' before the snapshot is taken,
 * so every set names its own number and the one before it); the internal time-stamping
 * authority's key is a service key sealed 1-of-N to CA Administrators (CPS 5.5.5), and every
 * token it issues is recorded.
 */
import type { Migration } from './migration.ts';

export const MIGRATION_006_ARCHIVE: Migration = {
  version: 6,
  description: 'records archive: backup register, internal TSA key and certificate, issued time-stamp tokens',
  sql: `
    -- CPS 5.5.4: one row per backup set written to the primary and secondary locations.
    CREATE TABLE backups (
      number INTEGER PRIMARY KEY,
      set_name TEXT NOT NULL UNIQUE,
      reason TEXT NOT NULL,
      ceremony_id INTEGER,
      status TEXT NOT NULL CHECK (status IN ('started','completed','failed','abandoned')),
      started_at TEXT NOT NULL,
      finished_at TEXT,
      manifest_sha256 TEXT,
      signer TEXT,
      stamped INTEGER,
      details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TRIGGER backups_no_delete BEFORE DELETE ON backups
      BEGIN SELECT RAISE(ABORT, 'the backup register is kept (CPS 5.5.2)'); END;

    -- CPS 5.5.5: the internal TSA. Its private key is sealed to each holder (tsa_key_envelopes);
    -- one TSA is active at a time; superseded ones keep verifying the tokens they issued.
    CREATE TABLE tsa_keys (
      key_id TEXT PRIMARY KEY,
      ca_id INTEGER NOT NULL REFERENCES cas(id),
      kind TEXT NOT NULL CHECK (kind IN ('p256','p384')),
      public_key_spki BLOB NOT NULL,
      policy_oid TEXT NOT NULL,
      certificate_id INTEGER REFERENCES certificates(id),
      status TEXT NOT NULL CHECK (status IN ('pending','active','superseded','failed')),
      created_at TEXT NOT NULL,
      operator TEXT NOT NULL,
      witness TEXT NOT NULL,
      ceremony_id INTEGER
    );
    CREATE UNIQUE INDEX tsa_keys_one_active ON tsa_keys (status) WHERE status = 'active';
    CREATE TRIGGER tsa_keys_fixed BEFORE UPDATE ON tsa_keys
      WHEN NEW.key_id IS NOT OLD.key_id OR NEW.ca_id IS NOT OLD.ca_id OR NEW.kind IS NOT OLD.kind
        OR NEW.public_key_spki IS NOT OLD.public_key_spki OR NEW.policy_oid IS NOT OLD.policy_oid
        OR (OLD.certificate_id IS NOT NULL AND NEW.certificate_id IS NOT OLD.certificate_id)
      BEGIN SELECT RAISE(ABORT, 'a TSA key changes only its status and, once, its certificate'); END;
    CREATE TRIGGER tsa_keys_no_delete BEFORE DELETE ON tsa_keys
      BEGIN SELECT RAISE(ABORT, 'TSA keys are kept'); END;

    CREATE TABLE tsa_key_envelopes (
      key_id TEXT NOT NULL REFERENCES tsa_keys(key_id),
      holder TEXT NOT NULL,
      sealed BLOB NOT NULL,
      PRIMARY KEY (key_id, holder)
    );

    -- Every token the internal TSA issued (RFC 3161 2.4.2 serialNumber is unique per TSA).
    CREATE TABLE tsa_tokens (
      serial_hex TEXT PRIMARY KEY,
      key_id TEXT NOT NULL REFERENCES tsa_keys(key_id),
      gen_time TEXT NOT NULL,
      hash_algorithm TEXT NOT NULL,
      message_imprint TEXT NOT NULL,
      holder TEXT NOT NULL,
      token_sha256 TEXT NOT NULL
    );
    CREATE TRIGGER tsa_tokens_no_update BEFORE UPDATE ON tsa_tokens
      BEGIN SELECT RAISE(ABORT, 'time-stamp records are append-only'); END;
    CREATE TRIGGER tsa_tokens_no_delete BEFORE DELETE ON tsa_tokens
      BEGIN SELECT RAISE(ABORT, 'time-stamp records are append-only'); END;
  `,
};
