/**
 * The small DER pieces time-stamp tokens are assembled from and taken apart with: SET OF in DER
 * order, attributes, certificate fields by exact bytes, and the parameter checks shared by the
 * request and token builders.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { Attribute } from '@peculiar/asn1-cms';
import { CaError } from '../errors.ts';
import { toArrayBuffer } from './certificate.ts';
import { DerError, derTlv } from './der.ts';
import { readDerChildren, readDerElement, type DerElement } from './pem.ts';
import { HASH_LENGTHS, HASH_OIDS, type TspHashAlgorithm } from './tsp-asn1.ts';

/** X.690 11.6: SET OF components in ascending order of their encodings, shorter ones padded with 0-octets. */
function derSetOfOrder(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A DER SET OF (tag 0x31, or `tag` for an IMPLICIT-tagged one) of already-encoded elements, sorted. */
export function derSetOf(elements: Buffer[], tag = 0x31): Buffer {
  return derTlv(tag, Buffer.concat([...elements].sort(derSetOfOrder)));
}

/** An INTEGER TLV around content octets already minimal. */
export function derInteger(content: Uint8Array): Buffer {
  return derTlv(0x02, content);
}

/** DER of an asn1-schema object, as a Buffer. */
export function serialize(value: object): Buffer {
  return Buffer.from(AsnConvert.serialize(value));
}

/** AlgorithmIdentifier of a SHA-2 hash: absent parameters ("MUST generate ... with absent parameters", RFC 5754 2), or NULL when echoing a request. */
export function hashAlgorithmIdentifier(h: TspHashAlgorithm, nullParameters = false): AlgorithmIdentifier {
  return new AlgorithmIdentifier({
    algorithm: HASH_OIDS[h],
    parameters: nullParameters ? toArrayBuffer(Buffer.from([0x05, 0x00])) : undefined,
  });
}

/** The exact issuer Name and serialNumber INTEGER (full TLVs) of a certificate. */
export function issuerAndSerialOf(certDer: Uint8Array): { issuerDer: Buffer; serialDer: Buffer; spkiDer: Buffer } {
  const buf = Buffer.from(certDer.buffer, certDer.byteOffset, certDer.byteLength);
  let parts;
  try {
    const cert = readDerElement(buf, 0);
    if (cert.tag !== 0x30 || cert.end !== buf.length) throw new DerError('not one DER SEQUENCE');
    const tbs = readDerChildren(buf, cert)[0];
    if (!tbs || tbs.tag !== 0x30) throw new DerError('no tbsCertificate');
    const f = readDerChildren(buf, tbs);
    const i = f[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
    // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    const [serial, , issuer, , , spki] = f.slice(i);
    if (!serial || serial.tag !== 0x02 || !issuer || issuer.tag !== 0x30 || !spki || spki.tag !== 0x30)
      throw new DerError('tbsCertificate is incomplete');
    parts = { issuerDer: slice(buf, issuer), serialDer: slice(buf, serial), spkiDer: slice(buf, spki) };
  } catch (e) {
    throw new CaError(
      'CERTIFICATE_MALFORMED',
      `TSA certificate is not a well-formed DER certificate: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return parts;
}

/** The whole TLV of an element. */
export function slice(buf: Uint8Array, el: DerElement): Buffer {
  return Buffer.from(buf.subarray(el.start, el.end));
}

/** The content octets of an element. */
export function content(buf: Uint8Array, el: DerElement): Buffer {
  return Buffer.from(buf.subarray(el.contentStart, el.end));
}

/** A dotted OBJECT IDENTIFIER. */
export const OID_PATTERN = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** TSP_PARAMS_INVALID: the caller passed a value out of range (not untrusted input). */
export function paramsError(message: string): CaError {
  return new CaError('TSP_PARAMS_INVALID', message);
}

/** A messageImprint must be as long as its hash's output (RFC 3161 2.4.1). */
export function checkImprint(hashAlgorithm: TspHashAlgorithm, messageImprint: Uint8Array): void {
  const want = HASH_LENGTHS[hashAlgorithm];
  if (want === undefined)
    throw paramsError(`hash algorithm "${String(hashAlgorithm)}" is not one of sha256, sha384, sha512`);
  if (messageImprint.length !== want)
    throw paramsError(`messageImprint is ${messageImprint.length} octets; ${hashAlgorithm} gives ${want}`);
}

/** OBJECT IDENTIFIER content octets (X.690 8.19). */
export function oidContent(oid: string): Buffer {
  const arcs = oid.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  const push = (v: bigint) => {
    const bytes = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) bytes.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...bytes);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return Buffer.from(out);
}

/** Parses a DER SET OF Attribute (tag 0x31, or 0xa0 as it sits in a SignerInfo) into OID -> values. */
export function attributesOf(der: Uint8Array): Map<string, Buffer[]> {
  const el = readDerElement(der, 0);
  if ((el.tag !== 0x31 && el.tag !== 0xa0) || el.end !== der.length)
    throw new DerError('signedAttrs is not one SET OF Attribute');
  const out = new Map<string, Buffer[]>();
  for (const a of readDerChildren(der, el)) {
    const attr = AsnConvert.parse(slice(der, a), Attribute);
    if (out.has(attr.attrType)) throw new DerError(`attribute ${attr.attrType} appears twice`);
    out.set(
      attr.attrType,
      attr.attrValues.map((v) => Buffer.from(v)),
    );
  }
  return out;
}

/** The one value of a single-valued attribute (RFC 5652 11: contentType, messageDigest, signingTime each "MUST have a single attribute value"). */
export function singleValue(attrs: Map<string, Buffer[]>, oid: string): Buffer | undefined {
  const v = attrs.get(oid);
  if (v === undefined) return undefined;
  if (v.length !== 1) throw new DerError(`attribute ${oid} has ${v.length} values; exactly one is allowed`);
  return v[0];
}
