/**
 * Certificate Revocation Lists (RFC 5280 5; ). As with certificates (certificate.ts),
 * building the TBSCertList and attaching a signature are separate steps: the caller lints the
 * TBS, the CA key signs exactly those bytes, and assembleSignedCrl embeds them unchanged.
 *
 * CertificateList  ::=  SEQUENCE  {
 *      tbsCertList          TBSCertList,
 *      signatureAlgorithm   AlgorithmIdentifier,
 *      signatureValue       BIT STRING  }
 *
 * Pure: no clock, randomness, files or network (dates and numbers are passed in).
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  CertificateList,
  CRLReason,
  Extension,
  Extensions,
  Name,
  TBSCertList,
  Time,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_invalidityDate,
} from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier, toArrayBuffer } from './certificate.ts';
import {
  crlReasonOf,
  decodeRevokedCertificate,
  encodeExtension,
  encodeOid,
  encodeTime,
  invalidityDateOf,
  TAG_CRL_EXTENSIONS,
  TAG_GENERALIZED_TIME,
  TAG_INTEGER,
  TAG_SEQUENCE,
  TAG_UTC_TIME,
  tbsWithRevoked,
  tlv,
} from './crl-entries.ts';
import { RevokedListWriter, wholeSecondsOf } from './crl-list-writer.ts';
import { derBitString, derSequence, derTlv } from './der.ts';
import { authorityKeyIdentifier } from './extensions.ts';
import { bigintToInteger, readDerInteger } from './integer.ts';
import { readDerChildren, readDerElement, type DerElement } from './pem.ts';
import { verifyTbsSignature } from './signature-verify.ts';

export { id_ce_authorityKeyIdentifier, id_ce_cRLNumber, id_ce_cRLReasons, id_ce_invalidityDate };
/** Re-exported for the callers that still import them from here (they live in integer.ts and signature-verify.ts). */

/** The revocation reasons this CA uses (R-4.1; BR 7.2.2 lists the same set for CA certificates). */
export type RevocationReason =
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'privilegeWithdrawn';

/**
 * RFC 5280 5.3.1 CRLReason values. 'unspecified' (0) is deliberately absent: BR 7.2.2 "the
 * CRLReason MUST NOT be unspecified (0)"; an entry without a reason simply omits reasonCode.
 */
export const REVOCATION_REASON_CODES: Record<RevocationReason, number> = {
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
};

/** The reason name of a CRLReason code, when it is one this CA uses. */
export function revocationReasonOfCode(code: number): RevocationReason | undefined {
  return (Object.keys(REVOCATION_REASON_CODES) as RevocationReason[]).find((r) => REVOCATION_REASON_CODES[r] === code);
}

/** One revoked certificate. `serialHex` is the serial number in hex (see normalizeSerialHex). */
export interface CrlEntry {
  serialHex: string;
  revocationDate: Date;
  reason?: RevocationReason;
  /** RFC 5280 5.3.2: when the key was (suspected to be) compromised; may precede revocationDate. */
  invalidityDate?: Date;
}

export interface TbsCertListParams {
  signatureAlgorithm: SignatureAlgorithmName;
  issuer: Name;
  thisUpdate: Date;
  nextUpdate: Date;
  /** RFC 5280 5.2.3: non-critical, non-negative, at most 20 octets (lint e_crl_number checks the range). */
  crlNumber: bigint;
  /** The issuing CA's subjectKeyIdentifier (RFC 5280 5.2.1: "MUST use the key identifier method"). */
  authorityKeyIdentifier: Uint8Array;
  /** Iterated once, in order (an array or a cursor over the store). */
  entries: Iterable<CrlEntry>;
}

// ---------------------------------------------------------------------------------------------
// Building

/** RFC 5280 4.1.2.5.2: GeneralizedTime "MUST NOT include fractional seconds". */
function wholeSeconds(d: Date, field: string): Date {
  return new Date(wholeSecondsOf(d, field));
}

/** RFC 5280 5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050 (asn1-x509 Time decides by year). */
function crlTime(d: Date, field: string): Time {
  return new Time(wholeSeconds(d, field));
}

const reasonExtensions = new Map<number, Buffer>();

/** The reasonCode extension (5.3.1) of a CRLReason code, encoded once per code. */
function reasonExtension(code: number): Buffer {
  let der = reasonExtensions.get(code);
  if (!der) {
    const value = new Uint8Array(AsnConvert.serialize(new CRLReason(code)));
    der = encodeExtension(
      new Extension({ extnID: id_ce_cRLReasons, critical: false, extnValue: new OctetString(value) }),
    );
    reasonExtensions.set(code, der);
  }
  return der;
}

