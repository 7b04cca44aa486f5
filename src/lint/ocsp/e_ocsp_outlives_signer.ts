import { defineOcspLint } from './support.ts';

/**
 * RFC 6960 3.2: "The signer is currently authorized to provide a response for the certificate
 * in question." A client checks this whenever it uses the response, until nextUpdate: a
 * response valid after its signer certificate's notAfter (or from before its notBefore) would
 * be refused, so none is signed (issue 15.1: no pre-signed response outlives its signer).
 */
export const e_ocsp_outlives_signer = defineOcspLint(
  {
    name: 'e_ocsp_outlives_signer',
    description: "Every SingleResponse's thisUpdate..nextUpdate lies within the signer certificate's validity.",
    citation:
      'RFC 6960 3.2: "The signer is currently authorized to provide a response for the certificate in question."',
  },
  (r, ctx, report) => {
    const { notBefore, notAfter, subject } = ctx.signer;
    for (const s of r.parsed.responses) {
      if (s.nextUpdate && s.nextUpdate > notAfter)
        report.error(
          `the response for ${s.certId.serialHex} is valid until ${s.nextUpdate.toISOString()}, after its signer ${subject} expires (${notAfter.toISOString()})`,
        );
      if (s.thisUpdate < notBefore)
        report.error(
          `the response for ${s.certId.serialHex} has thisUpdate ${s.thisUpdate.toISOString()}, before its signer ${subject} is valid (${notBefore.toISOString()})`,
        );
    }
  },
);
