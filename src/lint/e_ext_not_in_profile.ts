import {
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import type { ProfileName } from './types.ts';
import {
  ALL_PROFILES,
  defineLint,
  extensionsOf,
  id_ct_precertificateSCTs,
  id_pkix_ocsp_nocheck,
  oidName,
} from './support.ts';
import { isKnownExtension } from './known_extensions.ts';

/** Extensions every profile may carry; whether each is required is checked by its own lint. */
const COMMON = [
  id_ce_subjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_extKeyUsage,
  id_ce_certificatePolicies,
  id_pe_authorityInfoAccess,
  id_ce_cRLDistributionPoints,
  id_ce_nameConstraints, // where it may appear is e_name_constraints' business
];

/** Extensions each profile expects. */
export const PROFILE_EXTENSIONS: Record<ProfileName, string[]> = {
  root: [...COMMON, id_ct_precertificateSCTs],
  subca: [...COMMON, id_ct_precertificateSCTs],
  tsa: [...COMMON, id_ce_subjectAltName],
  ta: [...COMMON, id_ce_subjectAltName],
  ocsp: [...COMMON, id_pkix_ocsp_nocheck],
  publication: COMMON,
};

/** BR 7.1.2.8.2: OCSP responder certificates: "`subjectAltName` | MUST NOT". */
export const PROFILE_FORBIDDEN_EXTENSIONS: Partial<Record<ProfileName, string[]>> = {
  ocsp: [id_ce_subjectAltName],
};

/**
 * BR 7.1.2.1.2: "| Any other extension | NOT RECOMMENDED | - |" (and 7.1.2.8.2 the same); BR 7.1.2.8.2 also
 * lists subjectAltName as "MUST NOT" for OCSP responder certificates (nameConstraints too,
 * which e_name_constraints refuses in every end-entity certificate).
 * Known extensions outside the profile are warnings (unknown critical ones are
 * e_ext_unknown_critical's errors); the MUST NOT ones are errors.
 */
export const e_ext_not_in_profile = defineLint(
  {
    name: 'e_ext_not_in_profile',
    description:
      "Every extension belongs to the certificate's profile; the ones BR forbids for the profile are absent.",
    citation: 'BR 7.1.2.1.2: "| Any other extension | NOT RECOMMENDED | - |"',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const expected = new Set(PROFILE_EXTENSIONS[ctx.profile]);
    const forbidden = new Set(PROFILE_FORBIDDEN_EXTENSIONS[ctx.profile] ?? []);
    for (const ext of extensionsOf(cert)) {
      if (forbidden.has(ext.extnID))
        report.error(`extension ${oidName(ext.extnID)} MUST NOT appear in a '${ctx.profile}' certificate`);
      else if (!expected.has(ext.extnID) && (isKnownExtension(ext.extnID) || !ext.critical)) {
        report.warning(`extension ${oidName(ext.extnID)} is not part of the '${ctx.profile}' profile`);
      }
    }
  },
);
