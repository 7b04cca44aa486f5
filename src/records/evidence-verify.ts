/**
 * `rootca audit verify-evidence DIR` (CPS 8, R-11.1): checks an evidence folder from the folder
 * alone, never the database — the digests, the summary, the audit-log bundle and the period's
 * inclusion proofs, the transcripts, the state check, and each certificate and CRL with the key
 * that signed it, found by its AKI (RFC 5280 4.2.1.1, 5.2.1), so what a key retired by a re-key
 * signed still verifies (CPS 5.6).
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifyAuditBundle } from '../audit/bundle.ts';
import { MANIFEST_FILE as BUNDLE_MANIFEST, type BundleManifest } from '../audit/bundle-write.ts';
import { eventLeafHash, type AuditEvent } from '../audit/event.ts';
import { verifyInclusion } from '../audit/merkle.ts';
import type { StateCheck } from '../audit/state-check.ts';
import { parseCrl } from '../pki/crl.ts';
import { findCrlIssuingCertificate, findIssuingCertificate, type IssuerLookup } from '../pki/issuer-key.ts';
import { formatStateMismatches } from './audit-state.ts';
import {
  EVIDENCE_AUDIT_DIR as AUDIT_DIR,
  EVIDENCE_FORMAT,
  EVIDENCE_MANIFEST as MANIFEST,
  EVIDENCE_SUMMARY as SUMMARY,
  renderEvidenceSummary,
  sha256,
  type EvidenceManifest,
  type EvidenceVerification,
} from './evidence-format.ts';
import { readManifestFile } from '../util/manifest-file.ts';
import { sameSerial, derOf, checkCaCertificates, checkSignedBy } from './evidence-ca-certs.ts';
import { renderTranscriptMarkdown, verifyTranscript, type Transcript } from './transcript.ts';

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((d) => {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    return d.isDirectory() ? walk(dir, rel) : [rel];
  });
}

/** The files of the folder as read, for the later checks; a file the manifest does not list is a problem. */
class EvidenceFiles {
  readonly read = new Map<string, Buffer>();
  constructor(private readonly problems: string[]) {}

  file(path: string, what: string): Buffer | undefined {
    const b = this.read.get(path);
    if (!b) this.problems.push(`${what} ${path} is not among the manifest's files`);
    return b;
  }
}

/** `rootca audit verify-evidence DIR`: checks everything from the folder alone. */
export function verifyEvidence(dirIn: string): EvidenceVerification {
  const dir = resolve(dirIn);
  const problems: string[] = [];
  const checked: string[] = [];
  const done = (): EvidenceVerification => ({ ok: problems.length === 0, dir, problems, checked });
  const m = readManifest(dir, problems);
  if (!m) return done();
  const files = checkDigests(dir, m, problems, checked);
  // The summary is what the manifest says.
  const { files: _files, ...body } = m;
  const summary = files.read.get(SUMMARY);
  if (!summary || summary.toString('utf8') !== renderEvidenceSummary(body))
    problems.push(`${SUMMARY} does not match the manifest (the summary or the manifest was changed)`);
  else checked.push(`${SUMMARY} matches the manifest`);
  checkAuditLog(dir, m, files, problems, checked);
  checkTranscripts(m, files, problems, checked);
  checkSignedArtefacts(m, files, problems, checked);
  checkStateCheck(m, files, problems, checked);
  return done();
}

/** manifest.json, when it is one of this format; otherwise the problem is recorded. */
function readManifest(dir: string, problems: string[]): EvidenceManifest | undefined {
  return readManifestFile<EvidenceManifest>(
    dir,
    MANIFEST,
    EVIDENCE_FORMAT,
    (m) =>
      m?.format === EVIDENCE_FORMAT &&
      Array.isArray(m.files) &&
      !!m.auditLog &&
      Array.isArray(m.roots) &&
      Array.isArray(m.certificates) &&
      Array.isArray(m.crls) &&
      Array.isArray(m.transcripts),
    problems,
  );
}

