/**
 * The online record bundle (CPS 5.4.1, 5.5.1): what `rootca online export-records` writes and
 * `rootca audit ingest-online` reads. A stream, so neither side holds an access-log segment in
 * memory, however large:
 *
 *   rootca-online-records/2 LF            the format and its version
 *   N LF                                  the manifest's length in bytes (decimal)
 *   MANIFEST LF                           JSON: the body and the Ed25519 signature over its canonical JSON
 *   EVENTS                                the server events, one canonical JSON object per line
 *   SEGMENT 1 .. SEGMENT k                each present segment's gzip file as raw bytes
 *
 * The signed body is small: the continuity points (the last server event and segment before
 * and at the end of the bundle, so the offline side can tell a bundle that follows the last
 * one from a gap, an overlap or a replay), the events part's count, length and SHA-256, and
 * per segment its chain record (name, SHA-256, previous SHA-256, lines) and byte length (null:
 * the file was missing at export). The reader checks each part's digest as it streams by.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CaError } from '../errors.ts';
import { canonicalJson } from '../util/canonical-json.ts';

/** The first line of every bundle names the format; the number after the slash is its version. */
export const ONLINE_RECORDS_MAGIC = 'rootca-online-records/';
/** The version this rootca writes and reads (1 was a single JSON file with the segments in base64). */
export const ONLINE_RECORDS_VERSION = 2;
export const ONLINE_RECORDS_FORMAT = `${ONLINE_RECORDS_MAGIC}${ONLINE_RECORDS_VERSION}` as const;
/** A manifest is segment records and digests: larger than this is not one. */
export const MAX_MANIFEST_BYTES = 16 << 20;

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

/** A closed access-log segment's chain record and the length of its bytes in the bundle (null: missing at export). */
export interface OnlineRecordsSegment {
  name: string;
  sha256: string;
  prevSha256: string;
  lines: number;
  closedAt: string;
  length: number | null;
}

/** The events part: how many, how many bytes, their SHA-256. */
export interface OnlineRecordsEventsPart {
  count: number;
  length: number;
  sha256: string;
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
  /** What the operator asked for (`beginning`, `last`, an earlier bundle, or a time). */
  since: string;
  after: OnlineRecordsPoint;
  to: OnlineRecordsPoint;
  events: OnlineRecordsEventsPart;
  segments: OnlineRecordsSegment[];
}

