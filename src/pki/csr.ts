/**
 * PKCS#10 certification request intake (RFC 2986) for subordinate CA and service certificates
 * (R-3.1). Everything read from a CSR is untrusted (CONVENTIONS 7): it lives under `requested`
 * until a profile has accepted it. Pure: node:crypto is used for hashing and verifying only.
 */
import { createHash, createPublicKey, verify as cryptoVerify, constants as cryptoConstants, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  Name,
  SubjectAlternativeName,
  CertificatePolicies,
} from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, describeKeyAlgorithm } from './algorithms.ts';
import { checkPublicKeyQuality, describePublicKey, type KeyProblem, type PublicKeyInfo } from './key-quality.ts';
import { pemToDer, readDerChildren, readDerElement, type DerElement } from './pem.ts';

/** RFC 2985 5.4.2 extensionRequest. */
export const pkcs_9_at_extensionRequest = '1.2.840.113549.1.9.14';
/** RFC 2985 5.4.1 challengePassword. */
export const pkcs_9_at_challengePassword = '1.2.840.113549.1.9.7';

export const RULE_PROOF_OF_POSSESSION = 'CPS 3.2.1 proof of possession';
export const RULE_VERSION = 'RFC 2986 4.1 version is v1(0)';
export const RULE_SIGNATURE_BITS = 'RFC 2986 4.2 signature BIT STRING has no unused bits';
export const RULE_SINGLE_EXTENSION_REQUEST = 'RFC 2985 5.4.2 one single-valued extensionRequest';
export const RULE_EXTENSION_REQUEST_SYNTAX = 'RFC 2985 5.4.2 extensionRequest is Extensions';
export const RULE_DUPLICATE_EXTENSION = 'RFC 5280 4.2 one instance of each extension';
export const RULE_UNKNOWN_CRITICAL = 'RFC 5280 4.2 unrecognized critical extension';

/** What the CSR asks for. Untrusted: a profile decides what reaches a certificate. */
export interface RequestedAttributes {
  /** The subject Name as in the CSR (attribute order and string types kept). */
  subject: Name;
  /** Exact bytes of the subject Name. */
  subjectDer: Buffer;
  /** One-line rendering for humans in encoded order, e.g. "C=JP, O=Example, CN=Sub CA". */
  subjectText: string;
  /** Exact bytes of the SubjectPublicKeyInfo. */
  publicKeySpki: Buffer;
  /** From the extensionRequest attribute (1.2.840.113549.1.9.14), in request order. */
  extensions: Extension[];
  /** AlgorithmIdentifier.algorithm of the CSR signature. */
  signatureAlgorithmOid: string;
  /** Other CRI attributes (e.g. challengePassword), by type, values as DER. */
  otherAttributes: { type: string; values: Buffer[] }[];
}

/** The result of reading a CSR: what it asks for, and every reason to refuse it. */
export interface CsrInspection {
  der: Buffer;
  requested: RequestedAttributes;
  publicKey: PublicKeyInfo;
  /** Proof of possession (CPS 3.2.1): the CSR signature verifies with its own key. */
  signatureValid: boolean;
  /** Every problem found: proof of possession, key quality, structure. Empty = acceptable. */
  problems: KeyProblem[];
}

/** A signature algorithm the intake can verify. */
interface CsrSignatureAlgorithm {
  name: string;
  scheme: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
  /** Fixed hash; PSS takes it from the parameters. */
  hash?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
}

const id_RSASSA_PSS = '1.2.840.113549.1.1.10';
const id_mgf1 = '1.2.840.113549.1.1.8';
const ecdsa_with_SHA512 = '1.2.840.10045.4.3.4';

/** RFC 4055 2.1 / RFC 5754 2: hash OIDs allowed inside RSASSA-PSS parameters. */
const HASH_BY_OID: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const CSR_SIGNATURE_ALGORITHMS: Record<string, CsrSignatureAlgorithm> = {
  ...Object.fromEntries(
    Object.values(SIGNATURE_ALGORITHMS).map((a) => [
      a.oid,
      { name: a.name, scheme: a.keyKind === 'rsa' ? 'rsa-pkcs1' : 'ecdsa', hash: a.hash } satisfies CsrSignatureAlgorithm,
    ]),
  ),
  [ecdsa_with_SHA512]: { name: 'ecdsa-with-SHA512', scheme: 'ecdsa', hash: 'sha512' },
  [id_RSASSA_PSS]: { name: 'RSASSA-PSS', scheme: 'rsa-pss' },
};

