/**
 * Answering one OCSP request (RFC 6960, RFC 5019 profile, RFC 8954 nonces; R-2.3) from one
 * publication. Decisions, in order:
 *
 *  - not one well-formed DER OCSPRequest, a hash other than SHA-1/SHA-256, a nonce outside
 *    1..32 octets, an unsupported critical extension: malformedRequest (RFC 6960 2.3);
 *  - one CertID, a pre-signed response for it, and no reason to sign live: the stored bytes
 *    (the nonce is ignored, RFC 5019 2.1.2 / 4);
 *  - a delegated responder for the CertIDs' CA, and either no pre-signed response (a serial the
 *    CA never issued is 'unknown'; an issued one good/revoked from the publication's
 *    certificate meta), a nonce to echo, a pre-signed response past its nextUpdate, or several
 *    CertIDs: signed live by the responder;
 *  - a pre-signed response past its nextUpdate and no live responder to sign a fresh one:
 *    tryLater (RFC 6960 2.3: "the service exists but is temporarily unable to respond"; RFC 5019
 *    4: clients "MUST ensure the current time ... falls between the thisUpdate and nextUpdate
 *    times"). A stale answer is never served as if fresh;
 *  - otherwise 'unauthorized' (RFC 5019 2.2.3: the responder has no authoritative answer), or
 *    malformedRequest for several CertIDs that no one response can answer (RFC 5019 2.1.1:
 *    "MUST include only one Request").
 * Never "good" for a serial the CA did not issue: good comes only from a verified pre-signed
 * response (itself checked against the published certificate) or the certificate's meta.
 */
import { CaError } from '../errors.ts';
import { normalizeSerialHex } from '../pki/integer.ts';
import {
  certIdLookupKey,
  ocspErrorResponse,
  parseOcspRequest,
  type CertIdKey,
  type CertStatus,
  type ParsedOcspRequest,
  type SingleResponseParams,
} from '../pki/ocsp.ts';
import { parseOcspRequestFast } from '../pki/ocsp-fast.ts';
import { issuerKeyOf, type VerifiedCa, type VerifiedPublication } from '../publish/verify.ts';
import { type DelegatedResponder, liveSignerOf } from './responders.ts';

/** What a request is answered from: one publication and the responders bound to it. */
export interface ServingState {
  publication: VerifiedPublication;
  version: number;
  responders: Map<string, DelegatedResponder>;
}

/** Where an answer came from (the metrics' and the access log's `source`). */
export type OcspAnswerOrigin = 'presigned' | 'live' | 'error';

export interface OcspAnswer {
  body: Buffer;
  source: OcspAnswerOrigin;
  /** good / revoked / unknown (successful responses; 'mixed' for several), else the OCSP error status. */
  outcome: string;
  /** When the HTTP caching headers may be set from thisUpdate/nextUpdate (no nonce, not an error). */
  cacheable: boolean;
  thisUpdate?: Date;
  nextUpdate?: Date;
  /** For the access log. */
  ca?: string;
  serials: string[];
  hash?: string;
  nonce: boolean;
  reason?: string;
  /** Strong ETag value (quoted SHA-256 hex of the body), when cacheable. */
  etag?: string;
}

const ERRORS = {
  malformedRequest: ocspErrorResponse('malformedRequest'),
  unauthorized: ocspErrorResponse('unauthorized'),
  tryLater: ocspErrorResponse('tryLater'),
  internalError: ocspErrorResponse('internalError'),
} as const;

export type OcspErrorName = keyof typeof ERRORS;

/** An unsigned error response (RFC 6960 2.3). */
export function errorAnswer(status: OcspErrorName, extra: Partial<OcspAnswer> = {}): OcspAnswer {
  return {
    body: ERRORS[status],
    source: 'error',
    outcome: status,
    cacheable: false,
    serials: [],
    nonce: false,
    ...extra,
  };
}

export interface AnswerOptions {
  /** Life of a live-signed response (default 3600 s); capped at the responder certificate's notAfter. */
  liveValiditySeconds?: number;
}

const floorSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

function statusFromPublication(pub: VerifiedPublication, ca: VerifiedCa, id: CertIdKey): CertStatus {
  const cert = pub.certificates.get(ca.name)?.get(normalizeSerialHex(id.serialHex));
  if (!cert) return { status: 'unknown' };
  if (cert.meta.status === 'revoked') {
    return cert.meta.reason
      ? { status: 'revoked', revocationTime: new Date(cert.meta.revokedAt!), reason: cert.meta.reason }
      : { status: 'revoked', revocationTime: new Date(cert.meta.revokedAt!) };
  }
  return { status: 'good' };
}

