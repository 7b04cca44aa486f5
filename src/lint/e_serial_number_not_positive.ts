import { ALL_PROFILES, EFFECTIVE, defineLint, legacyNote, severitySince, toBytes } from './support.ts';

/**
 * RFC 5280 4.1.2.2: "The serial number MUST be a positive integer assigned by the CA to each
 * certificate."
 * BR 1.x 7.1: "CAs SHALL generate non-sequential Certificate serial numbers greater than zero (0)
 * containing at least 64 bits of output from a CSPRNG." (effective 2016-09-30)
 *
 * A negative serial is always an error. RFC 5280 itself notes that "Non-conforming CAs may issue
 * certificates with serial numbers that are negative or zero", and the real RootCA1 (2003) and
 * RootCA2 (2009) carry serial 0; zero is therefore an error only for certificates issued after
 * the BR rule took effect, and a warning for those issued before it.
 */
export const e_serial_number_not_positive = defineLint(
  {
    name: 'e_serial_number_not_positive',
    description: 'The serial number is a positive (non-zero, non-negative) integer.',
    citation:
      'RFC 5280 4.1.2.2: "The serial number MUST be a positive integer assigned by the CA to each certificate."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const serial = toBytes(cert.tbsCertificate.serialNumber);
    if (serial.length === 0) {
      report.error('serial number has no content octets');
      return;
    }
    if ((serial[0]! & 0x80) !== 0) {
      report.error('serial number is negative');
      return;
    }
    if (serial.every((b) => b === 0)) {
      const severity = severitySince(cert, EFFECTIVE.brSerialEntropy);
      report.add(severity, `serial number is zero${legacyNote(severity, EFFECTIVE.brSerialEntropy)}`);
    }
  },
);
