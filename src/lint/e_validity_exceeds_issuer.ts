import { ISSUED_PROFILES, defineLint, notAfterOf, notBeforeOf } from './support.ts';

/**
 * R-3.4 (CPS 5.6): "Validity of any issued certificate ends no later than the issuing CA's (5.6)."
 * CPS 5.6: "the validity periods of the renewed Certificates issued thereto shall be so changed
 * to be within the validity period of the CAs."
 *
 * notAfter beyond the issuer's is an error; notBefore before the issuer's is a warning (the
 * certificate would claim validity before its issuer existed).
 */
export const e_validity_exceeds_issuer = defineLint(
  {
    name: 'e_validity_exceeds_issuer',
    description: "An issued certificate's validity lies within its issuing CA's validity.",
    citation: 'R-3.4 (CPS 5.6): "Validity of any issued certificate ends no later than the issuing CA\'s (5.6)."',
    appliesTo: ISSUED_PROFILES,
  },
  (cert, ctx, report) => {
    const na = notAfterOf(cert);
    const issuerNa = notAfterOf(ctx.issuer);
    if (na.getTime() > issuerNa.getTime()) {
      report.error(`notAfter ${na.toISOString()} is later than the issuing CA's notAfter ${issuerNa.toISOString()}`);
    }
    const nb = notBeforeOf(cert);
    const issuerNb = notBeforeOf(ctx.issuer);
    if (nb.getTime() < issuerNb.getTime()) {
      report.warning(
        `notBefore ${nb.toISOString()} is earlier than the issuing CA's notBefore ${issuerNb.toISOString()}`,
      );
    }
  },
);
