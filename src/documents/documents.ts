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
import { CaError } from '../errors.ts';
import { compareDocumentVersions, type DocumentMeta } from '../publish/format.ts';
import type { PublicationInput } from '../publish/write.ts';
import { sha256Hex } from '../util/digest.ts';
import type { Installation } from '../installation/installation.ts';
import { bringParticipant, operationDigest, type PassphraseSource } from '../people/participants.ts';
import { checkDistinct, type Operation, type Slot } from '../people/permissions.ts';
import {
  allPublishedVersions,
  claimsAgainst,
  decideProposal,
  findDocumentVersion,
  findOpenAmendment,
  findPublishedVersion,
  insertClaim,
  insertProposal,
  listAllDocumentVersions,
  listVersionsOf,
  noticeVersion,
  publishApproved,
  publishedVersionsOf,
  type DocumentVersionRow,
} from '../store/documents.ts';

/** CPS 9.12.2: "Subscribers may make claims within a week of such notification". */
export const CLAIM_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;
/** Large enough for any CPS; small enough to keep the publication file reasonable. */
const MAX_TEXT_BYTES = 2 * 1024 * 1024;
/** `cps`, or `cp-<something>`; never ending in -history (that path is the version history). */
const DOCUMENT_NAME = /^(cps|cp-[a-z0-9]+(-[a-z0-9]+)*)$/;
const VERSION = /^(\d{1,4})\.(\d{2})$/;

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

function statusOf(r: Row, claims: number, now: Date): VersionStatus {
  if (r.state !== 'published') return r.state;
  if (!r.claims_until) return 'published-awaiting-repository';
  if (now.getTime() <= Date.parse(r.claims_until)) return 'published-in-claim-period';
  return claims > 0 ? 'disputed' : 'accepted';
}

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

function latestPublished(inst: Installation, name: string): Row | undefined {
  const rows = publishedVersionsOf(inst.db, name);
  return rows.sort((a, b) => compareDocumentVersions(b.version!, a.version!))[0];
}

function openAmendment(inst: Installation, name: string): Row | undefined {
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

interface Acting {
  by: string;
  passphrases: PassphraseSource;
}

/** Runs `fn`; a CaError it throws is audited as a refusal of `action` on `target` and rethrown. */
async function refusalsAudited<T>(
  inst: Installation,
  action: string,
  target: string,
  actor: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CaError)
      inst.audit.append({
        actor,
        roles: [],
        action,
        target,
        outcome: 'refused',
        details: { code: e.code, message: e.message, ...e.details },
      });
    throw e;
  }
}

/** The person authenticates and signs the digest of what they do; returns their roles at the time. */
async function authenticate(
  inst: Installation,
  who: Acting,
  operation: Operation,
  slot: Slot,
  what: Record<string, unknown>,
): Promise<{ roles: string[]; signature: string; digest: string }> {
  const digest = operationDigest({ kind: operation, ...what });
  const p = await bringParticipant(inst, who.by, who.passphrases, operation, digest, { operation, slot });
  if (!p) throw new CaError('AUTHENTICATION_REQUIRED', `${who.by} did not authenticate`);
  p.credential.lock();
  return { roles: p.operator.roles, signature: p.signature.toString('hex'), digest: digest.toString('hex') };
}

function checkName(name: string): void {
  if (!DOCUMENT_NAME.test(name) || name.endsWith('-history')) {
    throw new CaError(
      'DOCUMENT_NAME_INVALID',
      `document name "${name}" must be cps or cp-<name> (lower case letters, digits and single hyphens; not ending in -history)`,
    );
  }
}

function checkText(text: Buffer): string {
  if (text.length === 0) throw new CaError('DOCUMENT_TEXT_INVALID', 'the document text is empty');
  if (text.length > MAX_TEXT_BYTES)
    throw new CaError('DOCUMENT_TEXT_INVALID', `the document text has ${text.length} bytes; at most ${MAX_TEXT_BYTES}`);
  const s = text.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(text))
    throw new CaError('DOCUMENT_TEXT_INVALID', 'the document text is not UTF-8');
  if (s.includes('\0')) throw new CaError('DOCUMENT_TEXT_INVALID', 'the document text contains a NUL character');
  return s;
}

export interface ProposeParams extends Acting {
  name: string;
  /** Required for a new document; otherwise the current title is kept unless given. */
  title?: string;
  text: Buffer;
  critical: boolean;
  description: string;
  /** For the first version of a document only (MAJOR.MINOR, e.g. 5.12 to take over the existing CPS). */
  initialVersion?: string;
}

