/**
 * What the roots issue (R-3.1–R-3.3), as declarative profiles. Each says which subject
 * attributes a request may carry, how long the certificate lives, which CP purpose applies,
 * and the extensions in the order they appear. Values that come from the request are
 * accepted only through these objects (CONVENTIONS 7).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import type { Extension, Name } from '@peculiar/asn1-x509';
import { id_kp_OCSPSigning, id_kp_timeStamping } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  basicConstraints,
  certificatePolicies,
  crlDistributionPoints,
  extendedKeyUsage,
  keyUsage,
  nameConstraints,
  ocspNoCheck,
  subjectKeyIdentifier,
  type KeyUsageName,
} from './extensions.ts';
import { NAME_ATTRIBUTES } from './name.ts';
import { buildNameConstraints, NAME_CONSTRAINT_OPTIONS, type NameConstraintRequest } from './name-constraints.ts';
import { KP, type SubcaPurpose } from './subca-purposes.ts';
import { checkNameDer } from './name-strings.ts';

export type IssuedProfileName = 'subca' | 'tsa' | 'ta' | 'ocsp' | 'publication';
export type PolicyPurpose = 'subordinate-ca' | 'time-stamping';

/** Choices made per issuance (from the approved application / the command line). */
export interface ProfileOptions extends NameConstraintRequest {
  pathLenConstraint?: number;
  digitalSignature?: boolean;
  nonRepudiation?: boolean;
  /** What a subordinate CA is for: it fixes its extended key usages and reserved policy (subca-purposes.ts). */
  purpose?: SubcaPurpose;
  /** Key purposes a subordinate CA adds to those its purpose fixes. */
  extKeyUsage?: string[];
}

export interface ProfileInput extends ProfileOptions {
  issuerKeyIdentifier: Uint8Array;
  subjectPublicKeySpki: Uint8Array;
  policyOids: string[];
  urls: { crl: string; ocsp: string; caIssuers: string };
}

export interface CertificateProfile {
  name: IssuedProfileName;
  description: string;
  /** The rule the profile follows, quoted. */
  citation: string;
  policyPurpose: PolicyPurpose | null;
  /** Subject attribute OIDs a request may carry; anything else is refused. */
  allowedSubjectAttributes: string[];
  requiredSubjectAttributes: string[];
  defaultValidityDays: number;
  maxValidityDays: number;
  /** Which ProfileOptions this profile accepts (others are refused, not ignored). */
  options: (keyof ProfileOptions)[];
  extensions(input: ProfileInput): Extension[];
}

const A = NAME_ATTRIBUTES;
const ORG_ATTRIBUTES = [A.C, A.ST, A.L, A.O, A.OU, A.CN, A.organizationIdentifier, A.serialNumber];

/** Key purposes a subordinate CA may be constrained to, by their RFC 5280 (and RFC 9336) names. */
export const EXT_KEY_USAGES: Record<string, string> = {
  serverAuth: KP.serverAuth,
  clientAuth: KP.clientAuth,
  codeSigning: KP.codeSigning,
  emailProtection: KP.emailProtection,
  timeStamping: id_kp_timeStamping,
  OCSPSigning: id_kp_OCSPSigning,
  documentSigning: KP.documentSigning,
};

/** AKI, then the status pointers every issued certificate carries (RFC 5280 4.2.1.13, 4.2.2.1). */
function statusPointers(i: ProfileInput): Extension[] {
  return [
    crlDistributionPoints([i.urls.crl]),
    authorityInfoAccess({ ocsp: [i.urls.ocsp], caIssuers: [i.urls.caIssuers] }),
  ];
}

