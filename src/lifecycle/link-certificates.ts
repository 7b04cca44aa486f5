/**
 * A CA's own certificates made at changeover (CPS 5.6, R-9.1; RFC 4210 4.4 "Root CA Key
 * Update"): the renewed self-signed certificate (same key), the new key's self-signed one
 * (NewWithNew), and the link certificates between the keys:
 *   - OldWithNew: the OLD public key certified by the NEW private key. A relying party that
 *     trusts the new root reaches certificates issued under the old key through it.
 *   - NewWithOld: the NEW public key certified by the OLD private key. A relying party that
 *     trusts the old root reaches certificates issued under the new key through it.
 * All keep the CA's subject (subject = issuer Name, so they are self-issued, RFC 5280 6.1) and
 * the current certificate's extensions, with the subjectKeyIdentifier of the certified key;
 * a link certificate also carries an authorityKeyIdentifier naming the signing key, which is
 * what lets path builders (OpenSSL's among them) tell the keys apart under one Name.
 */
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
  type Extension,
} from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { e_authority_key_identifier } from '../lint/e_authority_key_identifier.ts';
import { e_validity_exceeds_issuer } from '../lint/e_validity_exceeds_issuer.ts';
import {
  assertNoLintErrors,
  lintCertificate,
  lintsForProfile,
  type LintContext,
  type LintFinding,
} from '../lint/index.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { assembleSignedCertificate, createTbsCertificate, parseCertificate, tbsBytesOf } from '../pki/certificate.ts';
import { authorityKeyIdentifier, keyIdentifierFromSpki, subjectKeyIdentifier } from '../pki/extensions.ts';
import { serialToHex } from '../pki/serial.ts';
import { throwawayLike } from '../status/crl-and-ocsp.ts';
import type { ChangeoverKind } from '../store/ca-changeover-certificates.ts';

export type OwnCertificateKind = ChangeoverKind;

/** The file-name suffix relying parties see for each kind (e.g. certs/NAME-oldwithnew.crt). */
export const KIND_SUFFIX: Record<OwnCertificateKind, string> = {
  renewed: '',
  'new-with-new': '',
  'old-with-new': '-oldwithnew',
  'new-with-old': '-newwithold',
};

export interface OwnCertificatePlan {
  kind: OwnCertificateKind;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: SignatureAlgorithmName;
  /** The key certified (SubjectPublicKeyInfo DER). */
  subjectSpki: Buffer;
  /** The key that signs. */
  signerSpki: Buffer;
  tbsDer: Buffer;
  /** The same TBS signed by a throwaway key of the signer's type: what was linted before anyone signed. */
  preCertificate: Buffer;
  preFindings: LintFinding[];
}

export interface PlanParams {
  kind: OwnCertificateKind;
  /** The CA's current certificate: subject and extensions are taken from it. */
  template: Buffer;
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: SignatureAlgorithmName;
  subjectSpki: Buffer;
  signerSpki: Buffer;
  /** The certificate of the signing key, for the lints (null: the certificate signs itself). */
  signerCertificate: Buffer | null;
  now: Date;
}

/** The template's extensions with the key identifiers of this certificate's keys, in the template's order. */
function extensionsFor(template: Certificate, subjectSpki: Buffer, signerSpki: Buffer): Extension[] {
  const selfSigned = subjectSpki.equals(signerSpki);
  const out: Extension[] = [];
  let akiPlaced = false;
  for (const ext of template.tbsCertificate.extensions ?? []) {
    if (ext.extnID === id_ce_subjectKeyIdentifier) {
      out.push(subjectKeyIdentifier(subjectSpki, ext.critical));
      if (!selfSigned && !akiPlaced) {
        out.push(authorityKeyIdentifier(keyIdentifierFromSpki(signerSpki)));
        akiPlaced = true;
      }
    } else if (ext.extnID === id_ce_authorityKeyIdentifier) {
      if (!akiPlaced) {
        out.push(authorityKeyIdentifier(keyIdentifierFromSpki(signerSpki)));
        akiPlaced = true;
      }
    } else out.push(ext);
  }
  if (!out.some((e) => e.extnID === id_ce_subjectKeyIdentifier)) {
    throw new CaError(
      'TEMPLATE_WITHOUT_SKI',
      'the current CA certificate has no subjectKeyIdentifier; a changeover needs key identifiers to link the keys (RFC 5280 4.2.1.2)',
    );
  }
  if (!selfSigned && !akiPlaced) out.push(authorityKeyIdentifier(keyIdentifierFromSpki(signerSpki)));
  return out;
}

/**
 * The lints of the root profile. For a link certificate the issuer is the certificate of the
 * signing key, and two lints are run as for an issued certificate: the AKI must match the
 * signer's SKI (the root-profile form compares it with the certificate's own SKI, true only
 * when self-signed), and the validity must lie within the signer's (RFC 4210 4.4: a link
 * lives at most until the old key's certificate expires).
 */
