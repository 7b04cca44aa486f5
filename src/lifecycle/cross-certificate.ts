/**
 * Cross-certification (BR 7.1.2.2; Boulder's `cross-certificate` and `cross-csr` ceremonies):
 *   - `crossCertify`: one of our roots certifies another root's key from that root's self-signed
 *     certificate: subject copied byte for byte (RootCA1's and RootCA2's have no CN), SPKI copied,
 *     the Cross-Certified Subordinate CA profile. It is an issuance (issuance/issuance.ts): lint
 *     under a throwaway key, reserve the serial, sign once, lint again, commit, then the files.
 *   - `signCrossCsr`: one of our roots signs a PKCS#10 request for its own subject bytes and key,
 *     for another CA to cross-sign; on the operation runner, one activation, nothing stored but
 *     the ceremony, its audit event and its transcript (which keeps the CSR).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CaError } from '../errors.ts';
import { getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { issueCertificate, type IssueResult } from '../issuance/issuance.ts';
import type { IssueParams } from '../issuance/issuance-checks.ts';
import { runOperation } from '../operation/runner.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { parseCertificate } from '../pki/certificate.ts';
import { assembleCertificationRequest, createCertificationRequestInfo } from '../pki/csr-build.ts';
import { acceptCsr } from '../pki/csr.ts';
import { nameToText } from '../pki/name.ts';
import { derToPem } from '../pki/pem.ts';
import { sha256Hex } from '../util/digest.ts';

/** A cross-certificate from `caName` for the root whose self-signed certificate is `certificate`. */
export type CrossCertifyParams = Omit<IssueParams, 'profile' | 'csr' | 'crossCertify' | 'application'> & {
  certificate: Uint8Array;
  /** BR 7.1.2.2.4: the other root is this organisation's or an Affiliate's (anyEKU, anyPolicy). */
  unrestricted?: boolean;
};

/** Issues the cross-certificate (BR 7.1.2.2): restricted by `purpose`, or `unrestricted` for an Affiliate. */
export async function crossCertify(inst: Installation, p: CrossCertifyParams): Promise<IssueResult> {
  const { certificate, unrestricted, ...rest } = p;
  if (unrestricted && (p.purpose || p.extKeyUsage?.length || p.extraPolicyOids?.length))
    throw new CaError(
      'PURPOSE_EKU_REFUSED',
      'an unrestricted cross-certificate carries anyExtendedKeyUsage and anyPolicy alone (BR 7.1.2.2.4, 7.1.2.10.5); give --purpose (restricted) or --unrestricted, not both',
    );
  return issueCertificate(inst, {
    ...rest,
    profile: 'subca',
    crossCertify: { certificate, unrestricted },
    requester: p.requester ?? 'cross-certification (BR 7.1.2.2)',
  });
}

export interface CrossCsrParams {
  caName: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** The CSR file (PEM); never overwritten. */
  out: string;
  signatureAlgorithm?: SignatureAlgorithmName;
}

export interface CrossCsrResult {
  csrPem: string;
  subject: string;
  sha256: string;
  outputs: string[];
  custodians: string[];
  transcriptFile: string;
  notes: string[];
}

const ACTION = 'ca.cross-csr';

/** The root's key signs a CSR for its own subject (byte for byte) and key, for another CA to cross-sign. */
export async function signCrossCsr(inst: Installation, p: CrossCsrParams): Promise<CrossCsrResult> {
  return runOperation(inst, {
    action: ACTION,
    target: p.caName,
    backup: false,
    check: ({ refuse, guard }) => {
      const ca = guard(() => getCa(inst, p.caName));
      if (ca.status !== 'active')
        refuse('CA_NOT_ACTIVE', `CA ${ca.name} is ${ca.status}; it asks nobody to cross-sign it`);
      const cert = parseCertificate(ca.certificateDer);
      const spki = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
      const info = createCertificationRequestInfo({ subject: cert.tbsCertificate.subject, subjectPublicKeyInfo: spki });
      const subjectDer = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subject));
      // The other CA copies these bytes into its cross-certificate: they must be the root's own.
      if (!info.includes(subjectDer) || !ca.certificateDer.includes(subjectDer))
        refuse('CROSS_CERTIFICATE_REFUSED', `the subject of ${ca.name} does not re-encode byte for byte`);
      const algorithm = p.signatureAlgorithm ?? ca.signatureAlgorithm;
      if (SIGNATURE_ALGORITHMS[algorithm].legacy)
        refuse('LEGACY_SHA1_REFUSED', `${algorithm} is not used for a new request; give --signature-algorithm`);
      return { ca, info, algorithm, subject: nameToText(cert.tbsCertificate.subject) };
    },
    outputs: () => [{ path: p.out, what: '--out' }],
    people: (c) => ({
      caName: c.ca.name,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      describe: { kind: 'cross-csr', subject: c.subject, infoSha256: sha256Hex(c.info) },
      prompts: {
        operator: `operator signing a cross-certification request of ${c.ca.name}`,
        quorum: `signing a CSR of ${c.ca.name}`,
      },
    }),
    work: async (c, { session, files, audit, complete }) => {
      const signature = await session.sign(c.info, c.algorithm, `cross-certification request of ${c.ca.name}`);
      const der = assembleCertificationRequest(c.info, c.algorithm, signature);
      acceptCsr(der); // proof of possession and key quality, as the other CA will check them
      const csrPem = derToPem(der, 'CERTIFICATE REQUEST');
      const sha256 = sha256Hex(der);
      files.stage(p.out, csrPem);
      inst.db
        .transaction(() => {
          audit({ subject: c.subject, csrSha256: sha256, signatureAlgorithm: c.algorithm, operator: p.operator });
          complete({
            inputs: [{ name: `${c.ca.name} certificate`, sha256: sha256Hex(c.ca.certificateDer) }],
            outputs: [{ name: 'cross-certification request', sha256 }],
            details: { subject: c.subject, csrPem, keyActivations: 1 },
          });
        })
        .immediate();
      return { csrPem, sha256, custodians: session.custodians.map((x) => x.operator.name) };
    },
    finish: (c, w, after) => ({
      csrPem: w.csrPem,
      subject: c.subject,
      sha256: w.sha256,
      outputs: after.published.written,
      custodians: w.custodians,
      transcriptFile: after.transcriptFile,
      notes: [
        ...after.published.pending.map(
          (q) => `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; the CSR is in the transcript`,
        ),
        ...after.notes,
      ],
    }),
  });
}
