/**
 * Table-driven lint tests (CONVENTIONS 10): for each lint at least one certificate that passes
 * and one that fails. Good certificates come from the openssl CLI; bad ones from openssl or
 * from a good one edited field by field (testdata/lint/fixtures.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import {
  AccessDescription,
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  Certificate,
  CertificatePolicies,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  NameConstraints,
  PolicyConstraints,
  PolicyInformation,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  Time,
  Version,
  anyExtendedKeyUsage,
  id_ad_caIssuers,
  id_ad_caRepository,
  id_ad_ocsp,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_certificatePolicies,
  id_ce_certificatePolicies_anyPolicy,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_policyConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_OCSPSigning,
  id_kp_clientAuth,
  id_kp_codeSigning,
  id_kp_serverAuth,
  id_kp_timeStamping,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import {
  SUBCA_CP,
  TSA_CP,
  addExtension,
  getExtension,
  hexBytes,
  makeFixtures,
  mutate,
  removeExtension,
  setCritical,
  setExtension,
  type Fixtures,
  type Issued,
} from '../../testdata/lint/fixtures.ts';
import { ALL_LINTS, lintCertificate, type LintContext, type ProfileName } from './index.ts';

const id_pkix_ocsp_nocheck = '1.3.6.1.5.5.7.48.1.5';
const DAY = 24 * 60 * 60 * 1000;

let f: Fixtures;
before(() => {
  f = makeFixtures();
});
after(() => f?.cleanup());

import { subcaPurposeCases } from '../../testdata/lint/subca-purpose-cases.ts';

interface Case {
  lint: string;
  title: string;
  profile: ProfileName;
  cert: () => Uint8Array | Issued;
  /** Defaults: the certificate itself for 'root', else the RSA root. */
  issuer?: () => Certificate | Issued;
  ctx?: () => Partial<LintContext>;
  expect: 'pass' | 'error' | 'warning';
}

const SUBCA_PURPOSE_CASES: Case[] = subcaPurposeCases(() => f);

const ALLOWED: Record<ProfileName, string[]> = {
  root: [],
  subca: [SUBCA_CP],
  tsa: [TSA_CP],
  ta: [TSA_CP],
  ocsp: [],
  publication: [],
};

function derOf(x: Uint8Array | Issued): Uint8Array {
  return x instanceof Uint8Array ? x : x.der;
}
function certOf(x: Certificate | Issued): Certificate {
  return x instanceof Certificate ? x : x.cert;
}
/** The DER of an asn1-schema value. */
function der(value: object): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(value));
}
function uri(u: string): GeneralName {
  return new GeneralName({ uniformResourceIdentifier: u });
}
function attr(type: string, value: Partial<AttributeValue>): RelativeDistinguishedName {
  return new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue(value) })]);
}
function ku(...flags: KeyUsageFlags[]): KeyUsage {
  return new KeyUsage(flags.reduce((a, b) => a | b, 0));
}
function policies(...oids: string[]): CertificatePolicies {
  return new CertificatePolicies(oids.map((policyIdentifier) => new PolicyInformation({ policyIdentifier })));
}
function crldp(...uris: string[]): CRLDistributionPoints {
  return new CRLDistributionPoints([
    new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: uris.map(uri) }) }),
  ]);
}
function aia(...entries: [string, string][]): AuthorityInfoAccessSyntax {
  return new AuthorityInfoAccessSyntax(
    entries.map(([accessMethod, u]) => new AccessDescription({ accessMethod, accessLocation: uri(u) })),
  );
}
/** An unsigned big integer as INTEGER content octets (with a sign octet when needed). */
function intBytes(n: bigint): ArrayBuffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex')).buffer;
}
function rsaSpki(c: Certificate, modulus: bigint, exponent = 65537n): void {
  const spki = c.tbsCertificate.subjectPublicKeyInfo;
  spki.algorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.1', parameters: null });
  spki.subjectPublicKey = AsnConvert.serialize(
    new RSAPublicKey({ modulus: intBytes(modulus), publicExponent: intBytes(exponent) }),
  );
}
function setNotAfter(c: Certificate, d: Date): void {
  c.tbsCertificate.validity.notAfter = new Time(d);
}
function setNotBefore(c: Certificate, d: Date): void {
  c.tbsCertificate.validity.notBefore = new Time(d);
}
const nb = (i: Issued): Date => i.cert.tbsCertificate.validity.notBefore.getTime();
const na = (i: Issued): Date => i.cert.tbsCertificate.validity.notAfter.getTime();

const good: Record<ProfileName, () => Issued> = {
  root: () => f.rootRsa,
  subca: () => f.subca,
  tsa: () => f.tsa,
  ta: () => f.ta,
  ocsp: () => f.ocsp,
  publication: () => f.publication,
};

/** A passing row: the profile's good certificate. */
const passes = (lint: string, profile: ProfileName): Case => ({
  lint,
  title: `good ${profile} certificate`,
  profile,
  cert: good[profile],
  expect: 'pass',
});

