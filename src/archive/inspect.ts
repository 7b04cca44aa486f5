/**
 * Inspection of the archive (CPS 5.5.3 "Inspections ... to ensure no failure or loss of the
 * data", 5.5.7): every backup set in every location is verified on its own — file digests,
 * the operator's signature over the manifest with the key registered for them, the TSA's
 * time-stamp, `PRAGMA integrity_check` and the audit chain inside the snapshot — and the
 * locations are compared with each other, with the chain of sets, and with the live register,
 * so a set that is missing, altered or present in one location only is reported as a loss.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AuditLog } from '../audit/log.ts';
import type { Clock } from '../clock.ts';
import { verifyCredentialSignature, type CredentialKind } from '../keys/credential.ts';
import { findIssuingCertificate } from '../pki/issuer-key.ts';
import { parseTimeStampToken, verifyTimeStampToken } from '../pki/tsp.ts';
import { setNumber } from './files.ts';
import {
  DB_FILE,
  MANIFEST_FILE,
  SET_FILES,
  SIGNATURE_FILE,
  TOKEN_FILE,
  decodeManifest,
  type BackupManifest,
  type ManifestSignature,
  type RecordCounts,
} from './format.ts';
import { openSnapshot, recordCounts, withTemporaryCopy } from './snapshot.ts';
import { caOwnCertificates, integrityCheck, registeredSigningKey, snapshotTsa } from '../store/snapshot.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface SetCheck {
  name: string;
  dir: string;
  ok: boolean;
  problems: string[];
  notes: string[];
  manifest?: BackupManifest;
  manifestSha256?: string;
  /** The time-stamp over manifest.json, when the set is stamped and the token verifies. */
  stamp?: { genTime: string; serialHex: string; policy: string; tsa: string };
}

export interface CheckOptions {
  clock: Clock;
  /** The signing key registered today for an operator (the live installation), to cross-check the set's own registry. */
  liveSignerKey?: (operator: string) => { kind: string; spki: Buffer } | undefined;
}

/** Each file the manifest lists, byte for byte, and no other; returns whether the snapshot is intact. */
function checkSetFiles(dir: string, m: BackupManifest, problem: (p: string) => void): boolean {
  let dbIntact = false;
  for (const f of m.files) {
    const p = join(dir, f.name);
    if (!existsSync(p)) {
      problem(`${f.name} is missing`);
      continue;
    }
    const bytes = readFileSync(p);
    if (bytes.length !== f.size || sha256(bytes) !== f.sha256)
      problem(`${f.name} was altered (SHA-256 or size differs from the manifest)`);
    else if (f.name === DB_FILE) dbIntact = true;
  }
  if (!m.files.some((f) => f.name === DB_FILE)) problem(`the manifest lists no ${DB_FILE}`);
  for (const extra of listFiles(dir).filter((n) => !SET_FILES.includes(n)))
    problem(`unexpected file ${extra} in the set`);
  return dbIntact;
}

/** What the snapshot registers for checking the signatures: the signer's key and the TSA that stamped the set. */
interface SnapshotRegistry {
  registeredSigner?: { kind: string; spki: Buffer };
  tsa?: { certificateDer: Buffer; caName: string; caCertificates: Buffer[]; policy: string };
}