/**
 * crlEntryExtensions: reasonCode (5.3.1) when a reason is set, invalidityDate (5.3.2) when set.
 * Both non-critical ("The reasonCode is a non-critical CRL entry extension").
 */
function entryExtensions(e: CrlEntry): Buffer[] {
  const exts: Buffer[] = [];
  if (e.reason !== undefined) {
    const code = REVOCATION_REASON_CODES[e.reason];
    if (code === undefined) {
      throw new CaError(
        'CRL_PARAMS_INVALID',
        `revocation reason "${String(e.reason)}" is not one of ${Object.keys(REVOCATION_REASON_CODES).join(', ')}`,
        {
          details: { serialHex: e.serialHex, reason: e.reason },
        },
      );
    }
    exts.push(reasonExtension(code));
  }
  if (e.invalidityDate !== undefined) {
    // InvalidityDate ::= GeneralizedTime, whatever the year (5.3.2).
    const when = new Time();
    when.generalTime = wholeSeconds(e.invalidityDate, 'invalidityDate');
    const value = encodeTime(when);
    exts.push(tlv(0x30, encodeOid(id_ce_invalidityDate), tlv(0x04, value)));
  }
  return exts;
}

/** Writes one entry into a list, with its crlEntryExtensions (a reason outside RevocationReason is refused). */
export function addCrlEntry(list: RevokedListWriter, e: CrlEntry): void {
  list.add({ serialHex: e.serialHex, revocationDate: e.revocationDate, extensions: entryExtensions(e) });
}

const reasonOnly = new Map<RevocationReason, Buffer[]>();

/** The crlEntryExtensions of an entry with this reason and no invalidityDate, as addCrlEntry writes them (one array per reason). */
export function reasonOnlyExtensions(reason: RevocationReason): Buffer[] {
  let exts = reasonOnly.get(reason);
  if (!exts) {
    exts = [reasonExtension(REVOCATION_REASON_CODES[reason])];
    reasonOnly.set(reason, exts);
  }
  return exts;
}

/**
 * TBSCertList  ::=  SEQUENCE  {
 *      version                 Version OPTIONAL,  -- if present, MUST be v2
 *      signature               AlgorithmIdentifier,
 *      issuer                  Name,
 *      thisUpdate              Time,
 *      nextUpdate              Time OPTIONAL,
 *      revokedCertificates     SEQUENCE OF SEQUENCE  {
 *           userCertificate         CertificateSerialNumber,
 *           revocationDate          Time,
 *           crlEntryExtensions      Extensions OPTIONAL } OPTIONAL,
 *      crlExtensions           [0]  EXPLICIT Extensions OPTIONAL }
 *
 * Builds a v2 TBSCertList with authorityKeyIdentifier and cRLNumber, entries in the
 * given order, each encoded as it is read (an iterator over the store keeps a long list out
 * of memory). "When there are no revoked certificates, the revoked certificates list MUST be
 * absent" (5.1.2.6). Policy (ranges, update interval, duplicates) is left to the CRL lints,
 * which run before the CA key signs; only unencodable input is refused here.
 */
export function createTbsCertList(p: TbsCertListParams): { der: Buffer; entries: number } {
  const list = new RevokedListWriter();
  for (const e of p.entries) addCrlEntry(list, e);
  return tbsCertListAround(p, list);
}

/** The TBSCertList of createTbsCertList around a list already written (addCrlEntry, RevokedListWriter.addText). */
export function tbsCertListAround(
  p: Omit<TbsCertListParams, 'entries'>,
  list: RevokedListWriter,
): { der: Buffer; entries: number } {
  const revoked = list.finish();
  const head = new TBSCertList({
    version: Version.v2,
    signature: signatureAlgorithmIdentifier(p.signatureAlgorithm),
    issuer: p.issuer,
    thisUpdate: crlTime(p.thisUpdate, 'thisUpdate'),
    nextUpdate: crlTime(p.nextUpdate, 'nextUpdate'),
    crlExtensions: [
      authorityKeyIdentifier(p.authorityKeyIdentifier),
      // CRLNumber ::= INTEGER (0..MAX); asn1-x509's CRLNumber holds a JS number, so the BigInt is encoded here.
      new Extension({
        extnID: id_ce_cRLNumber,
        critical: false,
        extnValue: new OctetString(derTlv(0x02, bigintToInteger(p.crlNumber))),
      }),
    ],
  });
  return { der: tbsWithRevoked(head, revoked), entries: list.count };
}

/** Wraps signed TBSCertList bytes into a CertificateList without re-encoding them (5.1.1). */
export function assembleSignedCrl(tbsDer: Uint8Array, alg: SignatureAlgorithmName, signature: Uint8Array): Buffer {
  const algDer = Buffer.from(AsnConvert.serialize(signatureAlgorithmIdentifier(alg)));
  return derSequence(tbsDer, algDer, derBitString(signature));
}

