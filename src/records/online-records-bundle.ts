/**
 * The online record bundle (CPS 5.4.1, 5.5.1): what `rootca online export-records` writes and
 * `rootca audit ingest-online` reads. One JSON file: a body (the online store's server events
 * and the closed OCSP/Repository access-log segments, each with its chain digests, between two
 * continuity points) and an Ed25519 signature over the canonical JSON of the body by the
 * source's online records key. The points name the last server event and the last segment
 * before and at the end of the bundle, so the offline side can tell a bundle that follows
 * the last one it took from a gap, an overlap or a replay.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CaError } from '../errors.ts';
import { canonicalJson } from '../util/canonical-json.ts';

/** The format name in every bundle's body. */
export const ONLINE_RECORDS_FORMAT = 'rootca-online-records/1';

/** Where a source's records stand: the last server event and the last access-log segment. */
export interface OnlineRecordsPoint {
  eventSeq: number;
  /** '' before the first segment. */
  segmentSha256: string;
}

/** A server event as the online store keeps it (start, stop, import, refused import, records export). */
export interface OnlineRecordsEvent {
  seq: number;
  at: string;
  kind: string;
  pid: number;
  detail: Record<string, unknown>;
}

/** A closed access-log segment with its chain record; `data` is the gzip file (base64), null when it was missing. */
export interface OnlineRecordsSegment {
  name: string;
  sha256: string;
  prevSha256: string;
  lines: number;
  closedAt: string;
  data: string | null;
}

/** What the signature covers. */
export interface OnlineRecordsBody {
  format: typeof ONLINE_RECORDS_FORMAT;
  /** The name the records key was made for; the offline side keeps one chain per source. */
  source: string;
  /** With PostgreSQL: whose access-log chain (each responder has its own). */
  responder: string | null;
  store: string;
  createdAt: string;
  /** What the operator asked for (`beginning`, `last`, or a time). */
  since: string;
  after: OnlineRecordsPoint;
  to: OnlineRecordsPoint;
  events: OnlineRecordsEvent[];
  segments: OnlineRecordsSegment[];
}

/** The file: the body and the Ed25519 signature over its canonical JSON. */
export interface OnlineRecordsBundle {
  body: OnlineRecordsBody;
  signature: { algorithm: 'Ed25519'; publicKey: string; publicKeySha256: string; value: string };
}

const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** The SHA-256 of a public key's SPKI DER (how a records key is named). */
export function spkiSha256(key: KeyObject): string {
  return sha256Hex(key.export({ format: 'der', type: 'spki' }));
}

/** The bytes the signature covers. */
export function signedBytes(body: OnlineRecordsBody): Buffer {
  return Buffer.from(canonicalJson(body), 'utf8');
}

/** The bundle file for a body and its signer (`sign` returns the Ed25519 signature of the bytes). */
export function encodeOnlineRecordsBundle(
  body: OnlineRecordsBody,
  signer: { publicKey: KeyObject; sign(data: Buffer): Buffer },
): Buffer {
  const bundle: OnlineRecordsBundle = {
    body,
    signature: {
      algorithm: 'Ed25519',
      publicKey: signer.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      publicKeySha256: spkiSha256(signer.publicKey),
      value: signer.sign(signedBytes(body)).toString('base64'),
    },
  };
  return Buffer.from(`${JSON.stringify(bundle, null, 1)}\n`, 'utf8');
}

const isPoint = (p: unknown): p is OnlineRecordsPoint =>
  !!p &&
  Number.isInteger((p as OnlineRecordsPoint).eventSeq) &&
  typeof (p as OnlineRecordsPoint).segmentSha256 === 'string';

/** Parses a bundle file; ONLINE_RECORDS_MALFORMED when it is not one. Checks the shape only. */
export function parseOnlineRecordsBundle(data: Buffer): OnlineRecordsBundle {
  let b: OnlineRecordsBundle;
  try {
    b = JSON.parse(data.toString('utf8')) as OnlineRecordsBundle;
  } catch (e) {
    throw new CaError('ONLINE_RECORDS_MALFORMED', `not JSON: ${(e as Error).message}`);
  }
  const body = b?.body;
  const ok =
    body?.format === ONLINE_RECORDS_FORMAT &&
    typeof body.source === 'string' &&
    isPoint(body.after) &&
    isPoint(body.to) &&
    Array.isArray(body.events) &&
    Array.isArray(body.segments) &&
    b.signature?.algorithm === 'Ed25519' &&
    typeof b.signature.publicKey === 'string' &&
    typeof b.signature.value === 'string';
  if (!ok)
    throw new CaError(
      'ONLINE_RECORDS_MALFORMED',
      `not an online record bundle (format ${ONLINE_RECORDS_FORMAT}, body and Ed25519 signature)`,
    );
  return b;
}

