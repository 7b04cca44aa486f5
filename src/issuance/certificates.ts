/** Read side of the certificates a CA issued, with their revocation state. */
import { CaError } from '../errors.ts';
import type { RevocationReason } from '../pki/crl.ts';
import type { Installation } from '../installation/installation.ts';
import {
  findIssuedCertificateRow,
  listIssuedCertificateRows,
  type IssuedCertificateRow,
} from '../store/certificates.ts';

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

function toIssued(r: IssuedCertificateRow): IssuedCertificate {
  return {
    id: r.id,
    caId: r.issuer_ca_id,
    caName: r.ca_name,
    serialHex: r.serial_hex,
    profile: r.profile,
    subject: r.subject_text,
    notBefore: r.not_before,
    notAfter: r.not_after,
    sha256: r.sha256,
    der: r.der,
    ...(r.revoked_at
      ? {
          revocation: {
            revokedAt: r.revoked_at,
            reason: r.reason as RevocationReason,
            invalidityDate: r.invalidity_date ?? undefined,
            source: r.source!,
          },
        }
      : {}),
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
  return listIssuedCertificateRows(inst.db, caName || undefined).map(toIssued);
}

/** The certificate `serial` of `caName`; a clear error for an unknown serial or one of another CA. */
export function findIssued(inst: Installation, caName: string, serial: string): IssuedCertificate {
  const hex = normaliseSerial(serial);
  const row = findIssuedCertificateRow(inst.db, hex, caName);
  if (row) return toIssued(row);
  const other = findIssuedCertificateRow(inst.db, hex);
  if (other)
    throw new CaError('CERTIFICATE_OF_ANOTHER_CA', `serial ${hex} was issued by ${other.ca_name}, not by ${caName}`);
  throw new CaError('CERTIFICATE_UNKNOWN', `${caName} never issued a certificate with serial ${hex}`);
}