export async function proposeDocument(inst: Installation, p: ProposeParams): Promise<DocumentVersion> {
  return refusalsAudited(inst, 'document.propose', `document:${p.name}`, p.by, async () => {
    checkName(p.name);
    const text = checkText(p.text);
    const description = p.description.trim();
    if (!description)
      throw new CaError(
        'DESCRIPTION_REQUIRED',
        'an amendment states its description (it goes into the version history, CPS 9.12.1)',
      );
    const previous = latestPublished(inst, p.name);
    const open = openAmendment(inst, p.name);
    if (open)
      throw new CaError(
        'DOCUMENT_AMENDMENT_OPEN',
        `${p.name} already has an open amendment (#${open.id}, ${open.state}); approve, reject or publish it first`,
        { details: { open: open.id, state: open.state } },
      );
    if (p.initialVersion !== undefined) {
      if (previous)
        throw new CaError(
          'DOCUMENT_VERSION_INVALID',
          `--initial-version is only for the first version; ${p.name} is at ${previous.version} and the next number follows from the amendment's kind`,
        );
      if (!VERSION.test(p.initialVersion))
        throw new CaError(
          'DOCUMENT_VERSION_INVALID',
          `initial version "${p.initialVersion}" is not MAJOR.MINOR with two minor digits (e.g. 5.12)`,
        );
    }
    const title = (p.title ?? previous?.title ?? '').trim();
    if (!title) throw new CaError('DOCUMENT_TITLE_REQUIRED', `${p.name} is a new document: give its --title`);
    const sha256 = sha256Hex(p.text);
    const a = await authenticate(inst, p, 'document.propose', 'submitter', {
      name: p.name,
      sha256,
      critical: p.critical,
      description,
    });
    const now = inst.clock.now().toISOString();
    const id = inst.db
      .transaction(() => {
        const id = insertProposal(inst.db, {
          name: p.name,
          title,
          critical: p.critical ? 1 : 0,
          description,
          text,
          sha256,
          initial_version: p.initialVersion ?? null,
          proposed_by: p.by,
          proposed_at: now,
        });
        inst.audit.append({
          actor: p.by,
          roles: a.roles,
          action: 'document.propose',
          target: `document:${p.name}`,
          outcome: 'success',
          details: {
            amendment: id,
            title,
            sha256,
            size: p.text.length,
            critical: p.critical,
            description,
            initialVersion: p.initialVersion ?? null,
            previousVersion: previous?.version ?? null,
            operationDigest: a.digest,
            signature: a.signature,
          },
        });
        return id;
      })
      .immediate();
    return getVersion(inst, id);
  });
}

function getVersion(inst: Installation, id: number): DocumentVersion {
  return toVersion(inst, findDocumentVersion(inst.db, id)!);
}

export interface DecideParams extends Acting {
  name: string;
  /** For a rejection. */
  reason?: string;
}

/** The Committee approves the open amendment (CPS 1.5.4); not the person who proposed it. */
export async function approveDocument(inst: Installation, p: DecideParams): Promise<DocumentVersion> {
  return decide(inst, p, 'approve');
}

export async function rejectDocument(inst: Installation, p: DecideParams): Promise<DocumentVersion> {
  return decide(inst, p, 'reject');
}

async function decide(inst: Installation, p: DecideParams, action: 'approve' | 'reject'): Promise<DocumentVersion> {
  return refusalsAudited(inst, `document.${action}`, `document:${p.name}`, p.by, async () => {
    const open = openAmendment(inst, p.name);
    if (!open) throw new CaError('DOCUMENT_NO_AMENDMENT', `${p.name} has no amendment waiting for a decision`);
    if (open.state !== 'proposed')
      throw new CaError(
        'DOCUMENT_STATE',
        `amendment #${open.id} of ${p.name} is already ${open.state} (by ${open.decided_by}); it can only be published now`,
        { details: { from: open.state, action } },
      );
    checkDistinct('document.decide', { approver: [p.by], submitter: [open.proposed_by] });
    if (action === 'reject' && !p.reason?.trim()) throw new CaError('REASON_REQUIRED', 'a rejection states its reason');
    const a = await authenticate(inst, p, 'document.decide', 'approver', {
      name: p.name,
      amendment: open.id,
      sha256: open.sha256,
      action,
    });
    const now = inst.clock.now().toISOString();
    inst.db
      .transaction(() => {
        const decided = decideProposal(inst.db, open.id, {
          state: action === 'approve' ? 'approved' : 'rejected',
          by: p.by,
          at: now,
          reason: p.reason?.trim() ?? null,
        });
        if (!decided) throw new CaError('DOCUMENT_STATE', `amendment #${open.id} of ${p.name} changed meanwhile`);
        inst.audit.append({
          actor: p.by,
          roles: a.roles,
          action: `document.${action}`,
          target: `document:${p.name}`,
          outcome: 'success',
          details: {
            amendment: open.id,
            sha256: open.sha256,
            critical: open.critical === 1,
            description: open.description,
            proposedBy: open.proposed_by,
            reason: p.reason ?? null,
            operationDigest: a.digest,
            signature: a.signature,
          },
        });
      })
      .immediate();
    return getVersion(inst, open.id);
  });
}

