import { defineOcspLint, verifiesWithSigner } from './support.ts';

/**
 * RFC 6960 3.2: "The signature on the response is valid" — with the key of the signer
 * certificate the response was signed with (item 2 of what a client checks before accepting).
 */
export const e_ocsp_signature_invalid = defineOcspLint(
  {
    name: 'e_ocsp_signature_invalid',
    description: "The response's signature verifies with the signer certificate's key.",
    citation: 'RFC 6960 3.2: "The signature on the response is valid;"',
  },
  (r, ctx, report) => {
    const { tbsDer, signature, signatureAlgorithmOid } = r.parsed;
    if (!tbsDer || !signature || !signatureAlgorithmOid) return report.error('the response carries no signature');
    if (!verifiesWithSigner(tbsDer, signatureAlgorithmOid, signature, ctx.signer))
      report.error(`the signature does not verify with the key of ${ctx.signer.subject}`);
  },
);
