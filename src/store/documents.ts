/**
 * Repository of the CPS and CPs as versioned documents (R-10.1; CPS 1.5, 9.12):
 * `document_versions` (proposed -> approved -> published, or rejected; the text never changes
 * after the proposal) and the claims made against a published version, `document_claims`.
 */
import type { Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** A row of `document_versions`; critical is 0 or 1. */
export interface DocumentVersionRow {
  id: number;
  name: string;
  title: string;
  state: 'proposed' | 'approved' | 'rejected' | 'published';
  critical: number;
  description: string;
  text: string;
  sha256: string;
  initial_version: string | null;
  version: string | null;
  proposed_by: string;
  proposed_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  published_by: string | null;
  published_at: string | null;
  noticed_at: string | null;
  noticed_in_publication: number | null;
  claims_until: string | null;
}

/** A row of `document_claims`. */
export interface DocumentClaimRow {
  id: number;
  version_id: number;
  claimant: string;
  text: string;
  recorded_by: string;
  recorded_at: string;
}

/** The tables of this repository, for Kysely. */
export interface DocumentTables {
  document_versions: Omit<DocumentVersionRow, 'id'> & { id: Generated<number> };
  document_claims: Omit<DocumentClaimRow, 'id'> & { id: Generated<number> };
}

const q = sqliteQueries<DocumentTables>();
const versions = () => q.selectFrom('document_versions').selectAll();

/** Every version of every document, by name and age. */
export function listAllDocumentVersions(db: Db): DocumentVersionRow[] {
  return all(db, versions().orderBy('name').orderBy('id'));
}

/** Every version of one document, oldest first. */
export function listVersionsOf(db: Db, name: string): DocumentVersionRow[] {
  return all(db, versions().where('name', '=', name).orderBy('id'));
}

/** One version by id. */
export function findDocumentVersion(db: Db, id: number): DocumentVersionRow | undefined {
  return first(db, versions().where('id', '=', id));
}

/** The document's open amendment (proposed or approved), if any: there is at most one. */
export function findOpenAmendment(db: Db, name: string): DocumentVersionRow | undefined {
  return first(db, versions().where('name', '=', name).where('state', 'in', ['proposed', 'approved']));
}

/** The published version `version` of the document, if any. */
export function findPublishedVersion(db: Db, name: string, version: string): DocumentVersionRow | undefined {
  return first(db, versions().where('name', '=', name).where('version', '=', version).where('state', '=', 'published'));
}

/** The document's published versions, in stored order. */
export function publishedVersionsOf(db: Db, name: string): DocumentVersionRow[] {
  return all(db, versions().where('name', '=', name).where('state', '=', 'published'));
}

/** Every published version of every document, by name and age (what the Repository carries). */
export function allPublishedVersions(db: Db): DocumentVersionRow[] {
  return all(db, versions().where('state', '=', 'published').orderBy('name').orderBy('id'));
}

/** A proposed amendment; returns its id. */
export function insertProposal(
  db: Db,
  row: Pick<DocumentVersionRow, 'name' | 'title' | 'critical' | 'description' | 'text' | 'sha256' | 'initial_version'> &
    Pick<DocumentVersionRow, 'proposed_by' | 'proposed_at'>,
): number {
  return run(db, q.insertInto('document_versions').values({ ...row, state: 'proposed' })).lastInsertRowid;
}

/** The Committee's decision on a proposed amendment; false when it was no longer proposed. */
export function decideProposal(
  db: Db,
  id: number,
  d: { state: 'approved' | 'rejected'; by: string; at: string; reason: string | null },
): boolean {
  return (
    run(
      db,
      q
        .updateTable('document_versions')
        .set({ state: d.state, decided_by: d.by, decided_at: d.at, decision_reason: d.reason })
        .where('id', '=', id)
        .where('state', '=', 'proposed'),
    ).changes === 1
  );
}

/** An approved amendment published under its version number; false when it was no longer approved. */
export function publishApproved(db: Db, id: number, p: { version: string; by: string; at: string }): boolean {
  return (
    run(
      db,
      q
        .updateTable('document_versions')
        .set({ state: 'published', version: p.version, published_by: p.by, published_at: p.at })
        .where('id', '=', id)
        .where('state', '=', 'approved'),
    ).changes === 1
  );
}

/**
 * The first publication file that carried a version, which starts its claim period (CPS 9.12.2);
 * a version noticed before keeps its notice.
 */
export function noticeVersion(db: Db, id: number, n: { at: string; publication: number; claimsUntil: string }): void {
  run(
    db,
    q
      .updateTable('document_versions')
      .set({ noticed_at: n.at, noticed_in_publication: n.publication, claims_until: n.claimsUntil })
      .where('id', '=', id)
      .where('noticed_at', 'is', null),
  );
}

/** The claims against one version, oldest first. */
export function claimsAgainst(db: Db, versionId: number): Omit<DocumentClaimRow, 'version_id'>[] {
  return all(
    db,
    q
      .selectFrom('document_claims')
      .select(['id', 'claimant', 'text', 'recorded_by', 'recorded_at'])
      .where('version_id', '=', versionId)
      .orderBy('id'),
  );
}

/** A claim against a version; returns its id. */
export function insertClaim(db: Db, row: Omit<DocumentClaimRow, 'id'>): number {
  return run(db, q.insertInto('document_claims').values(row)).lastInsertRowid;
}