export function lintOwnCertificate(
  der: Buffer,
  signerCertificate: Buffer | null,
  now: Date,
  signatureAlgorithm: SignatureAlgorithmName,
): LintFinding[] {
  const allowLegacySha1 = SIGNATURE_ALGORITHMS[signatureAlgorithm].legacy;
  if (!signerCertificate) {
    return lintCertificate(der, {
      profile: 'root',
      issuer: parseCertificate(der),
      allowedPolicyOids: [],
      allowLegacySha1,
      now,
    });
  }
  const base = lintCertificate(der, {
    profile: 'root',
    issuer: parseCertificate(signerCertificate),
    allowedPolicyOids: [],
    allowLegacySha1,
    now,
  });
  const cert = parseCertificate(der);
  const asIssued: LintContext = {
    profile: 'subca',
    issuer: parseCertificate(signerCertificate),
    allowedPolicyOids: [],
    allowLegacySha1,
    now,
  };
  return [
    ...base.filter((f) => f.lint !== e_authority_key_identifier.name),
    ...e_authority_key_identifier.run(cert, asIssued),
    ...e_validity_exceeds_issuer.run(cert, asIssued),
  ];
}

/** Builds the TBS and lints it under a throwaway key; refuses (LINT_FAILED) before any key is activated. */
export function planOwnCertificate(p: PlanParams): OwnCertificatePlan {
  if (!lintsForProfile('root').some((l) => l.name === e_authority_key_identifier.name))
    throw new Error('the root lint set lost e_authority_key_identifier');
  const template = parseCertificate(p.template);
  const tbs = createTbsCertificate({
    serialNumber: p.serial,
    signatureAlgorithm: p.signatureAlgorithm,
    issuer: template.tbsCertificate.subject,
    subject: template.tbsCertificate.subject,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    subjectPublicKeyInfo: p.subjectSpki,
    extensions: extensionsFor(template, p.subjectSpki, p.signerSpki),
  });
  const alg = SIGNATURE_ALGORITHMS[p.signatureAlgorithm];
  const preCertificate = assembleSignedCertificate(
    tbs.der,
    p.signatureAlgorithm,
    cryptoSign(alg.hash, tbs.der, throwawayLike(p.signerSpki)),
  );
  // A self-signed pre-certificate is linted as its own issuer; a link one against the signer's certificate.
  const preFindings = lintOwnCertificate(preCertificate, p.signerCertificate, p.now, p.signatureAlgorithm);
  assertNoLintErrors(preFindings, `the ${p.kind} certificate`);
  return {
    kind: p.kind,
    serialHex: serialToHex(p.serial),
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    signatureAlgorithm: p.signatureAlgorithm,
    subjectSpki: p.subjectSpki,
    signerSpki: p.signerSpki,
    tbsDer: tbs.der,
    preCertificate,
    preFindings,
  };
}

/**
 * After the key signed: the TBS is the linted one byte for byte, the signature verifies with
 * the signing key, the lints pass again, and the DER re-encodes to itself.
 */
export function finishOwnCertificate(
  plan: OwnCertificatePlan,
  signature: Uint8Array,
  signerCertificate: Buffer | null,
  now: Date,
): { der: Buffer; warnings: LintFinding[] } {
  const der = assembleSignedCertificate(plan.tbsDer, plan.signatureAlgorithm, signature);
  if (!tbsBytesOf(der).equals(tbsBytesOf(plan.preCertificate)))
    throw new CaError('TBS_CHANGED', `the signed ${plan.kind} TBS differs from the linted one`);
  const key = createPublicKey({ key: plan.signerSpki, format: 'der', type: 'spki' });
  if (!cryptoVerify(SIGNATURE_ALGORITHMS[plan.signatureAlgorithm].hash, plan.tbsDer, key, signature)) {
    throw new CaError(
      'SIGNATURE_INVALID',
      `the ${plan.kind} certificate's signature does not verify with the signing key`,
    );
  }
  const findings = lintOwnCertificate(der, signerCertificate ?? null, now, plan.signatureAlgorithm);
  assertNoLintErrors(findings, `the signed ${plan.kind} certificate`);
  const canonical = Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Certificate)));
  if (!canonical.equals(der))
    throw new CaError('DER_NOT_CANONICAL', `the ${plan.kind} certificate does not re-encode to the same DER`);
  return { der, warnings: findings.filter((f) => f.severity === 'warning') };
}

/** SubjectPublicKeyInfo DER of a certificate. */
export function spkiOf(certificateDer: Buffer): Buffer {
  return Buffer.from(AsnConvert.serialize(parseCertificate(certificateDer).tbsCertificate.subjectPublicKeyInfo));
}
