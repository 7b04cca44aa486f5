/**
 * Never half done (issue 14; DESIGN "write intent before signing; commit, then publish outputs
 * atomically"). Every operation that signs and writes files goes through this one protocol:
 *
 *   intent   the ceremony row names its process and its planned outputs (`claim`);
 *   sign     in memory;
 *   stage    each output as `NAME.partial`, fsynced (`stage`);
 *   commit   one transaction stores what was signed, its audit event, the ceremony 'completed'
 *            and the staged outputs' digests (`recordInCommit`);
 *   publish  each partial renamed to its name (`publish`) — a failure here is reported as an
 *            output still to write, never as a failed operation: the work is committed.
 *
 * A crash at any point leaves a state `finishInterruptedWork` recognises and finishes: a row
 * still 'started' whose process is gone committed nothing, so it is closed as abandoned with
 * the reason and its partials removed; a completed row whose outputs are pending gets them
 * renamed (or written again from the store) and its transcript file exported. Operations call
 * it first, as `archive backup` does for its sets; `rootca ceremony resume ID` calls it for one.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CaError } from '../errors.ts';
import { derToPem } from '../pki/pem.ts';
import { faultPoint } from '../util/fault-points.ts';
import { sha256Hex } from '../util/digest.ts';
import {
  discardPartials,
  planOutputs,
  publishOutput,
  rewriteOutput,
  stageOutput,
  type PlannedOutput,
  type StagedOutput,
} from '../util/outputs.ts';
import type { Installation } from '../installation/installation.ts';
import { renderTranscriptMarkdown, type Transcript } from '../records/transcript.ts';
import { exportTranscript, loadTranscript } from '../records/transcript-store.ts';
import { firstCommittedActionOfCeremony } from '../store/audit-events.ts';
import {
  abandonStartedCeremony,
  findCeremony,
  markCeremonyOutputsWritten,
  patchCeremonyDetails,
  unfinishedCeremonies,
  type CeremonyRow,
} from '../store/ceremonies.ts';
import { certificateDerBySha256 } from '../store/certificates.ts';
import { crlDerBySha256 } from '../store/crls.ts';
import { ocspResponseDerBySha256 } from '../store/ocsp-responses.ts';
import { findTranscriptBody, findTranscriptBodyBySha256 } from '../store/transcripts.ts';

/** Where the stored bytes of an output are, so a lost file is written again rather than signed again. */
export interface OutputSource {
  table: SignedTable | 'transcripts';
  sha256: string;
  encoding: 'der' | 'pem' | 'json' | 'md';
}

type SignedTable = 'certificates' | 'crls' | 'ocsp_responses';

interface RecordedOutput {
  path: string;
  what: string;
  mode: number;
  sha256?: string;
  source?: OutputSource;
}

interface CeremonyDetails {
  owner?: { pid: number; host: string };
  outputs?: RecordedOutput[];
  outputsPending?: boolean;
  ca?: string;
  [k: string]: unknown;
}

/** Ceremonies this process is running: never taken for interrupted ones. */
const inFlight = new Set<string>();

const PEM_LABEL: Record<SignedTable, string> = {
  certificates: 'CERTIFICATE',
  crls: 'X509 CRL',
  ocsp_responses: 'OCSP RESPONSE',
};

/** Where each kind of output's bytes are kept, by digest. */
const STORED_DER: Record<SignedTable, (db: Installation['db'], sha256: string) => Buffer | undefined> = {
  certificates: certificateDerBySha256,
  crls: crlDerBySha256,
  ocsp_responses: ocspResponseDerBySha256,
};

export interface DurableOutputs {
  readonly planned: PlannedOutput[];
  /** More planned outputs, known only once the ceremony has its number (its transcript files); before `claim`. */
  add(more: PlannedOutput[]): void;
  /** Intent: the row names this process and the planned outputs (before any key is used). */
  claim(ceremonyId: number, kind: string): void;
  /** Writes one planned output (by its path) as a fsynced partial, before the commit. */
  stage(path: string, bytes: Buffer | string, source?: OutputSource): void;
  /** Inside the commit transaction: the row records the staged outputs as still to publish. */
  recordInCommit(): void;
  /** After the commit: names the outputs. Never throws; what could not be written is returned. */
  publish(): { written: string[]; pending: { path: string; reason: string }[] };
  /** Before the commit, on failure: removes the partials and forgets the ceremony. */
  discard(): void;
}

