/**
 * Migration 7: CA keys in PKCS#11 tokens (HSMs) and key destruction (CPS 6.2.1-6.2.10, R-6).
 * A token's user PIN is generated at token setup and exists at rest only as M-of-N shares
 * sealed to custodians (hsm_pin_shares), exactly like a soft key's KEK (CPS 6.4.1, 6.4.2).
 * ca_key_objects says which tokens hold which CA key (primary and backups, CPS 6.2.4), so
 * destruction can remove the key from every one of them (CPS 6.2.10).
 */
import type { Migration } from './migration.ts';

export const MIGRATION_007_HSM: Migration = {
  version: 7,
  description: 'PKCS#11 tokens, their M-of-N PIN shares, which tokens hold which CA key; key destruction record',
  sql: `
    -- CPS 6.2.10: when and why a key was destroyed (status 'destroyed' already exists).
    ALTER TABLE ca_keys ADD COLUMN destroyed_at TEXT;
    ALTER TABLE ca_keys ADD COLUMN destroy_reason TEXT;

    -- A token (HSM partition) this installation uses. The PIN is never stored, only shares.
    CREATE TABLE hsm_tokens (
      id INTEGER PRIMARY KEY,
      label TEXT NOT NULL UNIQUE,
      serial TEXT NOT NULL,
      module_path TEXT NOT NULL,
      threshold INTEGER NOT NULL CHECK (threshold >= 2),
      status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','retired')),
      created_at TEXT NOT NULL
    );

    -- M-of-N shares of a token's user PIN ('user') and security-officer PIN ('so').
    CREATE TABLE hsm_pin_shares (
      token_id INTEGER NOT NULL REFERENCES hsm_tokens(id),
      pin_kind TEXT NOT NULL CHECK (pin_kind IN ('user','so')),
      custodian_id INTEGER NOT NULL REFERENCES operators(id),
      share_index INTEGER NOT NULL,
      sealed BLOB NOT NULL,
      PRIMARY KEY (token_id, pin_kind, custodian_id)
    );

    -- Where a CA key lives: its private (and public) key objects in a token, by label and CKA_ID.
    CREATE TABLE ca_key_objects (
      key_id TEXT NOT NULL REFERENCES ca_keys(key_id),
      token_id INTEGER NOT NULL REFERENCES hsm_tokens(id),
      object_label TEXT NOT NULL,
      object_id BLOB NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('primary','backup')),
      status TEXT NOT NULL DEFAULT 'present' CHECK (status IN ('present','destroyed')),
      created_at TEXT NOT NULL,
      destroyed_at TEXT,
      PRIMARY KEY (key_id, token_id)
    );
  `,
};
