/**
 * The online side's records brought home (CPS 5.4.1 "event logs of the ... Repository system";
 * 5.5.1 "OCSP server access log"; 5.5.2 "retained for at least ten (10) years").
 * `rootca audit online-key register` records, under a quorum, the public key that signs a
 * source's bundles; `rootca audit ingest-online` takes a bundle only when its signer is
 * registered for its source, its signature verifies, it starts exactly where the last bundle
 * from that source ended (a gap, an overlap or a replay is refused) and every segment is
 * present with its recorded SHA-256. Each refusal is an audit event; an accepted bundle is one
 * audit event with the digests, and its segments are archived in the store (so in every backup
 * set, CPS 5.5.4) until the retention of `archive.retentionYears` ends.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import { runRecordedAction, type AuditSuccess } from '../operation/recorded-action.ts';
import type { Slot } from '../people/permissions.ts';
import {
  bringParticipant,
  operationDigest,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import { findOnlineRecordsKey, insertOnlineRecordsKey, listOnlineRecordsKeys } from '../store/online-records-keys.ts';
import {
  insertOnlineRecordsBundle,
  lastOnlineRecordsBundle,
  onlineRecordsBundleBySha256,
} from '../store/online-records-bundles.ts';
import {
  hasOnlineRecordsSegment,
  insertOnlineRecordsSegment,
  insertOnlineRecordsSegmentChunk,
} from '../store/online-records-segments.ts';
import { SOURCE_NAME } from './audit-review.ts';
import {
  bundleSignatureValid,
  bundleSigner,
  spkiSha256,
  type OnlineRecordsBody,
  type OnlineRecordsEvent,
  type OnlineRecordsPoint,
} from './online-records-bundle.ts';
import {
  checkBundleContents,
  eachSegmentChunk,
  scanned,
  type Scan,
  type ScannedBundle,
} from './online-records-read.ts';
import { backupAfterChange, type BackupOutcome } from './backups.ts';
import type { Checks } from '../operation/refusals.ts';

/** Brings one person for `slot` of `operation`; refuses (audited) when they do not authenticate. */
async function bring(
  inst: Installation,
  x: Checks,
  name: string,
  passphrases: PassphraseSource,
  digest: Buffer,
  duty: { operation: 'audit.key-init' | 'audit.ingest'; slot: Slot; purpose: string },
): Promise<Participant> {
  const who = await bringParticipant(inst, name, passphrases, duty.purpose, digest, duty);
  if (!who) return x.refuse('AUTHENTICATION_REQUIRED', `${name} (${duty.slot}) did not authenticate`);
  return who;
}

/** What a registration recorded. */
export interface OnlineKeyRegistration {
  source: string;
  publicKeySha256: string;
  auditSeq: number;
}

