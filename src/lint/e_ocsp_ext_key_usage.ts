import { ExtendedKeyUsage, anyExtendedKeyUsage, id_ce_extKeyUsage, id_kp_OCSPSigning } from '@peculiar/asn1-x509';
import { decodeExtension, defineLint, findExtension, oidName } from './support.ts';

/**
 * RFC 6960 4.2.2.2: "OCSP signing delegation SHALL be designated by the inclusion of
 * id-kp-OCSPSigning in an extended key usage certificate extension included in the OCSP response
 * signer's certificate.". anyExtendedKeyUsage would let the responder key act for any
 * purpose: an error. Other purposes are warnings: a responder key should serve one purpose.
 */
export const e_ocsp_ext_key_usage = defineLint(
  {
    name: 'e_ocsp_ext_key_usage',
    description:
      'A delegated OCSP responder certificate has extKeyUsage with id-kp-OCSPSigning and no anyExtendedKeyUsage.',
    citation:
      'RFC 6960 4.2.2.2: "OCSP signing delegation SHALL be designated by the inclusion of id-kp-OCSPSigning in an extended key usage certificate extension included in the OCSP response signer\'s certificate."',
    appliesTo: ['ocsp'],
  },
  (cert, _ctx, report) => {
    const ext = findExtension(cert, id_ce_extKeyUsage);
    if (!ext) {
      report.error('extKeyUsage is missing; a delegated OCSP responder needs id-kp-OCSPSigning');
      return;
    }
    const eku = decodeExtension(ext, ExtendedKeyUsage);
    if (!eku.includes(id_kp_OCSPSigning)) report.error('extKeyUsage lacks id-kp-OCSPSigning');
    if (eku.includes(anyExtendedKeyUsage)) report.error('extKeyUsage includes anyExtendedKeyUsage');
    for (const p of eku) {
      if (p !== id_kp_OCSPSigning && p !== anyExtendedKeyUsage) report.warning(`extKeyUsage also holds ${oidName(p)}`);
    }
  },
);
