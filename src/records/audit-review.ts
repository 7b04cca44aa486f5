/**
 * Collecting, reviewing, keeping and exporting the audit log (CPS 5.4.1-5.4.7, R-7.1, R-7.3,
 * Every use case here is a Log Examiner's (CPS 5.2.1 "Checks room access, system and
 * other logs") and is itself an audit event.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifyAuditBundle, type BundleVerification } from '../audit/bundle.ts';
import { MANIFEST_FILE, writeAuditBundle, type BundleManifest } from '../audit/bundle-write.ts';
import { loadAuditPublicKeys, loadCheckpoints } from '../audit/checkpoint.ts';
import { rootFromLeafHashes } from '../audit/merkle.ts';
import { readLogLines } from '../audit/syslog.ts';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { runRecordedAction } from '../operation/recorded-action.ts';
import {
  bringParticipant,
  operationDigest,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import type { Operation } from '../people/permissions.ts';
import { countAuditEventsBefore } from '../store/audit-events.ts';
import { insertReview, listReviewRows, type AuditReviewRow } from '../store/audit-reviews.ts';
import { refuser, type Refuse } from '../operation/refusals.ts';

/** Authenticates the Log Examiner for `operation`; refuses (audited) when they do not. */
async function examiner(
  inst: Installation,
  operation: Operation,
  name: string,
  passphrases: PassphraseSource,
  what: Record<string, unknown>,
  refuse: ReturnType<typeof refuser>,
): Promise<{ who: Participant; digest: Buffer }> {
  const digest = operationDigest({ kind: operation, ...what });
  const who = await bringParticipant(inst, name, passphrases, operation, digest, { operation, slot: 'examiner' });
  if (!who)
    refuse(
      'AUTHENTICATION_REQUIRED',
      `${name} did not authenticate; ${operation} is done by an authenticated Log Examiner`,
    );
  who!.credential.lock();
  return { who: who!, digest };
}

export const SOURCE_NAME = /^[a-z0-9][a-z0-9._-]{0,47}$/;

export interface IngestResult {
  source: string;
  /** Events written, one per non-empty line. */
  events: number;
  /** Of those, lines read as syslog (RFC 5424 or RFC 3164); the rest are kept raw. */
  parsed: number;
  raw: number;
  sha256: string;
}

/**
 * `rootca audit ingest FILE --source NAME`: each non-empty line of another system's log
 * (room access, network devices) becomes its own event `ingest.<source>` (CPS 5.4.1, 5.4.6),
 * with the line and its syslog fields when it parses. All lines or none: malformed input
 * (binary, NUL, a line over 8 KiB) is refused naming the line numbers. The result holds
 * counts only (CPS 5.4.7: nothing of the events is shown back to anyone).
 */
export async function ingestLog(
  inst: Installation,
  p: { data: Buffer; source: string; examiner: string; passphrases: PassphraseSource; fileName?: string },
): Promise<IngestResult> {
  return runRecordedAction(inst, {
    action: 'audit.ingest',
    target: `source:${p.source}`,
    check: ({ refuse }) => ingestLines(p, refuse),
    ask: (c, { refuse }) =>
      examiner(inst, 'audit.ingest', p.examiner, p.passphrases, { source: p.source, sha256: c.sha256 }, refuse),
    work: ({ lines, sha256 }, { who, digest }, audit) => {
      for (const l of lines) {
        inst.audit.append({
          actor: p.examiner,
          roles: who.operator.roles,
          action: `ingest.${p.source}`,
          target: l.parsed?.host ?? p.source,
          outcome: 'success',
          details: { line: l.line, parsed: l.parsed, lineNumber: l.number, fileSha256: sha256 },
        });
      }
      const parsed = lines.filter((l) => l.parsed).length;
      audit({
        actor: p.examiner,
        roles: who.operator.roles,
        details: {
          source: p.source,
          file: p.fileName ?? null,
          sha256,
          events: lines.length,
          parsed,
          raw: lines.length - parsed,
          ...participantEvidence(digest, [{ role: 'examiner', p: who }]),
        },
      });
      return { source: p.source, events: lines.length, parsed, raw: lines.length - parsed, sha256 };
    },
  });
}

