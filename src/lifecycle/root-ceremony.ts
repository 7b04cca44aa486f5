/**
 * The root key ceremony (CPS 6.1.1, R-1.1, R-6.1): generate a CA key pair inside the key
 * store with custodians and a witness present, split its activation data M-of-N, and sign
 * the self-signed certificate with exactly one activation.
 *
 * Order matters for crash safety (durable-outputs.ts): checks, outputs included -> intent row
 * -> key generation and signing in memory -> outputs staged as *.partial -> one transaction
 * storing key, shares, CA, certificate and audit event -> outputs renamed. A crash before the
 * transaction leaves a 'started' ceremony and no key, closed as abandoned by the next run; a
 * crash after it leaves a created CA whose outputs the next run (or `ceremony resume`) writes.
 * Once the transaction committed, the ceremony is reported as done, whatever the files do.
 */
import { keyAlgorithmOf, parseRootCeremony, type LoadedCeremony, type RootCeremony } from '../config/ceremony.ts';
import { CaError, type ErrorCode } from '../errors.ts';
import { createName, nameToText } from '../pki/name.ts';
import { derToPem } from '../pki/pem.ts';
import { sha256Hex } from '../util/digest.ts';
import { faultPoint } from '../util/fault-points.ts';
import { planOutputs, type PlannedOutput } from '../util/outputs.ts';
import {
  ceremonyOwner,
  durableOutputs,
  exportTranscriptAfterCommit,
  finishInterruptedWork,
  type DurableOutputs,
  type InterruptedWork,
} from '../operation/durable-outputs.ts';
import type { Installation } from '../installation/installation.ts';
import { operationDigest, type Participant, type PassphraseSource } from '../people/participants.ts';
import { gatherQuorum } from '../people/quorum.ts';
import type { Transcript } from '../records/transcript.ts';
import { checkKeyStore, generateCaKey, type KeyStoreSpec, type NewCaKey } from '../custody/ca-keys.ts';
import { caNameTaken } from '../store/cas.ts';
import { findCaKeyFacts } from '../store/ca-keys.ts';
import { failStartedCeremony, findCompletedCeremonyOfFile, insertStartedCeremony } from '../store/ceremonies.ts';
import { operatorStatus } from '../store/operators.ts';
import { ACTION, commitRootCa } from './root-ceremony-commit.ts';
import { signRootCertificate } from './root-certificate.ts';
import { allowanceWarnings, legacyWarnings, previewRootLint } from './root-ceremony-lint.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom } from '../pki/serial.ts';

export interface RootCeremonyResult {
  caName: string;
  keyId: string;
  ceremonyId: number;
  serialHex: string;
  certificateDer: Buffer;
  certificatePem: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  outputs: string[];
  custodians: string[];
  witness: string;
  warnings: string[];
  /** The signed transcript of the ceremony (JSON; a .md beside it). */
  transcriptFile: string;
  /** Interrupted ceremonies this run found and finished or closed first. */
  interrupted: InterruptedWork[];
}

export interface RunRootCeremonyParams {
  ceremony: LoadedCeremony<RootCeremony>;
  /** Relative output paths resolve against this folder. */
  baseDir: string;
  passphrases: PassphraseSource;
}

/** Validates a ceremony file for this installation; a file that fails is a refused attempt, audited. */
export function loadRootCeremony(inst: Installation, bytes: Buffer, file: string): LoadedCeremony<RootCeremony> {
  try {
    return parseRootCeremony(bytes, file);
  } catch (e) {
    if (e instanceof CaError) {
      inst.audit.append({
        actor: inst.systemActor,
        roles: [],
        action: ACTION,
        target: file,
        outcome: 'refused',
        details: { code: e.code, message: e.message, ceremonyFile: sha256Hex(bytes) },
      });
    }
    throw e;
  }
}

