/**
 * `rootca audit evidence` / `rootca audit verify-evidence` (CPS 8, R-11.1): one folder a WebTrust
 * auditor takes away for a period — the audit-log bundle (audit-log/, self-verifying, with its
 * checkpoints) plus inclusion proofs of the period's events, the ceremony transcripts, every
 * certificate of each CA itself (first root, renewals, NewWithNew, link certificates), the
 * certificates and CRLs issued, a readable summary.md, and manifest.json with the SHA-256 of
 * every file. Verification needs only the folder, never the database; each certificate and CRL
 * is checked with the key that signed it, found by its AKI (RFC 5280 4.2.1.1, 5.2.1), so what
 * a key retired by a re-key signed still verifies (CPS 5.6).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE as BUNDLE_MANIFEST, verifyAuditBundle, type BundleManifest } from '../audit/bundle.ts';
import { eventLeafHash, type AuditEvent } from '../audit/log.ts';
import { verifyInclusion } from '../audit/merkle.ts';
import { MerkleTreeLevels } from '../audit/tree.ts';
import { CaError } from '../errors.ts';
import { normalizeSerialHex, parseCrl } from '../pki/crl.ts';
import { findCrlIssuingCertificate, findIssuingCertificate, keyIdentifiersOf, type IssuerLookup } from '../pki/issuer-key.ts';
import { exportAuditBundle } from './audit-review.ts';
import { ownCertificates, type OwnCertificate } from '../lifecycle/ca-certificate-history.ts';
import { inclusionProofFor } from './audit-checkpoints.ts';
import { listCas } from '../installation/cas.ts';
import { listIssued } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator } from '../people/operators.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { renderTranscriptMarkdown, verifyTranscript, type Transcript } from './transcript.ts';
import { loadTranscript } from './transcript-store.ts';

export const EVIDENCE_FORMAT = 'rootca-audit-evidence/1';
const MANIFEST = 'manifest.json';
const SUMMARY = 'summary.md';
const RANGE = 'audit-range.json';
const AUDIT_DIR = 'audit-log';

export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  installation: string;
  createdAt: string;
  examiner: string;
  period: { from: string; to: string };
  auditLog: { dir: string; treeSize: number; rootHash: string; checkpoints: number; rangeFile: string; firstEvent: number | null; lastEvent: number | null; events: number };
  /**
   * Every certificate of each CA itself, oldest first. `kind`, `serialHex` and `current` are
   * absent from bundles made before re-keyed CAs were covered (one current root per CA).
   */
  roots: { ca: string; file: string; subject: string; sha256: string; kind?: OwnCertificate['kind']; serialHex?: string; current?: boolean }[];
  certificates: { file: string; ca: string; serialHex: string; subject: string; profile: string; notBefore: string; revoked: boolean }[];
  crls: { file: string; ca: string; crlNumber: number; thisUpdate: string }[];
  transcripts: { file: string; markdown: string; ceremonyId: number; operation: string; target: string; finishedAt: string }[];
  /** Every file but this manifest, with its SHA-256. */
  files: { path: string; sha256: string; bytes: number }[];
}

export interface EvidenceResult { dir: string; manifest: EvidenceManifest; manifestSha256: string; verification: EvidenceVerification }
export interface EvidenceVerification { ok: boolean; dir: string; problems: string[]; checked: string[] }

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** A date (YYYY-MM-DD, whole day, UTC) or a date-time; `end` takes the end of the day. */
function parseBound(v: string, flag: string, end: boolean): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const t = Date.parse(day ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw new CaError('DATE_INVALID', `${flag} must be a date (YYYY-MM-DD) or a date-time, got "${v}"`);
  return new Date(day && end ? t + 86_400_000 - 1 : t).toISOString();
}

