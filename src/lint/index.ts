/**
 * Certificate lints (CONVENTIONS 2, 5; ): one rule per file, each citing its source.
 * ca/ lints a certificate signed with a throwaway key before the CA key signs it, and lints the
 * issued certificate again; any error finding refuses the artefact.
 */
import type { Certificate } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import type { Lint, LintContext, LintFinding, ProfileName } from './types.ts';
import { PROFILE_NAMES } from './types.ts';
import { ExtensionDecodeError } from './support.ts';

import { e_authority_info_access } from './e_authority_info_access.ts';
import { e_authority_key_identifier } from './e_authority_key_identifier.ts';
import { e_basic_constraints } from './e_basic_constraints.ts';
import { e_cert_unique_identifier_present } from './e_cert_unique_identifier_present.ts';
import { e_cert_version_not_3 } from './e_cert_version_not_3.ts';
import { e_certificate_policies } from './e_certificate_policies.ts';
import { e_crl_distribution_points } from './e_crl_distribution_points.ts';
import { e_der_encoding, parseCertificateForLint } from './e_der_encoding.ts';
import { e_ec_public_key_curve } from './e_ec_public_key_curve.ts';
import { e_ext_duplicate } from './e_ext_duplicate.ts';
import { e_ext_not_in_profile } from './e_ext_not_in_profile.ts';
import { e_ext_unknown_critical } from './e_ext_unknown_critical.ts';
import { e_ext_value_not_der } from './e_ext_value_not_der.ts';
import { e_issuer_name_chaining } from './e_issuer_name_chaining.ts';
import { e_key_cert_sign_ca_mismatch } from './e_key_cert_sign_ca_mismatch.ts';
import { e_key_usage_bits } from './e_key_usage_bits.ts';
import { e_key_usage_missing_or_not_critical } from './e_key_usage_missing_or_not_critical.ts';
import { e_name_constraints } from './e_name_constraints.ts';
import { e_ocsp_ext_key_usage } from './e_ocsp_ext_key_usage.ts';
import { e_ocsp_nocheck } from './e_ocsp_nocheck.ts';
import { e_ocsp_validity_too_long } from './e_ocsp_validity_too_long.ts';
import { e_path_len_constraint_improperly_included } from './e_path_len_constraint_improperly_included.ts';
import { e_root_ext_key_usage_present } from './e_root_ext_key_usage_present.ts';
import { e_root_validity_period } from './e_root_validity_period.ts';
import { e_rsa_fermat_factorable } from './e_rsa_fermat_factorable.ts';
import { e_rsa_public_key_strength } from './e_rsa_public_key_strength.ts';
import { e_serial_number_low_entropy } from './e_serial_number_low_entropy.ts';
import { e_serial_number_not_positive } from './e_serial_number_not_positive.ts';
import { e_serial_number_size } from './e_serial_number_size.ts';
import { e_sha1_signature } from './e_sha1_signature.ts';
import { e_signature_algorithm_issuer_key_mismatch } from './e_signature_algorithm_issuer_key_mismatch.ts';
import { e_signature_algorithm_mismatch } from './e_signature_algorithm_mismatch.ts';
import { e_signature_algorithm_parameters } from './e_signature_algorithm_parameters.ts';
import { e_spki_algorithm_encoding } from './e_spki_algorithm_encoding.ts';
import { e_subca_ext_key_usage_any } from './e_subca_ext_key_usage_any.ts';
import { e_subca_eku_missing } from './e_subca_eku_missing.ts';
import { e_subca_eku_server_and_email } from './e_subca_eku_server_and_email.ts';
import { e_subca_tls_eku_forbidden } from './e_subca_tls_eku_forbidden.ts';
import { e_subca_tls_policy_reserved_missing } from './e_subca_tls_policy_reserved_missing.ts';
import { e_subca_smime_policy_reserved_missing } from './e_subca_smime_policy_reserved_missing.ts';
import { e_subca_tls_name_constraints_incomplete } from './e_subca_tls_name_constraints_incomplete.ts';
import { e_name_constraints_ip_address_length } from './e_name_constraints_ip_address_length.ts';
import { e_subject_attribute_too_long } from './e_subject_attribute_too_long.ts';
import { e_subject_country_name } from './e_subject_country_name.ts';
import { e_subject_directory_string_encoding } from './e_subject_directory_string_encoding.ts';
import { e_subject_empty } from './e_subject_empty.ts';
import { e_subject_key_identifier } from './e_subject_key_identifier.ts';
import { e_subject_string_content } from './e_subject_string_content.ts';
import { e_tsa_ext_key_usage } from './e_tsa_ext_key_usage.ts';
import { e_validity_exceeds_issuer } from './e_validity_exceeds_issuer.ts';
import { e_validity_period_negative } from './e_validity_period_negative.ts';
import { e_validity_time_encoding } from './e_validity_time_encoding.ts';
import { w_ca_subject_missing_attributes } from './w_ca_subject_missing_attributes.ts';
import { w_root_certificate_policies_present } from './w_root_certificate_policies_present.ts';
import { w_validity_at_lint_time } from './w_validity_at_lint_time.ts';

export type { Lint, LintContext, LintFinding, LintSeverity, ProfileName } from './types.ts';
export { PROFILE_NAMES } from './types.ts';

