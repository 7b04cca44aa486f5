/**
 * The root certificate is linted before the root key signs it (issue 15.3; BR 6.1.1.1: the CA
 * SHALL "generate the CA Key Pair ... in accordance with the Key Generation Script"; CONVENTIONS
 * 5), as issuance lints: a TBS signed with a throwaway key of the same type is linted with the
 * `root` profile, then the real key signs it once and the result is linted again.
 *
 * A root ceremony is stricter than issuance: every finding refuses it, warnings included —
 * except those an explicit legacy allowance in the ceremony file waives. An allowance names the
 * real certificate the root mirrors by its SHA-256 fingerprint (one of the published SECOM roots
 * below, ../shared/reference/secom-roots) and the lints it waives; only deviations that real
 * certificate has can be waived, the subject must be the real one, and errors never are.
 */
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Extension } from '@peculiar/asn1-x509';
import { keyAlgorithmOf, type RootCeremony } from '../config/ceremony.ts';
import { CaError } from '../errors.ts';
import { formatFindings, lintCertificate, type LintFinding } from '../lint/index.ts';
import { SIGNATURE_ALGORITHMS } from '../pki/algorithms.ts';
import { assembleSignedCertificate, createTbsCertificate } from '../pki/certificate.ts';
import { basicConstraints, keyUsage, subjectKeyIdentifier } from '../pki/extensions.ts';
import { type createName, nameToText } from '../pki/name.ts';

/** A real certificate a legacy row may mirror: its subject and the lints it breaks (all an allowance may waive). */
export interface LegacyRoot {
  name: string;
  subject: string;
  deviations: string[];
}

/** The published SECOM roots that deviate from today's root profile, by SHA-256 fingerprint (lower-case hex). */
export const LEGACY_ROOTS: Record<string, LegacyRoot> = {
  e75e72ed9f560eec6eb4800073a43fc3ad19195a392282017895974a99026b6c: {
    name: 'Security Communication RootCA1 (Security_Communication_Root_CA.crt)',
    subject: 'C=JP, O=SECOM Trust.net, OU=Security Communication RootCA1',
    deviations: ['e_key_usage_missing_or_not_critical', 'e_sha1_signature', 'w_ca_subject_missing_attributes'],
  },
  '513b2cecb810d4cde5dd85391adfc6c2dd60d87bb736d2b521484aa47a0ebef6': {
    name: 'Security Communication RootCA2 (Security_Communication_RootCA2.crt)',
    subject: 'C=JP, O=SECOM Trust Systems CO.,LTD., OU=Security Communication RootCA2',
    deviations: ['w_ca_subject_missing_attributes'],
  },
};

/** What the lint of a root let through: the findings the allowance waived (recorded in the transcript). */
export interface RootLintResult {
  waived: LintFinding[];
}

/** The allowance of a ceremony file, checked against the real certificate it names; throws CEREMONY_ALLOWANCE_INVALID. */
export function checkAllowance(c: RootCeremony, subject: ReturnType<typeof createName>): LegacyRoot | undefined {
  const a = c.legacyAllowance;
  if (!a) return undefined;
  const fingerprint = a.sha256.replaceAll(':', '').toLowerCase();
  const real = LEGACY_ROOTS[fingerprint];
  const refuse = (why: string): never => {
    throw new CaError('CEREMONY_ALLOWANCE_INVALID', `legacyAllowance: ${why}`, { details: { sha256: fingerprint } });
  };
  if (!real)
    return refuse(
      `SHA-256 ${fingerprint} is not a published root this installation may mirror (known: ${Object.values(LEGACY_ROOTS)
        .map((r) => r.name)
        .join('; ')})`,
    );
  const text = nameToText(subject);
  if (text !== real.subject)
    refuse(`the subject ${text} is not the subject of ${real.name} (${real.subject}); an allowance mirrors it exactly`);
  const extra = a.waives.filter((l) => !real.deviations.includes(l));
  if (extra.length)
    refuse(
      `${real.name} does not break ${extra.join(', ')}; only its own deviations can be waived (${real.deviations.join(', ')})`,
    );
  return real;
}

/** The root's extensions from the ceremony file, in the file's order (order and criticality are part of the profile). */
export function rootExtensions(c: RootCeremony, spki: Uint8Array): Extension[] {
  return c.extensions.map((e) => {
    switch (e.type) {
      case 'subjectKeyIdentifier':
        return subjectKeyIdentifier(spki, e.critical);
      case 'keyUsage':
        return keyUsage(e.usages, e.critical);
      case 'basicConstraints':
        return basicConstraints({ cA: e.cA, pathLenConstraint: e.pathLenConstraint }, e.critical);
    }
  });
}