/** The signer's public key and its SHA-256, read from the bundle (trusted only once registered). */
export function bundleSigner(b: OnlineRecordsBundle): { key: KeyObject; sha256: string } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(b.signature.publicKey, 'base64'), format: 'der', type: 'spki' });
  } catch (e) {
    throw new CaError('ONLINE_RECORDS_MALFORMED', `the signer's public key cannot be read: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CaError('ONLINE_RECORDS_MALFORMED', `the signer's key is ${key.asymmetricKeyType}, not Ed25519`);
  return { key, sha256: spkiSha256(key) };
}

/** Whether the signature verifies with `key` over the body. */
export function bundleSignatureValid(b: OnlineRecordsBundle, key: KeyObject): boolean {
  try {
    return verify(null, signedBytes(b.body), key, Buffer.from(b.signature.value, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The bundle holds what its points say: segments chained from `after` to `to`, each present
 * with the SHA-256 its record names; events after `after` in order up to `to`. Throws the
 * first problem (ONLINE_RECORDS_SEGMENT_MISSING / _SEGMENT_TAMPERED / _CHAIN_BROKEN).
 */
export function checkBundleContents(body: OnlineRecordsBody): void {
  let prev = body.after.segmentSha256;
  for (const s of body.segments) {
    if (s.prevSha256 !== prev)
      throw new CaError(
        'ONLINE_RECORDS_CHAIN_BROKEN',
        `segment ${s.name} follows ${s.prevSha256 || '(none)'}, expected ${prev || '(none)'}: a segment is missing between them`,
      );
    if (s.data === null)
      throw new CaError(
        'ONLINE_RECORDS_SEGMENT_MISSING',
        `segment ${s.name} (SHA-256 ${s.sha256}) is recorded in the chain but its file was missing at export`,
        { details: { segment: s.name, sha256: s.sha256 } },
      );
    const digest = sha256Hex(Buffer.from(s.data, 'base64'));
    if (digest !== s.sha256)
      throw new CaError(
        'ONLINE_RECORDS_SEGMENT_TAMPERED',
        `segment ${s.name} has SHA-256 ${digest}, but the chain records ${s.sha256}: the file was changed`,
        { details: { segment: s.name, recorded: s.sha256, actual: digest } },
      );
    prev = s.sha256;
  }
  if (prev !== body.to.segmentSha256)
    throw new CaError(
      'ONLINE_RECORDS_CHAIN_BROKEN',
      `the segments end at ${prev || '(none)'}, not at the bundle's end`,
    );
  let seq = body.after.eventSeq;
  for (const e of body.events) {
    if (!Number.isInteger(e.seq) || e.seq <= seq)
      throw new CaError('ONLINE_RECORDS_CHAIN_BROKEN', `server event ${e.seq} does not follow event ${seq}`);
    seq = e.seq;
  }
  if (seq !== body.to.eventSeq)
    throw new CaError('ONLINE_RECORDS_CHAIN_BROKEN', `the server events end at ${seq}, not at the bundle's end`);
}

/** What the online store gave for a bundle (server/records-collect.ts), segments with their file bytes. */
export interface CollectedOnlineRecords {
  after: OnlineRecordsPoint;
  to: OnlineRecordsPoint;
  events: OnlineRecordsEvent[];
  segments: (Omit<OnlineRecordsSegment, 'data'> & { data: Buffer | null })[];
}

/** The body of a bundle of `collected` records. */
export function onlineRecordsBody(
  collected: CollectedOnlineRecords,
  meta: { source: string; responder?: string; store: string; since: string; now: Date },
): OnlineRecordsBody {
  return {
    format: ONLINE_RECORDS_FORMAT,
    source: meta.source,
    responder: meta.responder ?? null,
    store: meta.store,
    createdAt: meta.now.toISOString(),
    since: meta.since,
    after: collected.after,
    to: collected.to,
    events: collected.events,
    segments: collected.segments.map((s) => ({
      name: s.name,
      sha256: s.sha256,
      prevSha256: s.prevSha256,
      lines: s.lines,
      closedAt: s.closedAt,
      data: s.data ? s.data.toString('base64') : null,
    })),
  };
}
