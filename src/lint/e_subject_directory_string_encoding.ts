import { ALL_PROFILES, defineLint, oidName } from './support.ts';
import {
  attributesOf,
  id_at_businessCategory,
  id_at_commonName,
  id_at_dnQualifier,
  id_at_generationQualifier,
  id_at_givenName,
  id_at_initials,
  id_at_localityName,
  id_at_name,
  id_at_organizationIdentifier,
  id_at_organizationName,
  id_at_organizationalUnitName,
  id_at_postalCode,
  id_at_pseudonym,
  id_at_serialNumber,
  id_at_stateOrProvinceName,
  id_at_streetAddress,
  id_at_surname,
  id_at_title,
  id_domainComponent,
  id_emailAddress,
  isPrintableString,
  type StringKind,
} from './names.ts';

/** Attributes whose syntax is DirectoryString (X.520). */
const DIRECTORY_STRING_ATTRIBUTES = new Set([
  id_at_commonName,
  id_at_surname,
  id_at_localityName,
  id_at_stateOrProvinceName,
  id_at_streetAddress,
  id_at_organizationName,
  id_at_organizationalUnitName,
  id_at_title,
  id_at_businessCategory,
  id_at_postalCode,
  id_at_name,
  id_at_givenName,
  id_at_initials,
  id_at_generationQualifier,
  id_at_pseudonym,
  id_at_organizationIdentifier,
]);

/** Attributes with one fixed string type (RFC 5280 Appendix A.1). */
const FIXED_TYPE_ATTRIBUTES: Record<string, StringKind> = {
  [id_at_serialNumber]: 'printableString',
  [id_at_dnQualifier]: 'printableString',
  [id_emailAddress]: 'ia5String',
  [id_domainComponent]: 'ia5String',
};

/**
 * RFC 5280 4.1.2.4: "CAs conforming to this profile MUST use either the PrintableString or
 * UTF8String encoding of DirectoryString, with two exceptions." Both exceptions concern names
 * already issued in another encoding; this CA issues new names. A PrintableString must hold only
 * PrintableString characters, and no value may be empty (DirectoryString is SIZE (1..MAX)).
 * countryName is e_subject_country_name's.
 */
export const e_subject_directory_string_encoding = defineLint(
  {
    name: 'e_subject_directory_string_encoding',
    description: 'Subject DirectoryString values are non-empty PrintableString (valid characters) or UTF8String.',
    citation:
      'RFC 5280 4.1.2.4: "CAs conforming to this profile MUST use either the PrintableString or UTF8String encoding of DirectoryString, with two exceptions."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    for (const a of attributesOf(cert.tbsCertificate.subject)) {
      const fixed = FIXED_TYPE_ATTRIBUTES[a.type];
      if (DIRECTORY_STRING_ATTRIBUTES.has(a.type)) {
        if (a.kind !== 'printableString' && a.kind !== 'utf8String')
          report.error(`${oidName(a.type)} is encoded as ${a.kind}; use PrintableString or UTF8String`);
      } else if (fixed && a.kind !== fixed) {
        report.error(`${oidName(a.type)} is encoded as ${a.kind}; its type is ${fixed}`);
      }
      if (a.kind === 'printableString' && !isPrintableString(a.text))
        report.error(`${oidName(a.type)} "${a.text}" holds characters outside the PrintableString set`);
      if (a.kind !== 'other' && a.text.length === 0) report.error(`${oidName(a.type)} is empty`);
    }
  },
);
