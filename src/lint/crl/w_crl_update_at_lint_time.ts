import { dateOfTime, defineCrlLint } from './support.ts';

/**
 * RFC 5280 5.1.2.4: "This field indicates the issue date of this CRL." A CRL linted at signing
 * time whose thisUpdate lies in the future, or whose nextUpdate has already passed, is almost
 * always a clock or configuration mistake; reported as a warning (historic CRLs are linted too).
 */
export const w_crl_update_at_lint_time = defineCrlLint(
  {
    name: 'w_crl_update_at_lint_time',
    description: 'At the time of linting, thisUpdate has arrived and nextUpdate has not passed.',
    citation: 'RFC 5280 5.1.2.4: "This field indicates the issue date of this CRL."',
  },
  (crl, ctx, report) => {
    const tbs = crl.tbsCertList;
    const now = ctx.now.getTime();
    const thisUpdate = dateOfTime(tbs.thisUpdate);
    if (thisUpdate.getTime() > now)
      report.warning(`thisUpdate ${thisUpdate.toISOString()} is after the time of linting ${ctx.now.toISOString()}`);
    if (tbs.nextUpdate) {
      const nextUpdate = dateOfTime(tbs.nextUpdate);
      if (nextUpdate.getTime() <= now)
        report.warning(
          `nextUpdate ${nextUpdate.toISOString()} has passed at the time of linting ${ctx.now.toISOString()}`,
        );
    }
  },
);
