/**
 * The evidence folder of `rootca audit evidence` (CPS 8, R-11.1): its manifest, the fixed names in
 * it, and the readable summary, which is rendered from the manifest so that verification can
 * render it again and compare.
 */
import { createHash } from 'node:crypto';
import type { OwnCertificate } from '../lifecycle/ca-certificate-history.ts';

/** The format of an evidence folder's manifest. */
export const EVIDENCE_FORMAT = 'rootca-audit-evidence/1';
/** A fixed name in the evidence folder. */
export const EVIDENCE_MANIFEST = 'manifest.json';
/** A fixed name in the evidence folder. */
export const EVIDENCE_SUMMARY = 'summary.md';
/** A fixed name in the evidence folder. */
export const EVIDENCE_RANGE = 'audit-range.json';
/** The folder of the audit-log bundle in the evidence folder. */
export const EVIDENCE_AUDIT_DIR = 'audit-log';

/** manifest.json of an evidence folder: what it holds and the SHA-256 of every file. */
export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  installation: string;
  createdAt: string;
  examiner: string;
  period: { from: string; to: string };
  auditLog: {
    dir: string;
    treeSize: number;
    rootHash: string;
    checkpoints: number;
    rangeFile: string;
    firstEvent: number | null;
    lastEvent: number | null;
    events: number;
  };
  /**
   * Every certificate of each CA itself, oldest first. `kind`, `serialHex` and `current` are
   * absent from bundles made before re-keyed CAs were covered (one current root per CA).
   */
  roots: {
    ca: string;
    file: string;
    subject: string;
    sha256: string;
    kind?: OwnCertificate['kind'];
    serialHex?: string;
    current?: boolean;
  }[];
  certificates: {
    file: string;
    ca: string;
    serialHex: string;
    subject: string;
    profile: string;
    notBefore: string;
    revoked: boolean;
  }[];
  crls: { file: string; ca: string; crlNumber: number; thisUpdate: string }[];
  transcripts: {
    file: string;
    markdown: string;
    ceremonyId: number;
    operation: string;
    target: string;
    finishedAt: string;
  }[];
  /**
   * The state check of `audit verify --state` when the evidence was gathered (issue 14 item 4):
   * `file` holds it in full, `mismatches` one line each. Absent from bundles made before.
   */
  stateCheck?: { file: string; ok: boolean; mismatches: string[] };
  /** Every file but this manifest, with its SHA-256. */
  files: { path: string; sha256: string; bytes: number }[];
}

/** What `rootca audit evidence` made. */
export interface EvidenceResult {
  dir: string;
  manifest: EvidenceManifest;
  manifestSha256: string;
  verification: EvidenceVerification;
}
/** What `rootca audit verify-evidence` found: every check done, and every problem. */
export interface EvidenceVerification {
  ok: boolean;
  dir: string;
  problems: string[];
  checked: string[];
}

/** The SHA-256 of a file of the folder, as the manifest lists it. */
export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The readable summary; rendered from the manifest (less its file list) so verify can re-render and compare. */
export function renderEvidenceSummary(m: Omit<EvidenceManifest, 'files'>): string {
  const a = m.auditLog;
  return [
    `# Audit evidence: ${m.installation}`,
    '',
    `Period ${m.period.from} to ${m.period.to}; gathered ${m.createdAt} by Log Examiner ${m.examiner} (${m.format}).`,
    '',
    '## Audit log',
    '',
    `Whole log in \`${a.dir}/\` (self-verifying bundle): ${a.treeSize} events, tree root \`${a.rootHash}\`, ${a.checkpoints} signed checkpoint(s).`,
    a.events
      ? `Events of the period: ${a.events} (#${a.firstEvent}..#${a.lastEvent}), each with an RFC 9162 inclusion proof in \`${a.rangeFile}\`.`
      : `No events in the period (\`${a.rangeFile}\` is empty).`,
    '',
    '## Root certificates',
    '',
    ...(m.roots.length
      ? m.roots.map((r) => `- ${r.ca}: ${r.subject}${rootLabel(r)} — \`${r.file}\` (SHA-256 ${r.sha256})`)
      : ['- none']),
    '',
    '## Ceremonies (signed transcripts)',
    '',
    ...(m.transcripts.length
      ? m.transcripts.map(
          (t) =>
            `- #${t.ceremonyId} ${t.operation} on ${t.target}, finished ${t.finishedAt} — \`${t.file}\`, \`${t.markdown}\``,
        )
      : ['- none in the period']),
    '',
    '## Certificates issued',
    '',
    ...(m.certificates.length
      ? m.certificates.map(
          (c) =>
            `- ${c.ca} serial ${c.serialHex} (${c.profile}) ${c.subject}, from ${c.notBefore}${c.revoked ? ', REVOKED' : ''} — \`${c.file}\``,
        )
      : ['- none in the period']),
    '',
    '## CRLs issued',
    '',
    ...(m.crls.length
      ? m.crls.map((c) => `- ${c.ca} CRL #${c.crlNumber}, thisUpdate ${c.thisUpdate} — \`${c.file}\``)
      : ['- none in the period']),
    '',
    ...stateCheckSection(m.stateCheck),
    '## Verify offline',
    '',
    '`rootca audit verify-evidence THIS_FOLDER` checks manifest.json digests, the audit-log bundle, the inclusion proofs, every transcript signature, and every certificate and CRL against the key of its CA that signed it (found by its authorityKeyIdentifier).',
    '',
  ].join('\n');
}

/** The state tables against the log (issue 14 item 4); nothing for a bundle made before it was recorded. */
function stateCheckSection(s: EvidenceManifest['stateCheck']): string[] {
  if (!s) return [];
  return [
    '## State check',
    '',
    s.ok
      ? `Every row of the state tables has its audit event and every such event its row (\`${s.file}\`).`
      : `${s.mismatches.length} mismatch(es) between the state tables and the audit log (\`${s.file}\`):`,
    ...s.mismatches.map((line) => `- ${line}`),
    '',
  ];
}

/** " (re-key NewWithNew, serial …, current)"; nothing for a bundle made before the kinds were recorded. */
function rootLabel(r: EvidenceManifest['roots'][number]): string {
  return r.kind ? ` (${r.kind}, serial ${r.serialHex}${r.current ? ', current' : ''})` : '';
}