/** The readable summary; rendered from the manifest (less its file list) so verify can re-render and compare. */
export function renderEvidenceSummary(m: Omit<EvidenceManifest, 'files'>): string {
  const a = m.auditLog;
  return [
    `# Audit evidence: ${m.installation}`, '',
    `Period ${m.period.from} to ${m.period.to}; gathered ${m.createdAt} by Log Examiner ${m.examiner} (${m.format}).`, '',
    '## Audit log', '',
    `Whole log in \`${a.dir}/\` (self-verifying bundle): ${a.treeSize} events, tree root \`${a.rootHash}\`, ${a.checkpoints} signed checkpoint(s).`,
    a.events ? `Events of the period: ${a.events} (#${a.firstEvent}..#${a.lastEvent}), each with an RFC 9162 inclusion proof in \`${a.rangeFile}\`.` : `No events in the period (\`${a.rangeFile}\` is empty).`, '',
    '## Root certificates', '',
    ...(m.roots.length ? m.roots.map((r) => `- ${r.ca}: ${r.subject}${rootLabel(r)} — \`${r.file}\` (SHA-256 ${r.sha256})`) : ['- none']), '',
    '## Ceremonies (signed transcripts)', '',
    ...(m.transcripts.length ? m.transcripts.map((t) => `- #${t.ceremonyId} ${t.operation} on ${t.target}, finished ${t.finishedAt} — \`${t.file}\`, \`${t.markdown}\``) : ['- none in the period']), '',
    '## Certificates issued', '',
    ...(m.certificates.length ? m.certificates.map((c) => `- ${c.ca} serial ${c.serialHex} (${c.profile}) ${c.subject}, from ${c.notBefore}${c.revoked ? ', REVOKED' : ''} — \`${c.file}\``) : ['- none in the period']), '',
    '## CRLs issued', '',
    ...(m.crls.length ? m.crls.map((c) => `- ${c.ca} CRL #${c.crlNumber}, thisUpdate ${c.thisUpdate} — \`${c.file}\``) : ['- none in the period']), '',
    '## Verify offline', '',
    '`rootca audit verify-evidence THIS_FOLDER` checks manifest.json digests, the audit-log bundle, the inclusion proofs, every transcript signature, and every certificate and CRL against the key of its CA that signed it (found by its authorityKeyIdentifier).', '',
  ].join('\n');
}

/** " (re-key NewWithNew, serial …, current)"; nothing for a bundle made before the kinds were recorded. */
function rootLabel(r: EvidenceManifest['roots'][number]): string {
  return r.kind ? ` (${r.kind}, serial ${r.serialHex}${r.current ? ', current' : ''})` : '';
}

/**
 * `rootca audit evidence --from --to --out --examiner`: gathers the evidence for the period into
 * a new or empty folder (nothing is overwritten). The audit-log part goes through
 * exportAuditBundle, so only an authenticated Log Examiner gathers it and the export is audited.
 */
