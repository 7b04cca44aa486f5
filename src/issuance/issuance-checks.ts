/**
 * Issuance steps 1-2 (issuance.ts): the inputs checked and the TBS built and linted under a
 * throwaway key, before any custodian is asked for anything (CONVENTIONS 5).
 */
import { createPublicKey, sign as cryptoSign } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { Name } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { assertNoLintErrors, lintCertificate } from '../lint/index.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { assembleSignedCertificate, createTbsCertificate, parseCertificate } from '../pki/certificate.ts';
import { acceptCrossCertifiedRoot, type CrossCertifiedSubject } from '../pki/cross-certified.ts';
import { acceptCsr } from '../pki/csr.ts';
import { keyIdentifierFromSpki } from '../pki/extensions.ts';
import {
  acceptSubject,
  checkProfileOptions,
  PROFILES,
  validityFor,
  type IssuedProfileName,
  type PolicyPurpose,
  type ProfileOptions,
} from '../pki/profiles.ts';
import { NAME_CONSTRAINT_OPTIONS } from '../pki/name-constraints.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom, serialToHex } from '../pki/serial.ts';
import { resolveSubcaPurpose } from '../pki/subca-purposes.ts';
import { openEnding } from '../lifecycle/ca-ending.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import type { Application } from './applications.ts';
import { crossCertificatePolicies, UNRESTRICTED_EKU, type CrossCertification } from './cross-certification.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { checkDistinct } from '../people/permissions.ts';
import { caPolicies, isReservedBrPolicy } from './policies.ts';
import { throwawayLike } from '../status/crl-and-ocsp.ts';
import type { Checks } from '../operation/refusals.ts';

export interface IssueParams extends ProfileOptions {
  /** The CA Administrator who performs the issuance (CPS 5.2.1). */
  operator: string;
  caName: string;
  profile: IssuedProfileName;
  /** The PKCS#10 request (PEM or DER); absent only for a cross-certificate. */
  csr?: Uint8Array;
  /** A cross-certificate (BR 7.1.2.2): the other root's certificate is the request (cross-certification.ts). */
  crossCertify?: CrossCertification;
  /** Who asked for it (organisation / contact), recorded with the certificate. */
  requester?: string;
  validityDays?: number;
  /** Extra CP OIDs: must be registered for this CA or CA/B Forum reserved (2.23.140.1.*). */
  extraPolicyOids?: string[];
  /** Defaults to the CA's own signature algorithm. */
  signatureAlgorithm?: SignatureAlgorithmName;
  /** explicit, audited override to issue with SHA-1. */
  allowLegacySha1?: boolean;
  witness: string;
  passphrases: PassphraseSource;
  /** Output files (never overwritten); relative to the working folder. */
  outPem?: string;
  outDer?: string;
  /** Set by issueFromApplication: the approved application this issuance fulfils. */
  application?: Application;
}

export type Checked = ReturnType<typeof checkIssuance>;
export type Prepared = Checked & ReturnType<typeof prepareTbs>;

