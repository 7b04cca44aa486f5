import { dateOfTime, defineCrlEntryLint, entryCheck, entryLabel } from './support.ts';

/**
 * RFC 5280 5.1.2.4: thisUpdate "indicates the issue date of this CRL". An entry whose
 * revocationDate is later than the CRL's own issue date records a revocation that had not
 * happened yet: a clock or data error, reported as a warning.
 */
export const w_crl_revocation_date_after_this_update = defineCrlEntryLint(
  {
    name: 'w_crl_revocation_date_after_this_update',
    description: 'No revocationDate is later than thisUpdate.',
    citation: 'RFC 5280 5.1.2.4: "This field indicates the issue date of this CRL."',
  },
  (crl, _ctx, report) => {
    const thisUpdate = dateOfTime(crl.tbsCertList.thisUpdate);
    const limit = thisUpdate.getTime();
    return entryCheck(
      (entry) => {
        const d = dateOfTime(entry.revocationDate);
        if (d.getTime() > limit)
          report.warning(
            `${entryLabel(entry)}: revocationDate ${d.toISOString()} is after thisUpdate ${thisUpdate.toISOString()}`,
          );
      },
      (raw) => !(raw.time > limit),
    );
  },
);