export async function exportEvidence(inst: Installation, p: { from: string; to: string; out: string; examiner: string; passphrases: PassphraseSource }): Promise<EvidenceResult> {
  const dir = resolve(p.out);
  const from = parseBound(p.from, '--from', false);
  const to = parseBound(p.to, '--to', true);
  if (from > to) throw new CaError('DATE_INVALID', `--from ${p.from} is after --to ${p.to}`);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new CaError('OUTPUT_EXISTS', `${dir} exists and is not an empty folder; evidence never overwrites anything`);
  }
  // Authenticates the Log Examiner (audit.export duty), writes and verifies audit-log/, audits the export.
  const exported = await exportAuditBundle(inst, { to: join(dir, AUDIT_DIR), examiner: p.examiner, passphrases: p.passphrases });
  const bm: BundleManifest = exported.manifest;

  const files: EvidenceManifest['files'] = [];
  const put = (path: string, data: string | Buffer) => {
    mkdirSync(join(dir, path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, path), data, { flag: 'wx', mode: 0o600 });
    files.push({ path, sha256: sha256(data), bytes: Buffer.byteLength(data) });
  };
  for (const f of [...bm.files.map((f) => f.path), BUNDLE_MANIFEST]) {
    const data = readFileSync(join(dir, AUDIT_DIR, f));
    files.push({ path: `${AUDIT_DIR}/${f}`, sha256: sha256(data), bytes: data.length });
  }

  // Inclusion proofs of the period's events, against the exported tree.
  const leaves = inst.audit.leafHashes().slice(0, bm.treeSize);
  const tree = new MerkleTreeLevels(leaves);
  const inRange = (inst.audit.list(1, bm.treeSize) as AuditEvent[]).filter((e) => e.at >= from && e.at <= to);
  const proofs = inRange.map((e) => inclusionProofFor(tree, leaves, e.seq, bm.rootHash));
  put(RANGE, `${JSON.stringify({ treeSize: bm.treeSize, rootHash: bm.rootHash, from, to, proofs }, null, 2)}\n`);

  const cas = listCas(inst);
  // The whole history, not only the current root: what the period holds may be signed by a key a re-key retired (CPS 5.6).
  const roots = cas.flatMap((c) => ownCertificates(inst, c.id).map((o) => {
    const file = o.current ? `roots/${safe(c.name)}.der` : `roots/${safe(c.name)}-${o.kind}-${o.serialHex}.der`;
    put(file, o.der);
    return { ca: c.name, file, subject: o.subject, sha256: sha256(o.der), kind: o.kind, serialHex: o.serialHex, current: o.current };
  }));

  const transcripts: EvidenceManifest['transcripts'] = [];
  for (const r of inst.db.prepare('SELECT ceremony_id FROM transcripts WHERE created_at >= ? AND created_at <= ? ORDER BY ceremony_id').all(from, to) as { ceremony_id: number }[]) {
    const t = loadTranscript(inst, r.ceremony_id);
    const file = `transcripts/transcript-${t.ceremonyId}.json`;
    const markdown = `transcripts/transcript-${t.ceremonyId}.md`;
    put(file, `${JSON.stringify(t, null, 2)}\n`);
    put(markdown, renderTranscriptMarkdown(t));
    transcripts.push({ file, markdown, ceremonyId: t.ceremonyId, operation: t.operation, target: t.target, finishedAt: t.finishedAt });
  }

  const created = new Map((inst.db.prepare('SELECT id, created_at FROM certificates').all() as { id: number; created_at: string }[]).map((r) => [r.id, r.created_at]));
  const certificates = listIssued(inst).filter((c) => { const at = created.get(c.id) ?? c.notBefore; return at >= from && at <= to; }).map((c) => {
    const file = `certificates/${safe(c.caName)}-${c.serialHex}.der`;
    put(file, c.der);
    return { file, ca: c.caName, serialHex: c.serialHex, subject: c.subject, profile: c.profile, notBefore: c.notBefore, revoked: !!c.revocation };
  });

  const caName = new Map(cas.map((c) => [c.id, c.name]));
  const crls = (inst.db.prepare('SELECT ca_id, crl_number, der, this_update FROM crls WHERE this_update >= ? AND this_update <= ? ORDER BY ca_id, crl_number').all(from, to) as { ca_id: number; crl_number: number; der: Buffer; this_update: string }[]).map((r) => {
    const ca = caName.get(r.ca_id) ?? `ca-${r.ca_id}`;
    const file = `crls/${safe(ca)}-${r.crl_number}.crl`;
    put(file, r.der);
    return { file, ca, crlNumber: r.crl_number, thisUpdate: r.this_update };
  });

  const body: Omit<EvidenceManifest, 'files'> = {
    format: EVIDENCE_FORMAT, installation: inst.config.installation.name, createdAt: inst.clock.now().toISOString(), examiner: p.examiner,
    period: { from, to },
    auditLog: { dir: AUDIT_DIR, treeSize: bm.treeSize, rootHash: bm.rootHash, checkpoints: bm.checkpoints, rangeFile: RANGE, firstEvent: inRange[0]?.seq ?? null, lastEvent: inRange.at(-1)?.seq ?? null, events: inRange.length },
    roots, certificates, crls, transcripts,
  };
  put(SUMMARY, renderEvidenceSummary(body));
  const manifest: EvidenceManifest = { ...body, files: files.sort((a, b) => a.path.localeCompare(b.path)) };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(dir, MANIFEST), text, { flag: 'wx', mode: 0o600 });
  const manifestSha256 = sha256(text);
  const verification = verifyEvidence(dir);
  inst.audit.append({
    actor: p.examiner, roles: getOperator(inst, p.examiner).roles, action: 'audit.evidence', target: dir, outcome: 'success',
    details: { from, to, manifestSha256, treeSize: bm.treeSize, rootHash: bm.rootHash, transcripts: transcripts.length, certificates: certificates.length, crls: crls.length, verified: verification.ok },
  });
  return { dir, manifest, manifestSha256, verification };
}

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((d) => {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    return d.isDirectory() ? walk(dir, rel) : [rel];
  });
}

