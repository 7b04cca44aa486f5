import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { LintFinding } from './types.ts';
import { ALL_PROFILES, bytesEqual, defineLint, derOf } from './support.ts';

/**
 * RFC 5280 4.1.1.3: "The signatureValue field contains a digital signature computed upon the
 * ASN.1 DER encoded tbsCertificate."
 *
 * The parsed TBSCertificate is re-encoded and compared with the bytes that were signed: any
 * BER-only form (explicit DEFAULT values, time without seconds, long-form lengths) shows up as
 * a difference. lintCertificate also reports here when the bytes are not a certificate at all.
 */
export const e_der_encoding = defineLint(
  {
    name: 'e_der_encoding',
    description: 'The certificate, and its TBSCertificate in particular, is DER: re-encoding it gives the same bytes.',
    citation:
      'RFC 5280 4.1.1.3: "The signatureValue field contains a digital signature computed upon the ASN.1 DER encoded tbsCertificate."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const raw = cert.tbsCertificateRaw;
    if (raw && !bytesEqual(raw, derOf(cert.tbsCertificate))) {
      report.error('tbsCertificate is not DER: re-encoding the parsed structure gives different bytes');
    }
  },
);

/**
 * Parses certificate bytes. An unparsable certificate, or one whose outer encoding is not DER
 * (trailing bytes, BER forms), is an e_der_encoding error finding.
 */
export function parseCertificateForLint(certDer: Uint8Array): { cert?: Certificate; findings: LintFinding[] } {
  const finding = (message: string): LintFinding => ({
    lint: e_der_encoding.name,
    severity: 'error',
    message,
    citation: e_der_encoding.citation,
  });
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(certDer, Certificate);
  } catch (e) {
    return { findings: [finding(`not a parsable X.509 certificate: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  let reencoded: Uint8Array | undefined;
  try {
    reencoded = derOf(cert);
  } catch (e) {
    return {
      findings: [finding(`the certificate cannot be re-encoded: ${e instanceof Error ? e.message : String(e)}`)],
    };
  }
  const findings: LintFinding[] = [];
  if (!bytesEqual(reencoded, certDer)) {
    findings.push(
      finding(
        `the certificate encoding is not DER or carries trailing bytes (${certDer.length} bytes given, ${reencoded.length} bytes re-encoded)`,
      ),
    );
  }
  return { cert, findings };
}
