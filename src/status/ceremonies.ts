/**
 * `rootca crl issue` and `rootca ocsp presign` as ceremonies of their own, through the
 * never-half-done protocol (durable-outputs.ts): the `--out` file is checked before anyone
 * authenticates, staged before the commit, named after it and before the backup; the CRL,
 * its audit event, the transcript and the ceremony's completion commit together.
 */
import { planOutputs } from '../util/outputs.ts';
import { backupAfterChange, type BackupOutcome } from '../records/backups.ts';
import { durableOutputs, exportTranscriptAfterCommit, finishInterruptedWork, type InterruptedWork } from '../operation/durable-outputs.ts';
import type { Installation } from '../installation/installation.ts';
import { failSession, guardedBy, openKeySession, refuser } from '../operation/key-session.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { listIssued } from '../issuance/certificates.ts';
import { retiredStatusSigner } from './retired-keys.ts';
import { issueCrlInSession, presignInSession, type IssuedCrl } from './crl-and-ocsp.ts';
import type { Transcript } from '../records/transcript.ts';

interface Common {
  caName: string; operator: string; witness: string; passphrases: PassphraseSource;
  /** Sign with a key retired at a re-key (its id, or true for the only one), status only (status/retired-keys.ts). */
  retiredKey?: string | true;
}

export interface IssueCrlResult extends IssuedCrl {
  transcriptFile: string;
  backup: BackupOutcome;
  /** The `--out` file, when written; notes name one that could not be (the CRL is issued either way). */
  outputs: string[];
  notes: string[];
  interrupted: InterruptedWork[];
}

export async function issueCrl(inst: Installation, p: Common & { out?: string }): Promise<IssueCrlResult> {
  const interrupted = finishInterruptedWork(inst);
  const guard = guardedBy(refuser(inst, 'crl.issue', p.caName));
  const files = durableOutputs(inst, guard(() => planOutputs(p.out ? [{ path: p.out, what: '--out' }] : [])));
  const signer = p.retiredKey === undefined ? undefined : retiredStatusSigner(inst, 'crl.issue', p.caName, p.retiredKey);
  const s = await openKeySession(inst, { operation: 'crl.issue', caName: p.caName, operator: p.operator, witness: p.witness, passphrases: p.passphrases, retiredKeyId: signer?.keyId, describe: { at: inst.clock.now().toISOString(), ...(signer ? { retiredKeyId: signer.keyId } : {}) } });
  let crl: IssuedCrl;
  let t!: Transcript;
  try {
    files.claim(s.ceremonyId, 'crl.issue');
    crl = await issueCrlInSession(inst, s, signer, {
      signed: (c) => { for (const f of files.planned) files.stage(f.path, c.der, { table: 'crls', sha256: c.sha256, encoding: 'der' }); },
      inCommit: (c) => {
        t = s.transcript({ inputs: [], outputs: [{ name: `${p.caName} CRL #${c.crlNumber}`, sha256: c.sha256 }], details: { crlNumber: c.crlNumber, entries: c.entries, thisUpdate: c.thisUpdate.toISOString(), nextUpdate: c.nextUpdate.toISOString(), keyActivations: s.signatures } });
        files.recordInCommit();
      },
    });
  } catch (e) {
    files.discard();
    s.lock();
    return failSession(inst, s, 'crl.issue', e);
  }
  try {
    // Committed: the file is named before the backup, and nothing after this reports failure.
    const published = files.publish();
    const notes = published.pending.map((q) => `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; CRL #${crl.crlNumber} is issued — write it with rootca ceremony resume ${s.ceremonyId} or rootca crl export`);
    const transcriptFile = exportTranscriptAfterCommit(inst, t, notes);
    return { ...crl, transcriptFile, outputs: published.written, notes, interrupted, backup: await backupAfterChange(inst, { reason: 'crl.issue', ceremonyId: s.ceremonyId, operator: s.operator }) };
  } finally {
    s.lock();
  }
}


/** `otherKey`: serials of certificates another key of the CA issued (answered with --retired-key, or without it). */
export async function presignOcsp(inst: Installation, p: Common): Promise<{ responses: number; certificates: number; otherKey: string[]; transcriptFile: string; backup: BackupOutcome; notes: string[]; interrupted: InterruptedWork[] }> {
  const interrupted = finishInterruptedWork(inst);
  const files = durableOutputs(inst, []);
  const signer = p.retiredKey === undefined ? undefined : retiredStatusSigner(inst, 'ocsp.presign', p.caName, p.retiredKey);
  const s = await openKeySession(inst, { operation: 'ocsp.presign', caName: p.caName, operator: p.operator, witness: p.witness, passphrases: p.passphrases, retiredKeyId: signer?.keyId, describe: { at: inst.clock.now().toISOString(), ...(signer ? { retiredKeyId: signer.keyId } : {}) } });
  let out;
  let t!: Transcript;
  try {
    files.claim(s.ceremonyId, 'ocsp.presign');
    out = await presignInSession(inst, s, undefined, signer, {
      inCommit: (rs) => {
        t = s.transcript({
          inputs: [], outputs: rs.map((r) => ({ name: `OCSP ${r.serialHex} ${r.hash} (${r.status})`, sha256: r.sha256 })),
          details: { responses: rs.length, validityDays: inst.config.ocsp.validityDays, keyActivations: s.signatures },
        });
      },
    });
  } catch (e) {
    files.discard();
    s.lock();
    return failSession(inst, s, 'ocsp.presign', e);
  }
  try {
    files.publish();
    const notes: string[] = [];
    const transcriptFile = exportTranscriptAfterCommit(inst, t, notes);
    const answered = new Set(out.map((r) => r.certificateId));
    const otherKey = listIssued(inst, p.caName).filter((c) => !answered.has(c.id)).map((c) => c.serialHex);
    return { responses: out.length, certificates: answered.size, otherKey, transcriptFile, notes, interrupted, backup: await backupAfterChange(inst, { reason: 'ocsp.presign', ceremonyId: s.ceremonyId, operator: s.operator }) };
  } finally {
    s.lock();
  }
}
