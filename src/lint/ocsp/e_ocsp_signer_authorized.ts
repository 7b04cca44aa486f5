import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, id_kp_OCSPSigning } from '@peculiar/asn1-x509';
import { keyUsagesOf } from '../support.ts';
import { defineOcspLint, isIssuedByOnce, sameCertificate } from './support.ts';

/**
 * RFC 6960 4.2.2.2: "OCSP signing delegation SHALL be designated by the inclusion of
 * id-kp-OCSPSigning in an extended key usage certificate extension included in the OCSP
 * response signer's certificate. This certificate MUST be issued directly by the CA that is
 * identified in the request." A response signed by the CA itself needs digitalSignature in the
 * CA's keyUsage (BR 7.1.2.10.7, RFC 5280 4.2.1.3): the SECOM roots assert only keyCertSign and
 * cRLSign, so a root key signing OCSP responses is an error (issue 15.1).
 */
export const e_ocsp_signer_authorized = defineOcspLint(
  {
    name: 'e_ocsp_signer_authorized',
    description:
      'The signer is a delegated responder issued directly by the CA with id-kp-OCSPSigning, or the CA itself with digitalSignature.',
    citation:
      'RFC 6960 4.2.2.2: "OCSP signing delegation SHALL be designated by the inclusion of id-kp-OCSPSigning in an extended key usage certificate extension included in the OCSP response signer\'s certificate."',
  },
  (_r, ctx, report) => {
    if (sameCertificate(ctx.signer, ctx.issuer)) {
      const ku = keyUsagesOf(AsnConvert.parse(ctx.issuer.der, Certificate));
      if (!ku?.has('digitalSignature'))
        report.error(
          `signed by the CA ${ctx.issuer.subject} itself, whose keyUsage lacks digitalSignature (BR 7.1.2.10.7): a delegated responder must sign`,
        );
      return;
    }
    if (!isIssuedByOnce(ctx.signer, ctx.issuer))
      report.error(`the signer ${ctx.signer.subject} is not issued directly by the CA ${ctx.issuer.subject}`);
    if (!ctx.signer.extKeyUsage?.includes(id_kp_OCSPSigning))
      report.error(`the signer ${ctx.signer.subject} has no id-kp-OCSPSigning extended key usage`);
  },
);
