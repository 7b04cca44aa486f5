import { CA_PROFILES, defineLint, oidName } from './support.ts';
import { attributesOf, id_at_commonName, id_at_countryName, id_at_organizationName } from './names.ts';

/**
 * BR 7.1.2.10.2 CA Certificate Naming: "| `countryName` | MUST | The two-letter ISO 3166-1
 * country code for the country in which the CA's place of business is located." — and
 * organizationName and commonName MUST too. A warning only: reproduces the real RootCA1
 * and RootCA2 subjects, which name the CA in organizationalUnitName without a commonName.
 */
export const w_ca_subject_missing_attributes = defineLint(
  {
    name: 'w_ca_subject_missing_attributes',
    description: 'A CA subject holds countryName, organizationName and commonName.',
    citation:
      'BR 7.1.2.10.2: "| `countryName` | MUST | The two-letter ISO 3166-1 country code for the country in which the CA\'s place of business is located. |"',
    appliesTo: CA_PROFILES,
  },
  (cert, _ctx, report) => {
    const types = new Set(attributesOf(cert.tbsCertificate.subject).map((a) => a.type));
    for (const t of [id_at_countryName, id_at_organizationName, id_at_commonName]) {
      if (!types.has(t)) report.warning(`CA subject has no ${oidName(t)}`);
    }
  },
);