/** The lines to ingest with the input's digest; a bad source name, malformed or empty input is refused. */
function ingestLines(p: { data: Buffer; source: string; fileName?: string }, refuse: Refuse) {
  if (!SOURCE_NAME.test(p.source))
    refuse(
      'SOURCE_NAME_INVALID',
      `--source "${p.source}" must be lower case letters, digits, . _ - (it names the events: ingest.<source>)`,
    );
  const sha256 = createHash('sha256').update(p.data).digest('hex');
  let lines: ReturnType<typeof readLogLines> = [];
  try {
    lines = readLogLines(p.data);
  } catch (e) {
    if (e instanceof CaError) refuse(e.code, e.message, { ...e.details, sha256 });
    throw e;
  }
  if (lines.length === 0)
    refuse('LOG_INPUT_EMPTY', `${p.fileName ?? 'the input'} has no non-empty lines; nothing was ingested`, { sha256 });
  return { lines, sha256 };
}

export interface AuditReview {
  id: number;
  from: number;
  to: number;
  findings: string;
  examiner: string;
  reviewedAt: string;
  /** Whether `audit verify` held when the review was recorded. */
  logVerified: boolean;
  /** The tree head of events 1..to: pins exactly what was reviewed. */
  treeSize: number;
  rootHash: string;
  auditSeq: number;
}

const toReview = (r: AuditReviewRow): AuditReview => ({
  id: r.id,
  from: r.from_seq,
  to: r.to_seq,
  findings: r.findings,
  examiner: r.examiner,
  reviewedAt: r.reviewed_at,
  logVerified: r.log_verified === 1,
  treeSize: r.tree_size,
  rootHash: r.root_hash,
  auditSeq: r.audit_seq,
});

export function listReviews(inst: Installation): AuditReview[] {
  return listReviewRows(inst.db).map(toReview);
}

/**
 * `rootca audit review --from N --to M --findings TEXT`: records that a Log Examiner reviewed
 * events N..M and what they found (CPS 5.4.2), with whether the log verified and the tree
 * head of 1..M, so the record says exactly which events were looked at.
 */
export async function recordReview(
  inst: Installation,
  p: { from: number; to: number; findings: string; examiner: string; passphrases: PassphraseSource },
): Promise<AuditReview> {
  return runRecordedAction(inst, {
    action: 'audit.review',
    target: 'audit-log',
    check: ({ refuse }) => reviewFindings(inst, p, refuse),
    ask: async (findings, { refuse }) => {
      const signed = await examiner(
        inst,
        'audit.review',
        p.examiner,
        p.passphrases,
        { from: p.from, to: p.to, findings },
        refuse,
      );
      const v = inst.audit.verify();
      const rootHash = rootFromLeafHashes(inst.audit.leafHashes().slice(0, p.to)).toString('hex');
      return { ...signed, v, rootHash, now: inst.clock.now().toISOString() };
    },
    work: (findings, { who, digest, v, rootHash, now }, audit) => {
      const event = audit({
        actor: p.examiner,
        roles: who.operator.roles,
        details: {
          from: p.from,
          to: p.to,
          findings,
          logVerified: v.ok,
          ...(v.firstBad ? { firstBad: v.firstBad } : {}),
          treeSize: p.to,
          rootHash,
          ...participantEvidence(digest, [{ role: 'examiner', p: who }]),
        },
      });
      return toReview(
        insertReview(inst.db, {
          from_seq: p.from,
          to_seq: p.to,
          findings,
          examiner: p.examiner,
          reviewed_at: now,
          log_verified: v.ok ? 1 : 0,
          tree_size: p.to,
          root_hash: rootHash,
          audit_seq: event.seq,
        }),
      );
    },
  });
}

/** The review's checks (range within the log, findings given and short); returns the trimmed findings. */
function reviewFindings(inst: Installation, p: { from: number; to: number; findings: string }, refuse: Refuse): string {
  const last = inst.audit.head().seq;
  if (!Number.isSafeInteger(p.from) || !Number.isSafeInteger(p.to) || p.from < 1 || p.to < p.from || p.to > last) {
    refuse(
      'REVIEW_RANGE_INVALID',
      `the reviewed range must be within events 1..${last} with --from <= --to, got ${p.from}..${p.to}`,
    );
  }
  const findings = p.findings.trim();
  if (!findings)
    refuse(
      'REVIEW_FINDINGS_MISSING',
      'a review records what was found: --findings must not be empty ("no exceptions" is a finding)',
    );
  if (Buffer.byteLength(findings) > 16 * 1024)
    refuse('REVIEW_FINDINGS_TOO_LONG', '--findings is longer than 16 KiB; attach a report by reference instead');
  return findings;
}