/** `rootca audit verify-evidence DIR`: checks everything from the folder alone. */
export function verifyEvidence(dirIn: string): EvidenceVerification {
  const dir = resolve(dirIn);
  const problems: string[] = [];
  const checked: string[] = [];
  const done = (): EvidenceVerification => ({ ok: problems.length === 0, dir, problems, checked });
  let m: EvidenceManifest;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as EvidenceManifest;
  } catch (e) {
    problems.push(`${MANIFEST} cannot be read as JSON: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return done();
  }
  if (m?.format !== EVIDENCE_FORMAT || !Array.isArray(m.files) || !m.auditLog || !Array.isArray(m.roots) || !Array.isArray(m.certificates) || !Array.isArray(m.crls) || !Array.isArray(m.transcripts)) {
    problems.push(`${MANIFEST} is not a ${EVIDENCE_FORMAT} manifest`);
    return done();
  }

  // 1. Digests; nothing added or removed.
  const read = new Map<string, Buffer>();
  const listed = new Set<string>();
  let bad = 0;
  for (const f of m.files) {
    if (typeof f.path !== 'string' || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(f.path) || f.path.split('/').includes('..')) { problems.push(`the manifest lists an unsafe path ${JSON.stringify(f.path)}`); bad++; continue; }
    listed.add(f.path);
    let data: Buffer;
    try { data = readFileSync(join(dir, f.path)); } catch { problems.push(`${f.path} is listed in the manifest but missing`); bad++; continue; }
    read.set(f.path, data);
    if (sha256(data) !== f.sha256 || data.length !== f.bytes) { problems.push(`${f.path} does not match its SHA-256 in the manifest (changed)`); bad++; }
  }
  for (const f of walk(dir)) if (f !== MANIFEST && !listed.has(f)) { problems.push(`${f} is not listed in the manifest (added)`); bad++; }
  if (!bad) checked.push(`manifest: ${m.files.length} files, every SHA-256 matches, nothing added or removed`);
  const file = (path: string, what: string): Buffer | undefined => {
    const b = read.get(path);
    if (!b) problems.push(`${what} ${path} is not among the manifest's files`);
    return b;
  };

  // 2. The summary is what the manifest says.
  const { files: _files, ...body } = m;
  const summary = read.get(SUMMARY);
  if (!summary || summary.toString('utf8') !== renderEvidenceSummary(body)) problems.push(`${SUMMARY} does not match the manifest (the summary or the manifest was changed)`);
  else checked.push(`${SUMMARY} matches the manifest`);

  // 3. The audit-log bundle, then the period's inclusion proofs against its tree.
  const bundleDir = join(dir, m.auditLog.dir ?? AUDIT_DIR);
  const bv = verifyAuditBundle(bundleDir);
  problems.push(...bv.problems.map((p) => `audit log: ${p}`));
  if (bv.ok) checked.push(`audit log bundle verifies (${bv.checked.length} checks)`);
  let bm: BundleManifest | undefined;
  try { bm = JSON.parse(readFileSync(join(bundleDir, BUNDLE_MANIFEST), 'utf8')) as BundleManifest; } catch { /* reported by verifyAuditBundle */ }
  if (bm && (bm.treeSize !== m.auditLog.treeSize || bm.rootHash !== m.auditLog.rootHash)) problems.push('audit log: the tree head in manifest.json differs from the bundle\'s');
  const rangeBytes = file(m.auditLog.rangeFile, 'the range proofs');
  if (rangeBytes && bm) {
    try {
      const range = JSON.parse(rangeBytes.toString('utf8')) as { treeSize: number; rootHash: string; proofs: { event: number; leafIndex: number; treeSize: number; leafHash: string; rootHash: string; path: string[] }[] };
      const events = new Map<number, AuditEvent>();
      for (const line of (read.get(`${AUDIT_DIR}/events.jsonl`) ?? readFileSync(join(bundleDir, 'events.jsonl'))).toString('utf8').split('\n')) {
        if (line.trim()) { const e = JSON.parse(line) as AuditEvent; events.set(e.seq, e); }
      }
      let okProofs = 0;
      for (const pr of range.proofs) {
        const e = events.get(pr.event);
        const leaf = e ? eventLeafHash(e) : undefined;
        const inPeriod = e && e.at >= m.period.from && e.at <= m.period.to;
        if (!leaf || leaf.toString('hex') !== pr.leafHash) problems.push(`inclusion proof of event ${pr.event}: its leaf is not the bundle's event`);
        else if (!inPeriod) problems.push(`inclusion proof of event ${pr.event}: the event is outside the period`);
        else if (pr.treeSize !== bm.treeSize || pr.rootHash !== bm.rootHash || !verifyInclusion(leaf, pr.event - 1, bm.treeSize, pr.path.map((h) => Buffer.from(h, 'hex')), Buffer.from(bm.rootHash, 'hex'))) problems.push(`inclusion proof of event ${pr.event} does not verify against the bundle's tree root`);
        else okProofs++;
      }
      const expected = [...events.values()].filter((e) => e.at >= m.period.from && e.at <= m.period.to && e.seq <= bm!.treeSize).length;
      if (expected !== range.proofs.length) problems.push(`the period has ${expected} events in the bundle but ${range.proofs.length} inclusion proofs`);
      if (okProofs === range.proofs.length && expected === range.proofs.length) checked.push(`${okProofs} inclusion proofs of the period's events verify against root ${bm.rootHash.slice(0, 16)}…`);
    } catch (e) {
      problems.push(`${m.auditLog.rangeFile} cannot be read: ${(e as Error).message}`);
    }
  }

  // 4. Transcripts.
  for (const t of m.transcripts) {
    const b = file(t.file, 'transcript');
    if (!b) continue;
    let doc: Transcript;
    try { doc = JSON.parse(b.toString('utf8')) as Transcript; } catch { problems.push(`${t.file} is not JSON`); continue; }
    const v = verifyTranscript(doc);
    if (!v.ok) problems.push(...v.problems.map((p) => `${t.file}: ${p}`));
    else checked.push(`${t.file}: every participant's signatures verify`);
    const md = read.get(t.markdown);
    if (!md || md.toString('utf8') !== renderTranscriptMarkdown(doc)) problems.push(`${t.markdown} is not the rendering of ${t.file}`);
  }

  // 5. The CAs' own certificates, then what they signed: each with the key found by its AKI.
  const caCertificates = checkCaCertificates(m.roots, file, problems, checked);
  for (const c of m.certificates) {
    const b = file(c.file, 'certificate');
    if (!b) continue;
    let serial: string;
    try { serial = new X509Certificate(b).serialNumber; } catch (e) { problems.push(`${c.file} is not a certificate: ${(e as Error).message}`); continue; }
    // A certificate put under another's name would otherwise pass: it is signed by the same CA.
    if (!sameSerial(serial, c.serialHex)) { problems.push(`${c.file}: its serial is ${serial}, the manifest says ${c.serialHex}`); continue; }
    checkSignedBy(c.file, `certificate ${c.serialHex} of ${c.ca}`, findIssuingCertificate(b, derOf(caCertificates.get(c.ca))), caCertificates.get(c.ca), problems, checked);
  }
  for (const c of m.crls) {
    const b = file(c.file, 'CRL');
    if (!b) continue;
    let found: IssuerLookup;
    try { found = findCrlIssuingCertificate(b, derOf(caCertificates.get(c.ca))); } catch (e) { problems.push(`${c.file} is not a CRL: ${(e as Error).message}`); continue; }
    // Same reason: another CRL of the same CA (an earlier key's) verifies too; RFC 5280 5.2.3 numbers each CRL.
    const crlNumber = parseCrl(b).crlNumber;
    if (crlNumber !== BigInt(c.crlNumber)) { problems.push(`${c.file}: its cRLNumber is ${crlNumber ?? 'absent'}, the manifest says ${c.crlNumber}`); continue; }
    checkSignedBy(c.file, `CRL #${c.crlNumber} of ${c.ca}`, found, caCertificates.get(c.ca), problems, checked);
  }
  return done();
}

