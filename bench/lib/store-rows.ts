/**
 * Bench fixtures at scale (issue 17.5: "builds these sizes quickly, directly through the store,
 * not a thousand ceremonies"): N issued-certificate rows of one CA, some of them revoked, in one
 * transaction. Each row gets its own serial and subject; the DER is one stand-in or real
 * certificate shared by every row (the offline benches read only a row's serial, revocation and,
 * for presign, the DER's issuer).
 */
import type { Installation } from '../../src/installation/installation.ts';
import { insertIssuedCertificate } from '../../src/store/certificates.ts';
import { insertRevocation } from '../../src/store/revocations.ts';

const AT = '2026-01-01T00:00:00.000Z';

export interface CertificateRows {
  ca: string;
  count: number;
  serialOf: (i: number) => string;
  profile: string;
  der: Buffer;
  /** The revocation of row i (1-based), or undefined when it stays good. */
  revocation: (i: number) => { revokedAt: string; reason: string; recordedAt: string } | undefined;
}

/** Writes the rows (and their revocations) in one transaction. */
export function addCertificateRows(inst: Installation, r: CertificateRows): void {
  const caId = (inst.db.prepare('SELECT id FROM cas WHERE name = ?').get(r.ca) as { id: number }).id;
  inst.db.transaction(() => {
    for (let i = 1; i <= r.count; i++) {
      const serialHex = r.serialOf(i);
      const certificateId = insertIssuedCertificate(inst.db, {
        caId,
        serialHex,
        profile: r.profile,
        subject: `CN=bench ${i}`,
        notBefore: AT,
        notAfter: '2036-01-01T00:00:00.000Z',
        sha256: serialHex,
        der: r.der,
        createdAt: AT,
        requester: null,
        csrDer: r.der,
        details: {},
      });
      const revoked = r.revocation(i);
      if (revoked)
        insertRevocation(inst.db, {
          certificateId,
          caId,
          serialHex,
          ...revoked,
          invalidityDate: null,
          source: 'bench',
          operator: 'alice',
          approvedBy: null,
        });
    }
  })();
}