export type PublishDocumentParams = Acting & { name: string };

/**
 * Gives the approved amendment its version number and records it in the version history
 * (CPS 9.12.1). The Repository gets it with the next `rootca publish`, which starts the claim period.
 */
export async function publishDocument(inst: Installation, p: PublishDocumentParams): Promise<DocumentVersion> {
  return refusalsAudited(inst, 'document.publish', `document:${p.name}`, p.by, async () => {
    const open = openAmendment(inst, p.name);
    if (!open) throw new CaError('DOCUMENT_NO_AMENDMENT', `${p.name} has no approved amendment to publish`);
    if (open.state !== 'approved')
      throw new CaError(
        'DOCUMENT_NOT_APPROVED',
        `amendment #${open.id} of ${p.name} is ${open.state}: the Committee approves it before it is published (CPS 1.5.4)`,
        { details: { from: open.state } },
      );
    const previous = latestPublished(inst, p.name);
    const version = nextVersion(previous?.version ?? null, open.critical === 1, open.initial_version);
    const a = await authenticate(inst, p, 'document.publish', 'authoriser', {
      name: p.name,
      amendment: open.id,
      sha256: open.sha256,
      version,
    });
    const now = inst.clock.now().toISOString();
    inst.db
      .transaction(() => {
        if (!publishApproved(inst.db, open.id, { version, by: p.by, at: now }))
          throw new CaError('DOCUMENT_STATE', `amendment #${open.id} of ${p.name} changed meanwhile`);
        inst.audit.append({
          actor: p.by,
          roles: a.roles,
          action: 'document.publish',
          target: `document:${p.name}`,
          outcome: 'success',
          details: {
            amendment: open.id,
            version,
            previousVersion: previous?.version ?? null,
            sha256: open.sha256,
            critical: open.critical === 1,
            description: open.description,
            approvedBy: open.decided_by,
            operationDigest: a.digest,
            signature: a.signature,
          },
        });
      })
      .immediate();
    return getVersion(inst, open.id);
  });
}

export interface ClaimParams extends Acting {
  name: string;
  /** Default: the newest published version. */
  version?: string;
  /** Who makes the claim (a subscriber or relying party). */
  claimant: string;
  text: string;
}

/** An RA officer records a claim against a version during its claim period (CPS 9.12.2). */
export async function recordClaim(inst: Installation, p: ClaimParams): Promise<DocumentVersion> {
  return refusalsAudited(inst, 'document.claim', `document:${p.name}`, p.by, async () => {
    const row =
      p.version === undefined ? latestPublished(inst, p.name) : findPublishedVersion(inst.db, p.name, p.version);
    if (!row)
      throw new CaError(
        'DOCUMENT_VERSION_UNKNOWN',
        `${p.name} has no published version${p.version ? ` ${p.version}` : ''}`,
      );
    if (!p.claimant.trim() || !p.text.trim())
      throw new CaError('CLAIM_INCOMPLETE', 'a claim names the claimant and states the claim');
    const now = inst.clock.now();
    if (!row.claims_until)
      throw new CaError(
        'CLAIM_PERIOD_NOT_STARTED',
        `${p.name} ${row.version} is not in the Repository yet; the claim period starts with the publication file that carries it (CPS 9.12.2)`,
      );
    if (now.getTime() > Date.parse(row.claims_until)) {
      throw new CaError(
        'CLAIM_PERIOD_OVER',
        `the claim period of ${p.name} ${row.version} ended at ${row.claims_until} (one week after its publication on ${row.noticed_at}; CPS 9.12.2)`,
        { details: { version: row.version, claimsUntil: row.claims_until } },
      );
    }
    const a = await authenticate(inst, p, 'document.claim', 'recorder', {
      name: p.name,
      version: row.version,
      claimant: p.claimant,
      text: p.text,
    });
    inst.db
      .transaction(() => {
        const claim = insertClaim(inst.db, {
          version_id: row.id,
          claimant: p.claimant.trim(),
          text: p.text.trim(),
          recorded_by: p.by,
          recorded_at: now.toISOString(),
        });
        inst.audit.append({
          actor: p.by,
          roles: a.roles,
          action: 'document.claim',
          target: `document:${p.name}`,
          outcome: 'success',
          details: {
            claim,
            version: row.version,
            sha256: row.sha256,
            claimant: p.claimant.trim(),
            text: p.text.trim(),
            claimsUntil: row.claims_until,
            operationDigest: a.digest,
            signature: a.signature,
          },
        });
      })
      .immediate();
    return getVersion(inst, row.id);
  });
}

