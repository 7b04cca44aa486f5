/**
 * The backup set format (CPS 5.5.4): one folder per set, the same in the primary and the
 * secondary location.
 *
 *   backup-000042-20261124T090000123Z/
 *     rootca.db          consistent snapshot of the store (SQLite online backup API), rollback-journal mode
 *     rootca.yaml        the installation config as it was on disk
 *     manifest.json      what the set is and holds (BackupManifest); the bytes that are signed and stamped
 *     manifest.sig.json  the signature of the operator who made the change, over manifest.json
 *     manifest.tsr       RFC 3161 TimeStampResp over manifest.json from the internal TSA (when stamped)
 *     tsa.pem            the TSA certificate that stamped it (when stamped)
 *
 * An auditor checks the stamp with OpenSSL alone:
 *   openssl ts -verify -data manifest.json -in manifest.tsr -CAfile ROOT.pem -untrusted tsa.pem
 */

export const BACKUP_FORMAT = 'rootca-backup/1';
export const DB_FILE = 'rootca.db';
export const CONFIG_FILE = 'rootca.yaml';
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig.json';
export const TOKEN_FILE = 'manifest.tsr';
export const TSA_CERT_FILE = 'tsa.pem';
/** Files a set may hold. */
export const SET_FILES = [DB_FILE, CONFIG_FILE, MANIFEST_FILE, SIGNATURE_FILE, TOKEN_FILE, TSA_CERT_FILE];

/** The records of CPS 5.5.1 a set holds, counted, so an auditor sees what the archive contains. */
export interface RecordCounts {
  /** Self-signed CA certificates (5.5.1 "The self-signed Certificate of the CAs"). */
  caCertificates: number;
  /** Subscriber certificates issued (5.5.1 "Subscriber Certificates"; issuance history). */
  issuedCertificates: number;
  /** Revocations (revocation history). */
  revocations: number;
  /** CRLs (5.5.1 "CRL"; CRL issuance history). */
  crls: number;
  ocspResponses: number;
  ceremonies: number;
  transcripts: number;
  auditEvents: number;
  publications: number;
  timeStampTokens: number;
  backups: number;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  installation: string;
  set: string;
  number: number;
  created: string;
  /** The change that caused it: certificate.issue, certificate.revoke, crl.issue, ocsp.presign, archive.backup, tsa.init. */
  reason: string;
  /** The ceremony (key session) of that change, when there is one. */
  ceremonyId: number | null;
  /** The last completed set before this one: deleting a set from every location breaks this chain. */
  previous: { number: number; set: string; manifestSha256: string } | null;
  files: { name: string; sha256: string; size: number }[];
  database: { schemaVersion: number; integrityCheck: string };
  /** The audit log inside the snapshot ends here; restore continues from it. */
  audit: { seq: number; hash: string };
  serials: {
    certificates: number;
    reservations: number;
    last: { ca: string; serial: string; certificateId: number } | null;
  };
  /** Last CRL number used per CA. */
  crlNumbers: Record<string, number>;
  records: RecordCounts;
  /** Who signed manifest.json (the operator of the change). */
  signer: { operator: string; credentialKind: string };
  timeStamp: { requested: true; tsaKeyId: string; tsaCertificateSha256: string } | { requested: false; reason: string };
}

/** manifest.sig.json */
export interface ManifestSignature {
  format: 'rootca-backup-signature/1';
  signer: string;
  credentialKind: string;
  /** SPKI DER, base64: the key registered for the signer when the set was made. */
  signingPublicKey: string;
  /** Over the exact bytes of manifest.json, base64. */
  signature: string;
}

/** backup-NNNNNN-YYYYMMDDTHHMMSSmmmZ: sorts by number, then time. */
export function backupSetName(number: number, created: Date): string {
  const t = created.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `backup-${String(number).padStart(6, '0')}-${t}`;
}

/** The manifest's file bytes: what is signed, stamped and hashed. */
export function encodeManifest(m: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8');
}

/** Shape check of an untrusted manifest.json; returns what is wrong, or the manifest. */
export function decodeManifest(bytes: Buffer): { manifest?: BackupManifest; problem?: string } {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return { problem: `manifest.json is not JSON (${(e as Error).message})` };
  }
  const x = m as Partial<BackupManifest>;
  if (!x || typeof x !== 'object') return { problem: 'manifest.json is not an object' };
  if (x.format !== BACKUP_FORMAT)
    return { problem: `manifest.json format is ${String(x.format)}, not ${BACKUP_FORMAT}` };
  if (
    typeof x.set !== 'string' ||
    typeof x.number !== 'number' ||
    typeof x.created !== 'string' ||
    !Array.isArray(x.files)
  )
    return { problem: 'manifest.json lacks set, number, created or files' };
  if (!x.audit || !x.signer || !x.timeStamp || !x.records || !x.database || !x.serials)
    return { problem: 'manifest.json lacks audit, signer, timeStamp, records, database or serials' };
  const bad = x.files.find(
    (f) => !f || ![DB_FILE, CONFIG_FILE].includes(f.name) || typeof f.sha256 !== 'string' || typeof f.size !== 'number',
  );
  if (bad) return { problem: `manifest.json lists a file it may not (${JSON.stringify(bad).slice(0, 80)})` };
  return { manifest: x as BackupManifest };
}
