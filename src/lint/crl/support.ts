/**
 * Helpers shared by the CRL lints. Pure: no clock, files, network or randomness (CONVENTIONS 3).
 */
import type { CertificateList, Extension, RevokedCertificate, Time } from '@peculiar/asn1-x509';
import type { LintSeverity } from '../types.ts';
import type { Reporter } from '../support.ts';
import type { CrlLint, CrlLintContext, LintFinding } from './types.ts';

export { bytesEqual, derOf, oidName, toBytes, toHex } from '../support.ts';

export interface CrlLintMeta {
  name: string;
  description: string;
  citation: string;
}

/** Builds a CrlLint from its metadata and a check that reports through `report`. */
export function defineCrlLint(
  meta: CrlLintMeta,
  check: (crl: CertificateList, ctx: CrlLintContext, report: Reporter) => void,
): CrlLint {
  return {
    ...meta,
    run(crl: CertificateList, ctx: CrlLintContext): LintFinding[] {
      const findings: LintFinding[] = [];
      const add = (severity: LintSeverity, message: string): void => {
        findings.push({ lint: meta.name, severity, message, citation: meta.citation });
      };
      check(crl, ctx, { add, error: (m) => add('error', m), warning: (m) => add('warning', m) });
      return findings;
    },
  };
}

/** crlExtensions, in order. */
export function crlExtensionsOf(crl: CertificateList): Extension[] {
  return [...(crl.tbsCertList.crlExtensions ?? [])];
}

/** The first instance of a CRL extension (duplicates are e_crl_ext_duplicate's business). */
export function findCrlExtension(crl: CertificateList, oid: string): Extension | undefined {
  return crlExtensionsOf(crl).find((e) => e.extnID === oid);
}

export function revokedOf(crl: CertificateList): RevokedCertificate[] {
  return [...(crl.tbsCertList.revokedCertificates ?? [])];
}

/** The first instance of an entry extension. */
export function findEntryExtension(entry: RevokedCertificate, oid: string): Extension | undefined {
  return (entry.crlEntryExtensions ?? []).find((e) => e.extnID === oid);
}

/** How an entry is named in messages: its serial number in hex. */
export function entryLabel(entry: RevokedCertificate): string {
  return `entry ${Buffer.from(entry.userCertificate).toString('hex')}`;
}

export function dateOfTime(t: Time): Date {
  return t.utcTime ?? t.generalTime ?? new Date(Number.NaN);
}

/** `t` plus `months` calendar months, in UTC; a day the target month lacks becomes its last day (29 Feb + 12 months = 28 Feb). */
export function addUtcMonths(t: Date, months: number): Date {
  const d = new Date(t.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d;
}