/** Runs the whole ceremony in the order the header gives; a refusal is audited before it is thrown. */
export async function runRootCeremony(inst: Installation, p: RunRootCeremonyParams): Promise<RootCeremonyResult> {
  const c = p.ceremony.config;
  const target = c.ca.name;
  const refuse: Refuse = (code, message, details = {}) => {
    inst.audit.append({
      actor: inst.systemActor,
      roles: [],
      action: ACTION,
      target,
      outcome: 'refused',
      details: { code, message, ceremonyFile: p.ceremony.sha256, ...details },
    });
    throw new CaError(code, message, { details });
  };

  // 0. Work a crash left behind is finished (or closed) first: a rerun after a crash that
  //    followed the commit writes that ceremony's outputs and says so, never makes a second key.
  const interrupted = finishInterruptedWork(inst);
  refuseRerun(inst, p.ceremony, interrupted, refuse);

  const { planned, subject, notBefore, notAfter } = checkBeforeQuorum(inst, p, refuse);

  // 2. People: the witness and M custodians prove presence by signing the operation digest.
  const digest = operationDigest({
    kind: ACTION,
    ceremonyFileSha256: p.ceremony.sha256,
    ca: c.ca.name,
    installation: inst.config.installation.name,
    notBefore: notBefore.toISOString(),
  });
  const quorum = await gatherQuorum(inst, {
    operationName: 'ceremony.root-ca',
    witness: c.witness,
    holders: c.custodians.holders,
    threshold: c.custodians.threshold,
    digest,
    passphrases: p.passphrases,
    operation: `the ${c.ca.name} key ceremony`,
    refuse,
  });
  try {
    return {
      ...(await generateAndSign(inst, p, durableOutputs(inst, planned), {
        subject,
        notBefore,
        notAfter,
        digest,
        present: quorum.custodians,
        witness: quorum.witness,
      })),
      interrupted,
    };
  } finally {
    quorum.lock();
  }
}

/** How a refused attempt ends: audited, then thrown. */
type Refuse = (code: ErrorCode, message: string, details?: Record<string, unknown>) => never;

/** A rerun of a file whose ceremony already created its CA is refused, naming the work a crash left that this run finished. */
function refuseRerun(
  inst: Installation,
  ceremony: LoadedCeremony<RootCeremony>,
  interrupted: InterruptedWork[],
  refuse: Refuse,
): void {
  const c = ceremony.config;
  const done = completedCeremonyOf(inst, ceremony.sha256, c.ca.name);
  if (done !== undefined) {
    const finished = interrupted
      .filter((w) => w.ceremonyId === done)
      .map((w) => ` ${w.message}.`)
      .join('');
    refuse(
      'CA_EXISTS',
      `${c.ca.name} already exists: ceremony #${done} ran this very file and created it; nothing new was made.${finished}`,
      { ceremonyId: done },
    );
  }
}

