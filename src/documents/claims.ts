/** Claims against a published document version during its claim period (CPS 9.12.2). */
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { findPublishedVersion, insertClaim } from '../store/documents.ts';
import { type Acting, authenticate, refusalsAudited } from './acting.ts';
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