export const PROFILES: Record<IssuedProfileName, CertificateProfile> = {
  subca: {
    name: 'subca',
    description: 'Subordinate CA certificate (R-3.1)',
    citation:
      'RFC 5280 4.2.1.9 "Conforming CAs MUST include this extension in all CA certificates ... and mark the extension as critical"; BR 7.1.2.10; Mozilla Root Store Policy 5.3 "MUST contain an EKU extension"',
    policyPurpose: 'subordinate-ca',
    allowedSubjectAttributes: ORG_ATTRIBUTES,
    requiredSubjectAttributes: [A.C, A.O, A.CN],
    defaultValidityDays: 3652,
    maxValidityDays: 7305,
    options: ['pathLenConstraint', 'digitalSignature', 'purpose', 'extKeyUsage', ...NAME_CONSTRAINT_OPTIONS],
    extensions(i) {
      const usages: KeyUsageName[] = i.digitalSignature
        ? ['digitalSignature', 'keyCertSign', 'cRLSign']
        : ['keyCertSign', 'cRLSign'];
      // The caller resolved the purpose (subca-purposes.ts): extKeyUsage is the full list by then.
      const constraints = buildNameConstraints(i, i.purpose === 'tls-server');
      const nc = constraints ? nameConstraints(constraints) : undefined;
      return [
        authorityKeyIdentifier(i.issuerKeyIdentifier),
        subjectKeyIdentifier(i.subjectPublicKeySpki),
        basicConstraints({ cA: true, pathLenConstraint: i.pathLenConstraint }, true),
        keyUsage(usages, true),
        ...(i.extKeyUsage?.length ? [extendedKeyUsage(i.extKeyUsage, false)] : []),
        certificatePolicies(i.policyOids),
        ...statusPointers(i),
        ...(nc ? [nc] : []),
      ];
    },
  },
  tsa: timeStampingProfile('tsa', 'Time-Stamping Authority certificate (R-3.2)'),
  ta: timeStampingProfile('ta', 'Time Authority certificate (R-3.2)'),
  ocsp: {
    name: 'ocsp',
    description: 'Delegated OCSP responder certificate (R-3.3)',
    citation:
      'RFC 6960 4.2.2.2 "id-kp-OCSPSigning"; 4.2.2.2.1 id-pkix-ocsp-nocheck; BR 4.9.9 short-lived responder certificates',
    policyPurpose: null,
    allowedSubjectAttributes: ORG_ATTRIBUTES,
    requiredSubjectAttributes: [A.CN],
    defaultValidityDays: 90,
    maxValidityDays: 365,
    options: [],
    extensions(i) {
      return [
        authorityKeyIdentifier(i.issuerKeyIdentifier),
        subjectKeyIdentifier(i.subjectPublicKeySpki),
        keyUsage(['digitalSignature'], true),
        extendedKeyUsage([id_kp_OCSPSigning], false),
        ocspNoCheck(),
      ];
    },
  },
  publication: {
    name: 'publication',
    description: 'Publication-signing certificate: the key that signs the publication manifest (issue 15)',
    citation:
      'BR 6.1.7 "Root CA Private Keys MUST NOT be used to sign Certificates except ... Certificates for infrastructure purposes"; RFC 9336 3 "id-kp-documentSigning ... the public key may be used to verify signatures on documents"; RFC 5280 4.2.1.3 digitalSignature',
    policyPurpose: null,
    allowedSubjectAttributes: ORG_ATTRIBUTES,
    requiredSubjectAttributes: [A.CN],
    defaultValidityDays: 397,
    maxValidityDays: 825,
    options: [],
    extensions(i) {
      return [
        authorityKeyIdentifier(i.issuerKeyIdentifier),
        subjectKeyIdentifier(i.subjectPublicKeySpki),
        keyUsage(['digitalSignature'], true),
        extendedKeyUsage([id_kp_documentSigning], false),
        ...statusPointers(i),
      ];
    },
  },
};

/** RFC 9336 2: id-kp-documentSigning, the key purpose of the publication-signing certificate. */
export const id_kp_documentSigning = '1.3.6.1.5.5.7.3.36';

function timeStampingProfile(name: 'tsa' | 'ta', description: string): CertificateProfile {
  return {
    name,
    description,
    citation:
      'RFC 3161 2.3 "The corresponding certificate MUST contain only one instance of the extended key usage field extension ... with KeyPurposeID having value: id-kp-timeStamping. This extension MUST be critical."',
    policyPurpose: 'time-stamping',
    allowedSubjectAttributes: ORG_ATTRIBUTES,
    requiredSubjectAttributes: [A.C, A.O, A.CN],
    defaultValidityDays: 1827,
    maxValidityDays: 4018,
    options: ['nonRepudiation'],
    extensions(i) {
      return [
        authorityKeyIdentifier(i.issuerKeyIdentifier),
        subjectKeyIdentifier(i.subjectPublicKeySpki),
        keyUsage(i.nonRepudiation ? ['digitalSignature', 'nonRepudiation'] : ['digitalSignature'], true),
        extendedKeyUsage([id_kp_timeStamping], true),
        certificatePolicies(i.policyOids),
        ...statusPointers(i),
      ];
    },
  };
}

