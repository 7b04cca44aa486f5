/**
 * PKCS#10 certification request intake (RFC 2986) for subordinate CA and service certificates
 * . Everything read from a CSR is untrusted (CONVENTIONS 7): it lives under `requested`
 * until a profile has accepted it. Pure: node:crypto is used for hashing and verifying only.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, type CertificationRequestInfo } from '@peculiar/asn1-csr';
import { type Extension, Extensions, Name } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { describeKeyAlgorithm } from './algorithms.ts';
import { signatureAlgorithmText, verifyProofOfPossession } from './csr-pop.ts';
import { extensionValueText, requestedNameText } from './csr-text.ts';
import { DerError } from './der.ts';
import { checkPublicKeyQuality, describePublicKey, type KeyProblem, type PublicKeyInfo } from './key-quality.ts';
import { checkNameDer } from './name-strings.ts';
import { EXTENSION_NAMES, extensionName } from './oid-names.ts';
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
  const label = text.includes('-----BEGIN NEW CERTIFICATE REQUEST-----')
    ? 'NEW CERTIFICATE REQUEST'
    : 'CERTIFICATE REQUEST';
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
    if (der[0] !== 0x30)
      throw new DerError(`starts with byte 0x${der[0]!.toString(16).padStart(2, '0')}, expected a SEQUENCE (0x30)`);
    const outer = readDerElement(der, 0);
    if (outer.end !== der.length)
      throw new DerError(`${der.length - outer.end} trailing byte(s) after the CertificationRequest`);
    const top = readDerChildren(der, outer);
    if (top.length !== 3) throw new DerError(`CertificationRequest has ${top.length} elements, expected 3`);
    const [cri, signatureAlgorithm, signature] = top as [DerElement, DerElement, DerElement];
    if (cri.tag !== 0x30) throw new DerError('certificationRequestInfo is not a SEQUENCE');
    if (signatureAlgorithm.tag !== 0x30) throw new DerError('signatureAlgorithm is not a SEQUENCE');
    if (signature.tag !== 0x03) throw new DerError('signature is not a BIT STRING');
    if (signature.end === signature.contentStart) throw new DerError('signature BIT STRING is empty');
    const parts = readDerChildren(der, cri);
    if (parts.length < 3 || parts.length > 4)
      throw new DerError(`certificationRequestInfo has ${parts.length} elements, expected 4`);
    const [version, subject, spki, attributes] = parts as [DerElement, DerElement, DerElement, DerElement | undefined];
    if (version.tag !== 0x02) throw new DerError('version is not an INTEGER');
    if (subject.tag !== 0x30) throw new DerError('subject is not a Name (SEQUENCE)');
    if (spki.tag !== 0x30) throw new DerError('subjectPKInfo is not a SEQUENCE');
    if (attributes && attributes.tag !== 0xa0) throw new DerError('attributes are not [0] IMPLICIT SET');
    return { cri, version, subject, spki, signatureAlgorithm, signature };
  } catch (e) {
    throw malformed((e as Error).message, e);
  }
}

/**
 * The requested extensions and other attributes of a CertificationRequestInfo, adding to
 * `problems` what RFC 2985 5.4.2 and RFC 5280 4.2 forbid.
 */
function requestedExtensions(
  cri: CertificationRequestInfo,
  problems: KeyProblem[],
): { extensions: Extension[]; otherAttributes: RequestedAttributes['otherAttributes'] } {
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
        problems.push({
          rule: RULE_EXTENSION_REQUEST_SYNTAX,
          message: `extensionRequest value is not Extensions: ${(e as Error).message}`,
        });
      }
    }
  }
  // RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular extension."
  const seen = new Set<string>();
  for (const ext of extensions) {
    if (seen.has(ext.extnID)) {
      problems.push({
        rule: RULE_DUPLICATE_EXTENSION,
        message: `extension ${extensionName(ext.extnID)} is requested more than once`,
      });
    }
    seen.add(ext.extnID);
    // RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it encounters a
    // critical extension it does not recognize"; the CA cannot honour what it does not know.
    if (ext.critical && !EXTENSION_NAMES[ext.extnID]) {
      problems.push({
        rule: RULE_UNKNOWN_CRITICAL,
        message: `critical extension ${ext.extnID} is not one this CA recognizes`,
      });
    }
  }
  return { extensions, otherAttributes };
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
  // Issue 15.6: strings that would mislead a relying party, read from the subject's exact bytes.
  problems.push(...checkNameDer(subjectDer));

  const { extensions, otherAttributes } = requestedExtensions(cri, problems);

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
    publicKey = {
      algorithm: { kind: 'unsupported', description: `malformed key: ${(e as Error).message}` },
      spki: Buffer.from(spki),
    };
  }
  problems.push(...checkPublicKeyQuality(spki));

  return {
    der: Buffer.from(der),
    requested: {
      subject,
      subjectDer,
      subjectText: requestedNameText(subject),
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
    throw new CaError(
      'CSR_REJECTED',
      `certification request refused (${inspection.problems.length} problem(s)):\n${list}`,
      {
        details: { problems: inspection.problems, subject: inspection.requested.subjectText },
      },
    );
  }
  return inspection;
}

function colonHex(b: Buffer): string {
  return b
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

/** Multi-line report for `rootca csr inspect`: subject, key, signature, requested extensions, problems. */
export function formatCsrInspection(i: CsrInspection): string {
  const r = i.requested;
  const lines: string[] = [];
  lines.push('Certification request (PKCS#10); everything below is as requested, not yet accepted by a profile');
  lines.push(`  Subject:              ${r.subjectText || '(empty)'}`);
  const keyText =
    i.publicKey.algorithm.kind === 'unsupported'
      ? `${i.publicKey.algorithm.description} (not accepted)`
      : describeKeyAlgorithm(i.publicKey.algorithm);
  lines.push(`  Public key:           ${keyText}`);
  lines.push(`  SPKI SHA-256:         ${colonHex(createHash('sha256').update(r.publicKeySpki).digest())}`);
  const sig = signatureAlgorithmText(i.der, r.signatureAlgorithmOid);
  lines.push(`  Signature algorithm:  ${sig.text}`);
  lines.push(
    `  Proof of possession:  ${i.signatureValid ? "signature verifies with the request's own key (CPS 3.2.1)" : 'FAILED: signature does not verify'}`,
  );
  if (sig.legacy && i.signatureValid) {
    lines.push(
      "  Note:                 the request is signed with SHA-1; that still proves possession, and the certificate will be signed with the CA's own algorithm",
    );
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
    const shown =
      a.type === pkcs_9_at_challengePassword
        ? 'challengePassword (present, not shown)'
        : `${a.type} (${a.values.length} value(s))`;
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
