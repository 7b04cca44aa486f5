/**
 * Reading time-stamp responses and tokens (RFC 3161 2.4.2 inside RFC 5652 SignedData), from
 * this TSA or another, with the exact bytes their signature and messageDigest cover.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { DerError } from './der.ts';
import { integerToBigint, normalizeSerialHex } from './integer.ts';
import { readDerChildren, readDerElement, type DerElement } from './pem.ts';
import {
  hashOfOid,
  id_aa_signingCertificate,
  id_aa_signingCertificateV2,
  id_ct_TSTInfo,
  id_sha1,
  id_sha256,
  id_signedData,
  PKI_FAILURE_INFO_BITS,
  PKI_STATUS,
  PKIStatusInfo,
  SigningCertificate,
  SigningCertificateV2,
  TSTInfo,
  type PkiFailureInfo,
} from './tsp-asn1.ts';
import { attributesOf, content, issuerAndSerialOf, oidContent, singleValue, slice } from './tsp-der.ts';

export interface ParsedTimeStampResp {
  /** granted, grantedWithMods, rejection, … (or `status(N)` for an unassigned value). */
  status: string;
  statusString?: string[];
  /** The PKIFailureInfo bits set. */
  failInfo: PkiFailureInfo[];
  /** The TimeStampToken (ContentInfo) bytes, when present. */
  token?: Buffer;
}

function malformedToken(reason: string, cause?: unknown): CaError {
  return new CaError('TSP_MALFORMED_TOKEN', `malformed time-stamp token: ${reason}`, { cause, details: { reason } });
}