export function isIssuedProfileName(x: string): x is IssuedProfileName {
  return Object.hasOwn(PROFILES, x);
}

const SHORT: Record<string, string> = Object.fromEntries(Object.entries(NAME_ATTRIBUTES).map(([k, v]) => [v, k]));

/**
 * The subject for the certificate: the requested Name, kept byte for byte (order and string
 * types), if every attribute is allowed by the profile and the required ones are there.
 * Anything else is refused, never silently dropped.
 */
export function acceptSubject(profile: CertificateProfile, requested: Name): Name {
  const seen = new Set<string>();
  for (const rdn of requested) {
    if (rdn.length !== 1)
      throw new CaError(
        'SUBJECT_NOT_ALLOWED',
        `the ${profile.name} profile takes one attribute per RDN; the request has a multi-valued RDN`,
      );
    const atv = rdn[0];
    if (!profile.allowedSubjectAttributes.includes(atv.type)) {
      throw new CaError(
        'SUBJECT_NOT_ALLOWED',
        `subject attribute ${SHORT[atv.type] ?? atv.type} is not allowed by the ${profile.name} profile (allowed: ${profile.allowedSubjectAttributes.map((o) => SHORT[o] ?? o).join(', ')})`,
      );
    }
    if (!(atv.value.printableString !== undefined || atv.value.utf8String !== undefined)) {
      throw new CaError(
        'SUBJECT_NOT_ALLOWED',
        `subject attribute ${SHORT[atv.type] ?? atv.type} must be a PrintableString or UTF8String (RFC 5280 4.1.2.4)`,
      );
    }
    seen.add(atv.type);
  }
  // Issue 15.6: no control or bidi characters, types' sets and upper bounds (pki/name-strings.ts).
  const strings = checkNameDer(new Uint8Array(AsnConvert.serialize(requested)));
  if (strings.length)
    throw new CaError(
      'SUBJECT_NOT_ALLOWED',
      `the requested subject breaks ${strings.length} rule(s):\n${strings.map((p) => `  - [${p.rule}] ${p.message}`).join('\n')}`,
    );
  const missing = profile.requiredSubjectAttributes.filter((o) => !seen.has(o));
  if (missing.length)
    throw new CaError(
      'SUBJECT_NOT_ALLOWED',
      `the ${profile.name} profile requires subject attribute${missing.length > 1 ? 's' : ''} ${missing.map((o) => SHORT[o] ?? o).join(', ')}`,
    );
  return requested;
}

/** Refuses options the profile does not take (e.g. a path length on a TSA certificate). */
export function checkProfileOptions(profile: CertificateProfile, o: ProfileOptions): void {
  for (const [k, v] of Object.entries(o)) {
    const given = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false;
    if (given && !profile.options.includes(k as keyof ProfileOptions)) {
      throw new CaError('PROFILE_OPTION_NOT_ALLOWED', `${k} does not apply to the ${profile.name} profile`);
    }
  }
}

/**
 * Validity (R-3.4, CPS 5.6): notAfter never later than the issuer's notAfter; when the
 * requested life would pass it, it is clamped and the caller says so.
 */
export function validityFor(
  profile: CertificateProfile,
  p: { notBefore: Date; requestedDays?: number; issuerNotAfter: Date },
): { notBefore: Date; notAfter: Date; clamped: boolean } {
  const days = p.requestedDays ?? profile.defaultValidityDays;
  if (!Number.isInteger(days) || days < 1)
    throw new CaError('VALIDITY_INVALID', `validity must be a whole number of days, at least 1`);
  if (days > profile.maxValidityDays) {
    throw new CaError(
      'VALIDITY_TOO_LONG',
      `the ${profile.name} profile allows at most ${profile.maxValidityDays} days; ${days} requested`,
    );
  }
  const notBefore = new Date(p.notBefore);
  notBefore.setUTCMilliseconds(0);
  // RFC 5280 4.1.2.5: the validity period includes both notBefore and notAfter, hence the second less.
  let notAfter = new Date(notBefore.getTime() + days * 86_400_000 - 1000);
  let clamped = false;
  if (notAfter.getTime() > p.issuerNotAfter.getTime()) {
    notAfter = new Date(p.issuerNotAfter);
    clamped = true;
  }
  if (notAfter.getTime() <= notBefore.getTime())
    throw new CaError('ISSUER_EXPIRED', 'the issuing CA certificate has expired or expires now; nothing can be issued');
  return { notBefore, notAfter, clamped };
}
