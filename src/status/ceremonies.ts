/**
 * `rootca crl issue` and `rootca ocsp presign` as ceremonies of their own, through the
 * never-half-done protocol (durable-outputs.ts): the `--out` file is checked before anyone
 * authenticates, staged before the commit, named after it and before the backup; the CRL,
 * its audit event, the transcript and the ceremony's completion commit together.
 */
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import type { Installation } from '../installation/installation.ts';
import { runOperation, type BackupOutcome } from '../operation/runner.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { listIssued } from '../issuance/certificates.ts';
import { retiredStatusSigner } from './retired-keys.ts';
import { delegatedSigner, type DelegatedSigner } from '../custody/delegated-signers.ts';
import { getCa } from '../installation/cas.ts';
import { issueCrlInSession, type IssuedCrl, type StatusSigner } from './crl-and-ocsp.ts';
import { delegatedOfSession } from './delegated-in-session.ts';
import { presignInSession, presignWindow } from './ocsp-presign.ts';
import { guardedBy, refuser } from '../operation/refusals.ts';

interface Common {
  caName: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
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

/** `rootca crl issue`: the CA's next CRL on the runner (operation/runner.ts), `--out` staged before the commit. */
export async function issueCrl(inst: Installation, p: Common & { out?: string }): Promise<IssueCrlResult> {
  return runOperation(inst, {
    action: 'crl.issue',
    target: p.caName,
    check: () => statusSigner(inst, 'crl.issue', p),
    outputs: () => (p.out ? [{ path: p.out, what: '--out' }] : []),
    people: (signer) => sessionRequest(inst, p, signer),
    work: (signer, { session, files, complete }) =>
      issueCrlInSession(inst, session, signer, {
        signed: (c) => {
          for (const f of files.planned.filter((o) => o.what === '--out'))
            files.stage(f.path, c.der, { table: 'crls', sha256: c.sha256, encoding: 'der' });
        },
        inCommit: (c) => {
          complete({
            inputs: [],
            outputs: [{ name: `${p.caName} CRL #${c.crlNumber}`, sha256: c.sha256 }],
            details: {
              crlNumber: c.crlNumber,
              entries: c.entries,
              thisUpdate: c.thisUpdate.toISOString(),
              nextUpdate: c.nextUpdate.toISOString(),
              keyActivations: session.activations,
            },
          });
        },
      }),
    finish: (_signer, crl, after) => {
      const notes = after.published.pending.map(
        (q) =>
          `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; CRL #${crl.crlNumber} is issued — write it with rootca ceremony resume ${after.ceremonyId} or rootca crl export`,
      );
      return {
        ...crl,
        transcriptFile: after.transcriptFile,
        outputs: after.published.written,
        notes: [...notes, ...after.notes],
        interrupted: after.interrupted,
        backup: after.backup!,
      };
    },
  });
}

/** `otherKey`: serials of certificates another key of the CA issued (answered with --retired-key, or without it). */
export async function presignOcsp(
  inst: Installation,
  p: Common,
): Promise<{
  responses: number;
  certificates: number;
  otherKey: string[];
  transcriptFile: string;
  backup: BackupOutcome;
  notes: string[];
  interrupted: InterruptedWork[];
}> {
  return runOperation(inst, {
    action: 'ocsp.presign',
    target: p.caName,
    check: () => presignSigners(inst, p),
    people: ({ signer, responder }) => ({
      ...sessionRequest(inst, p, signer),
      retiredKeyId: undefined,
      delegatedKeyId: responder.keyId,
    }),
    work: ({ signer, responder }, { session, complete }) =>
      presignInSession(inst, session, delegatedOfSession(session, responder), undefined, signer, {
        inCommit: (rs) => {
          complete({
            inputs: [],
            outputs: rs.map((r) => ({ name: `OCSP ${r.serialHex} ${r.hash} (${r.status})`, sha256: r.sha256 })),
            details: {
              responses: rs.length,
              validityDays: inst.config.ocsp.validityDays,
              keyActivations: session.activations,
              keySignatures: session.signatures,
            },
          });
        },
      }),
    finish: (_signers, out, after) => {
      const answered = new Set(out.map((r) => r.certificateId));
      const otherKey = listIssued(inst, p.caName)
        .filter((c) => !answered.has(c.id))
        .map((c) => c.serialHex);
      return {
        responses: out.length,
        certificates: answered.size,
        otherKey,
        transcriptFile: after.transcriptFile,
        notes: after.notes,
        interrupted: after.interrupted,
        backup: after.backup!,
      };
    },
  });
}

/**
 * The CA key whose certificates are answered (current or retired) and the responder key that
 * signs (BR 6.1.7: never the root key): the newest responder certificate that key issued and
 * that outlives the responses (refused, audited, before anyone authenticates).
 */
function presignSigners(inst: Installation, p: Common): { signer?: StatusSigner; responder: DelegatedSigner } {
  const signer = statusSigner(inst, 'ocsp.presign', p);
  const refuse = refuser(inst, 'ocsp.presign', p.caName);
  return guardedBy(refuse)(() => {
    const ca = getCa(inst, p.caName);
    const issuer = signer ? { ...ca, certificateDer: signer.certificateDer } : ca;
    const responder = delegatedSigner(inst, issuer, 'ocsp', inst.clock.now());
    presignWindow(inst, responder);
    return { signer, responder };
  });
}

/** The retired key asked for, refused (audited) when there is none to use; undefined for the CA's current key. */
function statusSigner(inst: Installation, action: 'crl.issue' | 'ocsp.presign', p: Common): StatusSigner | undefined {
  return p.retiredKey === undefined ? undefined : retiredStatusSigner(inst, action, p.caName, p.retiredKey);
}

function sessionRequest(inst: Installation, p: Common, signer: StatusSigner | undefined) {
  const at = inst.clock.now().toISOString();
  return {
    caName: p.caName,
    operator: p.operator,
    witness: p.witness,
    passphrases: p.passphrases,
    retiredKeyId: signer?.keyId,
    describe: { at, ...(signer ? { retiredKeyId: signer.keyId } : {}) },
  };
}
