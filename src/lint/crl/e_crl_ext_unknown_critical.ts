import { id_ce_authorityKeyIdentifier, id_ce_cRLNumber, id_ce_issuingDistributionPoint } from '@peculiar/asn1-x509';
import { crlExtensionsOf, defineCrlLint, oidName } from './support.ts';

/** CRL extensions this CA's CRLs may carry (BR 7.2.2: "Any other extension | NOT RECOMMENDED"). */
const PROFILE_CRL_EXTENSIONS = new Set([id_ce_authorityKeyIdentifier, id_ce_cRLNumber, id_ce_issuingDistributionPoint]);

/**
 * RFC 5280 5.2: "If a CRL contains a critical extension that the application cannot process,
 * then the application MUST NOT use that CRL to determine the status of certificates."
 * Every CRL extension must be known; an unknown one is an error when critical (no relying party
 * could use the CRL) and a warning otherwise (BR 7.2.2: "NOT RECOMMENDED").
 */
export const e_crl_ext_unknown_critical = defineCrlLint(
  {
    name: 'e_crl_ext_unknown_critical',
    description:
      'The CRL carries no critical extension outside the profile; other non-profile extensions are warned about.',
    citation:
      'RFC 5280 5.2: "If a CRL contains a critical extension that the application cannot process, then the application MUST NOT use that CRL to determine the status of certificates."',
  },
  (crl, _ctx, report) => {
    for (const ext of crlExtensionsOf(crl)) {
      if (PROFILE_CRL_EXTENSIONS.has(ext.extnID)) continue;
      if (ext.critical) report.error(`CRL extension ${oidName(ext.extnID)} is outside the profile and marked critical`);
      else
        report.warning(
          `CRL extension ${oidName(ext.extnID)} is outside the profile (BR 7.2.2: any other extension NOT RECOMMENDED)`,
        );
    }
  },
);