/** 1. Inputs (R-3.1-R-3.4, R-1.2, R-1.3, R-3.5), refused before anyone is asked for anything. */
export function checkIssuance(inst: Installation, p: IssueParams, { refuse, guard }: Checks) {
  const profile =
    PROFILES[p.profile] ??
    refuse('PROFILE_UNKNOWN', `unknown profile ${p.profile}; profiles: ${Object.keys(PROFILES).join(', ')}`);
  const ca: CaSummary = guard(() => getCa(inst, p.caName));
  if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `CA ${ca.name} is ${ca.status} and cannot issue`);
  // A compromise or termination that began but did not finish keeps the CA 'active' so the
  // run can resume; it must not issue in between (its resumed run would revoke the result).
  const ending = openEnding(inst, ca.id);
  if (ending)
    refuse(
      'CA_ENDING',
      `CA ${ca.name} has an unfinished ${ending.kind} (started ${ending.startedAt}); finish it with rootca ca ${ending.kind === 'termination' ? 'terminate' : 'compromise'} before anything is issued`,
    );
  // A cross-certificate is a decision between roots, taken at its ceremony, not an RA application.
  if (!p.application && !p.crossCertify && inst.config.issuance.requireApplicationFor.includes(p.profile)) {
    refuse(
      'APPLICATION_REQUIRED',
      `${p.profile} certificates are issued only from an approved application (R-3.5): use --application ID (config issuance.requireApplicationFor)`,
    );
  }
  if (p.application)
    guard(() =>
      checkDistinct('certificate.issue', { operator: [p.operator], approver: [p.application!.decidedBy ?? ''] }),
    );
  const csr = guard(() => acceptRequest(inst, p));
  const options: ProfileOptions = profileOptionsOf(p);
  guard(() => checkProfileOptions(profile, options));
  // BR 7.1.2.2: a cross-certificate keeps the other root's subject byte for byte (RootCA1's has no CN).
  const subject: Name = csr.cross ? csr.requested.subject : guard(() => acceptSubject(profile, csr.requested.subject));
  const signatureAlgorithm = p.signatureAlgorithm ?? ca.signatureAlgorithm;
  const alg = SIGNATURE_ALGORITHMS[signatureAlgorithm];
  const issuerCert = parseCertificate(ca.certificateDer);
  const issuerKey = createPublicKey({
    key: Buffer.from(AsnConvert.serialize(issuerCert.tbsCertificate.subjectPublicKeyInfo)),
    format: 'der',
    type: 'spki',
  });
  if (alg.keyKind !== (issuerKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ecdsa'))
    refuse('ALGORITHM_MISMATCH', `${signatureAlgorithm} does not fit the ${ca.name} key`);
  if (alg.legacy && !p.allowLegacySha1) {
    refuse(
      'LEGACY_SHA1_REFUSED',
      `${ca.name} signs with ${signatureAlgorithm}: new certificates with SHA-1 are refused unless --allow-legacy-sha1 is given (R-1.3), or choose --signature-algorithm sha256WithRSAEncryption`,
    );
  }
  const policyOids = guard(() => policiesFor(inst, p, options, ca, profile.policyPurpose));
  const validity = guard(() =>
    validityFor(profile, {
      notBefore: inst.clock.now(),
      requestedDays: p.validityDays,
      // A cross-certificate outlives neither root (BR 7.1.2.2.1 leaves it to the CA; RFC 5280 6.1 needs both).
      issuerNotAfter: new Date(Math.min(Date.parse(ca.notAfter), csr.cross?.notAfter.getTime() ?? Infinity)),
    }),
  );
  return { profile, ca, csr, options, subject, signatureAlgorithm, alg, issuerCert, issuerKey, policyOids, validity };
}

/** The request's subject and key: a CSR, or the other root's self-signed certificate for a cross-certificate. */
function acceptRequest(inst: Installation, p: IssueParams) {
  if (p.crossCertify) {
    const cross: CrossCertifiedSubject = acceptCrossCertifiedRoot(p.crossCertify.certificate, inst.clock.now());
    return { der: cross.der, requested: cross, cross };
  }
  if (!p.csr) throw new CaError('OPTION_REQUIRED', 'an issuance needs a CSR');
  return { ...acceptCsr(p.csr), cross: undefined };
}

/** The profile options of an issuance; a sub-CA's purpose resolved to its full key purposes (subca-purposes.ts). */
function profileOptionsOf(p: IssueParams): ProfileOptions {
  const { pathLenConstraint, digitalSignature, nonRepudiation, purpose, extKeyUsage } = p;
  const constraints = Object.fromEntries(NAME_CONSTRAINT_OPTIONS.map((k) => [k, p[k]]));
  const o: ProfileOptions = {
    pathLenConstraint,
    digitalSignature,
    nonRepudiation,
    purpose,
    extKeyUsage,
    ...constraints,
  };
  if (p.crossCertify?.unrestricted) return { ...o, extKeyUsage: UNRESTRICTED_EKU };
  if (p.profile !== 'subca') return o;
  return { ...o, extKeyUsage: resolveSubcaPurpose(purpose, extKeyUsage, p.extraPolicyOids).eku };
}

/**
 * The policies asserted: the CA's registered CP for the purpose and the extra ones asked for
 * (registered, or CA/B Forum reserved), a sub-CA's reserved policy first (BR 7.1.2.10.5
 * "RECOMMENDS that the first PolicyInformation value ... contains the Reserved Certificate Policy Identifier").
 */
function policiesFor(
  inst: Installation,
  p: IssueParams,
  o: ProfileOptions,
  ca: CaSummary,
  purpose: PolicyPurpose | null,
): string[] {
  if (p.crossCertify?.unrestricted) return crossCertificatePolicies(p.crossCertify);
  const registered = caPolicies(inst, ca.id, purpose);
  const extra = p.extraPolicyOids ?? [];
  const unknownExtra = extra.filter((o) => !registered.includes(o) && !isReservedBrPolicy(o));
  if (unknownExtra.length)
    throw new CaError(
      'POLICY_NOT_REGISTERED',
      `policy ${unknownExtra.join(', ')} is not registered for ${ca.name} (register it first; CPS 1.2)`,
    );
  if (purpose && registered.length === 0)
    throw new CaError('POLICY_MISSING', `${ca.name} has no ${purpose} Certificate Policy registered (R-1.2)`);
  const reserved = p.profile === 'subca' ? resolveSubcaPurpose(o.purpose, o.extKeyUsage, extra).reservedPolicies : [];
  return purpose ? [...new Set([...reserved, ...registered, ...extra])] : extra;
}

/** 2. The TBS, linted under a throwaway key before anyone is asked for a passphrase (CONVENTIONS 5). */
export function prepareTbs(inst: Installation, p: IssueParams, c: Checked, { guard }: Checks) {
  const base = inst.config.repository.baseUrl.replace(/\/+$/, '');
  const serial = serialFromRandom(inst.random(SERIAL_RANDOM_BYTES));
  const serialHex = serialToHex(serial);
  const issuerSpki = AsnConvert.serialize(c.issuerCert.tbsCertificate.subjectPublicKeyInfo);
  const tbs = createTbsCertificate({
    serialNumber: serial,
    signatureAlgorithm: c.signatureAlgorithm,
    issuer: c.issuerCert.tbsCertificate.subject,
    subject: c.subject,
    notBefore: c.validity.notBefore,
    notAfter: c.validity.notAfter,
    subjectPublicKeyInfo: c.csr.requested.publicKeySpki,
    extensions: c.profile.extensions({
      ...c.options,
      issuerKeyIdentifier: keyIdentifierFromSpki(new Uint8Array(issuerSpki)),
      subjectPublicKeySpki: c.csr.requested.publicKeySpki,
      policyOids: c.policyOids,
      urls: { crl: `${base}/crl/${c.ca.name}.crl`, ocsp: `${base}/ocsp`, caIssuers: `${base}/certs/${c.ca.name}.crt` },
    }),
  });
  const lintContext = {
    profile: p.profile,
    issuer: c.issuerCert,
    allowedPolicyOids: c.policyOids,
    allowLegacySha1: !!p.allowLegacySha1,
    now: inst.clock.now(),
    crossCertificate: p.crossCertify ? (p.crossCertify.unrestricted ? 'unrestricted' : 'restricted') : undefined,
  } as const;
  const preCert = assembleSignedCertificate(
    tbs.der,
    c.signatureAlgorithm,
    cryptoSign(c.alg.hash, tbs.der, throwawayLike(Buffer.from(issuerSpki))),
  );
  guard(() =>
    assertNoLintErrors(
      lintCertificate(preCert, lintContext),
      `the ${p.profile} certificate for ${c.csr.requested.subjectText}`,
    ),
  );
  return { ...c, serialHex, tbs, preCert, lintContext };
}
