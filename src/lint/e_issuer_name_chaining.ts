import { ALL_PROFILES, bytesEqual, defineLint, derOf } from './support.ts';

/**
 * BR 7.1.2.7 (and every BR 7.1.2 profile): "`issuer` | MUST be byte-for-byte identical to the
 * `subject` field of the Issuing CA."
 * RFC 5280 4.1.2.4: "The issuer field MUST contain a non-empty distinguished name (DN)."
 * For a root, BR 7.1.2.1: "Encoded value MUST be byte-for-byte identical to the encoded `subject`".
 * Name chaining (RFC 5280 6.1, 7.1) is what path building uses, so the bytes must match exactly.
 */
export const e_issuer_name_chaining = defineLint(
  {
    name: 'e_issuer_name_chaining',
    description: "The issuer field is non-empty and byte-identical to the issuing CA's subject.",
    citation: 'BR 7.1.2.7: "`issuer` | MUST be byte-for-byte identical to the `subject` field of the Issuing CA."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const tbs = cert.tbsCertificate;
    if (tbs.issuer.length === 0) report.error('issuer is an empty distinguished name');
    const issuerDer = derOf(tbs.issuer);
    if (!bytesEqual(issuerDer, derOf(ctx.issuer.tbsCertificate.subject))) {
      report.error("issuer is not byte-for-byte identical to the issuing CA certificate's subject");
    }
    if (ctx.profile === 'root' && !bytesEqual(issuerDer, derOf(tbs.subject))) {
      report.error('root certificate: issuer is not byte-for-byte identical to its own subject');
    }
  },
);
