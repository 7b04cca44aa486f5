import { defineLint, findExtension, id_pkix_ocsp_nocheck, toBytes } from './support.ts';

/**
 * BR 7.1.2.8.6: "The CA MUST include the `id-pkix-ocsp-nocheck` extension (OID: 1.3.6.1.5.5.7.48.1.5)."
 * and its "`extnValue` `OCTET STRING` ... is exactly the hex-encoded bytes `0500`".
 * RFC 6960 4.2.2.2.1: "This SHOULD be a non-critical extension. The value of the extension SHALL be NULL."
 */
export const e_ocsp_nocheck = defineLint(
  {
    name: 'e_ocsp_nocheck',
    description:
      'A delegated OCSP responder certificate carries id-pkix-ocsp-nocheck, non-critical, with a NULL value.',
    citation: 'BR 7.1.2.8.6: "The CA MUST include the `id-pkix-ocsp-nocheck` extension (OID: 1.3.6.1.5.5.7.48.1.5)."',
    appliesTo: ['ocsp'],
  },
  (cert, _ctx, report) => {
    const ext = findExtension(cert, id_pkix_ocsp_nocheck);
    if (!ext) {
      report.error('id-pkix-ocsp-nocheck is missing');
      return;
    }
    if (ext.critical) report.warning('id-pkix-ocsp-nocheck is marked critical; it SHOULD be non-critical');
    const v = toBytes(ext.extnValue.buffer);
    if (v.length !== 2 || v[0] !== 0x05 || v[1] !== 0x00)
      report.error('id-pkix-ocsp-nocheck value is not the DER NULL 0500');
  },
);
