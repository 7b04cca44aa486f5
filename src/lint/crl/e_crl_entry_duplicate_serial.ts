import { defineCrlEntryLint } from './support.ts';

/**
 * RFC 5280 5.1.2.6: "Certificates revoked by the CA are uniquely identified by the certificate
 * serial number." One certificate, one entry: two entries for one serial (perhaps with
 * different dates or reasons) leave relying parties to guess.
 */
export const e_crl_entry_duplicate_serial = defineCrlEntryLint(
  {
    name: 'e_crl_entry_duplicate_serial',
    description: 'No serial number is listed twice.',
    citation:
      'RFC 5280 5.1.2.6: "Certificates revoked by the CA are uniquely identified by the certificate serial number."',
  },
  (_crl, _ctx, report) => {
    // Keyed by the serial's octets as latin1 (half the size of hex, and no hex work per entry).
    const seen = new Set<string>();
    const reported = new Set<string>();
    return (entry) => {
      const serial = Buffer.from(entry.userCertificate).toString('latin1');
      if (seen.has(serial) && !reported.has(serial)) {
        report.error(`serial number ${Buffer.from(serial, 'latin1').toString('hex')} is listed more than once`);
        reported.add(serial);
      }
      seen.add(serial);
    };
  },
);
