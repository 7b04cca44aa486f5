/**
 * OCSP response lints (issue 15.8; CONVENTIONS 2, 5): one rule per file, each citing its
 * source, like the certificate and CRL lints. A pre-signed response is linted before it is
 * stored, and the live responder's template response before the server starts; any error
 * finding refuses it.
 */
import { parseOcspResponse } from '../../pki/ocsp.ts';
import { parseOcspResponseFast } from '../../pki/ocsp-response-fast.ts';
import { assertNoLintErrors } from '../index.ts';
import type { LintFinding, OcspLint, OcspLintContext } from './types.ts';

import { e_ocsp_der_encoding } from './e_ocsp_der_encoding.ts';
import { e_ocsp_outlives_signer } from './e_ocsp_outlives_signer.ts';
import { e_ocsp_responder_id } from './e_ocsp_responder_id.ts';
import { e_ocsp_response_status } from './e_ocsp_response_status.ts';
import { e_ocsp_signature_invalid } from './e_ocsp_signature_invalid.ts';
import { e_ocsp_signer_authorized } from './e_ocsp_signer_authorized.ts';
import { e_ocsp_update_in_future } from './e_ocsp_update_in_future.ts';
import { e_ocsp_validity_too_long } from './e_ocsp_validity_too_long.ts';
import { w_ocsp_signer_certificate_missing } from './w_ocsp_signer_certificate_missing.ts';

export type { OcspLint, OcspLintContext } from './types.ts';

/** Every OCSP lint, in the order they run (encoding and status, signer, times). */
export const ALL_OCSP_LINTS: OcspLint[] = [
  e_ocsp_der_encoding,
  e_ocsp_response_status,
  e_ocsp_responder_id,
  e_ocsp_signature_invalid,
  e_ocsp_signer_authorized,
  w_ocsp_signer_certificate_missing,
  e_ocsp_validity_too_long,
  e_ocsp_update_in_future,
  e_ocsp_outlives_signer,
];

/**
 * Parses DER OCSPResponse bytes and runs every OCSP lint. An unparsable response is itself an
 * e_ocsp_der_encoding error finding; a lint that throws becomes an error finding of that lint.
 * The response is read once: by the strict reader of the shape rootca signs when it accepts the
 * bytes (parseOcspResponseFast: canonical DER by construction, so e_ocsp_der_encoding need not
 * re-encode the whole response; issue 17.5, every pre-signed response is linted), else by the
 * schema parser.
 */
export function lintOcspResponse(der: Uint8Array, ctx: OcspLintContext): LintFinding[] {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const refusal = (lint: OcspLint, message: string): LintFinding[] => [
    { lint: lint.name, severity: 'error', message, citation: lint.citation },
  ];
  let parsed = parseOcspResponseFast(bytes);
  const strictlyRead = parsed !== undefined;
  try {
    parsed ??= parseOcspResponse(bytes);
  } catch (e) {
    return refusal(e_ocsp_der_encoding, `not an OCSP response: ${(e as Error).message}`);
  }
  const response = { der: bytes, parsed, strictlyRead };
  return ALL_OCSP_LINTS.flatMap((lint) => {
    try {
      return lint.run(response, ctx);
    } catch (e) {
      return refusal(lint, `the lint could not evaluate the response: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

/** Throws CaError OCSP_LINT_FAILED (details.findings) when any finding is an error. */
export function assertNoOcspLintErrors(findings: LintFinding[], what = 'OCSP response'): void {
  assertNoLintErrors(findings, what, 'OCSP_LINT_FAILED');
}