// ---------------------------------------------------------------------------------------------
// Parsing and verifying

/** A parsed entry: `reasonCode` keeps the raw CRLReason (also codes outside RevocationReason, e.g. 0 or 6). */
export type ParsedCrlEntry = CrlEntry & { reasonCode?: number };

export interface ParsedCrl {
  /** The issuer Name exactly as encoded in the CRL. */
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  /** authorityKeyIdentifier keyIdentifier. */
  akid?: Buffer;
  entries: ParsedCrlEntry[];
  /** The outer signatureAlgorithm. */
  signatureAlgorithmOid: string;
  /** The exact tbsCertList bytes (what the signature covers). */
  tbsDer: Buffer;
  signature: Buffer;
  /** The parsed structure, for lints and callers that need more. */
  crl: CertificateList;
}

function malformed(reason: string, cause?: unknown): CaError {
  return new CaError('CRL_MALFORMED', `not a well-formed CRL: ${reason}`, { cause });
}

/** The bare reason, for decode; parseCrl wraps it with malformed(). */
function badDer(reason: string): CaError {
  return new CaError('CRL_MALFORMED', reason);
}

function timeOf(t: Time): Date {
  return t.getTime();
}

/**
 * Decodes a DER CertificateList field by field. asn1-x509's own TBSCertList schema cannot be
 * trusted here: with nextUpdate absent it silently drops revokedCertificates (the optional
 * CHOICE swallows the SEQUENCE), and it reads an empty revokedCertificates as absent; a parser
 * that loses revocations is not acceptable. So the TBSCertList fields are split by their tags
 * (RFC 5280 5.1) and asn1-schema decodes only the unambiguous pieces. Also rejects truncation,
 * trailing bytes and unexpected elements. Throws CaError('CRL_MALFORMED') with the bare reason;
 * parseCrl adds its prefix.
 */
export function decodeCertificateList(der: Uint8Array): CertificateList {
  return decode(der).crl;
}

function decode(der: Uint8Array): { crl: CertificateList; issuerDer: Buffer } {
  const head = decodeCrlHead(der);
  const { buf, list } = head;
  if (list)
    head.crl.tbsCertList.revokedCertificates = readDerChildren(buf, list).map((e) => decodeRevokedCertificate(buf, e));
  return head;
}

/**
 * A CRL decoded but for its entries: `list` is the revokedCertificates element, which the lints
 * read entry by entry (issue 17.5); `revokedCertificates` is [] for an empty list, else undefined.
 */
export interface CrlHead {
  crl: CertificateList;
  issuerDer: Buffer;
  buf: Buffer;
  list?: DerElement;
}

export function decodeCrlHead(der: Uint8Array): CrlHead {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const outer = readDerElement(buf, 0);
  if (outer.tag !== TAG_SEQUENCE) throw badDer('does not start with a SEQUENCE');
  if (outer.end !== buf.length) throw badDer(`${buf.length - outer.end} trailing byte(s) after the CertificateList`);
  const parts = readDerChildren(buf, outer);
  if (parts.length !== 3) throw badDer(`CertificateList has ${parts.length} elements, expected 3`);
  const [tbsEl, algEl, sigEl] = parts as [DerElement, DerElement, DerElement];
  if (tbsEl.tag !== TAG_SEQUENCE) throw badDer('tbsCertList is not a SEQUENCE');
  const bytes = (el: DerElement): Buffer => buf.subarray(el.start, el.end);

  const fields = readDerChildren(buf, tbsEl);
  let i = 0;
  const next = (): DerElement | undefined => fields[i];
  const tbs = new TBSCertList();
  if (next()?.tag === TAG_INTEGER) tbs.version = Number(readDerInteger(bytes(fields[i++]!)));
  const sigAlg = fields[i++];
  if (sigAlg?.tag !== TAG_SEQUENCE) throw badDer('TBSCertList has no signature AlgorithmIdentifier');
  tbs.signature = AsnConvert.parse(bytes(sigAlg), AlgorithmIdentifier);
  const issuer = fields[i++];
  if (issuer?.tag !== TAG_SEQUENCE) throw badDer('TBSCertList has no issuer Name');
  tbs.issuer = AsnConvert.parse(bytes(issuer), Name);
  const isTime = (el: DerElement | undefined): el is DerElement =>
    el?.tag === TAG_UTC_TIME || el?.tag === TAG_GENERALIZED_TIME;
  const thisUpdate = fields[i++];
  if (!isTime(thisUpdate)) throw badDer('TBSCertList has no thisUpdate Time');
  tbs.thisUpdate = AsnConvert.parse(bytes(thisUpdate), Time);
  if (isTime(next())) tbs.nextUpdate = AsnConvert.parse(bytes(fields[i++]!), Time);
  let list: DerElement | undefined;
  if (next()?.tag === TAG_SEQUENCE) {
    list = fields[i++]!;
    if (list.end === list.contentStart) tbs.revokedCertificates = [];
  }
  if (next()?.tag === TAG_CRL_EXTENSIONS) {
    const wrapper = fields[i++]!;
    const inner = readDerChildren(buf, wrapper);
    if (inner.length !== 1 || inner[0]!.tag !== TAG_SEQUENCE)
      throw badDer('crlExtensions [0] does not hold one SEQUENCE');
    tbs.crlExtensions = [...AsnConvert.parse(bytes(inner[0]!), Extensions)];
  }
  if (i !== fields.length) throw badDer(`unexpected element (tag 0x${fields[i]!.tag.toString(16)}) in TBSCertList`);

  if (algEl.tag !== TAG_SEQUENCE) throw badDer('signatureAlgorithm is not a SEQUENCE');
  if (sigEl.tag !== 0x03 || sigEl.end - sigEl.contentStart < 1 || buf[sigEl.contentStart] !== 0)
    throw badDer('signatureValue is not a BIT STRING without unused bits');
  const crl = new CertificateList({
    tbsCertList: tbs,
    tbsCertListRaw: toArrayBuffer(bytes(tbsEl)),
    signatureAlgorithm: AsnConvert.parse(bytes(algEl), AlgorithmIdentifier),
    signature: toArrayBuffer(buf.subarray(sigEl.contentStart + 1, sigEl.end)),
  });
  return { crl, issuerDer: Buffer.from(bytes(issuer)), buf, list };
}

