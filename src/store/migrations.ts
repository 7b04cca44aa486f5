/**
 * Schema migrations of the offline store. They run forward only: each has a number, is
 * applied once inside a transaction, and a database newer than this program is refused.
 * Never edit a released migration; add the next one.
 */
import type { Migration } from './migration.ts';
import { MIGRATION_005_AUDIT } from './migration-005-audit.ts';
import { MIGRATION_006_ARCHIVE } from './migration-006-archive.ts';
import { MIGRATION_007_HSM } from './migration-007-hsm.ts';
import { MIGRATION_008_CHANGEOVER } from './migration-008-changeover.ts';
import { MIGRATION_009_CA_ENDING } from './migration-009-ca-ending.ts';
import { MIGRATION_010_DOCUMENTS } from './migration-010-documents.ts';
import { MIGRATION_011_ONLINE_RECORDS } from './migration-011-online-records.ts';
import { MIGRATION_012_DELEGATED_KEYS } from './migration-012-delegated-keys.ts';
import { MIGRATION_013_ONLINE_RECORDS_CHUNKS } from './migration-013-online-records-chunks.ts';

/** Re-exported for the stores that name the type from here (the online store). */
export type { Migration } from './migration.ts';

/** Later migrations live in their own files (migration-NNN-*.ts) and are listed in EXTRA_MIGRATIONS below. */
const BASE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'installation, operators, key store, CAs, certificates, ceremonies, audit chain',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      CREATE TABLE operators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        credential_kind TEXT NOT NULL CHECK (credential_kind IN ('ed25519','p256')),
        signing_public_key BLOB NOT NULL,
        encryption_public_key BLOB NOT NULL,
        sealed_private_keys BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','removed')),
        created_at TEXT NOT NULL,
        removed_at TEXT
      );

      -- Role assignments as a history (CPS 5.3.5 job rotation): a row is never deleted, only ended.
      CREATE TABLE operator_roles (
        id INTEGER PRIMARY KEY,
        operator_id INTEGER NOT NULL REFERENCES operators(id),
        role TEXT NOT NULL,
        assigned_at TEXT NOT NULL,
        ended_at TEXT
      );

      CREATE TABLE ca_keys (
        key_id TEXT PRIMARY KEY,
        store TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        public_key_spki BLOB NOT NULL,
        wrapped_private_key BLOB,
        threshold INTEGER NOT NULL CHECK (threshold >= 2),
        status TEXT NOT NULL DEFAULT 'active',
        created_at TEXT NOT NULL
      );

      CREATE TABLE key_shares (
        key_id TEXT NOT NULL REFERENCES ca_keys(key_id),
        custodian_id INTEGER NOT NULL REFERENCES operators(id),
        share_index INTEGER NOT NULL,
        sealed BLOB NOT NULL,
        PRIMARY KEY (key_id, custodian_id)
      );

      CREATE TABLE cas (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        key_id TEXT NOT NULL REFERENCES ca_keys(key_id),
        subject_der BLOB NOT NULL,
        signature_algorithm TEXT NOT NULL,
        legacy_sha1 INTEGER NOT NULL DEFAULT 0,
        certificate_id INTEGER,
        status TEXT NOT NULL DEFAULT 'active',
        created_at TEXT NOT NULL
      );

      CREATE TABLE certificates (
        id INTEGER PRIMARY KEY,
        issuer_ca_id INTEGER NOT NULL REFERENCES cas(id),
        serial_hex TEXT NOT NULL,
        profile TEXT NOT NULL,
        subject_text TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        der BLOB NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (issuer_ca_id, serial_hex)
      );

      -- Intent first (CONVENTIONS; DESIGN "write intent before signing"): a ceremony row is
      -- written as 'started' before any key is generated or used, and closed afterwards.
      CREATE TABLE ceremonies (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        file_sha256 TEXT,
        status TEXT NOT NULL CHECK (status IN ('started','completed','failed')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        details TEXT NOT NULL DEFAULT '{}'
      );

      CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        roles TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('success','refused','failed')),
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      -- Append-only inside the program; the hash chain catches changes made around it.
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
      CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    `,
  },
  {
    version: 2,
    description: 'issuance: CA policies (R-1.2), serial reservations, CSR and requester per certificate',
    sql: `
      -- Certificate Policy OIDs a CA may assert, per purpose (R-1.2). Rows, not code, so a new
      -- CP can be registered later (CPS 1.2) without a release.
      CREATE TABLE ca_policies (
        id INTEGER PRIMARY KEY,
        ca_id INTEGER NOT NULL REFERENCES cas(id),
        purpose TEXT NOT NULL CHECK (purpose IN ('subordinate-ca','time-stamping')),
        oid TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        UNIQUE (ca_id, purpose, oid)
      );

      -- A serial is reserved (intent) before the CA key signs it, so a crash between signing
      -- and storing can never lead to the same serial being used twice.
      CREATE TABLE serial_reservations (
        issuer_ca_id INTEGER NOT NULL REFERENCES cas(id),
        serial_hex TEXT NOT NULL,
        ceremony_id INTEGER NOT NULL REFERENCES ceremonies(id),
        reserved_at TEXT NOT NULL,
        PRIMARY KEY (issuer_ca_id, serial_hex)
      );

      ALTER TABLE certificates ADD COLUMN requester TEXT;
      ALTER TABLE certificates ADD COLUMN csr_der BLOB;
      ALTER TABLE certificates ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
    `,
  },
  {
    version: 3,
    description: 'people and procedure: personnel records, applications (RA workflow), ceremony transcripts',
    sql: `
      -- CPS 5.3: appointment, training, background checks, removal. Dates as ISO strings.
      ALTER TABLE operators ADD COLUMN appointed_at TEXT;
      ALTER TABLE operators ADD COLUMN trained_on TEXT;
      ALTER TABLE operators ADD COLUMN background_checked_on TEXT;
      UPDATE operators SET appointed_at = created_at WHERE appointed_at IS NULL;

      -- One row per personnel change (appointment, role assigned/ended, training, check, removal).
      CREATE TABLE personnel_events (
        id INTEGER PRIMARY KEY,
        operator_id INTEGER NOT NULL REFERENCES operators(id),
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL,
        authorised_by TEXT NOT NULL
      );

      -- R-3.5: application -> identification/approval -> issuance -> acceptance.
      CREATE TABLE applications (
        id INTEGER PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('submitted','approved','rejected','issued','accepted')),
        ca_name TEXT NOT NULL,
        profile TEXT NOT NULL,
        csr_der BLOB NOT NULL,
        applicant_organisation TEXT NOT NULL,
        applicant_contact TEXT NOT NULL,
        requested TEXT NOT NULL DEFAULT '{}',
        submitted_by TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        decided_by TEXT,
        decided_at TEXT,
        decision_reason TEXT,
        identification TEXT,
        issued_by TEXT,
        certificate_id INTEGER REFERENCES certificates(id),
        accepted_at TEXT,
        accepted_recorded_by TEXT,
        acceptance_note TEXT
      );

      -- Ceremony transcripts (signed by every participant), kept with the ceremony.
      CREATE TABLE transcripts (
        ceremony_id INTEGER PRIMARY KEY REFERENCES ceremonies(id),
        body TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'status: revocations, CRL numbers and CRLs, pre-signed OCSP responses, publications',
    sql: `
      CREATE TABLE revocations (
        certificate_id INTEGER PRIMARY KEY REFERENCES certificates(id),
        issuer_ca_id INTEGER NOT NULL REFERENCES cas(id),
        serial_hex TEXT NOT NULL,
        revoked_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        invalidity_date TEXT,
        source TEXT NOT NULL,
        operator TEXT NOT NULL,
        approved_by TEXT,
        recorded_at TEXT NOT NULL
      );

      -- The last CRL number used per CA. It is advanced and committed before the CRL is
      -- signed (intent), so a number is never used twice, even after a crash (R-4.2).
      CREATE TABLE crl_numbers (ca_id INTEGER PRIMARY KEY REFERENCES cas(id), last_number INTEGER NOT NULL);

      CREATE TABLE crls (
        id INTEGER PRIMARY KEY,
        ca_id INTEGER NOT NULL REFERENCES cas(id),
        crl_number INTEGER NOT NULL,
        this_update TEXT NOT NULL,
        next_update TEXT NOT NULL,
        entries INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        der BLOB NOT NULL,
        ceremony_id INTEGER REFERENCES ceremonies(id),
        created_at TEXT NOT NULL,
        UNIQUE (ca_id, crl_number)
      );

      CREATE TABLE ocsp_responses (
        id INTEGER PRIMARY KEY,
        ca_id INTEGER NOT NULL REFERENCES cas(id),
        certificate_id INTEGER NOT NULL REFERENCES certificates(id),
        hash_algorithm TEXT NOT NULL CHECK (hash_algorithm IN ('sha1','sha256')),
        cert_id_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('good','revoked')),
        this_update TEXT NOT NULL,
        next_update TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        der BLOB NOT NULL,
        ceremony_id INTEGER REFERENCES ceremonies(id),
        created_at TEXT NOT NULL
      );
      CREATE INDEX ocsp_responses_current ON ocsp_responses (certificate_id, hash_algorithm, id);

      CREATE TABLE publications (
        version INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        signer_ca TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        items INTEGER NOT NULL,
        ceremony_id INTEGER REFERENCES ceremonies(id)
      );
    `,
  },
];

/**
 * Migrations added by later features, one file each, in version order. Append an import and
 * an entry; never renumber.
 */
const EXTRA_MIGRATIONS: Migration[] = [
  MIGRATION_005_AUDIT,
  MIGRATION_006_ARCHIVE,
  MIGRATION_007_HSM,
  MIGRATION_008_CHANGEOVER,
  MIGRATION_009_CA_ENDING,
  MIGRATION_010_DOCUMENTS,
  MIGRATION_011_ONLINE_RECORDS,
  MIGRATION_012_DELEGATED_KEYS,
  MIGRATION_013_ONLINE_RECORDS_CHUNKS,
];

export const MIGRATIONS: Migration[] = [...BASE_MIGRATIONS, ...EXTRA_MIGRATIONS];
