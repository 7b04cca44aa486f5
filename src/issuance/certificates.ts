/** Read side of the certificates a CA issued, with their revocation state. */
import { CaError } from '../errors.ts';
import type { RevocationReason } from '../pki/crl.ts';
import type { Installation } from '../installation/installation.ts';

export interface IssuedCertificate {
  id: number;
  caId: number;
  caName: string;
  serialHex: string;
  profile: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  der: Buffer;
  revocation?: { revokedAt: string; reason: RevocationReason; invalidityDate?: string; source: string };
}

interface Row {
  id: number; issuer_ca_id: number; ca_name: string; serial_hex: string; profile: string; subject_text: string; not_before: string; not_after: string; sha256: string; der: Buffer;
  revoked_at: string | null; reason: RevocationReason | null; invalidity_date: string | null; source: string | null;
}

const SELECT = `SELECT x.id, x.issuer_ca_id, c.name AS ca_name, x.serial_hex, x.profile, x.subject_text, x.not_before, x.not_after, x.sha256, x.der,
  r.revoked_at, r.reason, r.invalidity_date, r.source
  FROM certificates x JOIN cas c ON c.id = x.issuer_ca_id LEFT JOIN revocations r ON r.certificate_id = x.id`;

function toIssued(r: Row): IssuedCertificate {
  return {
    id: r.id, caId: r.issuer_ca_id, caName: r.ca_name, serialHex: r.serial_hex, profile: r.profile, subject: r.subject_text, notBefore: r.not_before, notAfter: r.not_after,
    sha256: r.sha256, der: r.der,
    ...(r.revoked_at ? { revocation: { revokedAt: r.revoked_at, reason: r.reason!, invalidityDate: r.invalidity_date ?? undefined, source: r.source! } } : {}),
  };
}

/** Serials as operators type them: any case, with or without colons or 0x. */
export function normaliseSerial(input: string): string {
  const s = input.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]+$/.test(s)) throw new CaError('SERIAL_INVALID', `"${input}" is not a hexadecimal serial number`);
  return s;
}

/** Certificates a CA issued (not its own self-signed certificate). */
export function listIssued(inst: Installation, caName?: string): IssuedCertificate[] {
  const rows = caName
    ? inst.db.prepare(`${SELECT} WHERE c.name = ? AND x.profile != 'root' ORDER BY x.id`).all(caName)
    : inst.db.prepare(`${SELECT} WHERE x.profile != 'root' ORDER BY x.id`).all();
  return (rows as Row[]).map(toIssued);
}

/** The certificate `serial` of `caName`; a clear error for an unknown serial or one of another CA. */
export function findIssued(inst: Installation, caName: string, serial: string): IssuedCertificate {
  const hex = normaliseSerial(serial);
  const row = inst.db.prepare(`${SELECT} WHERE c.name = ? AND x.serial_hex = ?`).get(caName, hex) as Row | undefined;
  if (row) return toIssued(row);
  const other = inst.db.prepare(`${SELECT} WHERE x.serial_hex = ?`).get(hex) as Row | undefined;
  if (other) throw new CaError('CERTIFICATE_OF_ANOTHER_CA', `serial ${hex} was issued by ${other.ca_name}, not by ${caName}`);
  throw new CaError('CERTIFICATE_UNKNOWN', `${caName} never issued a certificate with serial ${hex}`);
}
