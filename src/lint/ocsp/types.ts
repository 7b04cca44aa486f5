/**
 * Types of the OCSP response lints (issue 15.8; R-3.6: "Every certificate, CRL and OCSP response
 * is checked against its profile"). Findings share the certificate lints' shape.
 */
import type { CertificateInfo } from '../../pki/certificate-info.ts';
import type { ParsedOcspResponse } from '../../pki/ocsp.ts';
import type { LintFinding } from '../types.ts';

export type { LintFinding, LintSeverity } from '../types.ts';

export interface OcspLintContext {
  /** The certificate of the CA whose certificates the response gives the status of. */
  issuer: CertificateInfo;
  /** The certificate of the key that signed the response: the issuer itself or a delegated responder. */
  signer: CertificateInfo;
  /** The time of linting; at signing, the time of signing (CONVENTIONS 3: never read the clock here). */
  now: Date;
}

/** A response as the lints see it: its exact bytes and what they say. */
export interface LintedOcspResponse {
  der: Buffer;
  parsed: ParsedOcspResponse;
  /**
   * True when parseOcspResponseFast read it: that reader accepts only canonical DER of the shape
   * rootca signs, so all but the certificates in certs is known to re-encode to the same bytes.
   */
  strictlyRead?: boolean;
}

/** One check on an OCSP response (`e_` can refuse, `w_` only warns). */
export interface OcspLint {
  name: string;
  /** One sentence: what the lint checks. */
  description: string;
  /** One quoted line of RFC / BR / CPS with its section number. */
  citation: string;
  run(r: LintedOcspResponse, ctx: OcspLintContext): LintFinding[];
}
