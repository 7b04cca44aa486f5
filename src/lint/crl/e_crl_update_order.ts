import { dateOfTime, defineCrlLint } from './support.ts';

/**
 * RFC 5280 5.1.2.5: "This field indicates the date by which the next CRL will be issued. The
 * next CRL could be issued before the indicated date, but it will not be issued any later than
 * the indicated date." A nextUpdate not after thisUpdate makes the CRL stale when issued.
 */
export const e_crl_update_order = defineCrlLint(
  {
    name: 'e_crl_update_order',
    description: 'nextUpdate is later than thisUpdate.',
    citation: 'RFC 5280 5.1.2.5: "This field indicates the date by which the next CRL will be issued."',
  },
  (crl, _ctx, report) => {
    const tbs = crl.tbsCertList;
    if (!tbs.nextUpdate) return; // e_crl_next_update_missing
    const thisUpdate = dateOfTime(tbs.thisUpdate);
    const nextUpdate = dateOfTime(tbs.nextUpdate);
    if (!(nextUpdate.getTime() > thisUpdate.getTime())) {
      report.error(`nextUpdate ${nextUpdate.toISOString()} is not after thisUpdate ${thisUpdate.toISOString()}`);
    }
  },
);
