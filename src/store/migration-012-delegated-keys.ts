/**
 * Migration 12: keys a root delegates signing to (issue 15; BR 6.1.7, RFC 6960 4.2.2.2). A root
 * key signs only certificates and CRLs; pre-signed OCSP responses are signed by an `ocsp`
 * responder key and the publication manifest by a `publication` key. Each is a key of the
 * offline key store (its row in `ca_keys`, its own custodians) certified by the root.
 */
import type { Migration } from './migration.ts';

export const MIGRATION_012_DELEGATED_KEYS: Migration = {
  version: 12,
  description: 'delegated signing keys of a root: OCSP responder and publication keys, with their certificates',
  sql: `
    CREATE TABLE delegated_keys (
      key_id TEXT PRIMARY KEY REFERENCES ca_keys(key_id),
      ca_id INTEGER NOT NULL REFERENCES cas(id),
      purpose TEXT NOT NULL CHECK (purpose IN ('ocsp','publication')),
      -- The root key that certified it (a CertID names that key, RFC 6960 4.1.1).
      issuer_key_id TEXT NOT NULL,
      certificate_id INTEGER REFERENCES certificates(id),
      status TEXT NOT NULL CHECK (status IN ('pending','active','failed')),
      created_at TEXT NOT NULL
    );
    CREATE INDEX delegated_keys_by_ca ON delegated_keys (ca_id, purpose, status);
  `,
};
