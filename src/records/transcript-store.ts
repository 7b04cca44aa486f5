/** Making, keeping and exporting ceremony transcripts for an installation. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaError } from '../errors.ts';
import { findTranscriptBody, insertTranscript } from '../store/transcripts.ts';
import { sha256Hex } from '../util/digest.ts';
import type { Installation } from '../installation/installation.ts';
import type { Participant } from '../people/participants.ts';
import { renderTranscriptMarkdown, signTranscript, TRANSCRIPT_FORMAT, type Transcript } from './transcript.ts';

/** What a ceremony records in its transcript besides the people. */
export interface TranscriptInput {
  operation: string;
  ceremonyId: number;
  target: string;
  startedAt: string;
  digest: Buffer;
  people: { as: string; p: Participant }[];
  inputs: { name: string; sha256: string }[];
  outputs: { name: string; sha256: string }[];
  details: Record<string, unknown>;
}

/** Builds the transcript and has every participant sign it; call inside the completing transaction, then `storeTranscript`. */
export function makeTranscript(inst: Installation, x: TranscriptInput): Transcript {
  const t: Transcript = {
    format: TRANSCRIPT_FORMAT,
    operation: x.operation,
    installation: inst.config.installation.name,
    ceremonyId: x.ceremonyId,
    target: x.target,
    startedAt: x.startedAt,
    finishedAt: inst.clock.now().toISOString(),
    operationDigest: x.digest.toString('hex'),
    inputs: x.inputs,
    outputs: x.outputs,
    details: JSON.parse(JSON.stringify(x.details)),
    participants: x.people.map(({ as, p }) => ({
      operator: p.operator.name,
      as,
      roles: p.operator.roles,
      credentialKind: p.operator.credential.kind,
      signingPublicKey: p.operator.credential.signingPublicKey.toString('base64'),
      operationSignature: p.signature.toString('base64'),
    })),
  };
  return signTranscript(
    t,
    x.people.map(({ p }) => p.credential),
  );
}

/** Stores the transcript with its ceremony (same transaction as the caller's). */
export function storeTranscript(inst: Installation, t: Transcript): void {
  const body = JSON.stringify(t, null, 2);
  insertTranscript(inst.db, { ceremonyId: t.ceremonyId, body, sha256: sha256Hex(body), createdAt: t.finishedAt });
}

/** Writes transcript-N.json and transcript-N.md into the installation's transcripts/ folder; returns the JSON path. */
export function exportTranscript(inst: Installation, t: Transcript, dir = join(inst.home, 'transcripts')): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const json = join(dir, `transcript-${t.ceremonyId}.json`);
  // Owner-only like every record in the home (issue 14 item 3); the umask can only narrow 0600.
  writeFileSync(json, `${JSON.stringify(t, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  writeFileSync(join(dir, `transcript-${t.ceremonyId}.md`), renderTranscriptMarkdown(t), { flag: 'wx', mode: 0o600 });
  return json;
}

/** The stored transcript of a ceremony; TRANSCRIPT_UNKNOWN when it has none. */
export function loadTranscript(inst: Installation, ceremonyId: number): Transcript {
  const body = findTranscriptBody(inst.db, ceremonyId);
  if (body === undefined) throw new CaError('TRANSCRIPT_UNKNOWN', `no transcript for ceremony #${ceremonyId}`);
  return JSON.parse(body) as Transcript;
}