/** Step 1: every refusal that needs no person comes before anyone types a passphrase. */
function checkBeforeQuorum(
  inst: Installation,
  p: RunRootCeremonyParams,
  refuse: Refuse,
): { planned: PlannedOutput[]; subject: ReturnType<typeof createName>; notBefore: Date; notAfter: Date } {
  const c = p.ceremony.config;
  // 1. Everything that can be checked before anyone types a passphrase, the output files first
  //    (CONVENTIONS 4: inside --out-dir, distinct, never overwritten).
  let planned: PlannedOutput[] = [];
  try {
    planned = planOutputs(
      [
        { path: c.outputs.certificatePem, what: 'outputs.certificatePem' },
        ...(c.outputs.certificateDer ? [{ path: c.outputs.certificateDer, what: 'outputs.certificateDer' }] : []),
      ],
      { baseDir: p.baseDir, confineTo: p.baseDir },
    );
  } catch (e) {
    if (!(e instanceof CaError)) throw e;
    refuse(e.code === 'OUTPUT_EXISTS' ? 'CEREMONY_OUTPUT_EXISTS' : e.code, e.message);
  }
  if (caNameTaken(inst.db, c.ca.name))
    refuse('CA_EXISTS', `a CA named ${c.ca.name} already exists in this installation`);
  try {
    checkKeyStore(inst, keyStoreOf(c), c.custodians.holders, c.custodians.threshold);
  } catch (e) {
    if (!(e instanceof CaError)) throw e;
    refuse(e.code, e.message, e.details);
  }
  for (const name of [...c.custodians.holders, c.witness]) {
    const status = operatorStatus(inst.db, name);
    if (!status)
      refuse('OPERATOR_UNKNOWN', `${name} (named in the ceremony file) is not an operator of this installation`);
    else if (status !== 'active') refuse('OPERATOR_REMOVED', `${name} (named in the ceremony file) was removed`);
  }
  let subject;
  try {
    subject = createName(c.subject);
  } catch (e) {
    return refuse('CEREMONY_FILE_INVALID', `${p.ceremony.file}: subject ${(e as Error).message}`);
  }
  const notBefore = c.validity.notBefore === 'now' ? inst.clock.now() : new Date(c.validity.notBefore);
  notBefore.setUTCMilliseconds(0);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + c.validity.years);
  // Issue 15.3: the root the file describes passes the root lint before any key exists.
  try {
    const serial = serialFromRandom(inst.random(SERIAL_RANDOM_BYTES));
    previewRootLint(c, { subject, notBefore, notAfter, serial, now: inst.clock.now() });
  } catch (e) {
    if (!(e instanceof CaError)) throw e;
    refuse(e.code, `${p.ceremony.file}: ${e.message}`, e.details);
  }
  return { planned, subject, notBefore, notAfter };
}

/** Steps 3 to 6, once the people are present: the quorum is locked again by the caller whatever happens here. */
async function generateAndSign(
  inst: Installation,
  p: RunRootCeremonyParams,
  files: DurableOutputs,
  x: {
    subject: ReturnType<typeof createName>;
    notBefore: Date;
    notAfter: Date;
    digest: Buffer;
    present: Participant[];
    witness: Participant;
  },
): Promise<Omit<RootCeremonyResult, 'interrupted'>> {
  const c = p.ceremony.config;
  const keyId = `${c.ca.name}-${x.notBefore.toISOString().slice(0, 10).replaceAll('-', '')}-${inst.random(4).toString('hex')}`;
  const warnings = legacyWarnings(c);

  const { ceremonyId, started } = recordIntent(inst, p.ceremony, files, keyId);

  let key: NewCaKey | undefined;
  let transcript: Transcript;
  let certificateDer: Buffer;
  let serialHex: string;
  try {
    key = await generateCaKey(inst, {
      keyId,
      algorithm: keyAlgorithmOf(c),
      store: keyStoreOf(c),
      threshold: c.custodians.threshold,
      holders: c.custodians.holders,
      present: x.present,
    });
    faultPoint(`${ACTION}:key-generated`);
    let lint: Awaited<ReturnType<typeof signRootCertificate>>['lint'];
    ({ certificateDer, serialHex, lint } = await signRootCertificate(inst, c, key.record, x));
    faultPoint(`${ACTION}:signed`);
    warnings.push(...allowanceWarnings(c, lint.waived));
    stageCertificate(files, certificateDer);

    // 5. Everything the ceremony made, in one transaction with its audit event and its staged outputs.
    transcript = commitRootCa(inst, p.ceremony, files, {
      ...x,
      key,
      keyId,
      ceremonyId,
      started,
      certificateDer,
      serialHex,
      warnings,
    });
  } catch (e) {
    throw await failCeremony(inst, c.ca.name, files, e, { key, keyId, ceremonyId });
  }

  // 6. Committed: the CA exists. From here on nothing is reported as a failure; an output that
  //    cannot be named now waits as *.partial for `rootca ceremony resume` (durable-outputs.ts).
  const published = files.publish();
  for (const q of published.pending)
    warnings.push(
      `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; the CA is created — write it with rootca ceremony resume ${ceremonyId}`,
    );
  const transcriptFile = exportTranscriptAfterCommit(inst, transcript, warnings);
  return {
    caName: c.ca.name,
    keyId,
    ceremonyId,
    serialHex,
    certificateDer,
    certificatePem: derToPem(certificateDer, 'CERTIFICATE'),
    subject: nameToText(x.subject),
    notBefore: x.notBefore,
    notAfter: x.notAfter,
    outputs: published.written,
    custodians: x.present.map((q) => q.operator.name),
    witness: x.witness.operator.name,
    warnings,
    transcriptFile,
  };
}

