/** Helpers shared by the OCSP lints. Pure: no clock, files, network or randomness (CONVENTIONS 3). */
import type { Reporter } from '../support.ts';
import type { LintSeverity } from '../types.ts';
import type { LintedOcspResponse, LintFinding, OcspLint, OcspLintContext } from './types.ts';

export interface OcspLintMeta {
  name: string;
  description: string;
  citation: string;
}

/** Builds an OcspLint from its metadata and a check that reports through `report`. */
export function defineOcspLint(
  meta: OcspLintMeta,
  check: (r: LintedOcspResponse, ctx: OcspLintContext, report: Reporter) => void,
): OcspLint {
  return {
    ...meta,
    run(r: LintedOcspResponse, ctx: OcspLintContext): LintFinding[] {
      const findings: LintFinding[] = [];
      const add = (severity: LintSeverity, message: string): void => {
        findings.push({ lint: meta.name, severity, message, citation: meta.citation });
      };
      check(r, ctx, { add, error: (m) => add('error', m), warning: (m) => add('warning', m) });
      return findings;
    },
  };
}

/** True when two certificates are the same certificate (same DER). */
export function sameCertificate(a: { der: Buffer }, b: { der: Buffer }): boolean {
  return a.der.equals(b.der);
}