/** Every listed file's digest; nothing added or removed. */
function checkDigests(dir: string, m: EvidenceManifest, problems: string[], checked: string[]): EvidenceFiles {
  const files = new EvidenceFiles(problems);
  const listed = new Set<string>();
  let bad = 0;
  for (const f of m.files) {
    if (
      typeof f.path !== 'string' ||
      !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(f.path) ||
      f.path.split('/').includes('..')
    ) {
      problems.push(`the manifest lists an unsafe path ${JSON.stringify(f.path)}`);
      bad++;
      continue;
    }
    listed.add(f.path);
    let data: Buffer;
    try {
      data = readFileSync(join(dir, f.path));
    } catch {
      problems.push(`${f.path} is listed in the manifest but missing`);
      bad++;
      continue;
    }
    files.read.set(f.path, data);
    if (sha256(data) !== f.sha256 || data.length !== f.bytes) {
      problems.push(`${f.path} does not match its SHA-256 in the manifest (changed)`);
      bad++;
    }
  }
  for (const f of walk(dir))
    if (f !== MANIFEST && !listed.has(f)) {
      problems.push(`${f} is not listed in the manifest (added)`);
      bad++;
    }
  if (!bad) checked.push(`manifest: ${m.files.length} files, every SHA-256 matches, nothing added or removed`);
  return files;
}

/** The audit-log bundle, then the period's inclusion proofs against its tree. */
function checkAuditLog(
  dir: string,
  m: EvidenceManifest,
  files: EvidenceFiles,
  problems: string[],
  checked: string[],
): void {
  const bundleDir = join(dir, m.auditLog.dir ?? AUDIT_DIR);
  const bv = verifyAuditBundle(bundleDir);
  problems.push(...bv.problems.map((p) => `audit log: ${p}`));
  if (bv.ok) checked.push(`audit log bundle verifies (${bv.checked.length} checks)`);
  let bm: BundleManifest | undefined;
  try {
    bm = JSON.parse(readFileSync(join(bundleDir, BUNDLE_MANIFEST), 'utf8')) as BundleManifest;
  } catch {
    /* reported by verifyAuditBundle */
  }
  if (bm && (bm.treeSize !== m.auditLog.treeSize || bm.rootHash !== m.auditLog.rootHash))
    problems.push("audit log: the tree head in manifest.json differs from the bundle's");
  const rangeBytes = files.file(m.auditLog.rangeFile, 'the range proofs');
  if (!rangeBytes || !bm) return;
  try {
    checkRangeProofs(
      m,
      bm,
      rangeBytes,
      files.read.get(`${AUDIT_DIR}/events.jsonl`) ?? readFileSync(join(bundleDir, 'events.jsonl')),
      problems,
      checked,
    );
  } catch (e) {
    problems.push(`${m.auditLog.rangeFile} cannot be read: ${(e as Error).message}`);
  }
}

/** Each proof is of a bundle event of the period and verifies against the bundle's root; every such event has one. */
function checkRangeProofs(
  m: EvidenceManifest,
  bm: BundleManifest,
  rangeBytes: Buffer,
  eventsJsonl: Buffer,
  problems: string[],
  checked: string[],
): void {
  const range = JSON.parse(rangeBytes.toString('utf8')) as {
    treeSize: number;
    rootHash: string;
    proofs: {
      event: number;
      leafIndex: number;
      treeSize: number;
      leafHash: string;
      rootHash: string;
      path: string[];
    }[];
  };
  const events = new Map<number, AuditEvent>();
  for (const line of eventsJsonl.toString('utf8').split('\n')) {
    if (line.trim()) {
      const e = JSON.parse(line) as AuditEvent;
      events.set(e.seq, e);
    }
  }
  let okProofs = 0;
  for (const pr of range.proofs) {
    const e = events.get(pr.event);
    const leaf = e ? eventLeafHash(e) : undefined;
    const inPeriod = e && e.at >= m.period.from && e.at <= m.period.to;
    if (!leaf || leaf.toString('hex') !== pr.leafHash)
      problems.push(`inclusion proof of event ${pr.event}: its leaf is not the bundle's event`);
    else if (!inPeriod) problems.push(`inclusion proof of event ${pr.event}: the event is outside the period`);
    else if (
      pr.treeSize !== bm.treeSize ||
      pr.rootHash !== bm.rootHash ||
      !verifyInclusion(
        leaf,
        pr.event - 1,
        bm.treeSize,
        pr.path.map((h) => Buffer.from(h, 'hex')),
        Buffer.from(bm.rootHash, 'hex'),
      )
    )
      problems.push(`inclusion proof of event ${pr.event} does not verify against the bundle's tree root`);
    else okProofs++;
  }
  const expected = [...events.values()].filter(
    (e) => e.at >= m.period.from && e.at <= m.period.to && e.seq <= bm.treeSize,
  ).length;
  if (expected !== range.proofs.length)
    problems.push(`the period has ${expected} events in the bundle but ${range.proofs.length} inclusion proofs`);
  if (okProofs === range.proofs.length && expected === range.proofs.length)
    checked.push(
      `${okProofs} inclusion proofs of the period's events verify against root ${bm.rootHash.slice(0, 16)}…`,
    );
}

