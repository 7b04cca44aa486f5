/**
 * Helpers shared by the lints: reading extensions, comparing encodings, effective dates.
 * Pure: no clock, files, network or randomness (CONVENTIONS 3).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  type Certificate,
  type Extension,
  KeyUsage,
  SubjectKeyIdentifier,
  type Time,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  type KeyUsageType,
} from '@peculiar/asn1-x509';
import { oidName } from '../pki/oid-names.ts';
import type { Lint, LintContext, LintFinding, LintSeverity, ProfileName } from './types.ts';

/** The shared OID names (pki/oid-names.ts), re-exported for the lints that name OIDs in findings. */
export { oidName };

export const ALL_PROFILES: ProfileName[] = ['root', 'subca', 'tsa', 'ta', 'ocsp', 'publication'];
/** Profiles whose certificates are CA certificates (basicConstraints cA TRUE). */
export const CA_PROFILES: ProfileName[] = ['root', 'subca'];
/** Profiles issued by a root to someone else (the issuer is not the certificate itself). */
export const ISSUED_PROFILES: ProfileName[] = ['subca', 'tsa', 'ta', 'ocsp', 'publication'];
/** Time-stamping profiles: a TSA and a TA (Time Authority) share the RFC 3161 2.3 profile. */
export const TIME_STAMPING_PROFILES: ProfileName[] = ['tsa', 'ta'];

/** RFC 6960 4.2.2.2.1 id-pkix-ocsp-nocheck. */
export const id_pkix_ocsp_nocheck = '1.3.6.1.5.5.7.48.1.5';
/** RFC 6962 3.3 Signed Certificate Timestamp list. */
export const id_ct_precertificateSCTs = '1.3.6.1.4.1.11129.2.4.2';
/** CA/Browser Forum reserved certificate policy arc (BR 7.1.6.1). */
export const cabforum_policy_arc = '2.23.140.1';

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Effective dates, compared with notBefore as zlint does: a rule that did not exist when a
 * certificate was issued is reported as a warning for that certificate, never as an error.
 */
export const EFFECTIVE = {
  /** BR 1.3.7 (ballot 164): serial numbers > 0 with 64 bits from a CSPRNG. */
  brSerialEntropy: new Date('2016-09-30T00:00:00Z'),
  /** BR 2.0.0 (ballot SC-062): the certificate profiles of BR 7.1.2. */
  brProfiles: new Date('2023-09-15T00:00:00Z'),
} as const;

/** Mozilla Root Store Policy 5.3: intermediates "created after January 1, 2019" carry an EKU. */
export const EFFECTIVE_MOZILLA_EKU = new Date('2019-01-01T00:00:00Z');

