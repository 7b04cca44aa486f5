import type { Time } from '@peculiar/asn1-x509';
import { ALL_PROFILES, defineLint } from './support.ts';

/**
 * RFC 5280 4.1.2.5: "CAs conforming to this profile MUST always encode certificate validity
 * dates through the year 2049 as UTCTime; certificate validity dates in 2050 or later MUST be
 * encoded as GeneralizedTime."
 */
export const e_validity_time_encoding = defineLint(
  {
    name: 'e_validity_time_encoding',
    description: 'Validity dates through 2049 are UTCTime and dates from 2050 are GeneralizedTime.',
    citation:
      'RFC 5280 4.1.2.5: "CAs conforming to this profile MUST always encode certificate validity dates through the year 2049 as UTCTime; certificate validity dates in 2050 or later MUST be encoded as GeneralizedTime."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const check = (field: string, t: Time): void => {
      if (t.utcTime) {
        if (t.utcTime.getUTCFullYear() >= 2050)
          report.error(`${field} ${t.utcTime.toISOString()} is in 2050 or later but encoded as UTCTime`);
      } else if (t.generalTime) {
        if (t.generalTime.getUTCFullYear() < 2050)
          report.error(`${field} ${t.generalTime.toISOString()} is before 2050 but encoded as GeneralizedTime`);
      } else {
        report.error(`${field} is neither UTCTime nor GeneralizedTime`);
      }
    };
    check('notBefore', cert.tbsCertificate.validity.notBefore);
    check('notAfter', cert.tbsCertificate.validity.notAfter);
  },
);