/**
 * `rootca audit purge --before DATE`: always refused, for one of two reasons, both audited.
 * Events younger than `audit.retentionYears` (at least 10): CPS 5.4.3 "Audit Logs are
 * retained for at least ten (10) years". Older ones: this version keeps every event, because
 * removing any would break the hash chain and the Merkle tree every signed checkpoint covers;
 * pruning would need a signed record of what was removed, which is not built.
 */
export function purgeAuditEvents(inst: Installation, p: { before: string }): never {
  const refuse = refuser(inst, 'audit.purge', 'audit-log');
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(p.before) ? `${p.before}T00:00:00Z` : p.before);
  if (Number.isNaN(t)) refuse('DATE_INVALID', `--before must be a date (YYYY-MM-DD) or a date-time, got "${p.before}"`);
  const before = new Date(t).toISOString();
  const years = inst.config.audit.retentionYears;
  const limit = inst.clock.now();
  limit.setUTCFullYear(limit.getUTCFullYear() - years);
  const { count, since: young } = countAuditEventsBefore(inst.db, before, limit.toISOString());
  if (t > limit.getTime()) {
    refuse(
      'AUDIT_RETENTION',
      `refused: events younger than ${years} years cannot be removed (CPS 5.4.3: "Audit Logs are retained for at least ten (10) years"; audit.retentionYears is ${years}); ` +
        `the latest --before allowed today is ${limit.toISOString().slice(0, 10)}, and of the ${count} events before ${before.slice(0, 10)}, ${young} are within the retention period. Nothing was removed`,
      { before, retentionYears: years, events: count, withinRetention: young },
    );
  }
  return refuse(
    'AUDIT_PURGE_NOT_SUPPORTED',
    `refused: the ${count} events before ${before.slice(0, 10)} are past the ${years}-year retention period (CPS 5.4.3), but this version of rootca keeps every event: ` +
      'removing them would break the hash chain and the Merkle tree that every signed checkpoint covers, and pruning with a signed record of what was removed is not built. ' +
      'Nothing was removed; `rootca audit export` puts them on offline media (CPS 5.4.5)',
    { before, retentionYears: years, events: count },
  );
}

export interface ExportResult {
  dir: string;
  manifest: BundleManifest;
  manifestSha256: string;
  verification: BundleVerification;
}

/**
 * `rootca audit export --to DIR`: the self-verifying bundle for offline media (CPS 5.4.5),
 * taken from one read snapshot, then verified from the files alone before the export is
 * recorded. Only a Log Examiner exports (CPS 5.4.4). A log that does not verify is still
 * exported (the evidence is what it is) and the result says so.
 */
export async function exportAuditBundle(
  inst: Installation,
  p: { to: string; examiner: string; passphrases: PassphraseSource },
): Promise<ExportResult> {
  const dir = resolve(p.to);
  const refuse = refuser(inst, 'audit.export', dir);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    refuse('OUTPUT_EXISTS', `${dir} exists and is not an empty folder; an export never overwrites anything`);
  }
  const { who, digest } = await examiner(inst, 'audit.export', p.examiner, p.passphrases, { to: dir }, refuse);
  let manifest: BundleManifest;
  try {
    manifest = inst.db
      .transaction(() =>
        writeAuditBundle(dir, {
          installation: inst.config.installation.name,
          createdAt: inst.clock.now().toISOString(),
          exportedBy: p.examiner,
          head: inst.audit.head(),
          events: inst.audit.iterate(),
          checkpoints: loadCheckpoints(inst.db),
          keys: loadAuditPublicKeys(inst.db),
          reviews: listReviews(inst),
        }),
      )
      .deferred();
  } catch (e) {
    if (e instanceof CaError) refuse(e.code, e.message);
    throw e;
  }
  const verification = verifyAuditBundle(dir);
  const manifestSha256 = createHash('sha256')
    .update(readFileSync(join(dir, MANIFEST_FILE)))
    .digest('hex');
  inst.audit.append({
    actor: p.examiner,
    roles: who.operator.roles,
    action: 'audit.export',
    target: dir,
    outcome: 'success',
    details: {
      to: dir,
      events: manifest!.treeSize,
      treeSize: manifest!.treeSize,
      rootHash: manifest!.rootHash,
      checkpoints: manifest!.checkpoints,
      manifestSha256,
      verified: verification.ok,
      ...participantEvidence(digest, [{ role: 'examiner', p: who }]),
    },
  });
  return { dir, manifest: manifest!, manifestSha256, verification };
}
