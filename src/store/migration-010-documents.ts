/**
 * Migration 10: the CPS and CPs as versioned documents (R-10.1; CPS 1.5, 9.12) and registered
 * Certificate Policies with who registered them (CPS 1.2).
 *
 * A document version is a row that moves proposed -> approved -> published (or rejected); its
 * text and SHA-256 never change after the proposal, so the bytes the Committee approved are the
 * bytes the Repository serves. The claim period (CPS 9.12.2) starts when the version first
 * reaches the Repository in a signed publication file (`noticed_at`), and claims are rows.
 */
import type { Migration } from './migration.ts';

export const MIGRATION_010_DOCUMENTS: Migration = {
  version: 10,
  description:
    'CPS/CP documents: versions, approval, publication, claims; registered policies with name and registrant',
  sql: `
    CREATE TABLE document_versions (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      title TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('proposed','approved','rejected','published')),
      critical INTEGER NOT NULL CHECK (critical IN (0,1)),
      description TEXT NOT NULL,
      text TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      -- Only for the first version of a document (e.g. 5.12 when an existing CPS is taken over).
      initial_version TEXT,
      version TEXT,
      proposed_by TEXT NOT NULL,
      proposed_at TEXT NOT NULL,
      decided_by TEXT,
      decided_at TEXT,
      decision_reason TEXT,
      published_by TEXT,
      published_at TEXT,
      -- Set by the first publication file that carries the version: the notice of CPS 9.12.2.
      noticed_at TEXT,
      noticed_in_publication INTEGER,
      claims_until TEXT,
      UNIQUE (name, version)
    );
    -- At most one open (proposed or approved) amendment per document.
    CREATE UNIQUE INDEX document_versions_one_open ON document_versions (name) WHERE state IN ('proposed','approved');

    CREATE TABLE document_claims (
      id INTEGER PRIMARY KEY,
      version_id INTEGER NOT NULL REFERENCES document_versions(id),
      claimant TEXT NOT NULL,
      text TEXT NOT NULL,
      recorded_by TEXT NOT NULL,
      recorded_at TEXT NOT NULL
    );

    ALTER TABLE ca_policies ADD COLUMN name TEXT;
    ALTER TABLE ca_policies ADD COLUMN registered_by TEXT;
  `,
};