export function durableOutputs(inst: Installation, planned: PlannedOutput[]): DurableOutputs {
  let ceremonyId: number | undefined;
  let kind = 'operation';
  const staged: (StagedOutput & { source?: OutputSource })[] = [];
  const setDetails = (patch: Partial<CeremonyDetails>) => patchCeremonyDetails(inst.db, ceremonyId!, patch);
  const done = () => {
    if (ceremonyId !== undefined) inFlight.delete(`${inst.home}:${ceremonyId}`);
  };
  return {
    planned,
    add(more) {
      if (ceremonyId !== undefined) throw new Error('outputs are added before claim');
      planned.push(...more);
    },
    claim(id, k) {
      ceremonyId = id;
      kind = k;
      inFlight.add(`${inst.home}:${id}`);
      setDetails({
        owner: ceremonyOwner(),
        outputs: planned.map((p) => ({ path: p.path, what: p.what, mode: p.mode })),
      });
      faultPoint(`${kind}:intent`);
    },
    stage(path, bytes, source) {
      const p = planned.find((x) => x.path === path);
      if (!p) throw new Error(`${path} is not a planned output`);
      staged.push({ ...stageOutput(p, bytes), ...(source ? { source } : {}) });
      faultPoint(`${kind}:staged:${planned.indexOf(p)}`);
    },
    recordInCommit() {
      if (ceremonyId === undefined) throw new Error('recordInCommit before claim');
      const outputs: RecordedOutput[] = staged.map((s) => ({
        path: s.path,
        what: s.what,
        mode: s.mode,
        sha256: s.sha256,
        ...(s.source ? { source: s.source } : {}),
      }));
      setDetails({ outputs, outputsPending: outputs.length > 0 });
    },
    publish() {
      faultPoint(`${kind}:committed`);
      const written: string[] = [];
      const pending: { path: string; reason: string }[] = [];
      staged.forEach((s, i) => {
        try {
          publishOutput(s);
          written.push(s.path);
        } catch (e) {
          pending.push({ path: s.path, reason: (e as Error).message });
        }
        faultPoint(`${kind}:published:${i}`);
      });
      if (!pending.length && staged.length) setDetails({ outputsPending: false });
      done();
      return { written, pending };
    },
    discard() {
      discardPartials(planned);
      done();
    },
  };
}