const CASES: Case[] = [
  // e_der_encoding
  passes('e_der_encoding', 'subca'),
  {
    lint: 'e_der_encoding',
    title: 'trailing byte after the certificate',
    profile: 'subca',
    cert: () => new Uint8Array([...f.subca.der, 0]),
    expect: 'error',
  },
  {
    lint: 'e_der_encoding',
    title: 'not a certificate at all',
    profile: 'subca',
    cert: () => hexBytes('300302010a'),
    expect: 'error',
  },
  {
    lint: 'e_der_encoding',
    title: 'extension with an explicit critical FALSE (DEFAULT encoded)',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => {
        (getExtension(c, id_ce_subjectKeyIdentifier) as unknown as { critical: unknown }).critical = 0; // serializer writes BOOLEAN FALSE
      }),
    expect: 'error',
  },

  // e_cert_version_not_3
  passes('e_cert_version_not_3', 'root'),
  {
    lint: 'e_cert_version_not_3',
    title: 'version 2',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => (c.tbsCertificate.version = Version.v2)),
    expect: 'error',
  },

  // e_cert_unique_identifier_present
  passes('e_cert_unique_identifier_present', 'subca'),
  {
    lint: 'e_cert_unique_identifier_present',
    title: 'subjectUniqueID present',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => (c.tbsCertificate.subjectUniqueID = new Uint8Array([1, 2, 3]).buffer)),
    expect: 'error',
  },

  // e_serial_number_not_positive
  passes('e_serial_number_not_positive', 'subca'),
  {
    lint: 'e_serial_number_not_positive',
    title: 'serial 0 issued today',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => (c.tbsCertificate.serialNumber = new Uint8Array([0]).buffer)),
    expect: 'error',
  },
  {
    lint: 'e_serial_number_not_positive',
    title: 'negative serial',
    profile: 'subca',
    cert: () =>
      mutate(
        f.subca,
        (c) => (c.tbsCertificate.serialNumber = hexBytes('8f0102030405060708090a').buffer as ArrayBuffer),
      ),
    expect: 'error',
  },
  {
    lint: 'e_serial_number_not_positive',
    title: 'serial 0 on a root issued in 2010 (before BR 7.1 took effect)',
    profile: 'root',
    cert: () =>
      mutate(f.rootRsa, (c) => {
        c.tbsCertificate.serialNumber = new Uint8Array([0]).buffer;
        setNotBefore(c, new Date('2010-01-01T00:00:00Z'));
      }),
    ctx: () => ({ now: new Date('2010-01-01T01:00:00Z') }),
    expect: 'warning',
  },

  // e_serial_number_size
  passes('e_serial_number_size', 'subca'),
  {
    lint: 'e_serial_number_size',
    title: '21-octet serial',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => (c.tbsCertificate.serialNumber = hexBytes(`7f${'11'.repeat(20)}`).buffer as ArrayBuffer)),
    expect: 'error',
  },
  {
    lint: 'e_serial_number_size',
    title: 'serial with a redundant leading zero octet',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => (c.tbsCertificate.serialNumber = hexBytes('00112233445566778899').buffer as ArrayBuffer)),
    expect: 'error',
  },

  // e_serial_number_low_entropy
  passes('e_serial_number_low_entropy', 'subca'),
  {
    lint: 'e_serial_number_low_entropy',
    title: '8 content octets after a sign octet',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => (c.tbsCertificate.serialNumber = hexBytes('00d65d9bb378812eeb').buffer as ArrayBuffer)),
    expect: 'pass',
  },
  {
    lint: 'e_serial_number_low_entropy',
    title: '7-octet serial (openssl -set_serial)',
    profile: 'subca',
    cert: () => f.subcaShortSerial,
    expect: 'error',
  },

  // e_validity_period_negative
  passes('e_validity_period_negative', 'subca'),
  {
    lint: 'e_validity_period_negative',
    title: 'notAfter before notBefore',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => {
        const v = c.tbsCertificate.validity;
        [v.notBefore, v.notAfter] = [v.notAfter, v.notBefore];
      }),
    expect: 'error',
  },

  // e_validity_time_encoding
  passes('e_validity_time_encoding', 'subca'),
  {
    lint: 'e_validity_time_encoding',
    title: 'GeneralizedTime for 2030',
    profile: 'subca',
    cert: () =>
      mutate(
        f.subca,
        (c) => (c.tbsCertificate.validity.notAfter = new Time({ generalTime: new Date('2030-01-01T00:00:00Z') })),
      ),
    expect: 'error',
  },
  {
    // A UTCTime cannot hold 2050: its bytes read back as 1950, which the period lint catches.
    lint: 'e_validity_period_negative',
    title: '2050 written as UTCTime reads back as 1950',
    profile: 'root',
    cert: () =>
      mutate(
        f.rootRsa,
        (c) => (c.tbsCertificate.validity.notAfter = new Time({ utcTime: new Date('2050-06-01T00:00:00Z') })),
      ),
    expect: 'error',
  },
  {
    lint: 'e_validity_time_encoding',
    title: 'GeneralizedTime for 2051',
    profile: 'root',
    cert: () =>
      mutate(
        f.rootRsa,
        (c) => (c.tbsCertificate.validity.notAfter = new Time({ generalTime: new Date('2051-01-01T00:00:00Z') })),
      ),
    expect: 'pass',
  },

  // e_validity_exceeds_issuer
  passes('e_validity_exceeds_issuer', 'subca'),
  {
    lint: 'e_validity_exceeds_issuer',
    title: 'subordinate outlives its root',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setNotAfter(c, new Date(na(f.rootRsa).getTime() + DAY))),
    expect: 'error',
  },
  {
    lint: 'e_validity_exceeds_issuer',
    title: 'TSA valid before its root existed',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setNotBefore(c, new Date(nb(f.rootRsa).getTime() - 10 * DAY))),
    ctx: () => ({ now: new Date(nb(f.rootRsa).getTime() - 10 * DAY) }),
    expect: 'warning',
  },

  // e_ocsp_validity_too_long
  passes('e_ocsp_validity_too_long', 'ocsp'),
  {
    lint: 'e_ocsp_validity_too_long',
    title: 'responder valid for 400 days',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => setNotAfter(c, new Date(nb(f.ocsp).getTime() + 400 * DAY))),
    expect: 'error',
  },

  // e_root_validity_period
  passes('e_root_validity_period', 'root'),
  {
    lint: 'e_root_validity_period',
    title: 'root valid for 30 years',
    profile: 'root',
    cert: () => mutate(f.rootRsa, (c) => setNotAfter(c, new Date(nb(f.rootRsa).getTime() + 30 * 365 * DAY))),
    expect: 'error',
  },
  {
    lint: 'e_root_validity_period',
    title: 'root valid for one year',
    profile: 'root',
    cert: () => f.rootShort,
    expect: 'warning',
  },

  // w_validity_at_lint_time
  passes('w_validity_at_lint_time', 'subca'),
  {
    lint: 'w_validity_at_lint_time',
    title: 'linted three days after notBefore',
    profile: 'subca',
    cert: () => f.subca,
    ctx: () => ({ now: new Date(f.now.getTime() + 3 * DAY) }),
    expect: 'warning',
  },
  {
    lint: 'w_validity_at_lint_time',
    title: 'notBefore a day after the time of signing',
    profile: 'subca',
    cert: () => f.subca,
    ctx: () => ({ now: new Date(f.now.getTime() - DAY) }),
    expect: 'warning',
  },
  {
    lint: 'w_validity_at_lint_time',
    title: 'expired at lint time',
    profile: 'ocsp',
    cert: () => f.ocsp,
    ctx: () => ({ now: new Date(f.now.getTime() + 400 * DAY) }),
    expect: 'warning',
  },

  // e_issuer_name_chaining
  passes('e_issuer_name_chaining', 'subca'),
  passes('e_issuer_name_chaining', 'root'),
  {
    lint: 'e_issuer_name_chaining',
    title: 'linted against the wrong issuer',
    profile: 'subca',
    cert: () => f.subca,
    issuer: () => f.rootEc,
    expect: 'error',
  },
  {
    lint: 'e_issuer_name_chaining',
    title: 'same text, countryName re-encoded as UTF8String',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => {
        c.tbsCertificate.issuer[0] = attr('2.5.4.6', { utf8String: 'JP' });
      }),
    expect: 'error',
  },
  {
    lint: 'e_issuer_name_chaining',
    title: 'root whose issuer differs from its subject',
    profile: 'root',
    cert: () =>
      mutate(
        f.rootRsa,
        (c) => (c.tbsCertificate.issuer = new Name([attr('2.5.4.3', { printableString: 'Someone Else' })])),
      ),
    expect: 'error',
  },

  // e_signature_algorithm_mismatch
  passes('e_signature_algorithm_mismatch', 'subca'),
  {
    lint: 'e_signature_algorithm_mismatch',
    title: 'outer sha384WithRSAEncryption, inner sha256WithRSAEncryption',
    profile: 'subca',
    cert: () =>
      mutate(
        f.subca,
        (c) =>
          (c.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.12', parameters: null })),
      ),
    expect: 'error',
  },

  // e_signature_algorithm_parameters
  passes('e_signature_algorithm_parameters', 'subca'),
  passes('e_signature_algorithm_parameters', 'root'),
  {
    lint: 'e_signature_algorithm_parameters',
    title: 'RSA signature algorithm without NULL parameters',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => {
        c.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11' });
        c.tbsCertificate.signature = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11' });
      }),
    expect: 'error',
  },
  {
    lint: 'e_signature_algorithm_parameters',
    title: 'ECDSA signature algorithm with NULL parameters',
    profile: 'subca',
    cert: () =>
      mutate(f.subcaEcUnderEcRoot, (c) => {
        c.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.3', parameters: null });
        c.tbsCertificate.signature = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.3', parameters: null });
      }),
    issuer: () => f.rootEc,
    expect: 'error',
  },
  {
    lint: 'e_signature_algorithm_parameters',
    title: 'md5WithRSAEncryption',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => {
        c.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.4', parameters: null });
        c.tbsCertificate.signature = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.4', parameters: null });
      }),
    expect: 'error',
  },

  // e_signature_algorithm_issuer_key_mismatch
  {
    lint: 'e_signature_algorithm_issuer_key_mismatch',
    title: 'P-384 issuer signs with ECDSA SHA-384',
    profile: 'subca',
    cert: () => f.subcaEcUnderEcRoot,
    issuer: () => f.rootEc,
    expect: 'pass',
  },
  {
    lint: 'e_signature_algorithm_issuer_key_mismatch',
    title: 'P-384 issuer signs with ECDSA SHA-256',
    profile: 'subca',
    cert: () => f.subcaEcSha256UnderP384,
    issuer: () => f.rootEc,
    expect: 'error',
  },
  {
    lint: 'e_signature_algorithm_issuer_key_mismatch',
    title: 'RSA issuer, ECDSA signature algorithm',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => {
        c.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' });
        c.tbsCertificate.signature = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' });
      }),
    expect: 'error',
  },

  // e_sha1_signature
  passes('e_sha1_signature', 'subca'),
  {
    lint: 'e_sha1_signature',
    title: 'SHA-1 without the legacy override',
    profile: 'subca',
    cert: () => f.subcaSha1,
    expect: 'error',
  },
  {
    lint: 'e_sha1_signature',
    title: 'SHA-1 with the R-1.3 legacy override',
    profile: 'subca',
    cert: () => f.subcaSha1,
    ctx: () => ({ allowLegacySha1: true }),
    expect: 'warning',
  },

  // e_ext_duplicate
  passes('e_ext_duplicate', 'subca'),
  {
    lint: 'e_ext_duplicate',
    title: 'subjectKeyIdentifier twice',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => c.tbsCertificate.extensions!.push(getExtension(c, id_ce_subjectKeyIdentifier)!)),
    expect: 'error',
  },

  // e_ext_unknown_critical
  passes('e_ext_unknown_critical', 'subca'),
  {
    lint: 'e_ext_unknown_critical',
    title: 'unknown critical extension',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => addExtension(c, '1.3.6.1.4.1.99999.1', hexBytes('0500'), true)),
    expect: 'error',
  },
  {
    lint: 'e_ext_unknown_critical',
    title: 'unknown non-critical extension',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => addExtension(c, '1.3.6.1.4.1.99999.1', hexBytes('0500'), false)),
    expect: 'pass',
  },

  // e_ext_value_not_der
  passes('e_ext_value_not_der', 'ocsp'),
  passes('e_ext_value_not_der', 'subca'),
  {
    lint: 'e_ext_value_not_der',
    title: 'basicConstraints with cA FALSE encoded explicitly',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setExtension(c, id_ce_basicConstraints, hexBytes('3003010100'), true)),
    expect: 'error',
  },
  {
    lint: 'e_ext_value_not_der',
    title: 'keyUsage value with trailing garbage',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setExtension(c, id_ce_keyUsage, hexBytes('03020780ff'), true)),
    expect: 'error',
  },
  {
    lint: 'e_ext_value_not_der',
    title: 'ocsp-nocheck value that is not NULL',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => setExtension(c, id_pkix_ocsp_nocheck, hexBytes('0101ff'))),
    expect: 'error',
  },

  // e_ext_not_in_profile
  passes('e_ext_not_in_profile', 'ocsp'),
  passes('e_ext_not_in_profile', 'tsa'),
  {
    lint: 'e_ext_not_in_profile',
    title: 'OCSP responder with subjectAltName',
    profile: 'ocsp',
    cert: () =>
      mutate(f.ocsp, (c) =>
        addExtension(
          c,
          id_ce_subjectAltName,
          new SubjectAlternativeName([new GeneralName({ dNSName: 'ocsp.example.jp' })]),
        ),
      ),
    expect: 'error',
  },
  {
    lint: 'e_ext_not_in_profile',
    title: 'subordinate CA with policyConstraints',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        addExtension(
          c,
          id_ce_policyConstraints,
          new PolicyConstraints({ requireExplicitPolicy: new Uint8Array([0]).buffer }),
          true,
        ),
      ),
    expect: 'warning',
  },

  // e_subject_key_identifier
  passes('e_subject_key_identifier', 'ocsp'),
  {
    lint: 'e_subject_key_identifier',
    title: 'missing',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => removeExtension(c, id_ce_subjectKeyIdentifier)),
    expect: 'error',
  },
  {
    lint: 'e_subject_key_identifier',
    title: 'critical',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setCritical(c, id_ce_subjectKeyIdentifier, true)),
    expect: 'error',
  },

  // e_authority_key_identifier
  passes('e_authority_key_identifier', 'subca'),
  passes('e_authority_key_identifier', 'root'),
  {
    lint: 'e_authority_key_identifier',
    title: 'missing on a subordinate CA',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => removeExtension(c, id_ce_authorityKeyIdentifier)),
    expect: 'error',
  },
  {
    lint: 'e_authority_key_identifier',
    title: 'critical',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => setCritical(c, id_ce_authorityKeyIdentifier, true)),
    expect: 'error',
  },
  {
    lint: 'e_authority_key_identifier',
    title: "keyIdentifier is not the issuer's SKI",
    profile: 'tsa',
    cert: () =>
      mutate(f.tsa, (c) =>
        setExtension(
          c,
          id_ce_authorityKeyIdentifier,
          new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(20).fill(7)) }),
        ),
      ),
    expect: 'error',
  },
  {
    lint: 'e_authority_key_identifier',
    title: 'authorityCertIssuer and serial (openssl issuer:always)',
    profile: 'subca',
    cert: () => f.subcaAkiWithIssuer,
    expect: 'error',
  },
  {
    lint: 'e_authority_key_identifier',
    title: 'root AKI that is not its own SKI',
    profile: 'root',
    cert: () =>
      mutate(f.rootRsa, (c) =>
        addExtension(
          c,
          id_ce_authorityKeyIdentifier,
          new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(20).fill(1)) }),
        ),
      ),
    expect: 'error',
  },

  // e_basic_constraints
  passes('e_basic_constraints', 'subca'),
  passes('e_basic_constraints', 'tsa'),
  passes('e_basic_constraints', 'ocsp'),
  {
    lint: 'e_basic_constraints',
    title: 'missing on a subordinate CA',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => removeExtension(c, id_ce_basicConstraints)),
    expect: 'error',
  },
  {
    lint: 'e_basic_constraints',
    title: 'not critical on a root',
    profile: 'root',
    cert: () => mutate(f.rootRsa, (c) => setCritical(c, id_ce_basicConstraints, false)),
    expect: 'error',
  },
  {
    lint: 'e_basic_constraints',
    title: 'cA TRUE on a TSA',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setExtension(c, id_ce_basicConstraints, new BasicConstraints({ cA: true }), true)),
    expect: 'error',
  },

  // e_path_len_constraint_improperly_included
  passes('e_path_len_constraint_improperly_included', 'subca'),
  {
    lint: 'e_path_len_constraint_improperly_included',
    title: 'pathLen with cA FALSE',
    profile: 'tsa',
    cert: () =>
      mutate(f.tsa, (c) =>
        setExtension(c, id_ce_basicConstraints, new BasicConstraints({ cA: false, pathLenConstraint: 0 }), true),
      ),
    expect: 'error',
  },
  {
    lint: 'e_path_len_constraint_improperly_included',
    title: 'pathLen on a root',
    profile: 'root',
    cert: () =>
      mutate(f.rootRsa, (c) =>
        setExtension(c, id_ce_basicConstraints, new BasicConstraints({ cA: true, pathLenConstraint: 1 }), true),
      ),
    expect: 'warning',
  },

  // e_key_usage_missing_or_not_critical
  passes('e_key_usage_missing_or_not_critical', 'subca'),
  {
    lint: 'e_key_usage_missing_or_not_critical',
    title: 'not critical on a subordinate CA',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setCritical(c, id_ce_keyUsage, false)),
    expect: 'error',
  },
  {
    lint: 'e_key_usage_missing_or_not_critical',
    title: 'not critical on a root (RootCA1 profile)',
    profile: 'root',
    cert: () => mutate(f.rootRsa, (c) => setCritical(c, id_ce_keyUsage, false)),
    expect: 'warning',
  },
  {
    lint: 'e_key_usage_missing_or_not_critical',
    title: 'missing on an OCSP responder',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => removeExtension(c, id_ce_keyUsage)),
    expect: 'error',
  },
  {
    lint: 'e_key_usage_missing_or_not_critical',
    title: 'no bit asserted',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setExtension(c, id_ce_keyUsage, hexBytes('030100'), true)),
    expect: 'error',
  },

  // e_key_usage_bits
  passes('e_key_usage_bits', 'subca'),
  passes('e_key_usage_bits', 'ocsp'),
  {
    lint: 'e_key_usage_bits',
    title: 'subordinate CA without cRLSign',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setExtension(c, id_ce_keyUsage, ku(KeyUsageFlags.keyCertSign), true)),
    expect: 'error',
  },
  {
    lint: 'e_key_usage_bits',
    title: 'OCSP responder with keyEncipherment',
    profile: 'ocsp',
    cert: () =>
      mutate(f.ocsp, (c) =>
        setExtension(c, id_ce_keyUsage, ku(KeyUsageFlags.digitalSignature, KeyUsageFlags.keyEncipherment), true),
      ),
    expect: 'error',
  },
  {
    lint: 'e_key_usage_bits',
    title: 'TSA with nonRepudiation (allowed by R-3.2)',
    profile: 'tsa',
    cert: () =>
      mutate(f.tsa, (c) =>
        setExtension(c, id_ce_keyUsage, ku(KeyUsageFlags.digitalSignature, KeyUsageFlags.nonRepudiation), true),
      ),
    expect: 'pass',
  },
  {
    lint: 'e_key_usage_bits',
    title: 'TSA with keyAgreement',
    profile: 'tsa',
    cert: () =>
      mutate(f.tsa, (c) =>
        setExtension(c, id_ce_keyUsage, ku(KeyUsageFlags.digitalSignature, KeyUsageFlags.keyAgreement), true),
      ),
    expect: 'warning',
  },
  {
    lint: 'e_key_usage_bits',
    title: 'TSA with cRLSign',
    profile: 'tsa',
    cert: () =>
      mutate(f.tsa, (c) =>
        setExtension(c, id_ce_keyUsage, ku(KeyUsageFlags.digitalSignature, KeyUsageFlags.cRLSign), true),
      ),
    expect: 'error',
  },
  {
    lint: 'e_key_usage_bits',
    title: 'named bit list with trailing zero bits (not DER)',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setExtension(c, id_ce_keyUsage, hexBytes('03020080'), true)),
    expect: 'error',
  },

  // e_key_cert_sign_ca_mismatch
  passes('e_key_cert_sign_ca_mismatch', 'root'),
  passes('e_key_cert_sign_ca_mismatch', 'tsa'),
  {
    lint: 'e_key_cert_sign_ca_mismatch',
    title: 'keyCertSign without cA',
    profile: 'tsa',
    cert: () =>
      mutate(f.tsa, (c) =>
        setExtension(c, id_ce_keyUsage, ku(KeyUsageFlags.digitalSignature, KeyUsageFlags.keyCertSign), true),
      ),
    expect: 'error',
  },
  {
    lint: 'e_key_cert_sign_ca_mismatch',
    title: 'cA without keyCertSign',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setExtension(c, id_ce_keyUsage, ku(KeyUsageFlags.cRLSign), true)),
    expect: 'error',
  },

  // e_root_ext_key_usage_present
  passes('e_root_ext_key_usage_present', 'root'),
  {
    lint: 'e_root_ext_key_usage_present',
    title: 'root with extKeyUsage',
    profile: 'root',
    cert: () => mutate(f.rootRsa, (c) => addExtension(c, id_ce_extKeyUsage, new ExtendedKeyUsage([id_kp_serverAuth]))),
    expect: 'error',
  },

  // e_subca_ext_key_usage_any
  passes('e_subca_ext_key_usage_any', 'subca'),
  {
    lint: 'e_subca_ext_key_usage_any',
    title: 'subordinate CA limited to serverAuth',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        setExtension(c, id_ce_extKeyUsage, new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth])),
      ),
    expect: 'pass',
  },
  {
    lint: 'e_subca_ext_key_usage_any',
    title: 'subordinate CA with anyExtendedKeyUsage',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setExtension(c, id_ce_extKeyUsage, new ExtendedKeyUsage([anyExtendedKeyUsage]))),
    expect: 'error',
  },
  {
    lint: 'e_subca_ext_key_usage_any',
    title: 'unrestricted cross-certificate with anyExtendedKeyUsage (BR 7.1.2.2.4)',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setExtension(c, id_ce_extKeyUsage, new ExtendedKeyUsage([anyExtendedKeyUsage]))),
    ctx: () => ({ crossCertificate: 'unrestricted' }),
    expect: 'pass',
  },
  ...SUBCA_PURPOSE_CASES,

  // e_tsa_ext_key_usage
  passes('e_tsa_ext_key_usage', 'tsa'),
  passes('e_tsa_ext_key_usage', 'ta'),
  {
    lint: 'e_tsa_ext_key_usage',
    title: 'extKeyUsage not critical',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setCritical(c, id_ce_extKeyUsage, false)),
    expect: 'error',
  },
  {
    lint: 'e_tsa_ext_key_usage',
    title: 'timeStamping with codeSigning',
    profile: 'ta',
    cert: () =>
      mutate(f.ta, (c) =>
        setExtension(c, id_ce_extKeyUsage, new ExtendedKeyUsage([id_kp_timeStamping, id_kp_codeSigning]), true),
      ),
    expect: 'error',
  },
  {
    lint: 'e_tsa_ext_key_usage',
    title: 'extKeyUsage missing',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => removeExtension(c, id_ce_extKeyUsage)),
    expect: 'error',
  },

  // e_ocsp_ext_key_usage
  passes('e_ocsp_ext_key_usage', 'ocsp'),
  {
    lint: 'e_ocsp_ext_key_usage',
    title: 'serverAuth instead of OCSPSigning',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => setExtension(c, id_ce_extKeyUsage, new ExtendedKeyUsage([id_kp_serverAuth]))),
    expect: 'error',
  },
  {
    lint: 'e_ocsp_ext_key_usage',
    title: 'OCSPSigning and clientAuth',
    profile: 'ocsp',
    cert: () =>
      mutate(f.ocsp, (c) =>
        setExtension(c, id_ce_extKeyUsage, new ExtendedKeyUsage([id_kp_OCSPSigning, id_kp_clientAuth])),
      ),
    expect: 'warning',
  },

  // e_ocsp_nocheck
  passes('e_ocsp_nocheck', 'ocsp'),
  {
    lint: 'e_ocsp_nocheck',
    title: 'id-pkix-ocsp-nocheck missing',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => removeExtension(c, id_pkix_ocsp_nocheck)),
    expect: 'error',
  },
  {
    lint: 'e_ocsp_nocheck',
    title: 'id-pkix-ocsp-nocheck critical',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => setCritical(c, id_pkix_ocsp_nocheck, true)),
    expect: 'warning',
  },
  {
    lint: 'e_ocsp_nocheck',
    title: 'value is not NULL',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => setExtension(c, id_pkix_ocsp_nocheck, hexBytes('0400'))),
    expect: 'error',
  },

  // e_certificate_policies
  passes('e_certificate_policies', 'subca'),
  passes('e_certificate_policies', 'tsa'),
  passes('e_certificate_policies', 'ocsp'),
  {
    lint: 'e_certificate_policies',
    title: 'issuer CP plus a CA/B Forum reserved OID',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => setExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP, '2.23.140.1.2.2'))),
    expect: 'pass',
  },
  {
    lint: 'e_certificate_policies',
    title: 'missing on a subordinate CA',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => removeExtension(c, id_ce_certificatePolicies)),
    expect: 'error',
  },
  {
    lint: 'e_certificate_policies',
    title: 'an OID the issuer may not assert',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        setExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP, '1.2.392.200091.100.999.1')),
      ),
    expect: 'error',
  },
  {
    lint: 'e_certificate_policies',
    title: 'the subca CP in a TSA certificate',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => setExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP))),
    expect: 'error',
  },
  {
    lint: 'e_certificate_policies',
    title: 'anyPolicy',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        setExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP, id_ce_certificatePolicies_anyPolicy)),
      ),
    expect: 'error',
  },
  {
    lint: 'e_certificate_policies',
    title: 'the same OID twice',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP, SUBCA_CP))),
    expect: 'error',
  },
  {
    lint: 'e_certificate_policies',
    title: "only a reserved OID, not the issuer's CP",
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setExtension(c, id_ce_certificatePolicies, policies('2.23.140.1.2.2'))),
    expect: 'error',
  },
  {
    lint: 'e_certificate_policies',
    title: 'OCSP responder with a CP',
    profile: 'ocsp',
    cert: () => mutate(f.ocsp, (c) => addExtension(c, id_ce_certificatePolicies, policies('2.23.140.1.2.2'))),
    expect: 'warning',
  },

  // w_root_certificate_policies_present
  passes('w_root_certificate_policies_present', 'root'),
  {
    lint: 'w_root_certificate_policies_present',
    title: 'root with certificatePolicies',
    profile: 'root',
    cert: () => mutate(f.rootRsa, (c) => addExtension(c, id_ce_certificatePolicies, policies(SUBCA_CP))),
    expect: 'warning',
  },

  // e_crl_distribution_points
  passes('e_crl_distribution_points', 'subca'),
  passes('e_crl_distribution_points', 'ocsp'),
  passes('e_crl_distribution_points', 'root'),
  {
    lint: 'e_crl_distribution_points',
    title: 'missing on a subordinate CA',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => removeExtension(c, id_ce_cRLDistributionPoints)),
    expect: 'error',
  },
  {
    lint: 'e_crl_distribution_points',
    title: 'https URI',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => setExtension(c, id_ce_cRLDistributionPoints, crldp('https://repo.example.jp/root.crl'))),
    expect: 'error',
  },
  {
    lint: 'e_crl_distribution_points',
    title: 'ldap URI',
    profile: 'tsa',
    cert: () =>
      mutate(f.tsa, (c) =>
        setExtension(c, id_ce_cRLDistributionPoints, crldp('ldap://ldap.example.jp/cn=Root?certificateRevocationList')),
      ),
    expect: 'error',
  },
  {
    lint: 'e_crl_distribution_points',
    title: 'OCSP responder with a CRL DP',
    profile: 'ocsp',
    cert: () =>
      mutate(f.ocsp, (c) => addExtension(c, id_ce_cRLDistributionPoints, crldp('http://repo.example.jp/root.crl'))),
    expect: 'error',
  },
  {
    lint: 'e_crl_distribution_points',
    title: 'root with a CRL DP',
    profile: 'root',
    cert: () =>
      mutate(f.rootRsa, (c) => addExtension(c, id_ce_cRLDistributionPoints, crldp('http://repo.example.jp/root.crl'))),
    expect: 'warning',
  },
  {
    lint: 'e_crl_distribution_points',
    title: 'TSA without a CRL DP',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => removeExtension(c, id_ce_cRLDistributionPoints)),
    expect: 'warning',
  },

  // e_authority_info_access
  passes('e_authority_info_access', 'subca'),
  passes('e_authority_info_access', 'root'),
  {
    lint: 'e_authority_info_access',
    title: 'missing on a subordinate CA',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => removeExtension(c, id_pe_authorityInfoAccess)),
    expect: 'error',
  },
  {
    lint: 'e_authority_info_access',
    title: 'https OCSP URL',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        setExtension(
          c,
          id_pe_authorityInfoAccess,
          aia([id_ad_ocsp, 'https://ocsp.example.jp/'], [id_ad_caIssuers, 'http://repo.example.jp/root.cer']),
        ),
      ),
    expect: 'error',
  },
  {
    lint: 'e_authority_info_access',
    title: 'caIssuers only',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        setExtension(c, id_pe_authorityInfoAccess, aia([id_ad_caIssuers, 'http://repo.example.jp/root.cer'])),
      ),
    expect: 'warning',
  },
  {
    lint: 'e_authority_info_access',
    title: 'critical',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => setCritical(c, id_pe_authorityInfoAccess, true)),
    expect: 'error',
  },
  {
    lint: 'e_authority_info_access',
    title: 'caRepository access method',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        setExtension(
          c,
          id_pe_authorityInfoAccess,
          aia([id_ad_ocsp, 'http://ocsp.example.jp/'], [id_ad_caRepository, 'http://repo.example.jp/']),
        ),
      ),
    expect: 'error',
  },
  {
    lint: 'e_authority_info_access',
    title: 'root with AIA',
    profile: 'root',
    cert: () =>
      mutate(f.rootRsa, (c) =>
        addExtension(c, id_pe_authorityInfoAccess, aia([id_ad_caIssuers, 'http://repo.example.jp/root.cer'])),
      ),
    expect: 'warning',
  },

  // e_subject_empty
  passes('e_subject_empty', 'subca'),
  passes('e_subject_empty', 'tsa'),
  {
    lint: 'e_subject_empty',
    title: 'subordinate CA with an empty subject',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => (c.tbsCertificate.subject = new Name([]))),
    expect: 'error',
  },
  {
    lint: 'e_subject_empty',
    title: 'TSA with an empty subject and no subjectAltName',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => (c.tbsCertificate.subject = new Name([]))),
    expect: 'error',
  },

  // e_subject_country_name
  passes('e_subject_country_name', 'subca'),
  {
    lint: 'e_subject_country_name',
    title: 'lower-case country code',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => (c.tbsCertificate.subject[0] = attr('2.5.4.6', { printableString: 'jp' }))),
    expect: 'error',
  },
  {
    lint: 'e_subject_country_name',
    title: 'country code as UTF8String',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => (c.tbsCertificate.subject[0] = attr('2.5.4.6', { utf8String: 'JP' }))),
    expect: 'error',
  },
  {
    lint: 'e_subject_country_name',
    title: 'three-letter country code',
    profile: 'tsa',
    cert: () => mutate(f.tsa, (c) => (c.tbsCertificate.subject[0] = attr('2.5.4.6', { printableString: 'JPN' }))),
    expect: 'error',
  },

  // e_subject_directory_string_encoding
  passes('e_subject_directory_string_encoding', 'subca'),
  {
    lint: 'e_subject_directory_string_encoding',
    title: 'organizationName as BMPString',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => (c.tbsCertificate.subject[1] = attr('2.5.4.10', { bmpString: 'Example Trust Co.' }))),
    expect: 'error',
  },
  {
    lint: 'e_subject_directory_string_encoding',
    title: "PrintableString holding '@'",
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => (c.tbsCertificate.subject[2] = attr('2.5.4.3', { printableString: 'ca@example' }))),
    expect: 'error',
  },
  {
    lint: 'e_subject_directory_string_encoding',
    title: 'commonName as UTF8String',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => (c.tbsCertificate.subject[2] = attr('2.5.4.3', { utf8String: 'セコム Issuing CA' }))),
    expect: 'pass',
  },

  // e_subject_attribute_too_long
  passes('e_subject_attribute_too_long', 'subca'),
  {
    lint: 'e_subject_attribute_too_long',
    title: '65-character commonName',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => (c.tbsCertificate.subject[2] = attr('2.5.4.3', { utf8String: 'x'.repeat(65) }))),
    expect: 'error',
  },

  // e_subject_string_content (issue 15.6)
  passes('e_subject_string_content', 'subca'),
  {
    lint: 'e_subject_string_content',
    title: 'commonName holding a NUL',
    profile: 'subca',
    cert: () =>
      mutate(
        f.subca,
        (c) => (c.tbsCertificate.subject[2] = attr('2.5.4.3', { utf8String: 'good.example\u0000.evil' })),
      ),
    expect: 'error',
  },
  {
    lint: 'e_subject_string_content',
    title: 'organizationName holding a right-to-left override',
    profile: 'subca',
    cert: () =>
      mutate(
        f.subca,
        (c) => (c.tbsCertificate.subject[1] = attr('2.5.4.10', { utf8String: 'Example \u202eoC tsurT' })),
      ),
    expect: 'error',
  },

  // w_ca_subject_missing_attributes
  passes('w_ca_subject_missing_attributes', 'subca'),
  {
    lint: 'w_ca_subject_missing_attributes',
    title: 'subordinate CA named by OU only',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => (c.tbsCertificate.subject[2] = attr('2.5.4.11', { printableString: 'Issuing CA 1' }))),
    expect: 'warning',
  },

  // e_spki_algorithm_encoding
  passes('e_spki_algorithm_encoding', 'root'),
  passes('e_spki_algorithm_encoding', 'subca'),
  {
    lint: 'e_spki_algorithm_encoding',
    title: 'rsaEncryption without NULL parameters',
    profile: 'root',
    cert: () =>
      mutate(
        f.rootRsa,
        (c) =>
          (c.tbsCertificate.subjectPublicKeyInfo.algorithm = new AlgorithmIdentifier({
            algorithm: '1.2.840.113549.1.1.1',
          })),
      ),
    expect: 'error',
  },
  {
    lint: 'e_spki_algorithm_encoding',
    title: 'id-ecPublicKey with NULL (implicitCurve)',
    profile: 'subca',
    cert: () =>
      mutate(
        f.subca,
        (c) =>
          (c.tbsCertificate.subjectPublicKeyInfo.algorithm = new AlgorithmIdentifier({
            algorithm: '1.2.840.10045.2.1',
            parameters: null,
          })),
      ),
    expect: 'error',
  },

  // e_rsa_public_key_strength
  passes('e_rsa_public_key_strength', 'root'),
  {
    lint: 'e_rsa_public_key_strength',
    title: 'RSA 1024',
    profile: 'subca',
    cert: () => f.subcaRsa1024,
    expect: 'error',
  },
  {
    lint: 'e_rsa_public_key_strength',
    title: 'RSA exponent 3',
    profile: 'subca',
    cert: () => f.subcaRsaE3,
    expect: 'error',
  },
  {
    lint: 'e_rsa_public_key_strength',
    title: 'modulus divisible by 3',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => rsaSpki(c, 3n * (2n ** 2046n + 1n))),
    expect: 'error',
  },

  // e_rsa_fermat_factorable
  passes('e_rsa_fermat_factorable', 'root'),
  {
    lint: 'e_rsa_fermat_factorable',
    title: 'modulus m^2 - 1 (primes far too close)',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => rsaSpki(c, (3n * 2n ** 1022n) ** 2n - 1n)),
    expect: 'error',
  },

  // e_ec_public_key_curve
  passes('e_ec_public_key_curve', 'subca'),
  { lint: 'e_ec_public_key_curve', title: 'P-384 root key', profile: 'root', cert: () => f.rootEc, expect: 'pass' },
  { lint: 'e_ec_public_key_curve', title: 'P-521', profile: 'subca', cert: () => f.subcaP521, expect: 'error' },
  {
    lint: 'e_ec_public_key_curve',
    title: 'point not on the curve',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) => {
        const p = new Uint8Array(c.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey.slice(0));
        p[p.length - 1] ^= 1;
        c.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey = p.buffer;
      }),
    expect: 'error',
  },

  // e_name_constraints
  passes('e_name_constraints', 'subca'),
  {
    lint: 'e_name_constraints',
    title: 'critical permitted DNS subtree',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        addExtension(
          c,
          id_ce_nameConstraints,
          new NameConstraints({
            permittedSubtrees: new GeneralSubtrees([
              new GeneralSubtree({ base: new GeneralName({ dNSName: 'example.jp' }) }),
            ]),
          }),
          true,
        ),
      ),
    expect: 'pass',
  },
  {
    lint: 'e_name_constraints',
    title: 'not critical',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        addExtension(
          c,
          id_ce_nameConstraints,
          new NameConstraints({
            permittedSubtrees: new GeneralSubtrees([
              new GeneralSubtree({ base: new GeneralName({ dNSName: 'example.jp' }) }),
            ]),
          }),
          false,
        ),
      ),
    expect: 'error',
  },
  {
    lint: 'e_name_constraints',
    title: 'subtree with minimum 1',
    profile: 'subca',
    cert: () =>
      mutate(f.subca, (c) =>
        addExtension(
          c,
          id_ce_nameConstraints,
          new NameConstraints({
            excludedSubtrees: new GeneralSubtrees([
              new GeneralSubtree({ base: new GeneralName({ dNSName: 'example.com' }), minimum: 1 }),
            ]),
          }),
          true,
        ),
      ),
    expect: 'error',
  },
  {
    lint: 'e_name_constraints',
    title: 'empty nameConstraints',
    profile: 'subca',
    cert: () => mutate(f.subca, (c) => addExtension(c, id_ce_nameConstraints, hexBytes('3000'), true)),
    expect: 'error',
  },
  {
    lint: 'e_name_constraints',
    title: 'nameConstraints on an OCSP responder',
    profile: 'ocsp',
    cert: () =>
      mutate(f.ocsp, (c) =>
        addExtension(
          c,
          id_ce_nameConstraints,
          new NameConstraints({
            permittedSubtrees: new GeneralSubtrees([
              new GeneralSubtree({ base: new GeneralName({ dNSName: 'example.jp' }) }),
            ]),
          }),
          true,
        ),
      ),
    expect: 'error',
  },
];

