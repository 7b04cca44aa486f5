import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, OCSPResponse } from '../../pki/ocsp.ts';
import { defineOcspLint } from './support.ts';

/**
 * Certificates already found to re-encode to their own bytes: a batch of pre-signed responses
 * carries the same responder certificate in each (a few entries, keyed by the exact bytes).
 */
const canonicalCertificates = new Set<string>();

function certificateReencodes(der: Buffer): boolean {
  const key = der.toString('base64');
  if (canonicalCertificates.has(key)) return true;
  const ok = Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Certificate))).equals(der);
  if (ok) {
    if (canonicalCertificates.size >= 16) canonicalCertificates.clear();
    canonicalCertificates.add(key);
  }
  return ok;
}

/**
 * RFC 6960 4.2.1: "The value for responseBytes consists of an OBJECT IDENTIFIER and a response
 * syntax identified by that OID encoded as an OCTET STRING." and X.690 DER: a signed structure is
 * one canonical encoding, so the response and its BasicOCSPResponse re-encode to the same bytes.
 */
export const e_ocsp_der_encoding = defineOcspLint(
  {
    name: 'e_ocsp_der_encoding',
    description:
      'The OCSPResponse and the BasicOCSPResponse inside it are canonical DER (parse and re-encode give the same bytes).',
    citation:
      'RFC 6960 4.2.1: "The value for responseBytes consists of an OBJECT IDENTIFIER and a response syntax identified by that OID encoded as an OCTET STRING."',
  },
  (r, _ctx, report) => {
    if (r.strictlyRead) {
      // The strict reader accepted only canonical DER around the certificates (ocsp-response-fast.ts).
      for (const c of r.parsed.certs)
        if (!certificateReencodes(c)) report.error('a certificate in certs does not re-encode to the same DER');
      return;
    }
    const outer = AsnConvert.parse(r.der, OCSPResponse);
    if (!Buffer.from(AsnConvert.serialize(outer)).equals(r.der))
      report.error('the OCSPResponse does not re-encode to the same DER');
    const inner = outer.responseBytes?.response.buffer;
    if (!inner) return;
    const basic = Buffer.from(inner);
    if (!Buffer.from(AsnConvert.serialize(AsnConvert.parse(basic, BasicOCSPResponse))).equals(basic))
      report.error('the BasicOCSPResponse does not re-encode to the same DER');
  },
);
