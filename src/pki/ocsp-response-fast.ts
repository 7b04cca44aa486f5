/**
 * A strict reader of the one OCSPResponse shape rootca signs (RFC 6960 4.2.1, RFC 5019 2.2:
 * successful, id-pkix-ocsp-basic, responderID byKey, SingleResponses with SHA-1/SHA-256 CertIDs
 * and a nextUpdate, no extensions, certs present or not), for linting each pre-signed response
 * without the schema parser (~2 ms a response there, issue 17.5). It accepts only DER: every
 * length minimal (readDerElement), every element ending where its parent ends, INTEGERs
 * minimal, times as GeneralizedTime YYYYMMDDHHMMSSZ that round-trips, the AlgorithmIdentifier
 * exactly as certificate.ts encodes it, the BIT STRING with no unused bits. Anything else gives
 * undefined and the caller uses parseOcspResponse, which decides; when it accepts, it returns
 * what parseOcspResponse returns (tests compare them). The certificates in `certs` are returned
 * as their exact bytes, not read further.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from './algorithms.ts';
import { signatureAlgorithmIdentifier } from './certificate.ts';
import { revocationReasonOfCode } from './crl.ts';
import type { CertStatus, ParsedOcspResponse, ParsedSingleResponse } from './ocsp.ts';
import { readDerElement, type DerElement } from './pem.ts';

const OID_BASIC = Buffer.from('06092b0601050507300101', 'hex');
const CERT_ID_ALG: Record<string, 'sha1' | 'sha256'> = {
  '300906052b0e03021a0500': 'sha1',
  '300d06096086480165030402010500': 'sha256',
};

/** The DER of each AlgorithmIdentifier we sign with, to its OID. */
let algorithmOids: Map<string, string> | undefined;
function algorithmOidOf(der: Buffer): string | undefined {
  if (!algorithmOids) {
    algorithmOids = new Map();
    for (const name of Object.keys(SIGNATURE_ALGORITHMS) as SignatureAlgorithmName[]) {
      const alg = Buffer.from(AsnConvert.serialize(signatureAlgorithmIdentifier(name))).toString('hex');
      algorithmOids.set(alg, SIGNATURE_ALGORITHMS[name].oid);
    }
  }
  return algorithmOids.get(der.toString('hex'));
}

/** Thrown inside the reader when the bytes are not the shape: the caller turns it into undefined. */
class NotTheShape extends Error {}

/** A reader over the children of one constructed element, each checked to end inside it. */
function children(buf: Buffer, el: DerElement): () => DerElement | undefined {
  let p = el.contentStart;
  return () => {
    if (p === el.end) return undefined;
    const c = readDerElement(buf, p);
    if (c.end > el.end) throw new NotTheShape();
    p = c.end;
    return c;
  };
}

function expect(el: DerElement | undefined, tag: number): DerElement {
  if (!el || el.tag !== tag) throw new NotTheShape();
  return el;
}

const content = (buf: Buffer, el: DerElement): Buffer => buf.subarray(el.contentStart, el.end);

/** GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 4.1.2.5.2) whose value writes back to the same text. */
function timeOf(buf: Buffer, el: DerElement | undefined): Date {
  const text = content(buf, expect(el, 0x18)).toString('latin1');
  if (!/^\d{14}Z$/.test(text)) throw new NotTheShape();
  const n = (a: number, b: number) => Number(text.slice(a, b));
  const d = new Date(Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14)));
  const back = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  if (Number.isNaN(d.getTime()) || `${back}Z` !== text) throw new NotTheShape();
  return d;
}

function statusOf(buf: Buffer, el: DerElement | undefined): CertStatus {
  if (!el) throw new NotTheShape();
  if (el.tag === 0x80 && el.end === el.contentStart) return { status: 'good' };
  if (el.tag === 0x82 && el.end === el.contentStart) return { status: 'unknown' };
  const next = children(buf, expect(el, 0xa1));
  const revocationTime = timeOf(buf, next());
  const reasonEl = next();
  if (next()) throw new NotTheShape();
  if (!reasonEl) return { status: 'revoked', revocationTime };
  const enumerated = expect(children(buf, expect(reasonEl, 0xa0))(), 0x0a);
  if (enumerated.end !== reasonEl.end || enumerated.end - enumerated.contentStart !== 1) throw new NotTheShape();
  const reason = revocationReasonOfCode(buf[enumerated.contentStart]!);
  if (!reason) throw new NotTheShape();
  return { status: 'revoked', revocationTime, reason };
}

/** A positive INTEGER in its fewest octets (X.690 8.3.2), as the hex of its content. */
function serialOf(buf: Buffer, el: DerElement | undefined): string {
  const s = content(buf, expect(el, 0x02));
  if (s.length === 0 || s[0]! >= 0x80 || (s.length > 1 && s[0] === 0 && s[1]! < 0x80)) throw new NotTheShape();
  return s.toString('hex');
}

