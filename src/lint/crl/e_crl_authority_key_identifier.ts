import {
  AuthorityKeyIdentifier,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { bytesEqual, defineCrlLint, findCrlExtension, toBytes, toHex } from './support.ts';

/**
 * RFC 5280 5.2.1: "Conforming CRL issuers MUST use the key identifier method, and MUST include
 * this extension in all CRLs issued." 4.2.1.1: "Conforming CAs MUST mark this extension as
 * non-critical." BR 7.2.2 refers to BR 7.1.2.11.1: keyIdentifier identical to the issuing CA's
 * subjectKeyIdentifier; authorityCertIssuer and authorityCertSerialNumber "MUST NOT be present".
 */
export const e_crl_authority_key_identifier = defineCrlLint(
  {
    name: 'e_crl_authority_key_identifier',
    description:
      "authorityKeyIdentifier is present, non-critical, keyIdentifier only, equal to the issuer's subjectKeyIdentifier.",
    citation:
      'RFC 5280 5.2.1: "Conforming CRL issuers MUST use the key identifier method, and MUST include this extension in all CRLs issued."',
  },
  (crl, ctx, report) => {
    const ext = findCrlExtension(crl, id_ce_authorityKeyIdentifier);
    if (!ext) {
      report.error('authorityKeyIdentifier is missing');
      return;
    }
    if (ext.critical) report.error('authorityKeyIdentifier is marked critical; it MUST be non-critical');
    let aki: AuthorityKeyIdentifier;
    try {
      aki = AsnConvert.parse(ext.extnValue, AuthorityKeyIdentifier);
    } catch (e) {
      report.error(`authorityKeyIdentifier cannot be decoded: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (aki.authorityCertIssuer !== undefined)
      report.error('authorityKeyIdentifier carries authorityCertIssuer (BR 7.1.2.11.1: MUST NOT)');
    if (aki.authorityCertSerialNumber !== undefined)
      report.error('authorityKeyIdentifier carries authorityCertSerialNumber (BR 7.1.2.11.1: MUST NOT)');
    if (!aki.keyIdentifier) {
      report.error('authorityKeyIdentifier has no keyIdentifier');
      return;
    }
    const skiExt = (ctx.issuer.tbsCertificate.extensions ?? []).find((e) => e.extnID === id_ce_subjectKeyIdentifier);
    const kid = toBytes(aki.keyIdentifier.buffer);
    if (!skiExt) {
      report.error('the issuing CA has no subjectKeyIdentifier to match authorityKeyIdentifier against');
      return;
    }
    const ski = toBytes(AsnConvert.parse(skiExt.extnValue, SubjectKeyIdentifier).buffer);
    if (!bytesEqual(kid, ski))
      report.error(
        `authorityKeyIdentifier keyIdentifier ${toHex(kid)} differs from the issuer's subjectKeyIdentifier ${toHex(ski)}`,
      );
  },
);
