/**
 * `rootca audit evidence` (CPS 8, R-11.1): one folder a WebTrust auditor takes away for a period —
 * the audit-log bundle (audit-log/, self-verifying, with its checkpoints) plus inclusion proofs of
 * the period's events, the ceremony transcripts, every certificate of each CA itself (first root,
 * renewals, NewWithNew, link certificates), the certificates and CRLs issued, the state check of
 * `audit verify --state`, a readable summary.md, and manifest.json with the SHA-256 of every
 * file. `verify-evidence` (evidence-verify.ts) needs only the folder, never the database.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE as BUNDLE_MANIFEST, type BundleManifest } from '../audit/bundle-write.ts';
import type { AuditEvent } from '../audit/event.ts';
import { verifyStateAgainstLog } from '../audit/state-check.ts';
import { MerkleTreeLevels } from '../audit/tree.ts';
import { CaError } from '../errors.ts';
import { listCas } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { listIssued } from '../issuance/certificates.ts';
import { ownCertificates } from '../lifecycle/ca-certificate-history.ts';
import { getOperator } from '../people/operators.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { certificateRecordingTimes, crlsBetween, transcriptCeremoniesBetween } from '../store/evidence.ts';
import { inclusionProofFor } from './audit-proofs.ts';
import { formatStateMismatches } from './audit-state.ts';
import { exportAuditBundle } from './audit-review.ts';
import {
  EVIDENCE_AUDIT_DIR as AUDIT_DIR,
  EVIDENCE_FORMAT,
  EVIDENCE_MANIFEST as MANIFEST,
  EVIDENCE_RANGE as RANGE,
  EVIDENCE_SUMMARY as SUMMARY,
  renderEvidenceSummary,
  sha256,
  type EvidenceManifest,
  type EvidenceResult,
} from './evidence-format.ts';
import { verifyEvidence } from './evidence-verify.ts';
import { renderTranscriptMarkdown } from './transcript.ts';
import { loadTranscript } from './transcript-store.ts';

const STATE_CHECK = 'state-check.json';
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** A date (YYYY-MM-DD, whole day, UTC) or a date-time; `end` takes the end of the day. */
function parseBound(v: string, flag: string, end: boolean): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const t = Date.parse(day ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t))
    throw new CaError('DATE_INVALID', `${flag} must be a date (YYYY-MM-DD) or a date-time, got "${v}"`);
  return new Date(day && end ? t + 86_400_000 - 1 : t).toISOString();
}

/** Writes the folder's files (never over an existing one) and lists each with its SHA-256. */
class EvidenceWriter {
  readonly files: EvidenceManifest['files'] = [];
  constructor(readonly dir: string) {}

  put(path: string, data: string | Buffer): void {
    mkdirSync(join(this.dir, path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(join(this.dir, path), data, { flag: 'wx', mode: 0o600 });
    this.list(path, data);
  }

  /** A file already written (by the audit-log export). */
  list(path: string, data: string | Buffer): void {
    this.files.push({ path, sha256: sha256(data), bytes: Buffer.byteLength(data) });
  }
}

/**
 * `rootca audit evidence --from --to --out --examiner`: gathers the evidence for the period into
 * a new or empty folder (nothing is overwritten). The audit-log part goes through
 * exportAuditBundle, so only an authenticated Log Examiner gathers it and the export is audited.
 */
export async function exportEvidence(
  inst: Installation,
  p: { from: string; to: string; out: string; examiner: string; passphrases: PassphraseSource },
): Promise<EvidenceResult> {
  const dir = resolve(p.out);
  const from = parseBound(p.from, '--from', false);
  const to = parseBound(p.to, '--to', true);
  if (from > to) throw new CaError('DATE_INVALID', `--from ${p.from} is after --to ${p.to}`);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new CaError('OUTPUT_EXISTS', `${dir} exists and is not an empty folder; evidence never overwrites anything`);
  }
  // Authenticates the Log Examiner (audit.export duty), writes and verifies audit-log/, audits the export.
  const exported = await exportAuditBundle(inst, {
    to: join(dir, AUDIT_DIR),
    examiner: p.examiner,
    passphrases: p.passphrases,
  });
  const bm: BundleManifest = exported.manifest;
  const w = new EvidenceWriter(dir);
  for (const f of [...bm.files.map((f) => f.path), BUNDLE_MANIFEST])
    w.list(`${AUDIT_DIR}/${f}`, readFileSync(join(dir, AUDIT_DIR, f)));

  const inRange = putRangeProofs(inst, w, bm, from, to);
  const roots = putRoots(inst, w);
  const transcripts = putTranscripts(inst, w, from, to);
  const certificates = putCertificates(inst, w, from, to);
  const crls = putCrls(inst, w, from, to);
  const stateCheck = putStateCheck(inst, w);
  const body: Omit<EvidenceManifest, 'files'> = {
    format: EVIDENCE_FORMAT,
    installation: inst.config.installation.name,
    createdAt: inst.clock.now().toISOString(),
    examiner: p.examiner,
    period: { from, to },
    auditLog: {
      dir: AUDIT_DIR,
      treeSize: bm.treeSize,
      rootHash: bm.rootHash,
      checkpoints: bm.checkpoints,
      rangeFile: RANGE,
      firstEvent: inRange[0]?.seq ?? null,
      lastEvent: inRange.at(-1)?.seq ?? null,
      events: inRange.length,
    },
    roots,
    certificates,
    crls,
    transcripts,
    stateCheck,
  };
  w.put(SUMMARY, renderEvidenceSummary(body));
  const manifest: EvidenceManifest = { ...body, files: w.files.sort((a, b) => a.path.localeCompare(b.path)) };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(dir, MANIFEST), text, { flag: 'wx', mode: 0o600 });
  const manifestSha256 = sha256(text);
  const verification = verifyEvidence(dir);
  inst.audit.append({
    actor: p.examiner,
    roles: getOperator(inst, p.examiner).roles,
    action: 'audit.evidence',
    target: dir,
    outcome: 'success',
    details: {
      from,
      to,
      manifestSha256,
      treeSize: bm.treeSize,
      rootHash: bm.rootHash,
      transcripts: transcripts.length,
      certificates: certificates.length,
      crls: crls.length,
      verified: verification.ok,
    },
  });
  return { dir, manifest, manifestSha256, verification };
}

