import { bytesEqual, defineCrlLint, derOf } from './support.ts';

/**
 * RFC 5280 5.1.2.3: "The issuer field MUST contain a non-empty X.500 distinguished name (DN)."
 * It names the CA that signed the CRL, so relying parties match it against the CA certificate's
 * subject and against the issuer of the certificates it covers: byte for byte, as BR 7.1.2.7
 * requires of certificate issuer names.
 */
export const e_crl_issuer_name_chaining = defineCrlLint(
  {
    name: 'e_crl_issuer_name_chaining',
    description: "The CRL issuer is non-empty and byte-identical to the issuing CA certificate's subject.",
    citation: 'RFC 5280 5.1.2.3: "The issuer field MUST contain a non-empty X.500 distinguished name (DN)."',
  },
  (crl, ctx, report) => {
    const issuer = crl.tbsCertList.issuer;
    if (issuer.length === 0) report.error('issuer is an empty distinguished name');
    if (!bytesEqual(derOf(issuer), derOf(ctx.issuer.tbsCertificate.subject))) {
      report.error("the CRL issuer is not byte-for-byte identical to the issuing CA certificate's subject");
    }
  },
);