/** The snapshot (on a temporary copy): integrity, audit chain, record counts, and its registries. */
function checkSnapshot(
  dir: string,
  m: BackupManifest,
  o: CheckOptions,
  problem: (p: string) => void,
): SnapshotRegistry {
  const found: SnapshotRegistry = {};
  try {
    withTemporaryCopy(join(dir, DB_FILE), (copy) => {
      const db = openSnapshot(copy);
      try {
        const integrity = integrityCheck(db);
        if (integrity !== 'ok') problem(`PRAGMA integrity_check: ${integrity}`);
        const v = new AuditLog(db, o.clock).verify();
        if (!v.ok)
          problem(
            `the audit log inside the backup does not verify: position ${v.firstBad?.position}: ${v.firstBad?.problem}`,
          );
        const head = new AuditLog(db, o.clock).head();
        if (head.seq !== m.audit.seq || head.hash !== m.audit.hash)
          problem(
            `the audit head in the backup (event ${head.seq}) is not the one the manifest states (event ${m.audit.seq})`,
          );
        const counts = recordCounts(db);
        const differing = (Object.keys(counts) as (keyof RecordCounts)[]).filter((k) => counts[k] !== m.records[k]);
        if (differing.length) problem(`record counts differ from the manifest: ${differing.join(', ')}`);
        const op = registeredSigningKey(db, m.signer.operator);
        if (op) found.registeredSigner = { kind: op.credential_kind, spki: op.signing_public_key };
        if (m.timeStamp.requested) {
          const row = snapshotTsa(db, m.timeStamp.tsaKeyId);
          // Every certificate of the CA itself, so a TSA certified by a key a re-key retired still finds its issuer (CPS 5.6).
          if (row)
            found.tsa = {
              certificateDer: row.cert,
              caName: row.ca_name,
              caCertificates: caOwnCertificates(db, row.ca_id),
              policy: row.policy_oid,
            };
        }
      } finally {
        db.close();
      }
    });
  } catch (e) {
    problem(`the snapshot cannot be opened as a SQLite database: ${(e as Error).message}`);
  }
  return found;
}

/** The RFC 3161 token over manifest.json (CPS 5.5.5): by the TSA the set registers, within its validity; returns what it says. */
function checkTimeStamp(
  dir: string,
  m: BackupManifest,
  ts: { tsaKeyId: string; tsaCertificateSha256: string },
  manifestBytes: Buffer,
  dbIntact: boolean,
  tsa: SnapshotRegistry['tsa'],
  problem: (p: string) => void,
): SetCheck['stamp'] {
  const tokenPath = join(dir, TOKEN_FILE);
  if (!existsSync(tokenPath)) {
    problem(`${TOKEN_FILE} is missing: the manifest says the set was time-stamped`);
    return undefined;
  }
  try {
    const parsed = parseTimeStampToken(readFileSync(tokenPath));
    const cert = parsed.signerCertificate;
    if (!cert) problem(`${TOKEN_FILE} does not carry the TSA certificate it names`);
    else if (sha256(cert) !== ts.tsaCertificateSha256)
      problem(`${TOKEN_FILE} was signed by another TSA certificate than the manifest names`);
    else {
      const x = new X509Certificate(cert);
      if (!verifyTimeStampToken(parsed.token, manifestBytes, x.publicKey.export({ format: 'der', type: 'spki' })))
        problem(`${TOKEN_FILE} does not verify over manifest.json (altered manifest or token)`);
      else if (dbIntact && !tsa) problem(`the TSA ${ts.tsaKeyId} that stamped the set is not registered in the backup`);
      else {
        if (tsa) {
          if (!tsa.certificateDer.equals(cert))
            problem(`the TSA certificate in ${TOKEN_FILE} is not the one registered for ${ts.tsaKeyId}`);
          // The key that certified the TSA may since have been retired by a re-key (RFC 5280 4.2.1.1).
          const issuer = findIssuingCertificate(cert, tsa.caCertificates);
          if (!issuer.ok) problem(`the TSA certificate is not signed by any key of ${tsa.caName}: ${issuer.reason}`);
          if (parsed.policy !== tsa.policy)
            problem(`the token's policy ${parsed.policy} is not the TSA's ${tsa.policy}`);
        }
        if (parsed.genTime < new Date(x.validFrom) || parsed.genTime > new Date(x.validTo))
          problem("the token was made outside the TSA certificate's validity");
        if (parsed.genTime.getTime() < new Date(m.created).getTime() - 60_000)
          problem('the token is older than the manifest it stamps');
        return {
          genTime: parsed.genTime.toISOString(),
          serialHex: parsed.serialHex,
          policy: parsed.policy,
          tsa: x.subject.replace(/\n/g, ', '),
        };
      }
    }
  } catch (e) {
    problem(`${TOKEN_FILE} cannot be read: ${(e as Error).message}`);
  }
  return undefined;
}

