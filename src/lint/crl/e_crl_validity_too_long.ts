import { addUtcMonths, dateOfTime, defineCrlLint } from './support.ts';

/** BR 4.9.7: the longest interval between thisUpdate and nextUpdate of a CA's CRL. */
export const MAX_CRL_VALIDITY_MONTHS = 12;

/**
 * BR 4.9.7: "the value of the nextUpdate field MUST NOT be more than twelve months beyond the
 * value of the thisUpdate field". Twelve calendar months in UTC (29 February + 12 months is
 * 28 February).
 */
export const e_crl_validity_too_long = defineCrlLint(
  {
    name: 'e_crl_validity_too_long',
    description: 'nextUpdate is at most twelve months after thisUpdate.',
    citation:
      'BR 4.9.7: "the value of the nextUpdate field MUST NOT be more than twelve months beyond the value of the thisUpdate field"',
  },
  (crl, _ctx, report) => {
    const tbs = crl.tbsCertList;
    if (!tbs.nextUpdate) return;
    const thisUpdate = dateOfTime(tbs.thisUpdate);
    const nextUpdate = dateOfTime(tbs.nextUpdate);
    const limit = addUtcMonths(thisUpdate, MAX_CRL_VALIDITY_MONTHS);
    if (nextUpdate.getTime() > limit.getTime()) {
      report.error(
        `nextUpdate ${nextUpdate.toISOString()} is more than ${MAX_CRL_VALIDITY_MONTHS} months after thisUpdate ${thisUpdate.toISOString()} (latest allowed ${limit.toISOString()})`,
      );
    }
  },
);
