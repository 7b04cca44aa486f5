import { Version } from '@peculiar/asn1-x509';
import { ALL_PROFILES, defineLint } from './support.ts';

/** RFC 5280 4.1.2.1: "When extensions are used, as expected in this profile, version MUST be 3 (value is 2)." */
export const e_cert_version_not_3 = defineLint(
  {
    name: 'e_cert_version_not_3',
    description: 'The certificate is X.509 version 3.',
    citation:
      'RFC 5280 4.1.2.1: "When extensions are used, as expected in this profile, version MUST be 3 (value is 2)."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const v = cert.tbsCertificate.version;
    if (v !== Version.v3) report.error(`version is ${v + 1} (value ${v}); it must be 3 (value 2)`);
  },
);
