/** Helpers shared by the OCSP lints. Pure: no clock, files, network or randomness (CONVENTIONS 3). */
import { verify, type KeyObject } from 'node:crypto';
import { signatureAlgorithmByOid } from '../../pki/algorithms.ts';
import { isIssuedBy, type CertificateInfo } from '../../pki/certificate-info.ts';
import { publicKeyOfSpki, verifyTbsSignature } from '../../pki/signature-verify.ts';
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

/*
 * A batch of pre-signed responses is linted with the same signer and issuer certificate objects
 * each time (issue 17.5): their public key and whether one issued the other are worked out once
 * per object, not once per response (same answers as verifyTbsSignature and isIssuedBy).
 */
const signerKeys = new WeakMap<CertificateInfo, KeyObject>();
const issuedBy = new WeakMap<CertificateInfo, WeakMap<CertificateInfo, boolean>>();

/** verifyTbsSignature with the signer certificate's key, loaded once per certificate object. */
export function verifiesWithSigner(tbsDer: Buffer, oid: string, signature: Buffer, signer: CertificateInfo): boolean {
  const info = signatureAlgorithmByOid(oid);
  if (!info) return verifyTbsSignature(tbsDer, oid, signature, signer.spkiDer); // it throws the error
  let key = signerKeys.get(signer);
  if (!key) {
    key = publicKeyOfSpki(signer.spkiDer);
    signerKeys.set(signer, key);
  }
  try {
    return verify(info.hash, tbsDer, key, signature);
  } catch {
    return false;
  }
}

/** isIssuedBy(cert, issuer), once per pair of certificate objects. */
export function isIssuedByOnce(cert: CertificateInfo, issuer: CertificateInfo): boolean {
  let byIssuer = issuedBy.get(cert);
  if (!byIssuer) {
    byIssuer = new WeakMap();
    issuedBy.set(cert, byIssuer);
  }
  let answer = byIssuer.get(issuer);
  if (answer === undefined) {
    answer = isIssuedBy(cert, issuer);
    byIssuer.set(issuer, answer);
  }
  return answer;
}
