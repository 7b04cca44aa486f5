import { defineCrlLint } from './support.ts';

/**
 * RFC 5280 5.1.2.5: "Conforming CRL issuers MUST include the nextUpdate field in all CRLs."
 * BR 7.2.2 likewise: nextUpdate "MUST be present".
 */
export const e_crl_next_update_missing = defineCrlLint(
  {
    name: 'e_crl_next_update_missing',
    description: 'The CRL has a nextUpdate field.',
    citation: 'RFC 5280 5.1.2.5: "Conforming CRL issuers MUST include the nextUpdate field in all CRLs."',
  },
  (crl, _ctx, report) => {
    if (!crl.tbsCertList.nextUpdate) report.error('nextUpdate is absent');
  },
);
