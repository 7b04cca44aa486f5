import { defineOcspLint, sameCertificate } from './support.ts';

/**
 * RFC 6960 4.2.1: "The responder MAY include certificates in the certs field of
 * BasicOCSPResponse that help the OCSP client verify the responder's signature." A delegated
 * responder's certificate is what a client needs to verify it, so leaving it out is a warning.
 */
export const w_ocsp_signer_certificate_missing = defineOcspLint(
  {
    name: 'w_ocsp_signer_certificate_missing',
    description: "A response signed by a delegated responder carries the responder's certificate in certs.",
    citation:
      'RFC 6960 4.2.1: "The responder MAY include certificates in the certs field of BasicOCSPResponse that help the OCSP client verify the responder\'s signature."',
  },
  (r, ctx, report) => {
    if (sameCertificate(ctx.signer, ctx.issuer)) return;
    if (!r.parsed.certs.some((c) => c.equals(ctx.signer.der)))
      report.warning(`the delegated responder's certificate (${ctx.signer.subject}) is not in certs`);
  },
);