/** The process that owns a ceremony row, so another run can tell a crashed one from a running one. */
export function ceremonyOwner(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

export interface InterruptedWork {
  ceremonyId: number;
  kind: string;
  ca: string | null;
  startedAt: string;
  /** What was found and what was done about it. */
  state: 'abandoned' | 'outputs-finished' | 'outputs-pending' | 'running' | 'owner-unknown' | 'partly-committed';
  message: string;
}

type Row = CeremonyRow;

/**
 * Finds interrupted ceremonies and finishes what can be finished (see the file comment).
 * `only`: one ceremony, resolved even when its row does not name its process (an explicit
 * `ceremony resume`); otherwise such rows are reported and left alone.
 */
export function finishInterruptedWork(inst: Installation, o: { only?: number } = {}): InterruptedWork[] {
  const rows =
    o.only !== undefined
      ? [findCeremony(inst.db, o.only)].filter((r) => r !== undefined)
      : unfinishedCeremonies(inst.db);
  const out: InterruptedWork[] = [];
  for (const row of rows) {
    if (inFlight.has(`${inst.home}:${row.id}`)) continue;
    const d = JSON.parse(row.details) as CeremonyDetails;
    const base = { ceremonyId: row.id, kind: row.kind, ca: d.ca ?? null, startedAt: row.started_at };
    if (row.status === 'started') out.push({ ...base, ...closeStarted(inst, row, d, o.only === row.id) });
    else if (d.outputsPending) out.push({ ...base, ...finishOutputs(inst, row, d) });
  }
  return out;
}

/** What `status` and `doctor` show: interrupted ceremonies, without changing anything. */
export function listInterruptedWork(
  inst: Installation,
): { ceremonyId: number; kind: string; status: string; startedAt: string; note: string }[] {
  return unfinishedCeremonies(inst.db)
    .filter((r) => !inFlight.has(`${inst.home}:${r.id}`))
    .map((r) => {
      const d = JSON.parse(r.details) as CeremonyDetails;
      const running = r.status === 'started' && d.owner && ownerState(d.owner) === 'alive';
      const note = running
        ? `running in process ${d.owner!.pid}`
        : r.status === 'started'
          ? 'interrupted before it committed; the next operation closes it (or: rootca ceremony resume ' + r.id + ')'
          : `committed; outputs still to write: ${(d.outputs ?? []).map((x) => x.path).join(', ')} (rootca ceremony resume ${r.id})`;
      return { ceremonyId: r.id, kind: r.kind, status: r.status, startedAt: r.started_at, note };
    });
}

function closeStarted(
  inst: Installation,
  row: Row,
  d: CeremonyDetails,
  explicit: boolean,
): Pick<InterruptedWork, 'state' | 'message'> {
  const owner = d.owner ? ownerState(d.owner) : 'unknown';
  if (owner === 'alive')
    return { state: 'running', message: `ceremony #${row.id} (${row.kind}) is running in process ${d.owner!.pid}` };
  if (owner === 'unknown' && !explicit) {
    return {
      state: 'owner-unknown',
      message: `ceremony #${row.id} (${row.kind}, started ${row.started_at}) never finished; if no rootca command is running, close it with rootca ceremony resume ${row.id}`,
    };
  }
  // Work committed under this ceremony (e.g. a CA ending's steps) is finished by that operation's own resume, not abandoned.
  const committed = firstCommittedActionOfCeremony(inst.db, row.id);
  if (committed) {
    return {
      state: 'partly-committed',
      message: `ceremony #${row.id} (${row.kind}) committed ${committed} before it stopped; run the same command again to finish it`,
    };
  }
  discardPartials(d.outputs ?? []);
  const reason = `interrupted before it committed (process ${d.owner ? `${d.owner.pid} on ${d.owner.host} is gone` : 'unknown'}); nothing it signed was stored${row.kind === 'ceremony.root-ca' ? '; no CA was created — a key it may have generated in an HSM token is not in use' : ''}`;
  inst.db
    .transaction(() => {
      abandonStartedCeremony(inst.db, row.id, inst.clock.now().toISOString(), reason);
      inst.audit.append({
        actor: inst.systemActor,
        roles: [],
        action: 'ceremony.abandoned',
        target: d.ca ?? row.kind,
        outcome: 'success',
        details: { ceremonyId: row.id, kind: row.kind, reason, removedPartials: (d.outputs ?? []).map((x) => x.path) },
      });
    })
    .immediate();
  return { state: 'abandoned', message: `ceremony #${row.id} (${row.kind}) ${reason}; closed as abandoned` };
}

function finishOutputs(inst: Installation, row: Row, d: CeremonyDetails): Pick<InterruptedWork, 'state' | 'message'> {
  const written: string[] = [];
  const pending: string[] = [];
  for (const o of d.outputs ?? []) {
    if (!o.sha256) continue;
    try {
      try {
        publishOutput({ path: o.path, sha256: o.sha256 });
      } catch (e) {
        if (!(e instanceof CaError) || e.code !== 'OUTPUT_PARTIAL_MISSING' || !o.source) throw e;
        rewriteOutput({ path: o.path, sha256: o.sha256, mode: o.mode }, storedBytes(inst, o.source));
      }
      written.push(o.path);
    } catch (e) {
      pending.push(`${o.path}: ${(e as Error).message}`);
    }
  }
  exportMissingTranscript(inst, row.id);
  if (pending.length)
    return {
      state: 'outputs-pending',
      message: `ceremony #${row.id} (${row.kind}) is committed; still to write: ${pending.join('; ')}`,
    };
  inst.db
    .transaction(() => {
      markCeremonyOutputsWritten(inst.db, row.id);
      inst.audit.append({
        actor: inst.systemActor,
        roles: [],
        action: 'ceremony.outputs-finished',
        target: d.ca ?? row.kind,
        outcome: 'success',
        details: { ceremonyId: row.id, kind: row.kind, written },
      });
    })
    .immediate();
  return {
    state: 'outputs-finished',
    message: `ceremony #${row.id} (${row.kind}) was committed; its outputs are now written: ${written.join(', ')}`,
  };
}

function storedBytes(inst: Installation, s: OutputSource): Buffer {
  if (s.table === 'transcripts') {
    const body = findTranscriptBodyBySha256(inst.db, s.sha256);
    if (body === undefined)
      throw new CaError('OUTPUT_SOURCE_MISSING', `the store has no transcript with sha256 ${s.sha256}`);
    return Buffer.from(s.encoding === 'md' ? renderTranscriptMarkdown(JSON.parse(body) as Transcript) : `${body}\n`);
  }
  const der = STORED_DER[s.table](inst.db, s.sha256);
  if (!der) throw new CaError('OUTPUT_SOURCE_MISSING', `the store has no ${s.table} row with sha256 ${s.sha256}`);
  return s.encoding === 'pem' ? Buffer.from(derToPem(der, PEM_LABEL[s.table])) : der;
}

/** After the commit: the transcript file. A failure is a note (the transcript stays in the store), never an error. */
export function exportTranscriptAfterCommit(inst: Installation, t: Transcript, notes: string[]): string {
  try {
    return exportTranscript(inst, t);
  } catch (e) {
    notes.push(
      `the transcript is stored but its file could not be written (${(e as Error).message}); rootca audit transcript show ${t.ceremonyId}`,
    );
    return '';
  }
}

/**
 * A ceremony's transcript files as planned outputs (issue 14): staged in the completing
 * transaction, named with the other outputs, owner-only like every record in the home.
 */
export function planTranscriptFiles(inst: Installation, ceremonyId: number): PlannedOutput[] {
  const dir = join(inst.home, 'transcripts');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return planOutputs([
    { path: join(dir, `transcript-${ceremonyId}.json`), what: 'the transcript', mode: 0o600 },
    { path: join(dir, `transcript-${ceremonyId}.md`), what: 'the transcript (Markdown)', mode: 0o600 },
  ]);
}

/** Inside the completing transaction, before `recordInCommit`: the transcript's JSON and Markdown as partials. */
export function stageTranscript(files: DurableOutputs, planned: PlannedOutput[], t: Transcript): void {
  const body = JSON.stringify(t, null, 2);
  const sha256 = sha256Hex(body);
  files.stage(planned[0]!.path, `${body}\n`, { table: 'transcripts', sha256, encoding: 'json' });
  files.stage(planned[1]!.path, renderTranscriptMarkdown(t), { table: 'transcripts', sha256, encoding: 'md' });
}

/** The transcript file is written after the commit; a crash there leaves it only in the store. */
export function exportMissingTranscript(inst: Installation, ceremonyId: number): void {
  if (
    findTranscriptBody(inst.db, ceremonyId) === undefined ||
    existsSync(join(inst.home, 'transcripts', `transcript-${ceremonyId}.json`))
  )
    return;
  exportTranscript(inst, loadTranscript(inst, ceremonyId));
}

/** 'unknown' for another machine's process: only an explicit resume closes its row. */
function ownerState(o: { pid: number; host: string }): 'alive' | 'gone' | 'unknown' {
  if (o.host !== hostname()) return 'unknown';
  if (o.pid === process.pid) return 'alive'; // this process: a use case running around another (e.g. a CA ending publishing)
  try {
    process.kill(o.pid, 0);
    return 'alive';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'gone';
  }
}

/** `rootca ceremony resume ID`: finishes or closes one interrupted ceremony, even one whose row does not name its process. */
export function resumeCeremony(inst: Installation, ceremonyId: number): InterruptedWork {
  const row = findCeremony(inst.db, ceremonyId);
  if (!row) throw new CaError('CEREMONY_UNKNOWN', `there is no ceremony #${ceremonyId}`);
  const [r] = finishInterruptedWork(inst, { only: ceremonyId });
  if (!r)
    throw new CaError(
      'CEREMONY_NOTHING_TO_RESUME',
      `ceremony #${ceremonyId} (${row.kind}) is ${row.status} and has nothing left to finish`,
    );
  if (r.state === 'running') throw new CaError('CEREMONY_RUNNING', `${r.message}; wait for it to finish`);
  return r;
}