/** Every lint, in the order they run (encoding, TBS fields, names, keys, extensions). */
export const ALL_LINTS: Lint[] = [
  // Encoding and TBS fields (RFC 5280 4.1)
  e_der_encoding,
  e_cert_version_not_3,
  e_serial_number_not_positive,
  e_serial_number_size,
  e_serial_number_low_entropy,
  e_signature_algorithm_mismatch,
  e_signature_algorithm_parameters,
  e_signature_algorithm_issuer_key_mismatch,
  e_sha1_signature,
  e_issuer_name_chaining,
  e_validity_period_negative,
  e_validity_time_encoding,
  e_validity_exceeds_issuer,
  e_ocsp_validity_too_long,
  e_root_validity_period,
  w_validity_at_lint_time,
  e_cert_unique_identifier_present,
  // Subject
  e_subject_empty,
  e_subject_country_name,
  e_subject_directory_string_encoding,
  e_subject_attribute_too_long,
  e_subject_string_content,
  w_ca_subject_missing_attributes,
  // Public key
  e_spki_algorithm_encoding,
  e_rsa_public_key_strength,
  e_rsa_fermat_factorable,
  e_ec_public_key_curve,
  // Extensions (RFC 5280 4.2)
  e_ext_duplicate,
  e_ext_unknown_critical,
  e_ext_value_not_der,
  e_ext_not_in_profile,
  e_subject_key_identifier,
  e_authority_key_identifier,
  e_basic_constraints,
  e_path_len_constraint_improperly_included,
  e_key_usage_missing_or_not_critical,
  e_key_usage_bits,
  e_key_cert_sign_ca_mismatch,
  e_root_ext_key_usage_present,
  e_subca_ext_key_usage_any,
  e_subca_eku_missing,
  e_subca_eku_server_and_email,
  e_subca_tls_eku_forbidden,
  e_tsa_ext_key_usage,
  e_ocsp_ext_key_usage,
  e_ocsp_nocheck,
  e_certificate_policies,
  e_subca_tls_policy_reserved_missing,
  e_subca_smime_policy_reserved_missing,
  w_root_certificate_policies_present,
  e_crl_distribution_points,
  e_authority_info_access,
  e_name_constraints,
  e_name_constraints_ip_address_length,
  e_subca_tls_name_constraints_incomplete,
];

/** The lints that run for a profile. */
export function lintsForProfile(profile: ProfileName): Lint[] {
  return ALL_LINTS.filter((l) => l.appliesTo.includes(profile));
}

/** Runs the profile's lints on a parsed certificate. A lint that throws becomes an error finding of that lint. */
export function lintParsedCertificate(cert: Certificate, ctx: LintContext): LintFinding[] {
  if (!PROFILE_NAMES.includes(ctx.profile)) {
    throw new CaError('LINT_PROFILE_UNKNOWN', `unknown certificate profile '${String(ctx.profile)}'`, {
      details: { profile: ctx.profile },
    });
  }
  const findings: LintFinding[] = [];
  for (const lint of lintsForProfile(ctx.profile)) {
    try {
      findings.push(...lint.run(cert, ctx));
    } catch (e) {
      const reason =
        e instanceof ExtensionDecodeError
          ? e.message
          : `the lint could not evaluate the certificate: ${e instanceof Error ? e.message : String(e)}`;
      findings.push({ lint: lint.name, severity: 'error', message: reason, citation: lint.citation });
    }
  }
  return findings;
}

/**
 * Parses DER certificate bytes and runs the profile's lints. An unparsable (or non-DER)
 * certificate is itself an e_der_encoding error finding.
 */
export function lintCertificate(certDer: Uint8Array, ctx: LintContext): LintFinding[] {
  const parsed = parseCertificateForLint(certDer);
  if (!parsed.cert) return parsed.findings;
  return [...parsed.findings, ...lintParsedCertificate(parsed.cert, ctx)];
}

/** Only the findings that refuse the artefact. */
export function lintErrors(findings: LintFinding[]): LintFinding[] {
  return findings.filter((f) => f.severity === 'error');
}

/** Findings as text, errors first, one per line with its citation; 'no lint findings' when empty. */
export function formatFindings(findings: LintFinding[]): string {
  if (findings.length === 0) return 'no lint findings';
  const ordered = [...lintErrors(findings), ...findings.filter((f) => f.severity !== 'error')];
  return ordered
    .map((f) => `${f.severity === 'error' ? 'ERROR  ' : 'WARNING'} ${f.lint}: ${f.message}\n        ${f.citation}`)
    .join('\n');
}

/** Throws CaError CERTIFICATE_LINT_FAILED (or `code`; details.findings) when any finding is an error. */
export function assertNoLintErrors(
  findings: LintFinding[],
  what = 'certificate',
  code: 'CERTIFICATE_LINT_FAILED' | 'OCSP_LINT_FAILED' = 'CERTIFICATE_LINT_FAILED',
): void {
  const errors = lintErrors(findings);
  if (errors.length > 0) {
    throw new CaError(code, `${what} fails ${errors.length} lint check(s):\n${formatFindings(errors)}`, {
      details: { findings },
    });
  }
}
