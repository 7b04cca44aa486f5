import { ALL_PROFILES, defineLint } from './support.ts';

/** RFC 5280 4.1.2.8: "CAs conforming to this profile MUST NOT generate certificates with unique identifiers." */
export const e_cert_unique_identifier_present = defineLint(
  {
    name: 'e_cert_unique_identifier_present',
    description: 'Neither issuerUniqueID nor subjectUniqueID is present.',
    citation:
      'RFC 5280 4.1.2.8: "CAs conforming to this profile MUST NOT generate certificates with unique identifiers."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const tbs = cert.tbsCertificate;
    if (tbs.issuerUniqueID !== undefined) report.error('issuerUniqueID is present');
    if (tbs.subjectUniqueID !== undefined) report.error('subjectUniqueID is present');
  },
);