function malformed(reason: string, cause?: unknown): CaError {
  return new CaError('CSR_MALFORMED', `not a PKCS#10 certification request: ${reason}`, { cause });
}

/** CSR bytes as DER: PEM with either the RFC 7468 label or the legacy "NEW CERTIFICATE REQUEST". */
function csrDer(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw malformed('input is empty');
  if (buf[0] === 0x30) return Buffer.from(buf);
  const text = buf.toString('latin1');
  if (!text.includes('-----BEGIN')) return Buffer.from(buf);
  const label = text.includes('-----BEGIN NEW CERTIFICATE REQUEST-----') ? 'NEW CERTIFICATE REQUEST' : 'CERTIFICATE REQUEST';
  try {
    return pemToDer(text, label);
  } catch (e) {
    throw malformed((e as Error).message, e);
  }
}

/** The DER framing of CertificationRequest and CertificationRequestInfo (RFC 2986 4.1, 4.2). */
interface CsrLayout {
  cri: DerElement;
  version: DerElement;
  subject: DerElement;
  spki: DerElement;
  signatureAlgorithm: DerElement;
  signature: DerElement;
}

function layout(der: Buffer): CsrLayout {
  try {
    if (der[0] !== 0x30) throw new Error(`starts with byte 0x${der[0]!.toString(16).padStart(2, '0')}, expected a SEQUENCE (0x30)`);
    const outer = readDerElement(der, 0);
    if (outer.end !== der.length) throw new Error(`${der.length - outer.end} trailing byte(s) after the CertificationRequest`);
    const top = readDerChildren(der, outer);
    if (top.length !== 3) throw new Error(`CertificationRequest has ${top.length} elements, expected 3`);
    const [cri, signatureAlgorithm, signature] = top as [DerElement, DerElement, DerElement];
    if (cri.tag !== 0x30) throw new Error('certificationRequestInfo is not a SEQUENCE');
    if (signatureAlgorithm.tag !== 0x30) throw new Error('signatureAlgorithm is not a SEQUENCE');
    if (signature.tag !== 0x03) throw new Error('signature is not a BIT STRING');
    if (signature.end === signature.contentStart) throw new Error('signature BIT STRING is empty');
    const parts = readDerChildren(der, cri);
    if (parts.length < 3 || parts.length > 4) throw new Error(`certificationRequestInfo has ${parts.length} elements, expected 4`);
    const [version, subject, spki, attributes] = parts as [DerElement, DerElement, DerElement, DerElement | undefined];
    if (version.tag !== 0x02) throw new Error('version is not an INTEGER');
    if (subject.tag !== 0x30) throw new Error('subject is not a Name (SEQUENCE)');
    if (spki.tag !== 0x30) throw new Error('subjectPKInfo is not a SEQUENCE');
    if (attributes && attributes.tag !== 0xa0) throw new Error('attributes are not [0] IMPLICIT SET');
    return { cri, version, subject, spki, signatureAlgorithm, signature };
  } catch (e) {
    throw malformed((e as Error).message, e);
  }
}

/**
 * Reads a PKCS#10 CSR (PEM or DER) and reports everything wrong with it without refusing it.
 * Throws CaError('CSR_MALFORMED', reason) only when the input is not a PKCS#10 at all
 * (truncated, garbage, trailing bytes, wrong structure).
 */
