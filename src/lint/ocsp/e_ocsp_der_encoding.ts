import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicOCSPResponse, OCSPResponse } from '../../pki/ocsp.ts';
import { defineOcspLint } from './support.ts';

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
