/** Claims against a published document version during its claim period (CPS 9.12.2). */
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { findPublishedVersion, insertClaim } from '../store/documents.ts';
import { runRecordedAction } from '../operation/recorded-action.ts';
import { type Acting, authenticate } from './acting.ts';
import { type DocumentVersion, getVersion, latestPublished } from './versions.ts';

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
  return runRecordedAction(inst, {
    action: 'document.claim',
    target: `document:${p.name}`,
    actor: p.by,
    check: () => claimableVersion(inst, p),
    ask: (row) =>
      authenticate(inst, p, 'document.claim', 'recorder', {
        name: p.name,
        version: row.version,
        claimant: p.claimant,
        text: p.text,
      }),
    work: (row, a, audit) => {
      const claim = insertClaim(inst.db, {
        version_id: row.id,
        claimant: p.claimant.trim(),
        text: p.text.trim(),
        recorded_by: p.by,
        recorded_at: inst.clock.now().toISOString(),
      });
      audit({
        actor: p.by,
        roles: a.roles,
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
      return getVersion(inst, row.id);
    },
  });
}

/** The published version a claim is against, refused unless its claim period is open now (CPS 9.12.2). */
function claimableVersion(inst: Installation, p: ClaimParams) {
  const row =
    p.version === undefined ? latestPublished(inst, p.name) : findPublishedVersion(inst.db, p.name, p.version);
  if (!row)
    throw new CaError(
      'DOCUMENT_VERSION_UNKNOWN',
      `${p.name} has no published version${p.version ? ` ${p.version}` : ''}`,
    );
  if (!p.claimant.trim() || !p.text.trim())
    throw new CaError('CLAIM_INCOMPLETE', 'a claim names the claimant and states the claim');
  if (!row.claims_until)
    throw new CaError(
      'CLAIM_PERIOD_NOT_STARTED',
      `${p.name} ${row.version} is not in the Repository yet; the claim period starts with the publication file that carries it (CPS 9.12.2)`,
    );
  if (inst.clock.now().getTime() > Date.parse(row.claims_until)) {
    throw new CaError(
      'CLAIM_PERIOD_OVER',
      `the claim period of ${p.name} ${row.version} ended at ${row.claims_until} (one week after its publication on ${row.noticed_at}; CPS 9.12.2)`,
      { details: { version: row.version, claimsUntil: row.claims_until } },
    );
  }
  return row;
}
