/**
 * Types of the CRL lints (R-3.6: "Every certificate, CRL and OCSP response is checked against
 * its profile ... before the CA key signs it"). Findings share the certificate lints' shape, so
 * ca/ reports and refuses both the same way.
 */
import type { Certificate, CertificateList, RevokedCertificate } from '@peculiar/asn1-x509';
import type { RawEntry } from '../../pki/crl-raw-entry.ts';
import type { Reporter } from '../support.ts';
import type { LintFinding } from '../types.ts';

export type { LintFinding, LintSeverity } from '../types.ts';

export interface CrlLintContext {
  /** The certificate of the CA that issues the CRL. */
  issuer: Certificate;
  /** The time of linting; at issuance, the time of signing (CONVENTIONS 3: never read the clock here). */
  now: Date;
  /** The legacy override: RootCA1 may sign its CRLs with SHA-1. */
  allowLegacySha1: boolean;
}

/** One check on a CRL, in the style of the certificate lints (`e_` can refuse, `w_` only warns). */
export interface CrlLint {
  name: string;
  /** One sentence: what the lint checks. */
  description: string;
  /** One quoted line of RFC / BR / CPS / requirements with its section number. */
  citation: string;
  run(crl: CertificateList, ctx: CrlLintContext): LintFinding[];
  /**
   * The same check, streamed (issue 17.5): checks the CRL's own fields now and returns the check
   * of one entry, which is then given every revokedCertificates entry in order, so a long list
   * is linted without holding its entries. `head` is the CRL without its entries
   * (revokedCertificates is [] only when the list is present and empty).
   */
  begin(head: CertificateList, ctx: CrlLintContext, report: Reporter): EntryCheck | undefined;
}

/**
 * The check of one revokedCertificates entry. `clean`, when a lint gives it, looks at the entry's
 * bytes instead (issue 17.5: a million entries need not each become objects): true when the check
 * would neither report nor throw for that entry, having kept any state as the check would; false
 * (and no state changed) when the decoded entry must be given to the check, which then decides.
 */
export interface EntryCheck {
  (entry: RevokedCertificate): void;
  clean?: (entry: RawEntry) => boolean;
}
