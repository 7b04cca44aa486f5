/**
 * Migration 9: how a CA ends (CPS 5.7.3, 5.8; ). Termination notices are recorded with
 * the date they were given, because CPS 5.8 counts three months from the notice. The end
 * itself — a termination, or the runbook after a CA-key compromise — is several steps
 * (revoke all, last CRL and OCSP, key destruction, status), so a row is written 'started'
 * before the first of them (intent first) and 'completed' with the last: an interrupted end
 * is found and resumed.
 */
import type { Migration } from './migration.ts';

export const MIGRATION_009_CA_ENDING: Migration = {
  version: 9,
  description: 'CA ending: termination notices, compromise/termination intent records',
  sql: `
    -- CPS 5.8 "notify Subscribers and other affected participants three (3) months prior".
    CREATE TABLE termination_notices (
      id INTEGER PRIMARY KEY,
      ca_id INTEGER NOT NULL REFERENCES cas(id),
      termination_date TEXT NOT NULL,
      announced_at TEXT NOT NULL,
      announced_by TEXT NOT NULL,
      details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE UNIQUE INDEX termination_notices_one_per_ca ON termination_notices(ca_id);
    CREATE TRIGGER termination_notices_kept BEFORE DELETE ON termination_notices
      BEGIN SELECT RAISE(ABORT, 'a termination notice is a record that was given; it is kept (CPS 5.8)'); END;

    CREATE TABLE ca_endings (
      id INTEGER PRIMARY KEY,
      ca_id INTEGER NOT NULL REFERENCES cas(id),
      kind TEXT NOT NULL CHECK (kind IN ('compromise','termination')),
      status TEXT NOT NULL CHECK (status IN ('started','completed')),
      started_at TEXT NOT NULL,
      finished_at TEXT,
      details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE UNIQUE INDEX ca_endings_one_open ON ca_endings(ca_id) WHERE status = 'started';
  `,
};
