/**
 * CRL lints (R-3.6, R-4.2; CONVENTIONS 2, 5): one rule per file, each citing its source. The
 * status operation lints a CRL signed with a throwaway key before the CA key signs it, then
 * checks the issued CRL carries exactly the linted TBSCertList; any error finding refuses it.
 */
import type { CertificateList } from '@peculiar/asn1-x509';
import { CaError } from '../../errors.ts';
import { formatFindings, lintErrors } from '../index.ts';
import type { CrlLint, CrlLintContext, LintFinding } from './types.ts';

import { e_crl_authority_key_identifier } from './e_crl_authority_key_identifier.ts';
import { e_crl_der_encoding, parseCrlForLint } from './e_crl_der_encoding.ts';
import { lintCrlStreamed } from './stream.ts';
import { e_crl_entry_duplicate_serial } from './e_crl_entry_duplicate_serial.ts';
import { e_crl_entry_extensions } from './e_crl_entry_extensions.ts';
import { e_crl_entry_reason_code } from './e_crl_entry_reason_code.ts';
import { e_crl_entry_serial_number } from './e_crl_entry_serial_number.ts';
import { e_crl_ext_duplicate } from './e_crl_ext_duplicate.ts';
import { e_crl_ext_unknown_critical } from './e_crl_ext_unknown_critical.ts';
import { e_crl_issuer_crl_sign } from './e_crl_issuer_crl_sign.ts';
import { e_crl_issuer_name_chaining } from './e_crl_issuer_name_chaining.ts';
import { e_crl_next_update_missing } from './e_crl_next_update_missing.ts';
import { e_crl_number } from './e_crl_number.ts';
import { e_crl_revoked_list_empty } from './e_crl_revoked_list_empty.ts';
import { e_crl_sha1_signature } from './e_crl_sha1_signature.ts';
import { e_crl_signature_algorithm_issuer_key_mismatch } from './e_crl_signature_algorithm_issuer_key_mismatch.ts';
import { e_crl_signature_algorithm_mismatch } from './e_crl_signature_algorithm_mismatch.ts';
import { e_crl_signature_algorithm_parameters } from './e_crl_signature_algorithm_parameters.ts';
import { e_crl_time_encoding } from './e_crl_time_encoding.ts';
import { e_crl_update_order } from './e_crl_update_order.ts';
import { e_crl_validity_too_long } from './e_crl_validity_too_long.ts';
import { e_crl_version_not_2 } from './e_crl_version_not_2.ts';
import { w_crl_revocation_date_after_this_update } from './w_crl_revocation_date_after_this_update.ts';
import { w_crl_update_at_lint_time } from './w_crl_update_at_lint_time.ts';

export type { CrlLint, CrlLintContext } from './types.ts';

/** Every CRL lint, in the order they run (encoding, TBSCertList fields, CRL extensions, entries). */
export const ALL_CRL_LINTS: CrlLint[] = [
  // Encoding and TBSCertList fields (RFC 5280 5.1)
  e_crl_der_encoding,
  e_crl_version_not_2,
  e_crl_signature_algorithm_mismatch,
  e_crl_signature_algorithm_parameters,
  e_crl_signature_algorithm_issuer_key_mismatch,
  e_crl_sha1_signature,
  e_crl_issuer_name_chaining,
  e_crl_issuer_crl_sign,
  e_crl_next_update_missing,
  e_crl_update_order,
  e_crl_validity_too_long,
  e_crl_time_encoding,
  w_crl_update_at_lint_time,
  // CRL extensions (RFC 5280 5.2)
  e_crl_authority_key_identifier,
  e_crl_number,
  e_crl_ext_unknown_critical,
  e_crl_ext_duplicate,
  // Revoked certificates and entry extensions (RFC 5280 5.1.2.6, 5.3)
  e_crl_revoked_list_empty,
  e_crl_entry_serial_number,
  e_crl_entry_duplicate_serial,
  e_crl_entry_reason_code,
  e_crl_entry_extensions,
  w_crl_revocation_date_after_this_update,
];

/** Runs every CRL lint on a parsed CRL. A lint that throws becomes an error finding of that lint. */
export function lintParsedCrl(crl: CertificateList, ctx: CrlLintContext): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const lint of ALL_CRL_LINTS) {
    try {
      findings.push(...lint.run(crl, ctx));
    } catch (e) {
      findings.push({
        lint: lint.name,
        severity: 'error',
        message: `the lint could not evaluate the CRL: ${e instanceof Error ? e.message : String(e)}`,
        citation: lint.citation,
      });
    }
  }
  return findings;
}

/**
 * Parses DER CRL bytes and runs every CRL lint. An unparsable (or non-DER) CRL is itself an
 * e_crl_der_encoding error finding. A CRL that is DER throughout is linted in one pass over its
 * entries (stream.ts); any other is parsed whole, so its findings say what is wrong.
 */
export function lintCrl(crlDer: Uint8Array, ctx: CrlLintContext): LintFinding[] {
  const streamed = lintCrlStreamed(crlDer, ctx, ALL_CRL_LINTS);
  if (streamed) return streamed;
  const parsed = parseCrlForLint(crlDer);
  if (!parsed.crl) return parsed.findings;
  return [...parsed.findings, ...lintParsedCrl(parsed.crl, ctx)];
}

/** Throws CaError CRL_LINT_FAILED (details.findings) when any finding is an error. */
export function assertNoCrlLintErrors(findings: LintFinding[], what = 'CRL'): void {
  const errors = lintErrors(findings);
  if (errors.length > 0) {
    throw new CaError('CRL_LINT_FAILED', `${what} fails ${errors.length} lint check(s):\n${formatFindings(errors)}`, {
      details: { findings },
    });
  }
}