/** The manifest: the body and the Ed25519 signature over its canonical JSON. */
export interface OnlineRecordsManifest {
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

/** The bundle's head (format line, manifest length, manifest) for a body and its signer. */
export function encodeBundleHead(
  body: OnlineRecordsBody,
  signer: { publicKey: KeyObject; sign(data: Buffer): Buffer },
): Buffer {
  const manifest: OnlineRecordsManifest = {
    body,
    signature: {
      algorithm: 'Ed25519',
      publicKey: signer.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      publicKeySha256: spkiSha256(signer.publicKey),
      value: signer.sign(signedBytes(body)).toString('base64'),
    },
  };
  const json = Buffer.from(JSON.stringify(manifest), 'utf8');
  return Buffer.concat([Buffer.from(`${ONLINE_RECORDS_FORMAT}\n${json.length}\n`), json, Buffer.from('\n')]);
}

const isPoint = (p: unknown): p is OnlineRecordsPoint =>
  !!p &&
  Number.isInteger((p as OnlineRecordsPoint).eventSeq) &&
  typeof (p as OnlineRecordsPoint).segmentSha256 === 'string';

const isLength = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;

const isSegment = (s: OnlineRecordsSegment) =>
  !!s &&
  typeof s.name === 'string' &&
  typeof s.sha256 === 'string' &&
  typeof s.prevSha256 === 'string' &&
  (s.length === null || isLength(s.length));

/** The version a bundle's first line names; VERSION_UNSUPPORTED for another, MALFORMED when it is no bundle. */
export function checkFormatLine(line: string): void {
  if (!line.startsWith(ONLINE_RECORDS_MAGIC))
    throw new CaError(
      'ONLINE_RECORDS_MALFORMED',
      line.startsWith('{')
        ? `a single JSON file is the bundle format 1, which this rootca no longer reads: export it again (${ONLINE_RECORDS_FORMAT})`
        : `not an online record bundle: it does not start with "${ONLINE_RECORDS_MAGIC}"`,
    );
  const version = line.slice(ONLINE_RECORDS_MAGIC.length);
  if (version !== String(ONLINE_RECORDS_VERSION))
    throw new CaError(
      'ONLINE_RECORDS_VERSION_UNSUPPORTED',
      `the bundle is of format version ${JSON.stringify(version)}; this rootca reads version ${ONLINE_RECORDS_VERSION} only`,
      { details: { version, supported: ONLINE_RECORDS_VERSION } },
    );
}

/** Parses a manifest's JSON; ONLINE_RECORDS_MALFORMED when it is not one. Checks the shape only. */
export function parseManifest(data: Buffer): OnlineRecordsManifest {
  let m: OnlineRecordsManifest;
  try {
    m = JSON.parse(data.toString('utf8')) as OnlineRecordsManifest;
  } catch (e) {
    throw new CaError('ONLINE_RECORDS_MALFORMED', `the manifest is not JSON: ${(e as Error).message}`);
  }
  const body = m?.body;
  const ok =
    body?.format === ONLINE_RECORDS_FORMAT &&
    typeof body.source === 'string' &&
    isPoint(body.after) &&
    isPoint(body.to) &&
    isLength(body.events?.count) &&
    isLength(body.events?.length) &&
    typeof body.events?.sha256 === 'string' &&
    Array.isArray(body.segments) &&
    body.segments.every(isSegment) &&
    m.signature?.algorithm === 'Ed25519' &&
    typeof m.signature.publicKey === 'string' &&
    typeof m.signature.value === 'string';
  if (!ok)
    throw new CaError(
      'ONLINE_RECORDS_MALFORMED',
      `not an online record bundle manifest (format ${ONLINE_RECORDS_FORMAT}, body and Ed25519 signature)`,
    );
  return m;
}

/** The signer's public key and its SHA-256, read from the manifest (trusted only once registered). */
export function bundleSigner(m: OnlineRecordsManifest): { key: KeyObject; sha256: string } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(m.signature.publicKey, 'base64'), format: 'der', type: 'spki' });
  } catch (e) {
    throw new CaError('ONLINE_RECORDS_MALFORMED', `the signer's public key cannot be read: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CaError('ONLINE_RECORDS_MALFORMED', `the signer's key is ${key.asymmetricKeyType}, not Ed25519`);
  return { key, sha256: spkiSha256(key) };
}

/** Whether the signature verifies with `key` over the body. */
export function bundleSignatureValid(m: OnlineRecordsManifest, key: KeyObject): boolean {
  try {
    return verify(null, signedBytes(m.body), key, Buffer.from(m.signature.value, 'base64'));
  } catch {
    return false;
  }
}

/** The signed body of a bundle of collected records (server/records-collect.ts). */
export function onlineRecordsBody(
  c: {
    after: OnlineRecordsPoint;
    to: OnlineRecordsPoint;
    events: OnlineRecordsEventsPart;
    segments: OnlineRecordsSegment[];
  },
  meta: { source: string; responder?: string; store: string; since: string; now: Date },
): OnlineRecordsBody {
  return {
    format: ONLINE_RECORDS_FORMAT,
    source: meta.source,
    responder: meta.responder ?? null,
    store: meta.store,
    createdAt: meta.now.toISOString(),
    since: meta.since,
    after: c.after,
    to: c.to,
    events: { count: c.events.count, length: c.events.length, sha256: c.events.sha256 },
    segments: c.segments.map((s) => ({
      name: s.name,
      sha256: s.sha256,
      prevSha256: s.prevSha256,
      lines: s.lines,
      closedAt: s.closedAt,
      length: s.length,
    })),
  };
}
