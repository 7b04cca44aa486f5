import { ALL_PROFILES, defineLint, notAfterOf, notBeforeOf } from './support.ts';

/**
 * RFC 5280 4.1.2.5: "The validity period for a certificate is the period of time from notBefore
 * through notAfter, inclusive." A period that ends before (or when) it starts is no period.
 */
export const e_validity_period_negative = defineLint(
  {
    name: 'e_validity_period_negative',
    description: 'notBefore is strictly earlier than notAfter.',
    citation:
      'RFC 5280 4.1.2.5: "The validity period for a certificate is the period of time from notBefore through notAfter, inclusive."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const nb = notBeforeOf(cert);
    const na = notAfterOf(cert);
    if (Number.isNaN(nb.getTime()) || Number.isNaN(na.getTime())) {
      report.error('validity holds an unreadable time');
    } else if (nb.getTime() >= na.getTime()) {
      report.error(`notBefore (${nb.toISOString()}) is not earlier than notAfter (${na.toISOString()})`);
    }
  },
);