/** The publication's createdAt in ms, parsed once per publication (every live thisUpdate needs it). */
const createdAtMs = new WeakMap<VerifiedPublication, number>();
function createdAtOf(pub: VerifiedPublication): number {
  let ms = createdAtMs.get(pub);
  if (ms === undefined) {
    ms = new Date(pub.manifest.createdAt).getTime();
    createdAtMs.set(pub, ms);
  }
  return ms;
}

/** What every answer about the request carries for the access log. */
interface RequestFacts {
  serials: string[];
  hash: string;
  nonce: boolean;
}

function signLive(
  state: ServingState,
  responder: DelegatedResponder,
  ca: VerifiedCa,
  req: ParsedOcspRequest,
  facts: RequestFacts,
  now: Date,
  o: AnswerOptions,
): OcspAnswer {
  const validity = (o.liveValiditySeconds ?? 3600) * 1000;
  const nowMs = now.getTime();
  const thisUpdate = floorSecond(Math.min(createdAtOf(state.publication), nowMs));
  const nextUpdate = floorSecond(Math.min(nowMs + validity, responder.cert.notAfter.getTime()));
  const responses: SingleResponseParams[] = req.certIds.map((certId) => ({
    certId,
    status: statusFromPublication(state.publication, ca, certId),
    thisUpdate,
    nextUpdate,
  }));
  // RFC 6960 4.2.1 / 4.2.2.2 and RFC 8954: the responder's live signer (pki/ocsp-live-response.ts)
  // writes ResponseData (producedAt now, the nonce echoed) and the response around its signature.
  const body = liveSignerOf(responder)({ producedAt: now, responses, nonce: req.nonce });
  let outcome = responses[0]!.status.status as string;
  for (const r of responses) if (r.status.status !== outcome) outcome = 'mixed';
  return {
    body,
    source: 'live',
    outcome,
    cacheable: req.nonce === undefined,
    thisUpdate,
    nextUpdate,
    ca: ca.name,
    serials: facts.serials,
    hash: facts.hash,
    nonce: facts.nonce,
  };
}

/** Whether two byte strings are equal (a loop: the CertID hashes are 20 or 32 bytes, shorter than a native call's cost). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An issuer a CertID named before in one publication, kept with its hash bytes. */
interface KnownIssuer {
  hashAlgorithm: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  ca: VerifiedCa;
}
/** Per publication, the issuers CertIDs have named so far (at most its `issuers`: only found ones are kept). */
const knownIssuers = new WeakMap<VerifiedPublication, KnownIssuer[]>();

/**
 * The publication's CA for a CertID's issuer hashes (`issuers`, RFC 6960 4.1.1), found by
 * comparing bytes with the issuers asked for before: making the hex key costs more than the
 * comparison, and every live answer needs it.
 */
function issuerOf(pub: VerifiedPublication, id: CertIdKey): VerifiedCa | undefined {
  let known = knownIssuers.get(pub);
  if (known === undefined) {
    known = [];
    knownIssuers.set(pub, known);
  }
  for (const k of known) {
    if (k.hashAlgorithm === id.hashAlgorithm && sameBytes(k.issuerKeyHash, id.issuerKeyHash)) {
      if (sameBytes(k.issuerNameHash, id.issuerNameHash)) return k.ca;
    }
  }
  const ca = pub.issuers.get(issuerKeyOf(id.hashAlgorithm, id.issuerNameHash, id.issuerKeyHash));
  // Copies: the hashes are views of the request's bytes.
  if (ca !== undefined)
    known.push({
      hashAlgorithm: id.hashAlgorithm,
      issuerNameHash: Buffer.from(id.issuerNameHash),
      issuerKeyHash: Buffer.from(id.issuerKeyHash),
      ca,
    });
  return ca;
}