// ---------------------------------------------------------------------------------------------
// Into the publication file (CPS 2.2: the latest version; 9.12: with its version history)

/** The version history of one document as Markdown (served as docs/<name>-history.md). */
export function historyMarkdown(
  title: string,
  versions: {
    version: string;
    publishedAt: string;
    critical: boolean;
    description: string;
    sha256: string;
    claimsUntil: string;
  }[],
): string {
  const cell = (s: string) =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/\|/g, '\\|')
      .replace(/\s*\n\s*/g, ' ');
  const lines = [
    `# ${title}: version history`,
    '',
    'A critical amendment raises the major version number, a non-critical one the minor number (CPS 9.12.1).',
    "Claims may be made within a week of a version's publication (CPS 9.12.2).",
    '',
    '| Version | Date | Amendment | Description | Claims until | SHA-256 |',
    '|---|---|---|---|---|---|',
    ...versions.map(
      (v) =>
        `| ${v.version} | ${v.publishedAt.slice(0, 10)} | ${v.critical ? 'critical' : 'non-critical'} | ${cell(v.description)} | ${v.claimsUntil.slice(0, 10)} | ${v.sha256} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** A document version reaching the Repository for the first time, and the end of its claim period. */
export interface DocumentNotice {
  id: number;
  claimsUntil: string;
}

/**
 * What a publication created at `createdAt` carries for the documents: every published version,
 * the latest at a stable path, and the history. A version that reaches the Repository for the
 * first time gets its claim period from `createdAt` (the notice, CPS 9.12.2); `noticed` lists
 * those, for the caller to record in the same transaction as the publication.
 */
export function documentsForPublication(
  inst: Installation,
  createdAt: Date,
): { documents: PublicationInput['documents']; noticed: DocumentNotice[] } {
  const documents: PublicationInput['documents'] = [];
  const noticed: DocumentNotice[] = [];
  const rows = allPublishedVersions(inst.db);
  for (const name of [...new Set(rows.map((r) => r.name))]) {
    const versions = rows
      .filter((r) => r.name === name)
      .sort((a, b) => compareDocumentVersions(a.version!, b.version!))
      .map((r) => {
        let claimsUntil = r.claims_until;
        if (!claimsUntil) {
          claimsUntil = new Date(createdAt.getTime() + CLAIM_PERIOD_MS).toISOString();
          noticed.push({ id: r.id, claimsUntil });
        }
        return { row: r, claimsUntil };
      });
    for (const { row, claimsUntil } of versions) {
      const meta: DocumentMeta = {
        title: row.title,
        version: row.version!,
        role: 'version',
        publishedAt: row.published_at!,
        critical: row.critical === 1,
        description: row.description,
        claimsUntil,
      };
      documents.push({ name, text: row.text, meta });
    }
    const newest = versions[versions.length - 1]!.row;
    documents.push({
      name,
      text: newest.text,
      meta: { title: newest.title, version: newest.version!, role: 'latest' },
    });
    const history = historyMarkdown(
      newest.title,
      versions.map(({ row, claimsUntil }) => ({
        version: row.version!,
        publishedAt: row.published_at!,
        critical: row.critical === 1,
        description: row.description,
        sha256: row.sha256,
        claimsUntil,
      })),
    );
    documents.push({ name, text: history, meta: { title: newest.title, version: newest.version!, role: 'history' } });
  }
  return { documents, noticed };
}

/** Records the notice of versions first carried by publication `version` (inside its transaction). */
export function recordDocumentNotice(
  inst: Installation,
  publicationVersion: number,
  createdAt: Date,
  noticed: DocumentNotice[],
): void {
  for (const n of noticed)
    noticeVersion(inst.db, n.id, {
      at: createdAt.toISOString(),
      publication: publicationVersion,
      claimsUntil: n.claimsUntil,
    });
}