/**
 * Parses a DER CertificateList. Throws CaError('CRL_MALFORMED') on garbage, truncation or
 * trailing bytes. Unknown extensions are ignored here (lints judge them).
 */
export function parseCrl(der: Uint8Array): ParsedCrl {
  let crl: CertificateList;
  let issuerDer: Buffer;
  try {
    ({ crl, issuerDer } = decode(der));
  } catch (e) {
    throw malformed(e instanceof Error ? e.message : String(e), e);
  }
  try {
    const tbs = crl.tbsCertList;
    let crlNumber: bigint | undefined;
    let akid: Buffer | undefined;
    for (const ext of tbs.crlExtensions ?? []) {
      if (ext.extnID === id_ce_cRLNumber && crlNumber === undefined)
        crlNumber = readDerInteger(new Uint8Array(ext.extnValue.buffer));
      if (ext.extnID === id_ce_authorityKeyIdentifier && akid === undefined) {
        const aki = AsnConvert.parse(ext.extnValue, AuthorityKeyIdentifier);
        if (aki.keyIdentifier) akid = Buffer.from(aki.keyIdentifier.buffer);
      }
    }
    const entries = (tbs.revokedCertificates ?? []).map((rc): ParsedCrlEntry => {
      const entry: ParsedCrlEntry = {
        serialHex: Buffer.from(rc.userCertificate).toString('hex'),
        revocationDate: timeOf(rc.revocationDate),
      };
      for (const ext of rc.crlEntryExtensions ?? []) {
        if (ext.extnID === id_ce_cRLReasons && entry.reasonCode === undefined) {
          entry.reasonCode = crlReasonOf(ext.extnValue);
          const name = revocationReasonOfCode(entry.reasonCode);
          if (name) entry.reason = name;
        }
        if (ext.extnID === id_ce_invalidityDate && entry.invalidityDate === undefined) {
          entry.invalidityDate = invalidityDateOf(ext.extnValue);
        }
      }
      return entry;
    });
    return {
      issuerDer,
      thisUpdate: timeOf(tbs.thisUpdate),
      nextUpdate: tbs.nextUpdate ? timeOf(tbs.nextUpdate) : undefined,
      crlNumber,
      akid,
      entries,
      signatureAlgorithmOid: crl.signatureAlgorithm.algorithm,
      tbsDer: Buffer.from(crl.tbsCertListRaw!),
      signature: Buffer.from(crl.signature),
      crl,
    };
  } catch (e) {
    if (e instanceof CaError && e.code === 'CRL_MALFORMED') throw e;
    throw malformed(e instanceof Error ? e.message : String(e), e);
  }
}

/** True when the CRL's signature verifies with the issuer's public key (SPKI DER). */
export function verifyCrlSignature(crlDer: Uint8Array, issuerSpkiDer: Uint8Array): boolean {
  const p = parseCrl(crlDer);
  return verifyTbsSignature(p.tbsDer, p.signatureAlgorithmOid, p.signature, issuerSpkiDer);
}
