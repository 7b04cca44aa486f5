import { Version } from '@peculiar/asn1-x509';
import { defineCrlLint } from './support.ts';

/**
 * RFC 5280 5.1.2.1: "When extensions are used, as required by this profile, this field MUST be
 * present and MUST specify version 2 (the integer value is 1).": "the CRL is v2 with AKI
 * and CRL number".
 */
export const e_crl_version_not_2 = defineCrlLint(
  {
    name: 'e_crl_version_not_2',
    description: 'The CRL is version 2 (version field present with the value 1).',
    citation:
      'RFC 5280 5.1.2.1: "When extensions are used, as required by this profile, this field MUST be present and MUST specify version 2 (the integer value is 1)."',
  },
  (crl, _ctx, report) => {
    const v = crl.tbsCertList.version;
    if (v === undefined) report.error('the version field is absent (a v1 CRL); it MUST be v2');
    else if (v !== Version.v2) report.error(`version is ${v}; it MUST be 1 (v2)`);
  },
);