/** Parses a TimeStampResp (RFC 3161 2.4.2); throws CaError('TSP_MALFORMED_RESPONSE') on garbage. */
export function parseTimeStampResp(der: Uint8Array): ParsedTimeStampResp {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new DerError('not one DER SEQUENCE');
    const kids = readDerChildren(buf, outer);
    if (kids.length < 1 || kids.length > 2 || kids[0]!.tag !== 0x30)
      throw new DerError('not a TimeStampResp { status, timeStampToken? }');
    const si = AsnConvert.parse(slice(buf, kids[0]!), PKIStatusInfo);
    const status =
      (Object.keys(PKI_STATUS) as (keyof typeof PKI_STATUS)[]).find((k) => PKI_STATUS[k] === si.status) ??
      `status(${si.status})`;
    const failInfo: PkiFailureInfo[] = [];
    if (si.failInfo) {
      const bits = new Uint8Array(si.failInfo.value);
      for (const [name, bit] of Object.entries(PKI_FAILURE_INFO_BITS) as [PkiFailureInfo, number][]) {
        if ((bits[Math.floor(bit / 8)] ?? 0) & (0x80 >> (bit % 8))) failInfo.push(name);
      }
    }
    const statusString = si.statusString ? [...si.statusString] : undefined;
    return { status, statusString, failInfo, token: kids[1] ? slice(buf, kids[1]) : undefined };
  } catch (e) {
    throw new CaError(
      'TSP_MALFORMED_RESPONSE',
      `malformed time-stamp response: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and verifying tokens

/** A TimeStampToken taken apart, with the exact bytes its signature and messageDigest cover. */
export interface DecodedToken {
  token: Buffer;
  tstInfoDer: Buffer;
  tstInfo: TSTInfo;
  /** Whether Accuracy.seconds is written (@peculiar/asn1-tsp reads an absent one as 0). */
  accuracySecondsPresent: boolean;
  genTime: Date;
  certificates: Buffer[];
  sid: { issuerDer: Buffer; serialDer: Buffer } | { subjectKeyIdentifier: Buffer };
  digestAlgorithmOid: string;
  /** The signedAttrs re-tagged as SET OF (0x31): what the signature covers (RFC 5652 5.4). */
  signedAttrsDer: Buffer;
  attrs: Map<string, Buffer[]>;
  signatureAlgorithmOid: string;
  signature: Buffer;
}

/** RFC 3161 2.4.2 genTime: YYYYMMDDhhmmss[.s...]Z, no trailing zeros in the fraction. */
const GEN_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/;

function parseGenTime(text: string): Date {
  const m = GEN_TIME.exec(text);
  if (!m) throw new DerError(`genTime "${text}" is not YYYYMMDDhhmmss[.s...]Z`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const date = new Date(t);
  if (
    Number.isNaN(t) ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi) ||
    Number(s) > 59
  )
    throw new DerError(`genTime "${text}" is not a valid time`);
  return date;
}

function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!el || el.tag !== tag)
    throw new DerError(
      `${what} is missing or has tag 0x${el?.tag.toString(16) ?? '??'} instead of 0x${tag.toString(16)}`,
    );
  return el;
}

/** The token's bytes: `der` itself, or the token inside a granted TimeStampResp when `accept` is 'either'. */
function tokenBytes(der: Uint8Array, accept: 'bare' | 'either'): Buffer {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let kids: DerElement[];
  try {
    const outer = readDerElement(buf, 0);
    if (outer.tag !== 0x30 || outer.end !== buf.length) throw new DerError('not one DER SEQUENCE');
    kids = readDerChildren(buf, outer);
  } catch (e) {
    throw malformedToken(e instanceof Error ? e.message : String(e), e);
  }
  if (accept !== 'either' || kids[0]?.tag !== 0x30) return buf;
  const resp = parseTimeStampResp(buf);
  if (resp.status !== 'granted' && resp.status !== 'grantedWithMods') {
    const text = resp.statusString?.join('; ');
    const bits = resp.failInfo.length ? ` (${resp.failInfo.join(', ')})` : '';
    throw new CaError('TSP_REJECTED', `time-stamp response status is ${resp.status}${bits}${text ? `: ${text}` : ''}`, {
      details: { status: resp.status, failInfo: resp.failInfo, statusString: resp.statusString },
    });
  }
  if (!resp.token) throw malformedToken('a granted TimeStampResp carries no timeStampToken');
  return resp.token;
}

/** ContentInfo { id-signedData, SignedData }: the TSTInfo bytes, the certificates and the one SignerInfo's fields. */
function signedDataOf(buf: Buffer): { tstInfoDer: Buffer; certificates: Buffer[]; signerInfo: DerElement[] } {
  const outer = readDerElement(buf, 0);
  if (outer.tag !== 0x30 || outer.end !== buf.length) throw new DerError('not one DER SEQUENCE');
  const kids = readDerChildren(buf, outer);
  const ct = expectTag(kids[0], 0x06, 'ContentInfo contentType');
  if (!content(buf, ct).equals(oidContent(id_signedData)))
    throw new DerError('ContentInfo contentType is not id-signedData');
  const wrapper = expectTag(kids[1], 0xa0, 'ContentInfo content');
  if (kids.length !== 2) throw new DerError('ContentInfo has extra elements');
  const sdWrap = readDerChildren(buf, wrapper);
  if (sdWrap.length !== 1) throw new DerError('ContentInfo content [0] holds more than one element');
  const sd = readDerChildren(buf, expectTag(sdWrap[0], 0x30, 'SignedData'));
  let i = 0;
  expectTag(sd[i++], 0x02, 'SignedData version');
  expectTag(sd[i++], 0x31, 'SignedData digestAlgorithms');
  const encap = readDerChildren(buf, expectTag(sd[i++], 0x30, 'encapContentInfo'));
  const eType = expectTag(encap[0], 0x06, 'eContentType');
  if (!content(buf, eType).equals(oidContent(id_ct_TSTInfo))) throw new DerError('eContentType is not id-ct-TSTInfo');
  const eWrap = readDerChildren(buf, expectTag(encap[1], 0xa0, 'eContent'));
  if (eWrap.length !== 1 || encap.length !== 2) throw new DerError('eContent is not one OCTET STRING');
  const tstInfoDer = content(buf, expectTag(eWrap[0], 0x04, 'eContent OCTET STRING (primitive, DER)'));
  const certificates: Buffer[] = [];
  if (sd[i]?.tag === 0xa0) {
    for (const c of readDerChildren(buf, sd[i]!)) if (c.tag === 0x30) certificates.push(slice(buf, c));
    i++;
  }
  if (sd[i]?.tag === 0xa1) i++; // crls: not used
  const signerInfos = readDerChildren(buf, expectTag(sd[i++], 0x31, 'SignedData signerInfos'));
  if (i !== sd.length) throw new DerError('SignedData has extra elements');
  // RFC 3161 2.4.2: "The time-stamp token MUST NOT contain any signatures other than the signature of the TSA."
  if (signerInfos.length !== 1)
    throw new DerError(`SignedData has ${signerInfos.length} signerInfos; a TimeStampToken has exactly one`);
  return { tstInfoDer, certificates, signerInfo: readDerChildren(buf, signerInfos[0]!) };
}

type SignerFields = Pick<
  DecodedToken,
  'sid' | 'digestAlgorithmOid' | 'signedAttrsDer' | 'signatureAlgorithmOid' | 'signature'
>;

/** The SignerInfo fields (RFC 5652 5.3) a token's signature check needs. */
function signerInfoOf(buf: Buffer, s: DerElement[]): SignerFields {
  expectTag(s[0], 0x02, 'SignerInfo version');
  let sid: DecodedToken['sid'];
  if (s[1]?.tag === 0x30) {
    const ias = readDerChildren(buf, s[1]);
    sid = {
      issuerDer: slice(buf, expectTag(ias[0], 0x30, 'sid issuer')),
      serialDer: slice(buf, expectTag(ias[1], 0x02, 'sid serialNumber')),
    };
  } else {
    sid = { subjectKeyIdentifier: content(buf, expectTag(s[1], 0x80, 'SignerInfo sid')) };
  }
  const algorithmOf = (el: DerElement): string => AsnConvert.parse(slice(buf, el), AlgorithmIdentifier).algorithm;
  const digestAlgorithmOid = algorithmOf(expectTag(s[2], 0x30, 'SignerInfo digestAlgorithm'));
  const sa = slice(buf, expectTag(s[3], 0xa0, 'SignerInfo signedAttrs (RFC 3161 requires them)'));
  const signedAttrsDer = Buffer.concat([Buffer.from([0x31]), sa.subarray(1)]);
  const signatureAlgorithmOid = algorithmOf(expectTag(s[4], 0x30, 'SignerInfo signatureAlgorithm'));
  const signature = content(buf, expectTag(s[5], 0x04, 'SignerInfo signature'));
  if (s.length > 7 || (s.length === 7 && s[6]!.tag !== 0xa1)) throw new DerError('SignerInfo has extra elements');
  return { sid, digestAlgorithmOid, signedAttrsDer, signatureAlgorithmOid, signature };
}

/**
 * Takes a TimeStampToken apart. `accept`: 'bare' for a ContentInfo only, 'either' also takes a
 * TimeStampResp (whose status must be granted or grantedWithMods).
 */
export function decodeTimeStampToken(der: Uint8Array, accept: 'bare' | 'either'): DecodedToken {
  const buf = tokenBytes(der, accept);
  try {
    const { tstInfoDer, certificates, signerInfo } = signedDataOf(buf);
    const signer = signerInfoOf(buf, signerInfo);
    const tstInfo = AsnConvert.parse(tstInfoDer, TSTInfo);
    const tstEl = readDerElement(tstInfoDer, 0);
    if (tstEl.end !== tstInfoDer.length) throw new DerError('trailing bytes after TSTInfo');
    const tstFields = readDerChildren(tstInfoDer, tstEl);
    const genTimeEl = expectTag(tstFields[4], 0x18, 'TSTInfo genTime');
    const genTime = parseGenTime(content(tstInfoDer, genTimeEl).toString('latin1'));
    const accuracyEl = tstFields[5]?.tag === 0x30 ? tstFields[5] : undefined;
    const accuracySecondsPresent = accuracyEl !== undefined && readDerChildren(tstInfoDer, accuracyEl)[0]?.tag === 0x02;
    const attrs = attributesOf(signer.signedAttrsDer);
    const token = Buffer.from(buf);
    return { token, tstInfoDer, tstInfo, accuracySecondsPresent, genTime, certificates, ...signer, attrs };
  } catch (e) {
    if (e instanceof CaError && !(e instanceof DerError)) throw e;
    throw malformedToken(e instanceof Error ? e.message : String(e), e);
  }
}

/** The first ESSCertID(v2) of the signing-certificate attribute: the signer's (RFC 5035 5.4.1.1). */
export function signerCertId(attrs: Map<string, Buffer[]>): { hash: string; certHash: Buffer } | undefined {
  const v2 = singleValue(attrs, id_aa_signingCertificateV2);
  if (v2) {
    const first = AsnConvert.parse(v2, SigningCertificateV2).certs[0];
    if (!first) throw new DerError('signingCertificateV2 lists no certificate');
    const oid = first.hashAlgorithm?.algorithm ?? id_sha256;
    const hash = hashOfOid(oid) ?? (oid === id_sha1 ? 'sha1' : undefined);
    if (!hash) throw new DerError(`ESSCertIDv2 hash algorithm ${oid} is not supported`);
    return { hash, certHash: Buffer.from(first.certHash.buffer) };
  }
  const v1 = singleValue(attrs, id_aa_signingCertificate);
  if (v1) {
    const first = AsnConvert.parse(v1, SigningCertificate).certs[0];
    if (!first) throw new DerError('signingCertificate lists no certificate');
    return { hash: 'sha1', certHash: Buffer.from(first.certHash.buffer) };
  }
  return undefined;
}

/** The included certificate the signing-certificate attribute names, else the one sid names. */
function findSignerCertificate(t: DecodedToken): Buffer | undefined {
  const id = signerCertId(t.attrs);
  if (id) return t.certificates.find((c) => createHash(id.hash).update(c).digest().equals(id.certHash));
  if ('issuerDer' in t.sid) {
    const sid = t.sid;
    return t.certificates.find((c) => {
      const p = issuerAndSerialOf(c);
      return p.issuerDer.equals(sid.issuerDer) && p.serialDer.equals(sid.serialDer);
    });
  }
  return undefined;
}

export interface ParsedTimeStampToken {
  genTime: Date;
  policy: string;
  /** Normalized as crl.ts normalizeSerialHex spells serials. */
  serialHex: string;
  /** sha256, sha384, sha512 (or the OID of another hash). */
  hashAlgorithm: string;
  messageImprint: Buffer;
  nonce?: bigint;
  accuracy?: { seconds?: number; millis?: number; micros?: number };
  ordering: boolean;
  /** The included certificate that the ESSCertID(v2) attribute names, when present. */
  signerCertificate?: Buffer;
  /** Every certificate the token carries. */
  certificates: Buffer[];
  /** The bare TimeStampToken (ContentInfo), also when a TimeStampResp was given. */
  token: Buffer;
  /** The exact TSTInfo bytes. */
  tstInfoDer: Buffer;
}

/**
 * Reads a TimeStampToken, or a TimeStampResp holding one. Does not verify it
 * (verifyTimeStampToken does). Throws CaError('TSP_MALFORMED_TOKEN') on garbage and
 * CaError('TSP_REJECTED') for a response whose status is not granted/grantedWithMods.
 */
export function parseTimeStampToken(tokenOrResponseDer: Uint8Array): ParsedTimeStampToken {
  const t = decodeTimeStampToken(tokenOrResponseDer, 'either');
  try {
    const tst = t.tstInfo;
    const hashOid = tst.messageImprint.hashAlgorithm.algorithm;
    const acc = tst.accuracy;
    return {
      genTime: t.genTime,
      policy: tst.policy,
      serialHex: normalizeSerialHex(Buffer.from(tst.serialNumber).toString('hex')),
      hashAlgorithm: hashOfOid(hashOid) ?? hashOid,
      messageImprint: Buffer.from(tst.messageImprint.hashedMessage.buffer),
      nonce: tst.nonce === undefined ? undefined : integerToBigint(new Uint8Array(tst.nonce)),
      accuracy: acc
        ? { seconds: t.accuracySecondsPresent ? acc.seconds : undefined, millis: acc.millis, micros: acc.micros }
        : undefined,
      ordering: tst.ordering,
      signerCertificate: findSignerCertificate(t),
      certificates: t.certificates,
      token: t.token,
      tstInfoDer: t.tstInfoDer,
    };
  } catch (e) {
    if (e instanceof CaError && !(e instanceof DerError)) throw e;
    throw malformedToken(e instanceof Error ? e.message : String(e), e);
  }
}