/** What the decisions need to know about a parsed request (see the header comment). */
function situation(state: ServingState, req: ParsedOcspRequest, now: Date) {
  const pub = state.publication;
  const ids = req.certIds;
  const ca = issuerOf(pub, ids[0]!);
  let oneCa = ca !== undefined;
  let allPublished = ca !== undefined;
  for (let i = 1; i < ids.length; i++) {
    const c = issuerOf(pub, ids[i]!);
    if (c !== ca) oneCa = false;
    if (c === undefined) allPublished = false;
  }
  const responder = oneCa ? state.responders.get(ca!.name) : undefined;
  // The delegated responder is certified by the CA's current key; a CertID naming an earlier
  // key of a re-keyed CA (issuerKeyHash) must be answered by that key, so only pre-signed.
  let usable: DelegatedResponder | undefined;
  if (responder && now >= responder.cert.notBefore && now <= responder.cert.notAfter) {
    usable = responder;
    for (const id of ids)
      if (!sameBytes(id.issuerKeyHash, ca!.hashes[id.hashAlgorithm as 'sha1' | 'sha256'].issuerKeyHash))
        usable = undefined;
  }
  return { pub, ca, allPublished, usable };
}

/**
 * The pre-signed answer when the decisions give one (one CertID, stored response, no reason to
 * sign live), or tryLater when that response is past its nextUpdate and nothing can sign live.
 */
function presignedFor(req: ParsedOcspRequest, now: Date, s: ReturnType<typeof situation>): OcspAnswer | undefined {
  if (req.certIds.length !== 1 || req.hasUnsupportedCriticalExtension) return undefined;
  // A nonce to echo and a responder to sign: live whatever is stored (no lookup needed to know).
  if (s.usable && req.nonce !== undefined) return undefined;
  const pre = s.pub.index.get(certIdLookupKey(req.certIds[0]!));
  if (!pre) return undefined;
  const fresh = pre.nextUpdate >= now;
  if (s.usable && !fresh) return undefined;
  if (!fresh)
    return errorAnswer('tryLater', {
      ca: pre.ca,
      serials: req.certIds.map((c) => c.serialHex),
      hash: req.certIds[0]!.hashAlgorithm,
      nonce: req.nonce !== undefined,
      reason: `pre-signed response past its nextUpdate ${pre.nextUpdate.toISOString()} and no live delegated responder`,
    });
  return {
    body: pre.der,
    source: 'presigned',
    outcome: pre.status.status,
    cacheable: true,
    thisUpdate: pre.thisUpdate,
    nextUpdate: pre.nextUpdate,
    ca: pre.ca,
    etag: `"${pre.sha256}"`,
    serials: req.certIds.map((c) => c.serialHex),
    hash: req.certIds[0]!.hashAlgorithm,
    nonce: req.nonce !== undefined,
  };
}

/** Answers one DER OCSPRequest from `state` at `now`. Never throws for any input bytes. */
export function answerOcspRequest(
  state: ServingState | undefined,
  der: Uint8Array,
  now: Date,
  o: AnswerOptions = {},
): OcspAnswer {
  if (!state) return errorAnswer('tryLater', { reason: 'no publication imported yet' });
  let req: ParsedOcspRequest;
  try {
    req = parseOcspRequestFast(der) ?? parseOcspRequest(der); // the common shape read by hand; the rest in full
  } catch (e) {
    return errorAnswer('malformedRequest', { reason: e instanceof CaError ? e.message : 'unparseable request' });
  }
  const base: RequestFacts = {
    serials: req.certIds.map((c) => c.serialHex),
    hash: req.certIds[0]!.hashAlgorithm,
    nonce: req.nonce !== undefined,
  };
  if (req.hasUnsupportedCriticalExtension)
    return errorAnswer('malformedRequest', { ...base, reason: 'unsupported critical extension' });

  const s = situation(state, req, now);
  const { ca, usable } = s;
  const pre = presignedFor(req, now, s);
  if (pre) return pre;
  if (usable) {
    try {
      return signLive(state, usable, ca!, req, base, now, o);
    } catch {
      return errorAnswer('internalError', { ...base, ca: ca!.name, reason: 'live signing failed' });
    }
  }
  if (!s.allPublished) return errorAnswer('unauthorized', { ...base, reason: 'issuer is not a published CA' });
  if (req.certIds.length > 1)
    return errorAnswer('malformedRequest', {
      ...base,
      ca: ca!.name,
      reason: 'several CertIDs that no one response answers (RFC 5019 2.1.1)',
    });
  return errorAnswer('unauthorized', {
    ...base,
    ca: ca!.name,
    reason:
      usable === undefined && state.responders.has(ca!.name)
        ? 'no pre-signed response from the earlier key named in the CertID'
        : 'no pre-signed response and no delegated responder',
  });
}