/** Every transcript's signatures, and its rendering. */
function checkTranscripts(m: EvidenceManifest, files: EvidenceFiles, problems: string[], checked: string[]): void {
  for (const t of m.transcripts) {
    const b = files.file(t.file, 'transcript');
    if (!b) continue;
    let doc: Transcript;
    try {
      doc = JSON.parse(b.toString('utf8')) as Transcript;
    } catch {
      problems.push(`${t.file} is not JSON`);
      continue;
    }
    const v = verifyTranscript(doc);
    if (!v.ok) problems.push(...v.problems.map((p) => `${t.file}: ${p}`));
    else checked.push(`${t.file}: every participant's signatures verify`);
    const md = files.read.get(t.markdown);
    if (!md || md.toString('utf8') !== renderTranscriptMarkdown(doc))
      problems.push(`${t.markdown} is not the rendering of ${t.file}`);
  }
}

/** The CAs' own certificates, then what they signed: each with the key found by its AKI. */
function checkSignedArtefacts(m: EvidenceManifest, files: EvidenceFiles, problems: string[], checked: string[]): void {
  const file = (path: string, what: string) => files.file(path, what);
  const caCertificates = checkCaCertificates(m.roots, file, problems, checked);
  for (const c of m.certificates) {
    const b = file(c.file, 'certificate');
    if (!b) continue;
    let serial: string;
    try {
      serial = new X509Certificate(b).serialNumber;
    } catch (e) {
      problems.push(`${c.file} is not a certificate: ${(e as Error).message}`);
      continue;
    }
    // A certificate put under another's name would otherwise pass: it is signed by the same CA.
    if (!sameSerial(serial, c.serialHex)) {
      problems.push(`${c.file}: its serial is ${serial}, the manifest says ${c.serialHex}`);
      continue;
    }
    checkSignedBy(
      c.file,
      `certificate ${c.serialHex} of ${c.ca}`,
      findIssuingCertificate(b, derOf(caCertificates.get(c.ca))),
      caCertificates.get(c.ca),
      problems,
      checked,
    );
  }
  for (const c of m.crls) {
    const b = file(c.file, 'CRL');
    if (!b) continue;
    let found: IssuerLookup;
    try {
      found = findCrlIssuingCertificate(b, derOf(caCertificates.get(c.ca)));
    } catch (e) {
      problems.push(`${c.file} is not a CRL: ${(e as Error).message}`);
      continue;
    }
    // Same reason: another CRL of the same CA (an earlier key's) verifies too; RFC 5280 5.2.3 numbers each CRL.
    const crlNumber = parseCrl(b).crlNumber;
    if (crlNumber !== BigInt(c.crlNumber)) {
      problems.push(`${c.file}: its cRLNumber is ${crlNumber ?? 'absent'}, the manifest says ${c.crlNumber}`);
      continue;
    }
    checkSignedBy(c.file, `CRL #${c.crlNumber} of ${c.ca}`, found, caCertificates.get(c.ca), problems, checked);
  }
}

/**
 * The state check recorded when the evidence was gathered (issue 14 item 4): the file is the
 * manifest's, and a mismatch it records — a row without its event or an event without its row —
 * is a problem of the evidence. A bundle made before it was recorded has none to check.
 */
function checkStateCheck(m: EvidenceManifest, files: EvidenceFiles, problems: string[], checked: string[]): void {
  if (!m.stateCheck) return;
  const b = files.file(m.stateCheck.file, 'the state check');
  if (!b) return;
  let state: StateCheck;
  try {
    state = JSON.parse(b.toString('utf8')) as StateCheck;
  } catch {
    problems.push(`${m.stateCheck.file} is not JSON`);
    return;
  }
  const lines = formatStateMismatches(state);
  if (state.ok !== m.stateCheck.ok || JSON.stringify(lines) !== JSON.stringify(m.stateCheck.mismatches)) {
    problems.push(`${m.stateCheck.file} does not match the manifest's state check`);
    return;
  }
  if (state.ok)
    checked.push(
      `${m.stateCheck.file}: every row of the state tables had its audit event and every such event its row`,
    );
  else problems.push(...lines.map((line) => `state check: the state tables did not answer to the audit log: ${line}`));
}
