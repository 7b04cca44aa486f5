/** Reading document versions: their stored rows as DocumentVersion, their text, and version numbering. */
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { compareDocumentVersions } from '../publish/format.ts';
import {
  claimsAgainst,
  findDocumentVersion,
  findOpenAmendment,
  findPublishedVersion,
  listAllDocumentVersions,
  listVersionsOf,
  publishedVersionsOf,
  type DocumentVersionRow,
} from '../store/documents.ts';

/** CPS 9.12.2: "Subscribers may make claims within a week of such notification". */
export const CLAIM_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;
/** MAJOR.MINOR with two minor digits. */
export const VERSION = /^(\d{1,4})\.(\d{2})$/;

export type VersionState = 'proposed' | 'approved' | 'rejected' | 'published';
/** What a reader is told: the stored state, refined by the claim period once published. */
export type VersionStatus =
  | Exclude<VersionState, 'published'>
  | 'published-awaiting-repository'
  | 'published-in-claim-period'
  | 'accepted'
  | 'disputed';

export interface DocumentClaim {
  id: number;
  claimant: string;
  text: string;
  recordedBy: string;
  recordedAt: string;
}

export interface DocumentVersion {
  id: number;
  name: string;
  title: string;
  state: VersionState;
  status: VersionStatus;
  critical: boolean;
  description: string;
  sha256: string;
  size: number;
  version: string | null;
  initialVersion: string | null;
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  publishedBy: string | null;
  publishedAt: string | null;
  noticedAt: string | null;
  claimsUntil: string | null;
  claims: DocumentClaim[];
}

type Row = DocumentVersionRow;

/** What a reader is told about a stored row, refined by its claim period. */
function statusOf(r: Row, claims: number, now: Date): VersionStatus {
  if (r.state !== 'published') return r.state;
  if (!r.claims_until) return 'published-awaiting-repository';
  if (now.getTime() <= Date.parse(r.claims_until)) return 'published-in-claim-period';
  return claims > 0 ? 'disputed' : 'accepted';
}

/** The row as the caller sees it, with its claims and status as of now. */
function toVersion(inst: Installation, r: Row): DocumentVersion {
  const claims = claimsAgainst(inst.db, r.id).map((c) => ({
    id: c.id,
    claimant: c.claimant,
    text: c.text,
    recordedBy: c.recorded_by,
    recordedAt: c.recorded_at,
  }));
  return {
    id: r.id,
    name: r.name,
    title: r.title,
    state: r.state,
    status: statusOf(r, claims.length, inst.clock.now()),
    critical: r.critical === 1,
    description: r.description,
    sha256: r.sha256,
    size: Buffer.byteLength(r.text, 'utf8'),
    version: r.version,
    initialVersion: r.initial_version,
    proposedBy: r.proposed_by,
    proposedAt: r.proposed_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionReason: r.decision_reason,
    publishedBy: r.published_by,
    publishedAt: r.published_at,
    noticedAt: r.noticed_at,
    claimsUntil: r.claims_until,
    claims,
  };
}

/** Every version of every document (or of one), oldest first; the text is read with documentText(). */
export function listDocumentVersions(inst: Installation, name?: string): DocumentVersion[] {
  const rows = name === undefined ? listAllDocumentVersions(inst.db) : listVersionsOf(inst.db, name);
  return rows.map((r) => toVersion(inst, r));
}

/** The text of one published version ("5.13"), or of the open amendment when `version` is omitted. */
export function documentText(inst: Installation, name: string, version?: string): string {
  const row = version === undefined ? findOpenAmendment(inst.db, name) : findPublishedVersion(inst.db, name, version);
  if (!row)
    throw new CaError(
      'DOCUMENT_VERSION_UNKNOWN',
      version === undefined ? `${name} has no open amendment` : `${name} has no published version ${version}`,
    );
  return row.text;
}

/** The newest published version of a document, by version number. */
export function latestPublished(inst: Installation, name: string): Row | undefined {
  const rows = publishedVersionsOf(inst.db, name);
  return rows.sort((a, b) => compareDocumentVersions(b.version!, a.version!))[0];
}

/** The amendment of a document still proposed or approved, if any. */
export function openAmendment(inst: Installation, name: string): Row | undefined {
  return findOpenAmendment(inst.db, name);
}

/** The next version number (CPS 9.12.1): critical raises the major number, otherwise the minor. */
export function nextVersion(previous: string | null, critical: boolean, initial: string | null): string {
  if (previous === null) return initial ?? '1.00';
  const m = VERSION.exec(previous);
  if (!m) throw new CaError('DOCUMENT_VERSION_INVALID', `stored version ${previous} is not MAJOR.MINOR`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (critical) return `${major + 1}.00`;
  if (minor === 99)
    throw new CaError(
      'DOCUMENT_VERSION_EXHAUSTED',
      `version ${previous} has no next minor number; publish the amendment as critical (a major version)`,
    );
  return `${major}.${String(minor + 1).padStart(2, '0')}`;
}

/** Reads back a version after a change, as the callers return it. */
export function getVersion(inst: Installation, id: number): DocumentVersion {
  return toVersion(inst, findDocumentVersion(inst.db, id)!);
}
