import { DAY_MS, defineLint, notAfterOf, notBeforeOf } from './support.ts';

/** The longest life of a delegated OCSP responder certificate: one year, leap day included. */
export const OCSP_RESPONDER_MAX_DAYS = 366;

/**
 * "Delegated OCSP responder certificates: EKU id-kp-OCSPSigning, id-pkix-ocsp-nocheck, short life."
 * RFC 6960 4.2.2.2.1: "CAs may choose to issue this type of certificate with a very short lifetime
 * and renew it frequently." A responder certificate carrying id-pkix-ocsp-nocheck cannot be
 * revoked in practice, so its life bounds the damage of a responder key compromise. The root is
 * offline and signs at ceremonies, so "short" is set to at most one year.
 */
export const e_ocsp_validity_too_long = defineLint(
  {
    name: 'e_ocsp_validity_too_long',
    description: `A delegated OCSP responder certificate is valid for at most ${OCSP_RESPONDER_MAX_DAYS} days.`,
    citation:
      'R-3.3: "Delegated OCSP responder certificates: EKU id-kp-OCSPSigning, id-pkix-ocsp-nocheck, short life."',
    appliesTo: ['ocsp'],
  },
  (cert, _ctx, report) => {
    const days = (notAfterOf(cert).getTime() - notBeforeOf(cert).getTime()) / DAY_MS;
    if (days > OCSP_RESPONDER_MAX_DAYS) {
      report.error(
        `validity is ${days.toFixed(1)} days; a delegated OCSP responder certificate may be valid for at most ${OCSP_RESPONDER_MAX_DAYS} days`,
      );
    }
  },
);