function contextFor(row: Case, certDer: Uint8Array): LintContext {
  const issuer = row.issuer
    ? certOf(row.issuer())
    : row.profile === 'root'
      ? AsnConvert.parse(certDer, Certificate)
      : f.rootRsa.cert;
  return {
    profile: row.profile,
    issuer,
    allowedPolicyOids: ALLOWED[row.profile],
    allowLegacySha1: false,
    now: f.now,
    ...(row.ctx?.() ?? {}),
  };
}

describe('R-3.6 certificate lints, one row per case', () => {
  for (const row of CASES) {
    it(`${row.lint}: ${row.title} -> ${row.expect}`, () => {
      const certDer = derOf(row.cert());
      const all = lintCertificate(certDer, contextFor(row, certDer));
      const wErrors = all.filter((x) => x.lint.startsWith('w_') && x.severity === 'error');
      assert.deepEqual(wErrors, [], 'a w_ lint reported an error');
      const mine = all.filter((x) => x.lint === row.lint);
      const shown = JSON.stringify(mine, null, 1);
      if (row.expect === 'pass') assert.equal(mine.length, 0, `expected no ${row.lint} findings, got ${shown}`);
      else if (row.expect === 'error')
        assert.ok(
          mine.some((x) => x.severity === 'error'),
          `expected a ${row.lint} error, got ${shown}`,
        );
      else {
        assert.ok(mine.length > 0, `expected a ${row.lint} warning, got none`);
        assert.ok(
          mine.every((x) => x.severity === 'warning'),
          `expected only warnings from ${row.lint}, got ${shown}`,
        );
      }
    });
  }

  it('every lint has at least one passing and one failing row', () => {
    for (const lint of ALL_LINTS) {
      const rows = CASES.filter((c) => c.lint === lint.name);
      assert.ok(
        rows.some((c) => c.expect === 'pass'),
        `${lint.name} has no passing row`,
      );
      assert.ok(
        rows.some((c) => c.expect !== 'pass'),
        `${lint.name} has no failing row`,
      );
    }
  });
});

