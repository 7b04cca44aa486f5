import { ALL_PROFILES, defineLint, toBytes } from './support.ts';

/**
 * RFC 5280 4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than 20 octets."
 * X.690 8.3.2: the INTEGER content octets are minimal (no redundant leading 0x00 or 0xFF), which
 * DER requires and which the re-encoding check cannot see because the serial is kept raw.
 */
export const e_serial_number_size = defineLint(
  {
    name: 'e_serial_number_size',
    description: 'The serial number is at most 20 octets and minimally encoded.',
    citation: 'RFC 5280 4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than 20 octets."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const serial = toBytes(cert.tbsCertificate.serialNumber);
    if (serial.length > 20) report.error(`serial number is ${serial.length} octets long; at most 20 are allowed`);
    if (serial.length > 1) {
      const [b0, b1] = [serial[0]!, serial[1]!];
      if ((b0 === 0x00 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) !== 0)) {
        report.error('serial number INTEGER is not minimally encoded (redundant leading octet; X.690 8.3.2)');
      }
    }
  },
);
