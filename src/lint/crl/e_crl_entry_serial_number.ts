import { defineCrlEntryLint, entryCheck, toBytes, toHex } from './support.ts';

/**
 * BR 7.2.2: revokedCertificates `serialNumber` "MUST be byte-for-byte identical to the
 * serialNumber contained in the revoked Certificate". This CA's serials are positive and at most
 * 20 octets (RFC 5280 4.1.2.2: "The serial number MUST be a positive integer ... Conforming CAs
 * MUST NOT use serialNumber values longer than 20 octets."), so an entry outside that is a typo.
 */
export const e_crl_entry_serial_number = defineCrlEntryLint(
  {
    name: 'e_crl_entry_serial_number',
    description: 'Every revoked serial number is a positive, minimally encoded INTEGER of at most 20 octets.',
    citation:
      'BR 7.2.2: "`serialNumber` | MUST | MUST be byte-for-byte identical to the serialNumber contained in the revoked Certificate."',
  },
  (_crl, _ctx, report) =>
    entryCheck(
      (entry) => {
        const s = toBytes(entry.userCertificate);
        if (s.length === 0) report.error('an entry has an empty serial number');
        else if (s[0]! & 0x80) report.error(`serial number ${toHex(s)} is negative`);
        else if (s[0] === 0 && s.every((b) => b === 0)) report.error(`serial number ${toHex(s)} is zero`);
        else if (s.length > 20) report.error(`serial number ${toHex(s)} is ${s.length} octets, more than 20`);
      },
      // The same conditions on the octets: 1 to 20 of them, the first below 0x80, not all zero.
      ({ buf, serialStart: a, serialEnd: b }) => {
        if (b === a || b - a > 20 || buf[a]! & 0x80) return false;
        for (let i = a; i < b; i++) if (buf[i] !== 0) return true;
        return false;
      },
    ),
);
