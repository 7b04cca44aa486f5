/**
 * The CPS and the CPs as versioned documents (R-10.1; CPS 1.5, 2.2, 2.3, 9.12).
 *
 *   propose (Person Responsible: new text, critical or not, description)
 *     -> approve | reject (the Certification Services Improvement Committee, not the proposer; 1.5.4)
 *     -> publish (Person Responsible): the version number is raised — the major number for a
 *        critical amendment, the minor for a non-critical one (9.12.1) — and the amendment
 *        enters the version history with its date and description
 *     -> the next signed publication file carries it to the Repository: that is the notice
 *        (9.12.2), and it starts a one-week claim period in which the RA records claims
 *     -> after the week, without claims, the version is deemed accepted; with claims, disputed.
 *
 * The text and its SHA-256 are fixed at the proposal, so the bytes the Committee approved are
 * the bytes the Repository serves; the digest is in every audit event of the version and in the
 * publication manifest. Every refusal is audited and leaves nothing behind.
 */
export {
  approveDocument,
  type DecideParams,
  proposeDocument,
  type ProposeParams,
  publishDocument,
  type PublishDocumentParams,
  rejectDocument,
} from './amendments.ts';
export { type ClaimParams, recordClaim } from './claims.ts';
export { type DocumentNotice, documentsForPublication, historyMarkdown, recordDocumentNotice } from './publication.ts';
export {
  CLAIM_PERIOD_MS,
  type DocumentClaim,
  type DocumentVersion,
  documentText,
  listDocumentVersions,
  nextVersion,
  type VersionState,
  type VersionStatus,
} from './versions.ts';
