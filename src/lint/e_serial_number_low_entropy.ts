import { ALL_PROFILES, EFFECTIVE, defineLint, legacyNote, severitySince, toBytes } from './support.ts';

/** The fewest content octets (after the 0x00 sign octet) that can carry 64 bits from a CSPRNG. */
export const MIN_SERIAL_OCTETS = 8;

/**
 * BR 1.x 7.1: "CAs SHALL generate non-sequential Certificate serial numbers greater than zero (0)
 * containing at least 64 bits of output from a CSPRNG." (BR 1.3.7, effective 2016-09-30)
 *
 * Entropy cannot be measured from one value; a serial with fewer than 8 octets after the sign
 * octet cannot contain 64 random bits, so it is refused. Certificates issued before the rule
 * existed (the real RootCA1 and RootCA2 carry serial 0) get a warning.
 */
export const e_serial_number_low_entropy = defineLint(
  {
    name: 'e_serial_number_low_entropy',
    description: 'The serial number has at least 8 octets after the sign octet, room for 64 bits from a CSPRNG.',
    citation:
      'BR 1.x 7.1: "CAs SHALL generate non-sequential Certificate serial numbers greater than zero (0) containing at least 64 bits of output from a CSPRNG."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const serial = toBytes(cert.tbsCertificate.serialNumber);
    const content = serial.length > 1 && serial[0] === 0 ? serial.length - 1 : serial.length;
    if (content < MIN_SERIAL_OCTETS) {
      const severity = severitySince(cert, EFFECTIVE.brSerialEntropy);
      report.add(
        severity,
        `serial number has ${content} octet(s) after the sign octet; at least ${MIN_SERIAL_OCTETS} are needed for 64 bits of CSPRNG output${legacyNote(severity, EFFECTIVE.brSerialEntropy)}`,
      );
    }
  },
);
