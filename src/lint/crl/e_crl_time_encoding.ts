import type { Time } from '@peculiar/asn1-x509';
import { defineCrlEntryLint, entryCheck, entryLabel } from './support.ts';

/**
 * RFC 5280 5.1.2.4: "CRL issuers conforming to this profile MUST encode thisUpdate as UTCTime
 * for dates through the year 2049. CRL issuers conforming to this profile MUST encode
 * thisUpdate as GeneralizedTime for dates in the year 2050 or later." 5.1.2.5 and 5.1.2.6 say
 * the same of nextUpdate and revocationDate.
 */
export const e_crl_time_encoding = defineCrlEntryLint(
  {
    name: 'e_crl_time_encoding',
    description:
      'thisUpdate, nextUpdate and every revocationDate are UTCTime through 2049 and GeneralizedTime from 2050.',
    citation:
      'RFC 5280 5.1.2.4: "CRL issuers conforming to this profile MUST encode thisUpdate as UTCTime for dates through the year 2049. CRL issuers conforming to this profile MUST encode thisUpdate as GeneralizedTime for dates in the year 2050 or later."',
  },
  (crl, _ctx, report) => {
    // The field is named only when reported: a large CRL checks a million revocationDates.
    const check = (field: () => string, t: Time): void => {
      if (t.utcTime) {
        if (t.utcTime.getUTCFullYear() >= 2050)
          report.error(`${field()} ${t.utcTime.toISOString()} is in 2050 or later but encoded as UTCTime`);
      } else if (t.generalTime) {
        if (t.generalTime.getUTCFullYear() < 2050)
          report.error(`${field()} ${t.generalTime.toISOString()} is before 2050 but encoded as GeneralizedTime`);
      } else {
        report.error(`${field()} is neither UTCTime nor GeneralizedTime`);
      }
    };
    const tbs = crl.tbsCertList;
    check(() => 'thisUpdate', tbs.thisUpdate);
    if (tbs.nextUpdate) check(() => 'nextUpdate', tbs.nextUpdate);
    return entryCheck(
      (entry) => check(() => `${entryLabel(entry)} revocationDate`, entry.revocationDate),
      (raw) => (raw.timeTag === 0x17 ? raw.year < 2050 : raw.year >= 2050),
    );
  },
);