export function inspectCsr(bytes: Uint8Array): CsrInspection {
  const der = csrDer(bytes);
  const l = layout(der);
  let csr: CertificationRequest;
  let subject: Name;
  try {
    csr = AsnConvert.parse(der, CertificationRequest);
    subject = AsnConvert.parse(der.subarray(l.subject.start, l.subject.end), Name);
  } catch (e) {
    throw malformed((e as Error).message, e);
  }
  const cri = csr.certificationRequestInfo;
  const problems: KeyProblem[] = [];

  // RFC 2986 4.1: "version is the version number, for compatibility with future revisions of
  // this document. It shall be 0 for this version of the standard."
  if (cri.version !== 0) {
    problems.push({ rule: RULE_VERSION, message: `version is ${cri.version}; it shall be 0` });
  }

  const subjectDer = Buffer.from(der.subarray(l.subject.start, l.subject.end));
  const spki = Buffer.from(der.subarray(l.spki.start, l.spki.end));

  // Attributes: extensionRequest once, single-valued (RFC 2985 5.4.2 "SINGLE VALUE TRUE").
  const extensions: Extension[] = [];
  const otherAttributes: RequestedAttributes['otherAttributes'] = [];
  const attributes = cri.attributes ?? [];
  const extensionRequests = attributes.filter((a) => a.type === pkcs_9_at_extensionRequest);
  if (extensionRequests.length > 1 || extensionRequests.some((a) => a.values.length !== 1)) {
    problems.push({
      rule: RULE_SINGLE_EXTENSION_REQUEST,
      message: `found ${extensionRequests.length} extensionRequest attribute(s) with ${extensionRequests.map((a) => a.values.length).join('/')} value(s); exactly one value is allowed`,
    });
  }
  for (const attr of attributes) {
    if (attr.type !== pkcs_9_at_extensionRequest) {
      otherAttributes.push({ type: attr.type, values: attr.values.map((v) => Buffer.from(v)) });
      continue;
    }
    for (const value of attr.values) {
      try {
        extensions.push(...AsnConvert.parse(value, Extensions));
      } catch (e) {
        problems.push({ rule: RULE_EXTENSION_REQUEST_SYNTAX, message: `extensionRequest value is not Extensions: ${(e as Error).message}` });
      }
    }
  }
  // RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular extension."
  const seen = new Set<string>();
  for (const ext of extensions) {
    if (seen.has(ext.extnID)) {
      problems.push({ rule: RULE_DUPLICATE_EXTENSION, message: `extension ${extensionName(ext.extnID)} is requested more than once` });
    }
    seen.add(ext.extnID);
    // RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it encounters a
    // critical extension it does not recognize"; the CA cannot honour what it does not know.
    if (ext.critical && !EXTENSION_NAMES[ext.extnID]) {
      problems.push({ rule: RULE_UNKNOWN_CRITICAL, message: `critical extension ${ext.extnID} is not one this CA recognizes` });
    }
  }

  // Proof of possession over the exact certificationRequestInfo bytes as received.
  const criDer = der.subarray(l.cri.start, l.cri.end);
  const sigContent = der.subarray(l.signature.contentStart, l.signature.end);
  const unusedBits = sigContent[0]!;
  if (unusedBits !== 0) {
    problems.push({ rule: RULE_SIGNATURE_BITS, message: `signature BIT STRING declares ${unusedBits} unused bit(s)` });
  }
  const signature = Buffer.from(sigContent.subarray(1));
  const pop = verifyProofOfPossession(criDer, csr.signatureAlgorithm, signature, spki);
  if (!pop.valid) problems.push({ rule: RULE_PROOF_OF_POSSESSION, message: pop.reason });

  let publicKey: PublicKeyInfo;
  try {
    publicKey = describePublicKey(spki);
  } catch (e) {
    publicKey = { algorithm: { kind: 'unsupported', description: `malformed key: ${(e as Error).message}` }, spki: Buffer.from(spki) };
  }
  problems.push(...checkPublicKeyQuality(spki));

  return {
    der: Buffer.from(der),
    requested: {
      subject,
      subjectDer,
      subjectText: nameToText(subject),
      publicKeySpki: spki,
      extensions,
      signatureAlgorithmOid: csr.signatureAlgorithm.algorithm,
      otherAttributes,
    },
    publicKey,
    signatureValid: pop.valid,
    problems,
  };
}