describe('good openssl certificates of every profile lint clean', () => {
  const table: [string, () => Issued, ProfileName, () => Issued][] = [
    ['RSA root', () => f.rootRsa, 'root', () => f.rootRsa],
    ['ECDSA P-384 root', () => f.rootEc, 'root', () => f.rootEc],
    ['subordinate CA under the RSA root', () => f.subca, 'subca', () => f.rootRsa],
    ['subordinate CA under the P-384 root', () => f.subcaEcUnderEcRoot, 'subca', () => f.rootEc],
    ['TSA', () => f.tsa, 'tsa', () => f.rootRsa],
    ['TA', () => f.ta, 'ta', () => f.rootRsa],
    ['OCSP responder', () => f.ocsp, 'ocsp', () => f.rootRsa],
  ];
  for (const [title, cert, profile, issuer] of table) {
    it(title, () => {
      const findings = lintCertificate(cert().der, {
        profile,
        issuer: issuer().cert,
        allowedPolicyOids: ALLOWED[profile],
        allowLegacySha1: false,
        now: f.now,
      });
      assert.deepEqual(findings, []);
    });
  }

  it('an undecodable extension value becomes an error of the lint that reads it, not a crash', () => {
    const certDer = mutate(f.subca, (c) => setExtension(c, id_ce_basicConstraints, hexBytes('0403010203'), true));
    const findings = lintCertificate(certDer, {
      profile: 'subca',
      issuer: f.rootRsa.cert,
      allowedPolicyOids: [SUBCA_CP],
      allowLegacySha1: false,
      now: f.now,
    });
    const bc = findings.filter((x) => x.lint === 'e_basic_constraints');
    assert.ok(bc.length > 0 && bc.every((x) => x.severity === 'error'), JSON.stringify(findings));
    assert.match(bc[0]!.message, /could not be decoded/);
  });
});