/** Inclusion proofs of the period's events, against the exported tree; returns those events. */
function putRangeProofs(
  inst: Installation,
  w: EvidenceWriter,
  bm: BundleManifest,
  from: string,
  to: string,
): AuditEvent[] {
  const leaves = inst.audit.leafHashes().slice(0, bm.treeSize);
  const tree = new MerkleTreeLevels(leaves);
  const inRange = (inst.audit.list(1, bm.treeSize) as AuditEvent[]).filter((e) => e.at >= from && e.at <= to);
  const proofs = inRange.map((e) => inclusionProofFor(tree, leaves, e.seq, bm.rootHash));
  w.put(RANGE, `${JSON.stringify({ treeSize: bm.treeSize, rootHash: bm.rootHash, from, to, proofs }, null, 2)}\n`);
  return inRange;
}

/** The whole history of each CA's own certificates, not only the current root: what the period holds may be signed by a key a re-key retired (CPS 5.6). */
function putRoots(inst: Installation, w: EvidenceWriter): EvidenceManifest['roots'] {
  return listCas(inst).flatMap((c) =>
    ownCertificates(inst, c.id).map((o) => {
      const file = o.current ? `roots/${safe(c.name)}.der` : `roots/${safe(c.name)}-${o.kind}-${o.serialHex}.der`;
      w.put(file, o.der);
      return {
        ca: c.name,
        file,
        subject: o.subject,
        sha256: sha256(o.der),
        kind: o.kind,
        serialHex: o.serialHex,
        current: o.current,
      };
    }),
  );
}

/** The signed transcripts of the period's ceremonies, each with its readable rendering. */
function putTranscripts(
  inst: Installation,
  w: EvidenceWriter,
  from: string,
  to: string,
): EvidenceManifest['transcripts'] {
  return transcriptCeremoniesBetween(inst.db, from, to).map((ceremonyId) => {
    const t = loadTranscript(inst, ceremonyId);
    const file = `transcripts/transcript-${t.ceremonyId}.json`;
    const markdown = `transcripts/transcript-${t.ceremonyId}.md`;
    w.put(file, `${JSON.stringify(t, null, 2)}\n`);
    w.put(markdown, renderTranscriptMarkdown(t));
    return {
      file,
      markdown,
      ceremonyId: t.ceremonyId,
      operation: t.operation,
      target: t.target,
      finishedAt: t.finishedAt,
    };
  });
}

/** The certificates recorded in the period. */
function putCertificates(
  inst: Installation,
  w: EvidenceWriter,
  from: string,
  to: string,
): EvidenceManifest['certificates'] {
  const created = certificateRecordingTimes(inst.db);
  return listIssued(inst)
    .filter((c) => {
      const at = created.get(c.id) ?? c.notBefore;
      return at >= from && at <= to;
    })
    .map((c) => {
      const file = `certificates/${safe(c.caName)}-${c.serialHex}.der`;
      w.put(file, c.der);
      return {
        file,
        ca: c.caName,
        serialHex: c.serialHex,
        subject: c.subject,
        profile: c.profile,
        notBefore: c.notBefore,
        revoked: !!c.revocation,
      };
    });
}

/** The CRLs issued in the period. */
function putCrls(inst: Installation, w: EvidenceWriter, from: string, to: string): EvidenceManifest['crls'] {
  const caName = new Map(listCas(inst).map((c) => [c.id, c.name]));
  return crlsBetween(inst.db, from, to).map((r) => {
    const ca = caName.get(r.ca_id) ?? `ca-${r.ca_id}`;
    const file = `crls/${safe(ca)}-${r.crl_number}.crl`;
    w.put(file, r.der);
    return { file, ca, crlNumber: r.crl_number, thisUpdate: r.this_update };
  });
}

/** The state tables against the log, as `audit verify --state` checks them (issue 14 item 4). */
function putStateCheck(inst: Installation, w: EvidenceWriter): NonNullable<EvidenceManifest['stateCheck']> {
  const state = verifyStateAgainstLog(inst.db);
  w.put(STATE_CHECK, `${JSON.stringify(state, null, 2)}\n`);
  return { file: STATE_CHECK, ok: state.ok, mismatches: formatStateMismatches(state) };
}
