/**
 * Helpers shared by the CRL lints. Pure: no clock, files, network or randomness (CONVENTIONS 3).
 */
import type { CertificateList, Extension, RevokedCertificate, Time } from '@peculiar/asn1-x509';
import type { RawEntry } from '../../pki/crl-raw-entry.ts';
import type { LintSeverity } from '../types.ts';
import type { Reporter } from '../support.ts';
import type { CrlLint, CrlLintContext, EntryCheck, LintFinding } from './types.ts';

export { bytesEqual, derOf, oidName, toBytes, toHex } from '../support.ts';

export interface CrlLintMeta {
  name: string;
  description: string;
  citation: string;
}

/** Builds a CrlLint from its metadata and a check of the CRL's own fields that reports through `report`. */
export function defineCrlLint(
  meta: CrlLintMeta,
  check: (crl: CertificateList, ctx: CrlLintContext, report: Reporter) => void,
): CrlLint {
  return crlLintOf(meta, (crl, ctx, report) => {
    check(crl, ctx, report);
    return undefined;
  });
}

/**
 * Builds a CrlLint that checks the entries: `check` looks at the CRL's own fields and returns
 * the check of one entry, rather than walking the list itself, so `run` gives it the entries of
 * a parsed CRL and lintCrl streams them from the DER (issue 17.5).
 */
export function defineCrlEntryLint(
  meta: CrlLintMeta,
  check: (crl: CertificateList, ctx: CrlLintContext, report: Reporter) => EntryCheck,
): CrlLint {
  return crlLintOf(meta, check);
}

function crlLintOf(
  meta: CrlLintMeta,
  begin: (crl: CertificateList, ctx: CrlLintContext, report: Reporter) => EntryCheck | undefined,
): CrlLint {
  return {
    ...meta,
    run(crl: CertificateList, ctx: CrlLintContext): LintFinding[] {
      const findings: LintFinding[] = [];
      const each = begin(crl, ctx, findingsReporter(meta, findings));
      if (each) for (const entry of crl.tbsCertList.revokedCertificates ?? []) each(entry);
      return findings;
    },
    begin,
  };
}

/** An entry check with its byte-level `clean` (see EntryCheck). */
export function entryCheck(each: (entry: RevokedCertificate) => void, clean: (entry: RawEntry) => boolean): EntryCheck {
  return Object.assign(each, { clean });
}

/** A Reporter that appends the lint's findings to `findings`. */
export function findingsReporter(meta: CrlLintMeta, findings: LintFinding[]): Reporter {
  const add = (severity: LintSeverity, message: string): void => {
    findings.push({ lint: meta.name, severity, message, citation: meta.citation });
  };
  return { add, error: (m) => add('error', m), warning: (m) => add('warning', m) };
}

/** crlExtensions, in order. */
export function crlExtensionsOf(crl: CertificateList): Extension[] {
  return [...(crl.tbsCertList.crlExtensions ?? [])];
}

/** The first instance of a CRL extension (duplicates are e_crl_ext_duplicate's business). */
export function findCrlExtension(crl: CertificateList, oid: string): Extension | undefined {
  return crlExtensionsOf(crl).find((e) => e.extnID === oid);
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
