/**
 * Types shared by every lint (CONVENTIONS 2, 5). A lint is one rule from RFC 5280, RFC 6960,
 * RFC 3161, the CA/Browser Forum Baseline Requirements (BR) or this CPS, checked against a
 * parsed certificate. Lints are pure: everything they may need (the issuer, the allowed
 * policies, the legacy override, the time) arrives in the LintContext.
 */
import type { Certificate } from '@peculiar/asn1-x509';

/** 'error' refuses the artefact; 'warning' is reported and recorded but does not refuse. */
export type LintSeverity = 'error' | 'warning';

/** The certificate profiles this CA issues. */
export type ProfileName = 'root' | 'subca' | 'tsa' | 'ta' | 'ocsp' | 'publication';

/** Every profile, in a stable order. */
export const PROFILE_NAMES: readonly ProfileName[] = ['root', 'subca', 'tsa', 'ta', 'ocsp', 'publication'];

export interface LintContext {
  profile: ProfileName;
  /** The issuing CA's certificate (for a self-signed root: the certificate itself). */
  issuer: Certificate;
  /** CP OIDs this issuer may assert for this profile; empty for 'root' (roots carry no policy in our profiles). */
  allowedPolicyOids: string[];
  /** The legacy override for SHA-1. */
  allowLegacySha1: boolean;
  /** The time of linting; at issuance, the time of signing (CONVENTIONS 3: never read the clock here). */
  now: Date;
  /**
   * A cross-certificate of another root's key (BR 7.1.2.2): 'unrestricted' (BR 7.1.2.2.4, an
   * Affiliate) may carry anyExtendedKeyUsage; Mozilla Root Store Policy 5.3 exempts such
   * cross-certificates from its intermediate EKU rules.
   */
  crossCertificate?: 'restricted' | 'unrestricted';
}

/** One problem found by one lint. */
export interface LintFinding {
  /** The lint's name, e.g. `e_serial_number_low_entropy`. */
  lint: string;
  severity: LintSeverity;
  message: string;
  /** The quoted source line with its section, copied from the lint. */
  citation: string;
}

/** One check, in the style of zlint/Boulder lints: `e_` lints can refuse, `w_` lints only warn. */
export interface Lint {
  name: string;
  /** One sentence: what the lint checks. */
  description: string;
  /** One quoted line of RFC / BR / CPS / requirements with its section number. */
  citation: string;
  /** The profiles the lint runs for. */
  appliesTo: ProfileName[];
  run(cert: Certificate, ctx: LintContext): LintFinding[];
}
