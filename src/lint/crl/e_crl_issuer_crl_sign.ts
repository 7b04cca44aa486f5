import { KeyUsage, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { defineCrlLint } from './support.ts';

/**
 * RFC 5280 4.2.1.3: "The cRLSign bit is asserted when the subject public key is used for
 * verifying signatures on certificate revocation lists". A CRL from a CA whose keyUsage lacks
 * cRLSign fails validation (RFC 5280 6.3.3 (f)).
 */
export const e_crl_issuer_crl_sign = defineCrlLint(
  {
    name: 'e_crl_issuer_crl_sign',
    description: "The issuing CA certificate's keyUsage, when present, asserts cRLSign.",
    citation:
      'RFC 5280 4.2.1.3: "The cRLSign bit is asserted when the subject public key is used for verifying signatures on certificate revocation lists (e.g., CRLs, delta CRLs, or ARLs)."',
  },
  (_crl, ctx, report) => {
    const ext = (ctx.issuer.tbsCertificate.extensions ?? []).find((e) => e.extnID === id_ce_keyUsage);
    if (!ext) return;
    const usages = new Set(AsnConvert.parse(ext.extnValue, KeyUsage).toJSON());
    if (!usages.has('crlSign'))
      report.error('the issuing CA certificate has a keyUsage without cRLSign: relying parties will reject its CRLs');
  },
);