/** Reads an Ed25519 public key (PEM or DER SPKI). */
function readPublicKey(data: Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = data.includes('-----BEGIN')
      ? createPublicKey(data)
      : createPublicKey({ key: data, format: 'der', type: 'spki' });
  } catch (e) {
    throw new CaError('ONLINE_RECORDS_KEY_INVALID', `the public key cannot be read: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CaError('ONLINE_RECORDS_KEY_INVALID', `the records key is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

/**
 * `rootca audit online-key register`: the Person Responsible approves, a Service Operation
 * Manager witnesses (CPS 5.2.2; the audit key's rule), and the key that signs `source`'s
 * bundles is recorded, with its SHA-256 in the audit event.
 */
export function registerOnlineRecordsKey(
  inst: Installation,
  p: { source: string; publicKey: Buffer; authoriser: string; witness: string; passphrases: PassphraseSource },
): Promise<OnlineKeyRegistration> {
  return runRecordedAction(inst, {
    action: 'audit.online-key-register',
    target: `source:${p.source}`,
    actor: `${p.authoriser}+${p.witness}`,
    check: ({ refuse }) => {
      if (!SOURCE_NAME.test(p.source))
        refuse('SOURCE_NAME_INVALID', `--source "${p.source}" must be lower case letters, digits, . _ -`);
      const key = readPublicKey(p.publicKey);
      const sha = spkiSha256(key);
      if (findOnlineRecordsKey(inst.db, p.source, sha))
        refuse('ONLINE_RECORDS_KEY_EXISTS', `the key ${sha} is registered for ${p.source} already`);
      return { key, sha, digest: operationDigest({ kind: 'audit.online-key-register', source: p.source, key: sha }) };
    },
    ask: async (c, x) => {
      const purpose = `registering the online records key of ${p.source}`;
      const authoriser = await bring(inst, x, p.authoriser, p.passphrases, c.digest, {
        operation: 'audit.key-init',
        slot: 'authoriser',
        purpose,
      });
      const witness = await bring(inst, x, p.witness, p.passphrases, c.digest, {
        operation: 'audit.key-init',
        slot: 'witness',
        purpose,
      });
      return [authoriser, witness];
    },
    work: (c, present, audit) => {
      insertOnlineRecordsKey(inst.db, {
        source: p.source,
        public_key_sha256: c.sha,
        public_key_spki: c.key.export({ format: 'der', type: 'spki' }),
        registered_at: inst.clock.now().toISOString(),
        authorised_by: p.authoriser,
        witness: p.witness,
      });
      const e = audit({
        actor: `${p.authoriser}+${p.witness}`,
        roles: [...new Set(present.flatMap((x) => x.operator.roles))],
        details: {
          source: p.source,
          publicKeySha256: c.sha,
          ...participantEvidence(c.digest, [
            { role: 'authoriser', p: present[0]! },
            { role: 'witness', p: present[1]! },
          ]),
        },
      });
      for (const x of present) x.credential.lock();
      return { source: p.source, publicKeySha256: c.sha, auditSeq: e.seq };
    },
  });
}

/** What an ingest took in (counts and digests only, CPS 5.4.7). */
export interface OnlineIngestResult {
  source: string;
  bundleSha256: string;
  signer: string;
  after: OnlineRecordsPoint;
  to: OnlineRecordsPoint;
  events: number;
  segments: number;
  lines: number;
  retainUntil: string;
  auditSeq: number;
  /** The backup set written after the ingest committed (CPS 5.5.4); a failure there is a warning, the ingest stands. */
  backup: BackupOutcome;
}

const samePoint = (a: OnlineRecordsPoint, b: OnlineRecordsPoint) =>
  a.eventSeq === b.eventSeq && a.segmentSha256 === b.segmentSha256;

/**
 * The bundle starts where the last one from its source ended. Before it (a point already
 * ingested): everything in it ingested already is a replay, else an overlap; elsewhere a gap.
 */
function checkContinuity(inst: Installation, body: OnlineRecordsBody, refuse: Checks['refuse']): void {
  const last = lastOnlineRecordsBundle(inst.db, body.source);
  const head = last
    ? { eventSeq: last.to_event_seq, segmentSha256: last.to_segment_sha256 }
    : { eventSeq: 0, segmentSha256: '' };
  if (samePoint(body.after, head)) return;
  const known = (p: OnlineRecordsPoint) =>
    p.eventSeq <= head.eventSeq &&
    (p.segmentSha256 === '' ||
      p.segmentSha256 === head.segmentSha256 ||
      hasOnlineRecordsSegment(inst.db, body.source, p.segmentSha256));
  const where = `the last bundle from ${body.source} ended at event ${head.eventSeq}, segment ${head.segmentSha256 || '(none)'}; this one starts after event ${body.after.eventSeq}, segment ${body.after.segmentSha256 || '(none)'}`;
  const details = { head, after: body.after, to: body.to };
  if (known(body.after) && known(body.to))
    refuse('ONLINE_RECORDS_REPLAY', `everything in this bundle was ingested already (${where})`, details);
  if (known(body.after))
    refuse(
      'ONLINE_RECORDS_OVERLAP',
      `the bundle overlaps what was ingested (${where}); export with --since last`,
      details,
    );
  refuse('ONLINE_RECORDS_GAP', `records are missing between the bundles (${where})`, details);
}

/** What the checks settled: the bundle, its signer and its events. */
interface CheckedBundle {
  s: ScannedBundle;
  body: OnlineRecordsBody;
  signer: string;
  events: OnlineRecordsEvent[];
}

/** Replay, format, signer, signature, continuity, contents: every check before anyone is asked for anything. */
function checkBundle(inst: Installation, scan: Scan, x: Checks): CheckedBundle {
  if (onlineRecordsBundleBySha256(inst.db, scan.sha256))
    x.refuse('ONLINE_RECORDS_REPLAY', `this bundle (SHA-256 ${scan.sha256}) was ingested already`);
  if (scan.error) throw scan.error;
  const m = scan.s.manifest;
  const signer = bundleSigner(m);
  if (!SOURCE_NAME.test(m.body.source) || !findOnlineRecordsKey(inst.db, m.body.source, signer.sha256))
    x.refuse(
      'ONLINE_RECORDS_SIGNER_UNKNOWN',
      `the bundle of source "${m.body.source}" is signed by key ${signer.sha256}, which is not registered for it`,
      { source: m.body.source, signer: signer.sha256 },
    );
  if (!bundleSignatureValid(m, signer.key))
    x.refuse('ONLINE_RECORDS_SIGNATURE_INVALID', `the signature of the bundle does not verify: it was altered`, {
      source: m.body.source,
      signer: signer.sha256,
    });
  checkContinuity(inst, m.body, x.refuse);
  const events = checkBundleContents(scan.s);
  return { s: scan.s, body: m.body, signer: signer.sha256, events };
}

/** The date `years` after `at` (the end of a record's retention). */
function yearsAfter(at: Date, years: number): string {
  const d = new Date(at.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString();
}

/**
 * `rootca audit ingest-online BUNDLE --examiner NAME`: see the module comment. The bundle is
 * read from its file as a stream (memory stays flat in the size of its segments). Once the
 * ingest commits, a backup set is written as after every recorded change (CPS 5.5.4), signed
 * by the examiner; its failure is reported in the result and audited, never as a failure of
 * the ingest, which stands.
 */
export async function ingestOnlineRecords(
  inst: Installation,
  p: { file: string; fileName?: string; examiner: string; passphrases: PassphraseSource },
): Promise<OnlineIngestResult> {
  const scan = scanned(p.file);
  let who: Participant | undefined;
  try {
    const r = await runRecordedAction(inst, {
      action: 'audit.ingest-online',
      target: `online-records:${scan.sha256}`,
      actor: p.examiner,
      refusalDetails: { bundleSha256: scan.sha256, file: p.fileName ?? null },
      check: (x) => checkBundle(inst, scan, x),
      ask: async (c, x) => {
        const digest = operationDigest({ kind: 'audit.ingest-online', source: c.body.source, sha256: scan.sha256 });
        who = await bring(inst, x, p.examiner, p.passphrases, digest, {
          operation: 'audit.ingest',
          slot: 'examiner',
          purpose: `ingesting the online records of ${c.body.source}`,
        });
        return { who, digest };
      },
      work: (c, a, audit) =>
        storeBundle(inst, c, a, { file: p.file, sha256: scan.sha256, examiner: p.examiner, audit }),
    });
    // Committed: nothing after this reports failure.
    const backup = await backupAfterChange(inst, { reason: 'audit.ingest-online', ceremonyId: null, operator: who! });
    return { ...r, backup };
  } finally {
    who?.credential.lock();
  }
}

/** Archives the bundle and its segments (streamed from the file in chunks) and appends its one audit event, inside the transaction. */
function storeBundle(
  inst: Installation,
  c: CheckedBundle,
  a: { who: Participant; digest: Buffer },
  o: { file: string; sha256: string; examiner: string; audit: AuditSuccess },
): Omit<OnlineIngestResult, 'backup'> {
  const body = c.body;
  const now = inst.clock.now();
  const retainUntil = yearsAfter(now, inst.config.archive.retentionYears);
  const bundleId = insertOnlineRecordsBundle(inst.db, {
    source: body.source,
    sha256: o.sha256,
    responder: body.responder,
    signer_sha256: c.signer,
    created_at: body.createdAt,
    after_event_seq: body.after.eventSeq,
    after_segment_sha256: body.after.segmentSha256,
    to_event_seq: body.to.eventSeq,
    to_segment_sha256: body.to.segmentSha256,
    events: JSON.stringify(c.events),
    ingested_at: now.toISOString(),
    ingested_by: o.examiner,
    retain_until: retainUntil,
  });
  body.segments.forEach((s, i) => {
    const id = insertOnlineRecordsSegment(inst.db, {
      bundle_id: bundleId,
      source: body.source,
      name: s.name,
      sha256: s.sha256,
      prev_sha256: s.prevSha256,
      lines: s.lines,
      closed_at: s.closedAt,
      data: Buffer.alloc(0),
      retain_until: retainUntil,
    });
    let n = 0;
    eachSegmentChunk(o.file, c.s, i, (chunk) => insertOnlineRecordsSegmentChunk(inst.db, id, n++, chunk));
  });
  const lines = body.segments.reduce((n, s) => n + s.lines, 0);
  const e = o.audit({
    actor: o.examiner,
    roles: a.who.operator.roles,
    details: {
      source: body.source,
      responder: body.responder,
      bundleSha256: o.sha256,
      signer: c.signer,
      createdAt: body.createdAt,
      after: body.after,
      to: body.to,
      events: c.events.length,
      eventsSha256: body.events.sha256,
      eventKinds: [...new Set(c.events.map((x) => x.kind))].sort(),
      segments: body.segments.map((s) => ({
        name: s.name,
        sha256: s.sha256,
        prevSha256: s.prevSha256,
        lines: s.lines,
        bytes: s.length,
      })),
      retainUntil,
      ...participantEvidence(a.digest, [{ role: 'examiner', p: a.who }]),
    },
  });
  return {
    source: body.source,
    bundleSha256: o.sha256,
    signer: c.signer,
    after: body.after,
    to: body.to,
    events: c.events.length,
    segments: body.segments.length,
    lines,
    retainUntil,
    auditSeq: e.seq,
  };
}

/** A registered records key and where its source's records stand (the end of the last bundle ingested). */
export interface OnlineRecordsSource {
  source: string;
  publicKeySha256: string;
  registeredAt: string;
  authorisedBy: string;
  witness: string;
  lastBundle: { sha256: string; ingestedAt: string; to: OnlineRecordsPoint } | null;
}

/** `rootca audit online-key list`: every registered key with its source's last ingested bundle. */
export function listOnlineRecordsSources(inst: Installation): OnlineRecordsSource[] {
  return listOnlineRecordsKeys(inst.db).map((k) => {
    const last = lastOnlineRecordsBundle(inst.db, k.source);
    return {
      source: k.source,
      publicKeySha256: k.public_key_sha256,
      registeredAt: k.registered_at,
      authorisedBy: k.authorised_by,
      witness: k.witness,
      lastBundle: last
        ? {
            sha256: last.sha256,
            ingestedAt: last.ingested_at,
            to: { eventSeq: last.to_event_seq, segmentSha256: last.to_segment_sha256 },
          }
        : null,
    };
  });
}
