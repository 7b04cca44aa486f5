import { defineCrlLint, revokedOf } from './support.ts';

/**
 * RFC 5280 5.1.2.6: "Certificates revoked by the CA are uniquely identified by the certificate
 * serial number." One certificate, one entry: two entries for one serial (perhaps with
 * different dates or reasons) leave relying parties to guess.
 */
export const e_crl_entry_duplicate_serial = defineCrlLint(
  {
    name: 'e_crl_entry_duplicate_serial',
    description: 'No serial number is listed twice.',
    citation:
      'RFC 5280 5.1.2.6: "Certificates revoked by the CA are uniquely identified by the certificate serial number."',
  },
  (crl, _ctx, report) => {
    const seen = new Set<string>();
    const reported = new Set<string>();
    for (const entry of revokedOf(crl)) {
      const serial = Buffer.from(entry.userCertificate).toString('hex');
      if (seen.has(serial) && !reported.has(serial)) {
        report.error(`serial number ${serial} is listed more than once`);
        reported.add(serial);
      }
      seen.add(serial);
    }
  },
);