/** Thrown when an extension value cannot be decoded; lintCertificate reports it as an error of that lint. */
export class ExtensionDecodeError extends Error {
  readonly oid: string;
  constructor(oid: string, cause: unknown) {
    super(`extension ${oidName(oid)} could not be decoded: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'ExtensionDecodeError';
    this.oid = oid;
  }
}

export interface Reporter {
  error(message: string): void;
  warning(message: string): void;
  add(severity: LintSeverity, message: string): void;
}

export interface LintMeta {
  name: string;
  description: string;
  citation: string;
  appliesTo: ProfileName[];
}

/** Builds a Lint from its metadata and a check that reports through `report`. */
export function defineLint(
  meta: LintMeta,
  check: (cert: Certificate, ctx: LintContext, report: Reporter) => void,
): Lint {
  return {
    ...meta,
    appliesTo: [...meta.appliesTo],
    run(cert: Certificate, ctx: LintContext): LintFinding[] {
      const findings: LintFinding[] = [];
      const add = (severity: LintSeverity, message: string): void => {
        findings.push({ lint: meta.name, severity, message, citation: meta.citation });
      };
      check(cert, ctx, { add, error: (m) => add('error', m), warning: (m) => add('warning', m) });
      return findings;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Bytes and encodings

export function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

export function bytesEqual(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean {
  const x = toBytes(a);
  const y = toBytes(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export function toHex(data: ArrayBuffer | ArrayBufferView): string {
  return Array.from(toBytes(data), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** DER encoding of an asn1-schema object. */
export function derOf(value: unknown): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(value));
}

/** Unsigned big-endian bytes to a BigInt. */
export function bigintOf(data: ArrayBuffer | ArrayBufferView): bigint {
  const hex = toHex(data);
  return hex.length === 0 ? 0n : BigInt(`0x${hex}`);
}

/** Bit length of a non-negative BigInt. */
export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

// ---------------------------------------------------------------------------------------------
// Extensions

export function extensionsOf(cert: Certificate): Extension[] {
  return [...(cert.tbsCertificate.extensions ?? [])];
}

export function findExtensions(cert: Certificate, oid: string): Extension[] {
  return extensionsOf(cert).filter((e) => e.extnID === oid);
}

/** The first instance of an extension (duplicates are e_ext_duplicate's business). */
export function findExtension(cert: Certificate, oid: string): Extension | undefined {
  return extensionsOf(cert).find((e) => e.extnID === oid);
}

/** Decodes an extension value; a malformed value throws ExtensionDecodeError. */
export function decodeExtension<T>(ext: Extension, type: new () => T): T {
  try {
    return AsnConvert.parse(ext.extnValue, type);
  } catch (e) {
    throw new ExtensionDecodeError(ext.extnID, e);
  }
}

export function basicConstraintsOf(cert: Certificate): BasicConstraints | undefined {
  const ext = findExtension(cert, id_ce_basicConstraints);
  return ext ? decodeExtension(ext, BasicConstraints) : undefined;
}

/** True when basicConstraints is present with cA TRUE (RFC 5280 4.2.1.9). */
export function isCaCertificate(cert: Certificate): boolean {
  return basicConstraintsOf(cert)?.cA === true;
}

/** The asserted keyUsage bits, or undefined when the extension is absent. */
export function keyUsagesOf(cert: Certificate): Set<KeyUsageType> | undefined {
  const ext = findExtension(cert, id_ce_keyUsage);
  return ext ? new Set(decodeExtension(ext, KeyUsage).toJSON()) : undefined;
}

/** The subjectKeyIdentifier bytes, or undefined when absent. */
export function subjectKeyIdOf(cert: Certificate): Uint8Array | undefined {
  const ext = findExtension(cert, id_ce_subjectKeyIdentifier);
  return ext ? toBytes(decodeExtension(ext, SubjectKeyIdentifier).buffer) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Time

export function dateOf(t: Time): Date {
  return t.utcTime ?? t.generalTime ?? new Date(Number.NaN);
}

export function notBeforeOf(cert: Certificate): Date {
  return dateOf(cert.tbsCertificate.validity.notBefore);
}

export function notAfterOf(cert: Certificate): Date {
  return dateOf(cert.tbsCertificate.validity.notAfter);
}

/** 'error' when the certificate was issued (notBefore) on or after `effective`, else 'warning'. */
export function severitySince(cert: Certificate, effective: Date): LintSeverity {
  return notBeforeOf(cert).getTime() >= effective.getTime() ? 'error' : 'warning';
}

/** Suffix explaining why an effective-dated rule only warns. */
export function legacyNote(severity: LintSeverity, effective: Date): string {
  return severity === 'warning'
    ? ` (a warning only: the certificate predates the rule's effective date ${isoDay(effective)})`
    : '';
}

export function isoDay(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'invalid date' : d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// URIs

/** The scheme of a URI, lower-cased, or '' when it has none. */
export function uriScheme(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return m ? m[1]!.toLowerCase() : '';
}

/** True for an absolute http:// URL with a host. */
export function isHttpUrl(uri: string): boolean {
  return /^http:\/\/[^/?#\s]+/i.test(uri) && !/\s/.test(uri);
}