/** inspectCsr, then CaError('CSR_REJECTED') listing every problem with its rule if there is any. */
export function acceptCsr(bytes: Uint8Array): CsrInspection {
  const inspection = inspectCsr(bytes);
  if (inspection.problems.length > 0) {
    const list = inspection.problems.map((p) => `  - [${p.rule}] ${p.message}`).join('\n');
    throw new CaError('CSR_REJECTED', `certification request refused (${inspection.problems.length} problem(s)):\n${list}`, {
      details: { problems: inspection.problems, subject: inspection.requested.subjectText },
    });
  }
  return inspection;
}

type PopResult = { valid: true } | { valid: false; reason: string };

/**
 * Verifies the CSR signature with the CSR's own public key (RFC 2986 3 step 3; CPS 3.2.1 via 6.1.3).
 * RSA PKCS#1 v1.5 with SHA-1/256/384/512, RSASSA-PSS (RFC 4055 3.1 parameters, MGF1 with the
 * same hash, trailerField 1), ECDSA with SHA-256/384/512.
 */
function verifyProofOfPossession(criDer: Uint8Array, alg: AlgorithmIdentifier, signature: Buffer, spki: Buffer): PopResult {
  const known = CSR_SIGNATURE_ALGORITHMS[alg.algorithm];
  if (!known) return { valid: false, reason: `signature algorithm ${signatureAlgorithmName(alg.algorithm)} is not supported, so possession cannot be proved` };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    return { valid: false, reason: `the request's public key cannot be loaded to verify its signature: ${(e as Error).message}` };
  }
  const keyType = key.asymmetricKeyType;
  const wantKey = known.scheme === 'ecdsa' ? 'ec' : 'rsa';
  if (keyType !== wantKey) {
    return { valid: false, reason: `signature algorithm ${known.name} does not match the ${keyType ?? 'unknown'} public key` };
  }
  let hash = known.hash;
  let saltLength: number | undefined;
  if (known.scheme === 'rsa-pss') {
    if (!alg.parameters) return { valid: false, reason: 'RSASSA-PSS signature without parameters (RFC 4055 3.1: they MUST be present)' };
    let params: RsaSaPssParams;
    try {
      params = AsnConvert.parse(alg.parameters, RsaSaPssParams);
    } catch (e) {
      return { valid: false, reason: `RSASSA-PSS parameters do not parse: ${(e as Error).message}` };
    }
    hash = HASH_BY_OID[params.hashAlgorithm.algorithm];
    if (!hash) return { valid: false, reason: `RSASSA-PSS hash ${params.hashAlgorithm.algorithm} is not supported` };
    if (params.maskGenAlgorithm.algorithm !== id_mgf1 || !params.maskGenAlgorithm.parameters) {
      return { valid: false, reason: `RSASSA-PSS mask generation ${params.maskGenAlgorithm.algorithm} is not MGF1` };
    }
    let mgfHash: string | undefined;
    try {
      mgfHash = HASH_BY_OID[AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm];
    } catch {
      mgfHash = undefined;
    }
    if (mgfHash !== hash) return { valid: false, reason: 'RSASSA-PSS MGF1 hash differs from the message hash (not supported)' };
    if (params.trailerField !== 1) return { valid: false, reason: `RSASSA-PSS trailerField ${params.trailerField} (RFC 4055: must be 1)` };
    saltLength = params.saltLength;
  }
  let ok: boolean;
  try {
    if (known.scheme === 'ecdsa') {
      ok = cryptoVerify(hash!, criDer, { key, dsaEncoding: 'der' }, signature);
    } else if (known.scheme === 'rsa-pss') {
      ok = cryptoVerify(hash!, criDer, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    } else {
      ok = cryptoVerify(hash!, criDer, { key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature);
    }
  } catch (e) {
    return { valid: false, reason: `signature could not be verified: ${(e as Error).message}` };
  }
  return ok ? { valid: true } : { valid: false, reason: `the ${known.name} signature does not verify with the request's public key` };
}

/** Short names for subject attributes (RFC 4514 3, plus common X.520 / PKCS#9 / CA/B ones). */
const ATTRIBUTE_SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** RFC 4514 2.4 escaping of one attribute value string. */
function escapeValue(v: string): string {
  let s = v.replace(/[\\",+;<>=]/g, (c) => `\\${c}`);
  s = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (s.startsWith(' ') || s.startsWith('#')) s = `\\${s}`;
  if (s.endsWith(' ') && s.length > 1) s = `${s.slice(0, -1)}\\ `;
  return s;
}

function attributeValueText(atv: AttributeTypeAndValue): string {
  const v = atv.value;
  const str = v.printableString ?? v.utf8String ?? v.ia5String ?? v.teletexString ?? v.bmpString ?? v.universalString;
  if (str !== undefined) return escapeValue(str);
  // RFC 4514 2.4: values without a string form are written as '#' and the hex of their BER.
  if (v.anyValue) return `#${Buffer.from(v.anyValue).toString('hex')}`;
  return '#';
}

/**
 * One-line rendering of a Name in encoded order (most significant RDN first, as OpenSSL's
 * -nameopt oneline shows it; RFC 4514 itself reverses the order): "C=JP, O=Example, CN=Sub CA".
 * Values are escaped (RFC 4514 2.4) because they are untrusted: "O=A\, CN=B" must not read as two RDNs.
 */
function nameToText(name: Name): string {
  return name
    .map((rdn) => rdn.map((atv) => `${ATTRIBUTE_SHORT_NAMES[atv.type] ?? atv.type}=${attributeValueText(atv)}`).join(' + '))
    .join(', ');
}

/** Extensions this CA recognizes (RFC 5280 4.2.1, 4.2.2; RFC 6960 4.2.2.2.1). */
const EXTENSION_NAMES: Record<string, string> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.33': 'policyMappings',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.36': 'policyConstraints',
  '2.5.29.37': 'extKeyUsage',
  '2.5.29.46': 'freshestCRL',
  '2.5.29.54': 'inhibitAnyPolicy',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
  '1.3.6.1.5.5.7.1.11': 'subjectInfoAccess',
  '1.3.6.1.5.5.7.48.1.5': 'id-pkix-ocsp-nocheck',
};

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const KEY_USAGE_BITS: [KeyUsageFlags, string][] = [
  [KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [KeyUsageFlags.cRLSign, 'cRLSign'],
  [KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

function extensionName(oid: string): string {
  const n = EXTENSION_NAMES[oid];
  return n ? `${n} (${oid})` : oid;
}

function generalNameText(g: GeneralName): string {
  if (g.dNSName !== undefined) return `DNS:${g.dNSName}`;
  if (g.rfc822Name !== undefined) return `email:${g.rfc822Name}`;
  if (g.uniformResourceIdentifier !== undefined) return `URI:${g.uniformResourceIdentifier}`;
  if (g.iPAddress !== undefined) return `IP:${g.iPAddress}`;
  if (g.directoryName !== undefined) return `DirName:${nameToText(g.directoryName)}`;
  if (g.registeredID !== undefined) return `RID:${g.registeredID}`;
  if (g.otherName !== undefined) return `othername:${g.otherName.typeId}`;
  return 'other name form';
}

/** A human reading of one requested extension's value; hex when it is not one we decode. */
function extensionValueText(ext: Extension): string {
  const value = ext.extnValue.buffer;
  try {
    switch (ext.extnID) {
      case '2.5.29.19': {
        const bc = AsnConvert.parse(value, BasicConstraints);
        return `CA:${bc.cA ? 'TRUE' : 'FALSE'}${bc.pathLenConstraint !== undefined ? `, pathlen:${bc.pathLenConstraint}` : ''}`;
      }
      case '2.5.29.15': {
        // RFC 5280 4.2.1.3 names, in bit order.
        const ku = AsnConvert.parse(value, KeyUsage);
        return KEY_USAGE_BITS.filter(([flag]) => (ku.toNumber() & flag) !== 0).map(([, n]) => n).join(', ');
      }
      case '2.5.29.37':
        return [...AsnConvert.parse(value, ExtendedKeyUsage)].map((o) => EKU_NAMES[o] ?? o).join(', ');
      case '2.5.29.17':
        return [...AsnConvert.parse(value, SubjectAlternativeName)].map(generalNameText).join(', ');
      case '2.5.29.32':
        return [...AsnConvert.parse(value, CertificatePolicies)].map((p) => p.policyIdentifier).join(', ');
      default:
        break;
    }
  } catch {
    // fall through to hex: the profile, not the report, decides what a bad value means
  }
  const hex = Buffer.from(value).toString('hex');
  return `${hex.length > 64 ? `${hex.slice(0, 64)}…` : hex} (${value.byteLength} bytes)`;
}

/** Signature algorithms seen in the wild that the intake refuses, named for the report. */
const UNSUPPORTED_SIGNATURE_NAMES: Record<string, string> = {
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-sha256',
};

function signatureAlgorithmName(oid: string): string {
  const n = CSR_SIGNATURE_ALGORITHMS[oid]?.name ?? UNSUPPORTED_SIGNATURE_NAMES[oid];
  return n ? `${n} (${oid})` : oid;
}

function signatureAlgorithmText(der: Buffer, oid: string): { text: string; legacy: boolean } {
  const known = CSR_SIGNATURE_ALGORITHMS[oid];
  if (!known) return { text: `${signatureAlgorithmName(oid)}, not supported`, legacy: false };
  if (known.scheme !== 'rsa-pss') return { text: `${known.name} (${oid})`, legacy: known.hash === 'sha1' };
  // RSASSA-PSS carries its hash in the parameters (RFC 4055 3.1).
  let hash: string | undefined;
  try {
    const params = AsnConvert.parse(AsnConvert.parse(der, CertificationRequest).signatureAlgorithm.parameters!, RsaSaPssParams);
    hash = HASH_BY_OID[params.hashAlgorithm.algorithm];
    return { text: `${known.name} with ${hash ?? params.hashAlgorithm.algorithm}, salt ${params.saltLength} (${oid})`, legacy: hash === 'sha1' };
  } catch {
    return { text: `${known.name} (${oid}), parameters unreadable`, legacy: false };
  }
}

function colonHex(b: Buffer): string {
  return b.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** Multi-line report for `rootca csr inspect`: subject, key, signature, requested extensions, problems. */
export function formatCsrInspection(i: CsrInspection): string {
  const r = i.requested;
  const lines: string[] = [];
  lines.push('Certification request (PKCS#10); everything below is as requested, not yet accepted by a profile');
  lines.push(`  Subject:              ${r.subjectText || '(empty)'}`);
  const keyText = i.publicKey.algorithm.kind === 'unsupported' ? `${i.publicKey.algorithm.description} (not accepted)` : describeKeyAlgorithm(i.publicKey.algorithm);
  lines.push(`  Public key:           ${keyText}`);
  lines.push(`  SPKI SHA-256:         ${colonHex(createHash('sha256').update(r.publicKeySpki).digest())}`);
  const sig = signatureAlgorithmText(i.der, r.signatureAlgorithmOid);
  lines.push(`  Signature algorithm:  ${sig.text}`);
  lines.push(`  Proof of possession:  ${i.signatureValid ? 'signature verifies with the request\'s own key (CPS 3.2.1)' : 'FAILED: signature does not verify'}`);
  if (sig.legacy && i.signatureValid) {
    lines.push('  Note:                 the request is signed with SHA-1; that still proves possession, and the certificate will be signed with the CA\'s own algorithm');
  }
  if (r.extensions.length === 0) {
    lines.push('  Requested extensions: none');
  } else {
    lines.push('  Requested extensions:');
    for (const ext of r.extensions) {
      lines.push(`    ${extensionName(ext.extnID)}${ext.critical ? ' [critical]' : ''}: ${extensionValueText(ext)}`);
    }
  }
  for (const a of r.otherAttributes) {
    const shown = a.type === pkcs_9_at_challengePassword ? 'challengePassword (present, not shown)' : `${a.type} (${a.values.length} value(s))`;
    lines.push(`  Other attribute:      ${shown}`);
  }
  if (i.problems.length === 0) {
    lines.push('  Problems:             none');
  } else {
    lines.push(`  Problems (${i.problems.length}):`);
    for (const p of i.problems) lines.push(`    - [${p.rule}] ${p.message}`);
  }
  return `${lines.join('\n')}\n`;
}
