import { ALL_PROFILES, defineLint, oidName } from './support.ts';
import {
  attributesOf,
  charLength,
  id_at_commonName,
  id_at_localityName,
  id_at_organizationName,
  id_at_organizationalUnitName,
  id_at_pseudonym,
  id_at_serialNumber,
  id_at_stateOrProvinceName,
  id_at_title,
} from './names.ts';

/** RFC 5280 Appendix A.1 upper bounds, in characters. */
export const ATTRIBUTE_UPPER_BOUNDS: Record<string, number> = {
  [id_at_commonName]: 64, // ub-common-name
  [id_at_localityName]: 128, // ub-locality-name
  [id_at_stateOrProvinceName]: 128, // ub-state-name
  [id_at_organizationName]: 64, // ub-organization-name
  [id_at_organizationalUnitName]: 64, // ub-organizational-unit-name
  [id_at_title]: 64, // ub-title
  [id_at_serialNumber]: 64, // ub-serial-number
  [id_at_pseudonym]: 128, // ub-pseudonym
};

/** RFC 5280 Appendix A.1: "ub-common-name INTEGER ::= 64" (and the other ub-* bounds). */
export const e_subject_attribute_too_long = defineLint(
  {
    name: 'e_subject_attribute_too_long',
    description: 'Subject attribute values respect the RFC 5280 Appendix A upper bounds.',
    citation: 'RFC 5280 Appendix A.1: "ub-common-name INTEGER ::= 64"',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    for (const a of attributesOf(cert.tbsCertificate.subject)) {
      const max = ATTRIBUTE_UPPER_BOUNDS[a.type];
      if (max !== undefined && charLength(a.text) > max)
        report.error(`${oidName(a.type)} is ${charLength(a.text)} characters long; at most ${max} are allowed`);
    }
  },
);
