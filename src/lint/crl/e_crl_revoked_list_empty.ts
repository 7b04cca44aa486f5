import { defineCrlLint } from './support.ts';

/**
 * RFC 5280 5.1.2.6: "When there are no revoked certificates, the revoked certificates list MUST
 * be absent."
 */
export const e_crl_revoked_list_empty = defineCrlLint(
  {
    name: 'e_crl_revoked_list_empty',
    description: 'revokedCertificates is absent rather than an empty SEQUENCE.',
    citation:
      'RFC 5280 5.1.2.6: "When there are no revoked certificates, the revoked certificates list MUST be absent."',
  },
  (crl, _ctx, report) => {
    const list = crl.tbsCertList.revokedCertificates;
    if (list !== undefined && list.length === 0)
      report.error('revokedCertificates is present but empty; it MUST be absent');
  },
);