function singleOf(buf: Buffer, el: DerElement): ParsedSingleResponse {
  const next = children(buf, expect(el, 0x30));
  const id = children(buf, expect(next(), 0x30));
  const alg = expect(id(), 0x30);
  const hashAlgorithm = CERT_ID_ALG[buf.toString('hex', alg.start, alg.end)];
  const nameHash = expect(id(), 0x04);
  const keyHash = expect(id(), 0x04);
  const serialHex = serialOf(buf, id());
  const len = hashAlgorithm === 'sha1' ? 20 : 32;
  if (!hashAlgorithm || id() || nameHash.end - nameHash.contentStart !== len) throw new NotTheShape();
  if (keyHash.end - keyHash.contentStart !== len) throw new NotTheShape();
  const status = statusOf(buf, next());
  const thisUpdate = timeOf(buf, next());
  const wrapped = expect(next(), 0xa0); // no nextUpdate: the full parser
  const nextUpdateEl = children(buf, wrapped)();
  if (!nextUpdateEl || nextUpdateEl.end !== wrapped.end || next()) throw new NotTheShape(); // singleExtensions too
  return {
    certId: {
      hashAlgorithm,
      issuerNameHash: Buffer.from(content(buf, nameHash)),
      issuerKeyHash: Buffer.from(content(buf, keyHash)),
      serialHex,
    },
    status,
    thisUpdate,
    nextUpdate: timeOf(buf, nextUpdateEl),
  };
}

/** The response as parseOcspResponse reads it, when it has the shape above; else undefined. */
export function parseOcspResponseFast(der: Uint8Array): ParsedOcspResponse | undefined {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    return readResponse(buf);
  } catch {
    return undefined; // another shape, or not DER: parseOcspResponse says which
  }
}

function readResponse(buf: Buffer): ParsedOcspResponse {
  const outer = readDerElement(buf, 0);
  if (outer.tag !== 0x30 || outer.end !== buf.length) throw new NotTheShape();
  const top = children(buf, outer);
  const status = expect(top(), 0x0a);
  if (!content(buf, status).equals(Buffer.from([0x00]))) throw new NotTheShape(); // successful only
  const wrapper = expect(top(), 0xa0);
  if (top()) throw new NotTheShape();
  const rb = children(buf, expect(children(buf, wrapper)(), 0x30));
  const type = expect(rb(), 0x06);
  if (!buf.subarray(type.start, type.end).equals(OID_BASIC)) throw new NotTheShape();
  const octets = expect(rb(), 0x04);
  if (rb() || octets.end !== wrapper.end) throw new NotTheShape();
  const basicEl = readDerElement(buf, octets.contentStart);
  if (basicEl.tag !== 0x30 || basicEl.end !== octets.end) throw new NotTheShape();
  const basic = children(buf, basicEl);
  const tbsEl = expect(basic(), 0x30);
  const algEl = expect(basic(), 0x30);
  const signatureAlgorithmOid = algorithmOidOf(buf.subarray(algEl.start, algEl.end));
  const sigEl = expect(basic(), 0x03);
  if (!signatureAlgorithmOid || sigEl.end - sigEl.contentStart < 2 || buf[sigEl.contentStart] !== 0)
    throw new NotTheShape();
  const certsEl = basic();
  if (basic()) throw new NotTheShape();
  const certs: Buffer[] = [];
  if (certsEl) {
    const list = expect(children(buf, expect(certsEl, 0xa0))(), 0x30);
    if (list.end !== certsEl.end) throw new NotTheShape();
    const next = children(buf, list);
    for (let c = next(); c; c = next()) certs.push(Buffer.from(buf.subarray(expect(c, 0x30).start, c.end)));
  }
  return {
    status: 'successful',
    ...readTbs(buf, tbsEl),
    certs,
    tbsDer: Buffer.from(buf.subarray(tbsEl.start, tbsEl.end)),
    signature: Buffer.from(buf.subarray(sigEl.contentStart + 1, sigEl.end)),
    signatureAlgorithmOid,
  };
}

function readTbs(
  buf: Buffer,
  tbsEl: DerElement,
): Pick<ParsedOcspResponse, 'producedAt' | 'responses' | 'nonce' | 'responderKeyHash' | 'responderNameDer'> {
  const tbs = children(buf, tbsEl);
  const byKey = expect(tbs(), 0xa2); // a version, byName: the full parser
  const keyHash = expect(children(buf, byKey)(), 0x04);
  if (keyHash.end !== byKey.end || keyHash.end - keyHash.contentStart !== 20) throw new NotTheShape();
  const producedAt = timeOf(buf, tbs());
  const list = expect(tbs(), 0x30);
  if (tbs()) throw new NotTheShape(); // responseExtensions: the full parser
  const responses: ParsedSingleResponse[] = [];
  const next = children(buf, list);
  for (let r = next(); r; r = next()) responses.push(singleOf(buf, r));
  if (responses.length === 0) throw new NotTheShape();
  const responderKeyHash = Buffer.from(content(buf, keyHash));
  return { producedAt, responses, nonce: undefined, responderKeyHash, responderNameDer: undefined };
}
