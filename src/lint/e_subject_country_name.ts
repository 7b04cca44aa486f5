import { ALL_PROFILES, defineLint } from './support.ts';
import { attributesOf, id_at_countryName } from './names.ts';

/**
 * RFC 5280 Appendix A.1: "X520countryName ::= PrintableString (SIZE (2)) -- IS 3166 codes"
 * BR 7.1.2.10.2: countryName is "The two-letter ISO 3166-1 country code". Upper-case letters.
 */
export const e_subject_country_name = defineLint(
  {
    name: 'e_subject_country_name',
    description: 'Each subject countryName is a PrintableString of two upper-case letters.',
    citation: 'RFC 5280 Appendix A.1: "X520countryName ::= PrintableString (SIZE (2)) -- IS 3166 codes"',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const countries = attributesOf(cert.tbsCertificate.subject).filter((a) => a.type === id_at_countryName);
    for (const c of countries) {
      if (c.kind !== 'printableString') report.error(`countryName is encoded as ${c.kind}, not PrintableString`);
      else if (!/^[A-Z]{2}$/.test(c.text))
        report.error(`countryName "${c.text}" is not a two-letter upper-case ISO 3166 code`);
    }
    if (countries.length > 1) report.warning(`subject holds ${countries.length} countryName attributes`);
  },
);
