/** `rootca crl issue` and `rootca ocsp presign` as ceremonies of their own. */
import { backupAfterChange, type BackupOutcome } from './archive.ts';
import type { Installation } from './installation.ts';
import { exportTranscript, failSession, openKeySession } from './key-session.ts';
import type { PassphraseSource } from './participants.ts';
import { listIssued } from './certificates.ts';
import { retiredStatusSigner } from './retired-key-status.ts';
import { issueCrlInSession, presignInSession, type IssuedCrl } from './status.ts';

interface Common {
  caName: string; operator: string; witness: string; passphrases: PassphraseSource;
  /** Sign with a key retired at a re-key (its id, or true for the only one), status only (retired-key-status.ts). */
  retiredKey?: string | true;
}

export async function issueCrl(inst: Installation, p: Common): Promise<IssuedCrl & { transcriptFile: string; backup: BackupOutcome }> {
  const signer = p.retiredKey === undefined ? undefined : retiredStatusSigner(inst, 'crl.issue', p.caName, p.retiredKey);
  const s = await openKeySession(inst, { operation: 'crl.issue', caName: p.caName, operator: p.operator, witness: p.witness, passphrases: p.passphrases, retiredKeyId: signer?.keyId, describe: { at: inst.clock.now().toISOString(), ...(signer ? { retiredKeyId: signer.keyId } : {}) } });
  try {
    const crl = await issueCrlInSession(inst, s, signer);
    const t = inst.db.transaction(() => s.transcript({ inputs: [], outputs: [{ name: `${p.caName} CRL #${crl.crlNumber}`, sha256: crl.sha256 }], details: { crlNumber: crl.crlNumber, entries: crl.entries, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString(), keyActivations: s.signatures } })).immediate();
    const transcriptFile = exportTranscript(inst, t);
    return { ...crl, transcriptFile, backup: await backupAfterChange(inst, { reason: 'crl.issue', ceremonyId: s.ceremonyId, operator: s.operator }) };
  } catch (e) {
    return failSession(inst, s, 'crl.issue', e);
  } finally {
    s.lock();
  }
}

/** `otherKey`: serials of certificates another key of the CA issued (answered with --retired-key, or without it). */
export async function presignOcsp(inst: Installation, p: Common): Promise<{ responses: number; certificates: number; otherKey: string[]; transcriptFile: string; backup: BackupOutcome }> {
  const signer = p.retiredKey === undefined ? undefined : retiredStatusSigner(inst, 'ocsp.presign', p.caName, p.retiredKey);
  const s = await openKeySession(inst, { operation: 'ocsp.presign', caName: p.caName, operator: p.operator, witness: p.witness, passphrases: p.passphrases, retiredKeyId: signer?.keyId, describe: { at: inst.clock.now().toISOString(), ...(signer ? { retiredKeyId: signer.keyId } : {}) } });
  try {
    const out = await presignInSession(inst, s, undefined, signer);
    const t = inst.db.transaction(() => s.transcript({
      inputs: [], outputs: out.map((r) => ({ name: `OCSP ${r.serialHex} ${r.hash} (${r.status})`, sha256: r.sha256 })),
      details: { responses: out.length, validityDays: inst.config.ocsp.validityDays, keyActivations: s.signatures },
    })).immediate();
    const transcriptFile = exportTranscript(inst, t);
    const answered = new Set(out.map((r) => r.certificateId));
    const otherKey = listIssued(inst, p.caName).filter((c) => !answered.has(c.id)).map((c) => c.serialHex);
    return { responses: out.length, certificates: answered.size, otherKey, transcriptFile, backup: await backupAfterChange(inst, { reason: 'ocsp.presign', ceremonyId: s.ceremonyId, operator: s.operator }) };
  } catch (e) {
    return failSession(inst, s, 'ocsp.presign', e);
  } finally {
    s.lock();
  }
}
