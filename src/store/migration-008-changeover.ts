/**
 * Migration 8: key changeover (CPS 5.6, R-9.1). A CA keeps its name through renewal and re-key;
 * `cas.key_id` and `cas.certificate_id` always name the current key and certificate, and the
 * certificates a changeover made (the renewed or new self-signed one, and the link
 * certificates OldWithNew / NewWithOld of RFC 4210 4.4) are listed here with the keys they
 * certify and were signed by. They are stored in `certificates` with profile 'root' (the CA's
 * own certificates, never listed as issued ones), so the serial uniqueness per CA holds for them.
 */
import type { Migration } from './migration.ts';

export const MIGRATION_008_CHANGEOVER: Migration = {
  version: 8,
  description: 'key changeover: renewed and re-keyed CA certificates and link certificates',
  sql: `
    CREATE TABLE ca_changeover_certificates (
      id INTEGER PRIMARY KEY,
      ca_id INTEGER NOT NULL REFERENCES cas(id),
      certificate_id INTEGER NOT NULL UNIQUE REFERENCES certificates(id),
      -- 'renewed': same key, new self-signed certificate; 'new-with-new': the self-signed
      -- certificate of a new key; 'old-with-new': the old key certified by the new key;
      -- 'new-with-old': the new key certified by the old key (RFC 4210 4.4).
      kind TEXT NOT NULL CHECK (kind IN ('renewed','new-with-new','old-with-new','new-with-old')),
      subject_key_id TEXT NOT NULL REFERENCES ca_keys(key_id),
      signer_key_id TEXT NOT NULL REFERENCES ca_keys(key_id),
      -- The certificate that was current before this changeover.
      replaces_certificate_id INTEGER NOT NULL REFERENCES certificates(id),
      ceremony_id INTEGER NOT NULL REFERENCES ceremonies(id),
      created_at TEXT NOT NULL
    );
    CREATE INDEX ca_changeover_certificates_ca ON ca_changeover_certificates (ca_id, id);
  `,
};
