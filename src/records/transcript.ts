/**
 * Ceremony transcripts (CPS 5.2.2, 6.1.1; ): what was done, from which inputs, with
 * which outputs, by whom in which role, when — signed by every participant with their own
 * credential, so an auditor can check it offline years later with `rootca transcript verify`.
 */
import { createHash } from 'node:crypto';
import { CaError } from '../errors.ts';
import { verifyCredentialSignature, type CredentialKind, type UnlockedCredential } from '../keys/credential.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export const TRANSCRIPT_FORMAT = 'rootca-transcript/1';

export interface TranscriptParticipant {
  operator: string;
  /** The part played: custodian, witness, operator, … */
  as: string;
  roles: string[];
  credentialKind: CredentialKind;
  /** base64 DER SubjectPublicKeyInfo of the participant's signing key. */
  signingPublicKey: string;
  /** base64 signature over the operation digest, made when they authenticated. */
  operationSignature: string;
  /** base64 signature over the transcript digest (everything but these signatures). */
  transcriptSignature?: string;
}

export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT;
  operation: string;
  installation: string;
  ceremonyId: number;
  target: string;
  startedAt: string;
  finishedAt: string;
  /** SHA-256 hex of what every participant signed when they authenticated. */
  operationDigest: string;
  inputs: { name: string; sha256: string }[];
  outputs: { name: string; sha256: string }[];
  details: Record<string, unknown>;
  participants: TranscriptParticipant[];
}

/** SHA-256 over the canonical JSON of the transcript without the transcript signatures. */
export function transcriptDigest(t: Transcript): Buffer {
  const body = { ...t, participants: t.participants.map(({ transcriptSignature: _s, ...rest }) => rest) };
  return createHash('sha256').update(canonicalJson(body)).digest();
}

/** Every participant signs the finished transcript with their (still unlocked) credential. */
export function signTranscript(t: Transcript, credentials: UnlockedCredential[]): Transcript {
  const digest = transcriptDigest(t);
  return {
    ...t,
    participants: t.participants.map((p) => {
      const c = credentials.find((x) => x.operator === p.operator);
      if (!c) throw new CaError('TRANSCRIPT_SIGNER_MISSING', `no credential for ${p.operator} to sign the transcript`);
      return { ...p, transcriptSignature: c.sign(digest).toString('base64') };
    }),
  };
}

export interface TranscriptVerification {
  ok: boolean;
  problems: string[];
  checked: string[];
}

export interface VerifyOptions {
  /** Registered signing keys by operator name (from an installation), to check the embedded ones. */
  registeredKeys?: Map<string, Buffer>;
  /** Files to compare against the named outputs' digests, by output name. */
  files?: Map<string, Buffer>;
}

/** Checks format, every participant's two signatures, and optionally keys and files. */
export function verifyTranscript(input: unknown, o: VerifyOptions = {}): TranscriptVerification {
  const problems: string[] = [];
  const checked: string[] = [];
  const t = input as Transcript;
  if (!t || typeof t !== 'object' || t.format !== TRANSCRIPT_FORMAT || !Array.isArray(t.participants)) {
    return { ok: false, problems: [`not a ${TRANSCRIPT_FORMAT} document`], checked };
  }
  if (t.participants.length < 2)
    problems.push(`only ${t.participants.length} participant(s): CA operations need at least two persons (CPS 5.2.2)`);
  const digest = transcriptDigest(t);
  const opDigest = Buffer.from(t.operationDigest ?? '', 'hex');
  for (const p of t.participants) {
    const key = Buffer.from(p.signingPublicKey ?? '', 'base64');
    if (o.registeredKeys) {
      const reg = o.registeredKeys.get(p.operator);
      if (!reg) problems.push(`${p.operator} is not an operator of this installation`);
      else if (!reg.equals(key)) problems.push(`${p.operator}'s key in the transcript is not their registered key`);
    }
    const opOk = verifyCredentialSignature(
      key,
      p.credentialKind,
      opDigest,
      Buffer.from(p.operationSignature ?? '', 'base64'),
    );
    const tOk =
      !!p.transcriptSignature &&
      verifyCredentialSignature(key, p.credentialKind, digest, Buffer.from(p.transcriptSignature, 'base64'));
    if (!opOk) problems.push(`${p.operator} (${p.as}): operation signature does not verify`);
    if (!tOk)
      problems.push(
        `${p.operator} (${p.as}): transcript signature does not verify (the transcript was changed, or not signed)`,
      );
    if (opOk && tOk) checked.push(`${p.operator} (${p.as}): both signatures verify`);
  }
  for (const [name, bytes] of o.files ?? []) {
    const out = t.outputs.find((x) => x.name === name);
    const h = createHash('sha256').update(bytes).digest('hex');
    if (!out) problems.push(`${name} is not an output of this transcript`);
    else if (out.sha256 !== h) problems.push(`${name} does not match its digest in the transcript`);
    else checked.push(`${name}: digest matches`);
  }
  return { ok: problems.length === 0, problems, checked };
}

/** A readable report an auditor can file (Markdown). */
export function renderTranscriptMarkdown(t: Transcript): string {
  const lines = [
    `# Ceremony transcript #${t.ceremonyId}: ${t.operation}`,
    '',
    `| | |`,
    `|---|---|`,
    `| installation | ${t.installation} |`,
    `| target | ${t.target} |`,
    `| started | ${t.startedAt} |`,
    `| finished | ${t.finishedAt} |`,
    `| operation digest | \`${t.operationDigest}\` |`,
    `| transcript digest | \`${transcriptDigest(t).toString('hex')}\` |`,
    '',
    '## Participants',
    '',
    '| operator | as | roles | credential | signed operation | signed transcript |',
    '|---|---|---|---|---|---|',
    ...t.participants.map(
      (p) =>
        `| ${p.operator} | ${p.as} | ${p.roles.join(', ')} | ${p.credentialKind} | yes | ${p.transcriptSignature ? 'yes' : 'NO'} |`,
    ),
    '',
    '## Inputs',
    '',
    ...t.inputs.map((i) => `- ${i.name}: SHA-256 \`${i.sha256}\``),
    '',
    '## Outputs',
    '',
    ...t.outputs.map((i) => `- ${i.name}: SHA-256 \`${i.sha256}\``),
    '',
    '## Details',
    '',
    '```json',
    JSON.stringify(t.details, null, 2),
    '```',
    '',
    `Verify offline: \`rootca transcript verify transcript-${t.ceremonyId}.json\``,
    '',
  ];
  return lines.join('\n');
}