/** Verifies one complete backup set folder. Never throws for what it finds; lists problems. */
export function checkSet(dir: string, o: CheckOptions): SetCheck {
  const r: SetCheck = { name: basename(dir), dir, ok: false, problems: [], notes: [] };
  const problem = (p: string) => r.problems.push(p);
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    problem(`${MANIFEST_FILE} is missing`);
    return r;
  }
  const manifestBytes = readFileSync(manifestPath);
  r.manifestSha256 = sha256(manifestBytes);
  const decoded = decodeManifest(manifestBytes);
  if (!decoded.manifest) {
    problem(decoded.problem!);
    return r;
  }
  const m = decoded.manifest;
  r.manifest = m;
  if (m.set !== r.name) problem(`manifest names set ${m.set}, but the folder is ${r.name}`);
  if (m.number !== setNumber(r.name)) problem(`manifest number ${m.number} does not match the folder name`);

  const dbIntact = checkSetFiles(dir, m, problem);
  const snapshot = dbIntact ? checkSnapshot(dir, m, o, problem) : {};
  // The operator's signature over manifest.json.
  checkSignature(dir, m, manifestBytes, snapshot.registeredSigner, dbIntact, o, problem);
  // The time-stamp over manifest.json.
  if (m.timeStamp.requested) {
    const stamp = checkTimeStamp(dir, m, m.timeStamp, manifestBytes, dbIntact, snapshot.tsa, problem);
    if (stamp) r.stamp = stamp;
  } else {
    r.notes.push(`not time-stamped: ${m.timeStamp.reason}`);
  }
  r.ok = r.problems.length === 0;
  return r;
}

function checkSignature(
  dir: string,
  m: BackupManifest,
  manifestBytes: Buffer,
  registered: { kind: string; spki: Buffer } | undefined,
  dbIntact: boolean,
  o: CheckOptions,
  problem: (p: string) => void,
): void {
  const sigPath = join(dir, SIGNATURE_FILE);
  if (!existsSync(sigPath)) return problem(`${SIGNATURE_FILE} is missing`);
  let sig: ManifestSignature;
  try {
    sig = JSON.parse(readFileSync(sigPath, 'utf8')) as ManifestSignature;
  } catch {
    return problem(`${SIGNATURE_FILE} is not JSON`);
  }
  if (sig.signer !== m.signer.operator)
    return problem(`${SIGNATURE_FILE} is by ${sig.signer}, the manifest names ${m.signer.operator}`);
  const key = Buffer.from(sig.signingPublicKey ?? '', 'base64');
  if (dbIntact) {
    if (!registered) return problem(`the signer ${sig.signer} is not a registered operator in the backup`);
    if (!registered.spki.equals(key) || registered.kind !== sig.credentialKind)
      return problem(`${SIGNATURE_FILE} names a key that is not the one registered for ${sig.signer}`);
  }
  const live = o.liveSignerKey?.(sig.signer);
  if (o.liveSignerKey && (!live || !live.spki.equals(key)))
    problem(`the key of ${sig.signer} in ${SIGNATURE_FILE} is not the one registered in the live installation`);
  if (
    !verifyCredentialSignature(
      key,
      sig.credentialKind as CredentialKind,
      manifestBytes,
      Buffer.from(sig.signature ?? '', 'base64'),
    )
  ) {
    problem(`the signature of ${sig.signer} over manifest.json does not verify (altered manifest or signature)`);
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir);
}

// ---------------------------------------------------------------------------------------------

export interface Location {
  /** 'primary', 'secondary', or the folder given. */
  label: string;
  dir: string;
}
