import { SerialSet } from './serial-set.ts';
import { defineCrlEntryLint, entryCheck } from './support.ts';

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
    const seen = new SerialSet();
    const reported = new Set<string>();
    return entryCheck(
      (entry) => {
        const serial = new Uint8Array(entry.userCertificate);
        if (seen.add(serial, 0, serial.length)) return;
        const hex = Buffer.from(serial).toString('hex');
        if (!reported.has(hex)) {
          report.error(`serial number ${hex} is listed more than once`);
          reported.add(hex);
        }
      },
      // A serial seen before is left to the check above, which reports it.
      (raw) => seen.add(raw.buf, raw.serialStart, raw.serialEnd),
    );
  },
);
