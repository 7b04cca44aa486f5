import { addUtcMonths } from '../crl/support.ts';
import { defineOcspLint } from './support.ts';

/**
 * BR 4.9.10: "For the status of Subordinate CA Certificates: the CA SHALL update information
 * provided via OCSP at least every twelve months" — a response about a CA certificate has a
 * nextUpdate (RFC 5019 2.2.4: pre-produced responses carry one) no later than twelve months
 * after its thisUpdate, and thisUpdate is not after nextUpdate.
 */
export const e_ocsp_validity_too_long = defineOcspLint(
  {
    name: 'e_ocsp_validity_too_long',
    description: 'Every SingleResponse has a nextUpdate, after its thisUpdate and at most twelve months later.',
    citation:
      'BR 4.9.10: "For the status of Subordinate CA Certificates: the CA SHALL update information provided via OCSP at least every twelve months"',
  },
  (r, _ctx, report) => {
    for (const s of r.parsed.responses) {
      const serial = s.certId.serialHex;
      if (!s.nextUpdate) {
        report.error(`the response for ${serial} has no nextUpdate`);
        continue;
      }
      if (s.nextUpdate < s.thisUpdate)
        report.error(`the response for ${serial} has nextUpdate ${s.nextUpdate.toISOString()} before its thisUpdate`);
      else if (s.nextUpdate > addUtcMonths(s.thisUpdate, 12))
        report.error(
          `the response for ${serial} is valid from ${s.thisUpdate.toISOString()} to ${s.nextUpdate.toISOString()}: more than twelve months`,
        );
    }
  },
);
