/** Amendments of a document: proposal, the Committee's decision, and publication with a version number. */
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { checkDistinct } from '../people/permissions.ts';
import { decideProposal, insertProposal, publishApproved } from '../store/documents.ts';
import { sha256Hex } from '../util/digest.ts';
import { runRecordedAction } from '../operation/recorded-action.ts';
import { type Acting, authenticate } from './acting.ts';
import { type DocumentVersion, getVersion, latestPublished, nextVersion, openAmendment, VERSION } from './versions.ts';

/** Large enough for any CPS; small enough to keep the publication file reasonable. */
const MAX_TEXT_BYTES = 2 * 1024 * 1024;
/** `cps`, or `cp-<something>`; never ending in -history (that path is the version history). */
const DOCUMENT_NAME = /^(cps|cp-[a-z0-9]+(-[a-z0-9]+)*)$/;

/** Refuses a name that is not a document path the Repository can serve. */
function checkName(name: string): void {
  if (!DOCUMENT_NAME.test(name) || name.endsWith('-history')) {
    throw new CaError(
      'DOCUMENT_NAME_INVALID',
      `document name "${name}" must be cps or cp-<name> (lower case letters, digits and single hyphens; not ending in -history)`,
    );
  }
}

/** Returns the text as a string once it is known to be non-empty, bounded, UTF-8 and NUL-free. */
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

/** The Person Responsible proposes new text for a document; it is fixed here with its digest. */
export async function proposeDocument(inst: Installation, p: ProposeParams): Promise<DocumentVersion> {
  return runRecordedAction(inst, {
    action: 'document.propose',
    target: `document:${p.name}`,
    actor: p.by,
    check: () => proposal(inst, p),
    ask: (c) =>
      authenticate(inst, p, 'document.propose', 'submitter', {
        name: p.name,
        sha256: c.sha256,
        critical: p.critical,
        description: c.description,
      }),
    work: (c, a, audit) => {
      const id = insertProposal(inst.db, {
        name: p.name,
        title: c.title,
        critical: p.critical ? 1 : 0,
        description: c.description,
        text: c.text,
        sha256: c.sha256,
        initial_version: p.initialVersion ?? null,
        proposed_by: p.by,
        proposed_at: inst.clock.now().toISOString(),
      });
      audit({
        actor: p.by,
        roles: a.roles,
        details: {
          amendment: id,
          title: c.title,
          sha256: c.sha256,
          size: p.text.length,
          critical: p.critical,
          description: c.description,
          initialVersion: p.initialVersion ?? null,
          previousVersion: c.previous?.version ?? null,
          operationDigest: a.digest,
          signature: a.signature,
        },
      });
      return getVersion(inst, id);
    },
  });
}

/** The checked proposal: its text, description and title, refused unless the document can take an amendment now. */
function proposal(inst: Installation, p: ProposeParams) {
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
  return { text, description, previous, title, sha256: sha256Hex(p.text) };
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
/** Approves or rejects the open amendment; the same checks and audit for both. */
async function decide(inst: Installation, p: DecideParams, action: 'approve' | 'reject'): Promise<DocumentVersion> {
  return runRecordedAction(inst, {
    action: `document.${action}`,
    target: `document:${p.name}`,
    actor: p.by,
    check: () => {
      const open = openAmendment(inst, p.name);
      if (!open) throw new CaError('DOCUMENT_NO_AMENDMENT', `${p.name} has no amendment waiting for a decision`);
      if (open.state !== 'proposed')
        throw new CaError(
          'DOCUMENT_STATE',
          `amendment #${open.id} of ${p.name} is already ${open.state} (by ${open.decided_by}); it can only be published now`,
          { details: { from: open.state, action } },
        );
      checkDistinct('document.decide', { approver: [p.by], submitter: [open.proposed_by] });
      if (action === 'reject' && !p.reason?.trim())
        throw new CaError('REASON_REQUIRED', 'a rejection states its reason');
      return open;
    },
    ask: (open) =>
      authenticate(inst, p, 'document.decide', 'approver', {
        name: p.name,
        amendment: open.id,
        sha256: open.sha256,
        action,
      }),
    work: (open, a, audit) => {
      const decided = decideProposal(inst.db, open.id, {
        state: action === 'approve' ? 'approved' : 'rejected',
        by: p.by,
        at: inst.clock.now().toISOString(),
        reason: p.reason?.trim() ?? null,
      });
      if (!decided) throw new CaError('DOCUMENT_STATE', `amendment #${open.id} of ${p.name} changed meanwhile`);
      audit({
        actor: p.by,
        roles: a.roles,
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
      return getVersion(inst, open.id);
    },
  });
}

export type PublishDocumentParams = Acting & { name: string };

/**
 * Gives the approved amendment its version number and records it in the version history
 * (CPS 9.12.1). The Repository gets it with the next `rootca publish`, which starts the claim period.
 */
export async function publishDocument(inst: Installation, p: PublishDocumentParams): Promise<DocumentVersion> {
  return runRecordedAction(inst, {
    action: 'document.publish',
    target: `document:${p.name}`,
    actor: p.by,
    check: () => {
      const open = openAmendment(inst, p.name);
      if (!open) throw new CaError('DOCUMENT_NO_AMENDMENT', `${p.name} has no approved amendment to publish`);
      if (open.state !== 'approved')
        throw new CaError(
          'DOCUMENT_NOT_APPROVED',
          `amendment #${open.id} of ${p.name} is ${open.state}: the Committee approves it before it is published (CPS 1.5.4)`,
          { details: { from: open.state } },
        );
      const previous = latestPublished(inst, p.name);
      return {
        open,
        previous,
        version: nextVersion(previous?.version ?? null, open.critical === 1, open.initial_version),
      };
    },
    ask: ({ open, version }) =>
      authenticate(inst, p, 'document.publish', 'authoriser', {
        name: p.name,
        amendment: open.id,
        sha256: open.sha256,
        version,
      }),
    work: ({ open, previous, version }, a, audit) => {
      if (!publishApproved(inst.db, open.id, { version, by: p.by, at: inst.clock.now().toISOString() }))
        throw new CaError('DOCUMENT_STATE', `amendment #${open.id} of ${p.name} changed meanwhile`);
      audit({
        actor: p.by,
        roles: a.roles,
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
      return getVersion(inst, open.id);
    },
  });
}