/** The root's TBS: self-issued, from the ceremony file. */
export function rootTbs(
  c: RootCeremony,
  x: { subject: ReturnType<typeof createName>; notBefore: Date; notAfter: Date; serial: Uint8Array; spki: Uint8Array },
): ReturnType<typeof createTbsCertificate> {
  return createTbsCertificate({
    serialNumber: x.serial,
    signatureAlgorithm: c.signatureAlgorithm,
    issuer: x.subject,
    subject: x.subject,
    notBefore: x.notBefore,
    notAfter: x.notAfter,
    subjectPublicKeyInfo: x.spki,
    extensions: rootExtensions(c, x.spki),
  });
}

/**
 * Lints a (pre- or finally) signed root certificate with the `root` profile. Refuses
 * (ROOT_PROFILE_REFUSED, each rule named) on any error, on any warning the allowance does not
 * waive, and on a waiver the certificate does not need.
 */
export function lintRootCertificate(certDer: Uint8Array, c: RootCeremony, now: Date): RootLintResult {
  const findings = lintCertificate(certDer, {
    profile: 'root',
    issuer: AsnConvert.parse(certDer, Certificate),
    allowedPolicyOids: [],
    allowLegacySha1: c.legacySha1,
    now,
  });
  const waives = new Set(c.legacyAllowance?.waives ?? []);
  const refused = findings.filter((f) => f.severity === 'error' || !waives.has(f.lint));
  const waived = findings.filter((f) => !refused.includes(f));
  if (refused.length)
    throw new CaError(
      'ROOT_PROFILE_REFUSED',
      `the root certificate the ceremony file describes breaks ${refused.length} rule(s); nothing was signed:\n${formatFindings(refused)}`,
      { details: { findings: refused.map(({ lint, severity, message }) => ({ lint, severity, message })) } },
    );
  const unused = [...waives].filter((l) => !waived.some((f) => f.lint === l));
  if (unused.length)
    throw new CaError(
      'CEREMONY_ALLOWANCE_INVALID',
      `legacyAllowance waives ${unused.join(', ')}, which this root does not break; remove it`,
    );
  return { waived };
}

/** A signed root for the lint: the TBS signed with a throwaway key, never the CA key. */
export function throwawaySigned(c: RootCeremony, tbsDer: Buffer, key: KeyObject): Buffer {
  const signature = cryptoSign(SIGNATURE_ALGORITHMS[c.signatureAlgorithm].hash, tbsDer, key);
  return assembleSignedCertificate(tbsDer, c.signatureAlgorithm, signature);
}

/** One throwaway key per algorithm and size per process (never stored): it only gives the linted TBS a signature of the right shape. */
const previewKeys = new Map<string, { privateKey: KeyObject; spki: Buffer }>();
function previewKey(c: RootCeremony): { privateKey: KeyObject; spki: Buffer } {
  const alg = keyAlgorithmOf(c);
  const kind = alg.kind === 'rsa' ? `rsa:${alg.modulusBits}` : `ec:${alg.curve}`;
  let key = previewKeys.get(kind);
  if (!key) {
    const pair =
      alg.kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: alg.modulusBits })
        : generateKeyPairSync('ec', { namedCurve: alg.curve });
    key = { privateKey: pair.privateKey, spki: pair.publicKey.export({ format: 'der', type: 'spki' }) };
    previewKeys.set(kind, key);
  }
  return key;
}

/**
 * Before anyone is asked for a passphrase and before a key exists: the root the file describes,
 * with a throwaway key of the configured type in place of the CA key, passes the root lint.
 */
export function previewRootLint(
  c: RootCeremony,
  x: { subject: ReturnType<typeof createName>; notBefore: Date; notAfter: Date; serial: Uint8Array; now: Date },
): RootLintResult {
  checkAllowance(c, x.subject);
  const key = previewKey(c);
  const tbs = rootTbs(c, { ...x, spki: key.spki });
  return lintRootCertificate(throwawaySigned(c, tbs.der, key.privateKey), c, x.now);
}

/** A SHA-1 root is allowed but said so in the result and the audit event. */
export function legacyWarnings(c: RootCeremony): string[] {
  const warnings: string[] = [];
  if (SIGNATURE_ALGORITHMS[c.signatureAlgorithm].legacy)
    warnings.push(
      `LEGACY: ${c.ca.name} is signed with ${c.signatureAlgorithm}. SHA-1 is allowed only for this legacy root (R-1.3); relying parties may reject it.`,
    );
  return warnings;
}

/** What a legacy allowance let through, said in the result, the audit event and the transcript. */
export function allowanceWarnings(c: RootCeremony, waived: { lint: string; message: string }[]): string[] {
  const a = c.legacyAllowance;
  if (!a) return [];
  return waived.map(
    (f) => `LEGACY ALLOWANCE (mirrors ${a.mirrors}, SHA-256 ${a.sha256}): ${f.lint} waived: ${f.message}`,
  );
}
