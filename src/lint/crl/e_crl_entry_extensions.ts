import { id_ce_cRLReasons, id_ce_invalidityDate, type RevokedCertificate } from '@peculiar/asn1-x509';
import { invalidityDateOf } from '../../pki/crl-entries.ts';
import type { Reporter } from '../support.ts';
import { defineCrlEntryLint, entryCheck, entryLabel, oidName } from './support.ts';

/**
 * RFC 5280 5.3.2: "The invalidity date is a non-critical CRL entry extension". RFC 5280 5.3:
 * "If a CRL contains a critical CRL entry extension that the application cannot process, then
 * the application MUST NOT use that CRL to determine the status of any certificates." Entry
 * extensions are limited to reasonCode and invalidityDate (certificateIssuer would make the CRL
 * indirect, which this CA never issues).
 */
export const e_crl_entry_extensions = defineCrlEntryLint(
  {
    name: 'e_crl_entry_extensions',
    description:
      'CRL entries carry only reasonCode and invalidityDate, non-critical, invalidityDate a valid GeneralizedTime.',
    citation:
      'RFC 5280 5.3.2: "The invalidity date is a non-critical CRL entry extension that provides the date on which it is known or suspected that the private key was compromised or that the certificate otherwise became invalid."',
  },
  (_crl, _ctx, report) =>
    entryCheck(
      (entry) => checkEntry(entry, report),
      // Only reasonCode (e_crl_entry_reason_code's) is passed over unread; anything else is checked as above.
      (raw) => raw.extensions.every((ext) => ext.extnID === id_ce_cRLReasons),
    ),
);

function checkEntry(entry: RevokedCertificate, report: Reporter): void {
  for (const ext of entry.crlEntryExtensions ?? []) {
    if (ext.extnID === id_ce_cRLReasons) continue; // e_crl_entry_reason_code
    const label = entryLabel(entry); // named only past the usual reasonCode: no hex per good entry
    if (ext.extnID === id_ce_invalidityDate) {
      if (ext.critical) report.error(`${label}: invalidityDate is marked critical; it MUST be non-critical`);
      try {
        const d = invalidityDateOf(ext.extnValue);
        if (Number.isNaN(d.getTime())) report.error(`${label}: invalidityDate is not a valid time`);
      } catch (e) {
        report.error(
          `${label}: invalidityDate is not a GeneralizedTime: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      continue;
    }
    if (ext.critical)
      report.error(`${label}: entry extension ${oidName(ext.extnID)} is outside the profile and marked critical`);
    else report.error(`${label}: entry extension ${oidName(ext.extnID)} is outside the profile`);
  }
}