interface CaCertificateFile { file: string; der: Buffer }

function sameSerial(a: string, b: unknown): boolean {
  try { return normalizeSerialHex(a) === normalizeSerialHex(String(b)); } catch { return false; }
}

const derOf = (certs: CaCertificateFile[] | undefined): Buffer[] => (certs ?? []).map((c) => c.der);

/** "roots/x.der (key 3f…)" for each certificate tried, so a refusal says what was tried. */
function describeTried(certs: CaCertificateFile[] | undefined): string {
  if (!certs?.length) return 'no certificate of the CA is included';
  return `tried ${certs.map((c) => `${c.file} (key ${keyIdentifiersOf(c.der).subject?.toString('hex') ?? 'without SKI'})`).join(', ')}`;
}

/**
 * Each CA's own certificates, kept when each is signed by a key of that CA found by its AKI
 * among them (RFC 5280 4.2.1.1): the self-signed ones (first root, renewals, NewWithNew) by
 * their own key, the link certificates by the other key (RFC 4210 4.4).
 */
function checkCaCertificates(roots: EvidenceManifest['roots'], file: (path: string, what: string) => Buffer | undefined, problems: string[], checked: string[]): Map<string, CaCertificateFile[]> {
  const all = new Map<string, CaCertificateFile[]>();
  for (const r of roots) {
    const b = file(r.file, 'root certificate');
    if (!b) continue;
    try {
      new X509Certificate(b);
      all.set(r.ca, [...(all.get(r.ca) ?? []), { file: r.file, der: b }]);
    } catch (e) { problems.push(`${r.file} is not a certificate: ${(e as Error).message}`); }
  }
  const verified = new Map<string, CaCertificateFile[]>();
  for (const [ca, certs] of all) {
    for (const c of certs) {
      if (checkSignedBy(c.file, `certificate of ${ca} itself`, findIssuingCertificate(c.der, derOf(certs)), certs, problems, checked)) {
        verified.set(ca, [...(verified.get(ca) ?? []), c]);
      }
    }
  }
  return verified;
}

/** Records whether `artefact` was found signed by one of `candidates`; a refusal names the artefact, its AKI (in `found.reason`) and what was tried. */
function checkSignedBy(path: string, artefact: string, found: IssuerLookup, candidates: CaCertificateFile[] | undefined, problems: string[], checked: string[]): boolean {
  if (!found.ok) {
    problems.push(`${path}: ${artefact}: ${found.reason}; ${describeTried(candidates)}`);
    return false;
  }
  const by = candidates?.find((c) => c.der.equals(found.issuerDer))?.file ?? 'its issuer';
  checked.push(`${path}: ${artefact} verifies with the key of ${by === path ? 'its own certificate (self-signed)' : by}`);
  return true;
}