/** 3. Intent before any key exists: a crash from here on leaves a 'started' ceremony the next run closes. */
function recordIntent(
  inst: Installation,
  ceremony: LoadedCeremony<RootCeremony>,
  files: DurableOutputs,
  keyId: string,
): { ceremonyId: number; started: string } {
  const started = inst.clock.now().toISOString();
  const ceremonyId = insertStartedCeremony(inst.db, {
    kind: ACTION,
    fileSha256: ceremony.sha256,
    startedAt: started,
    details: { ca: ceremony.config.ca.name, keyId, owner: ceremonyOwner() },
  });
  inst.audit.append({
    actor: inst.systemActor,
    roles: [],
    action: `${ACTION}.start`,
    target: ceremony.config.ca.name,
    outcome: 'success',
    details: { ceremonyId, keyId, ceremonyFile: ceremony.sha256 },
  });
  files.claim(ceremonyId, ACTION);
  return { ceremonyId, started };
}

/** The certificate as PEM (and DER if asked), staged as *.partial to be published after the commit. */
function stageCertificate(files: DurableOutputs, certificateDer: Buffer): void {
  const sha256 = sha256Hex(certificateDer);
  files.stage(files.planned[0]!.path, derToPem(certificateDer, 'CERTIFICATE'), {
    table: 'certificates',
    sha256,
    encoding: 'pem',
  });
  if (files.planned[1])
    files.stage(files.planned[1].path, certificateDer, { table: 'certificates', sha256, encoding: 'der' });
}

/** A failed ceremony is closed, audited, its key removed and its staged outputs dropped: nothing half-done. */
async function failCeremony(
  inst: Installation,
  caName: string,
  files: DurableOutputs,
  e: unknown,
  x: { key: NewCaKey | undefined; keyId: string; ceremonyId: number },
): Promise<CaError> {
  const { key, keyId, ceremonyId } = x;
  const err =
    e instanceof CaError
      ? e
      : new CaError('CEREMONY_FAILED', `key ceremony failed: ${(e as Error).message}`, { cause: e });
  // Nothing half-done: a key made in a token for a ceremony that failed is removed again.
  const removedFrom =
    key && !findCaKeyFacts(inst.db, keyId)
      ? await key.discard()
      : ((err.details.keyRemovedFrom as string[] | undefined) ?? []);
  failStartedCeremony(inst.db, ceremonyId, inst.clock.now().toISOString(), err.code);
  inst.audit.append({
    actor: inst.systemActor,
    roles: [],
    action: ACTION,
    target: caName,
    outcome: 'failed',
    details: {
      ceremonyId,
      code: err.code,
      message: err.message,
      ...(removedFrom.length ? { keyRemovedFrom: removedFrom } : {}),
    },
  });
  files.discard();
  return err;
}

/** The completed ceremony that ran this very file and created this CA, if any (a rerun after a crash). */
function completedCeremonyOf(inst: Installation, fileSha256: string, caName: string): number | undefined {
  const id = findCompletedCeremonyOfFile(inst.db, ACTION, fileSha256, caName);
  return id !== undefined && caNameTaken(inst.db, caName) ? id : undefined;
}

/** The key store section of a ceremony file as generateCaKey takes it. */
export function keyStoreOf(c: RootCeremony): KeyStoreSpec {
  return { store: c.key.store, pkcs11: c.key.pkcs11 };
}
