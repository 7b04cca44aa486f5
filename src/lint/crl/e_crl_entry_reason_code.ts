import { CRLReasons, type Extension, id_ce_cRLReasons, type RevokedCertificate } from '@peculiar/asn1-x509';
import { crlReasonOf } from '../../pki/crl-entries.ts';
import { REVOCATION_REASON_CODES } from '../../pki/crl.ts';
import type { Reporter } from '../support.ts';
import { defineCrlEntryLint, entryCheck, entryLabel, findEntryExtension } from './support.ts';

const ALLOWED = new Set(Object.values(REVOCATION_REASON_CODES));

/** The code, or -1 when it does not decode (reported below with the reason). */
function crlReasonOfSafe(value: Parameters<typeof crlReasonOf>[0]): number {
  try {
    return crlReasonOf(value);
  } catch {
    return -1;
  }
}

/**
 * BR 7.2.2 reasonCode: "When present (OID 2.5.29.21), MUST NOT be marked critical"; "The
 * CRLReason indicated MUST NOT be unspecified (0). If the reason for revocation is unspecified,
 * CAs MUST omit reasonCode entry extension"; "the CRLReason MUST NOT be certificateHold (6)".
 * RFC 5280 5.3.1: removeFromCRL (8) "only appears in delta CRLs"; aACompromise (10) is for
 * attribute certificates. So only the reasons (1, 2, 3, 4, 5, 9) remain.
 */
export const e_crl_entry_reason_code = defineCrlEntryLint(
  {
    name: 'e_crl_entry_reason_code',
    description:
      'Each reasonCode is non-critical and one of keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn.',
    citation:
      'BR 7.2.2: "The CRLReason indicated MUST NOT be unspecified (0). If the reason for revocation is unspecified, CAs MUST omit reasonCode entry extension"',
  },
  (_crl, _ctx, report) => {
    // Whether an entry's first reasonCode passes, by Extension: entries with the same bytes share one (crl-raw-entry.ts).
    const passes = new Map<Extension, boolean>();
    return entryCheck(
      (entry) => checkEntry(entry, report),
      (raw) => {
        const ext = raw.extensions.find((e) => e.extnID === id_ce_cRLReasons);
        if (!ext) return true;
        let ok = passes.get(ext);
        if (ok === undefined) {
          ok = ALLOWED.has(crlReasonOfSafe(ext.extnValue)) && !ext.critical;
          passes.set(ext, ok);
        }
        return ok;
      },
    );
  },
);

/** The check of one decoded entry (the entry check of e_crl_entry_reason_code). */
function checkEntry(entry: RevokedCertificate, report: Reporter): void {
  const ext = findEntryExtension(entry, id_ce_cRLReasons);
  if (!ext) return;
  if (ALLOWED.has(crlReasonOfSafe(ext.extnValue)) && !ext.critical) return;
  const label = entryLabel(entry);
  if (ext.critical) report.error(`${label}: reasonCode is marked critical; it MUST be non-critical`);
  let code: number;
  try {
    code = crlReasonOf(ext.extnValue);
  } catch (e) {
    report.error(`${label}: reasonCode is not a CRLReason ENUMERATED: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  if (ALLOWED.has(code)) return;
  const name = CRLReasons[code] ?? `value ${code}`;
  if (code === CRLReasons.unspecified) report.error(`${label}: reasonCode is unspecified (0); omit reasonCode instead`);
  else if (code === CRLReasons.certificateHold)
    report.error(`${label}: reasonCode is certificateHold (6); suspension is not allowed`);
  else if (code === CRLReasons.removeFromCRL)
    report.error(`${label}: reasonCode is removeFromCRL (8), which belongs only in delta CRLs`);
  else report.error(`${label}: reasonCode ${name} (${code}) is not a reason this CA uses`);
}
