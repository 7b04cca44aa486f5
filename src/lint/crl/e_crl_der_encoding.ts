import type { CertificateList } from '@peculiar/asn1-x509';
import { decodeCertificateList } from '../../pki/crl.ts';
import { encodeCertificateList, encodeTbsCertList } from '../../pki/crl-entries.ts';
import type { LintFinding } from './types.ts';
import { defineCrlLint } from './support.ts';

/** CRLs parseCrlForLint already found DER throughout: the lint need not encode a long list a second time. */
const reencodedAlike = new WeakSet<CertificateList>();

/**
 * RFC 5280 5.1.1.3: "The signatureValue field contains a digital signature computed upon the
 * ASN.1 DER encoded tbsCertList." The parsed TBSCertList is re-encoded and compared with the
 * signed bytes; lintCrl also reports here when the bytes are not a CRL at all or carry
 * trailing bytes. The entries are re-encoded by hand (crl-entries.ts), as asn1-schema would.
 */
export const e_crl_der_encoding = defineCrlLint(
  {
    name: 'e_crl_der_encoding',
    description: 'The CRL, and its TBSCertList in particular, is DER: re-encoding it gives the same bytes.',
    citation:
      'RFC 5280 5.1.1.3: "The signatureValue field contains a digital signature computed upon the ASN.1 DER encoded tbsCertList."',
  },
  (crl, _ctx, report) => {
    const raw = crl.tbsCertListRaw;
    if (raw && !reencodedAlike.has(crl) && !Buffer.from(raw).equals(encodeTbsCertList(crl.tbsCertList))) {
      report.error('tbsCertList is not DER: re-encoding the parsed structure gives different bytes');
    }
  },
);

/** Notes a CRL whose bytes its linter already found DER throughout (lint/crl/stream.ts checks each entry as it reads it). */
export function markReencodedAlike(crl: CertificateList): void {
  reencodedAlike.add(crl);
}

/** Parses CRL bytes; unparsable input, BER forms or trailing bytes are e_crl_der_encoding findings. */
export function parseCrlForLint(crlDer: Uint8Array): { crl?: CertificateList; findings: LintFinding[] } {
  const finding = (message: string): LintFinding => ({
    lint: e_crl_der_encoding.name,
    severity: 'error',
    message,
    citation: e_crl_der_encoding.citation,
  });
  let crl: CertificateList;
  try {
    crl = decodeCertificateList(crlDer);
  } catch (e) {
    return { findings: [finding(`not a parsable CRL: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  let reencoded: Uint8Array;
  try {
    reencoded = encodeCertificateList(crl);
  } catch (e) {
    return { findings: [finding(`the CRL cannot be re-encoded: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  const findings: LintFinding[] = [];
  if (Buffer.from(reencoded).equals(crlDer)) reencodedAlike.add(crl);
  else {
    findings.push(
      finding(
        `the CRL encoding is not DER or carries trailing bytes (${crlDer.length} bytes given, ${reencoded.length} bytes re-encoded)`,
      ),
    );
  }
  return { crl, findings };
}
