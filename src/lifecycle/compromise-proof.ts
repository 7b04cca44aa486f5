/**
 * A key-compromise proof cannot be replayed (issue 15.7; CPS 4.9.1, BR 4.9.12 "the CA SHALL
 * ... accept ... a CSR signed by the compromised private key ... containing ... a challenge"):
 * a CSR signed by the certificate's key counts only if it was made for this report. It must
 * carry the statement `compromise SERIAL TIME` (pki/csr-compromise.ts) naming this
 * certificate and a time within the last 24 hours; it must not be a CSR on file (the
 * subscriber's original request, or an application's), nor a proof already used. Checked
 * before anyone is asked for a passphrase; each refusal is audited by the caller's `refuse`.
 */
import type { Installation } from '../installation/installation.ts';
import { compromiseStatementOf, compromiseStatementText, type CompromiseStatement } from '../pki/csr-compromise.ts';
import type { CsrInspection } from '../pki/csr.ts';
import { normalizeSerialHex } from '../pki/integer.ts';
import { applicationOfCsr } from '../store/applications.ts';
import { serialOfStoredCsr } from '../store/certificates.ts';
import { sha256Hex } from '../util/digest.ts';
import type { Refuse } from '../operation/refusals.ts';

/** How old a statement may be: a day, enough to make the CSR and reach the RA, too short to hoard. */
export const PROOF_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** How far a statement's time may run ahead of this machine's clock. */
export const PROOF_MAX_SKEW_MS = 5 * 60 * 1000;

/** Refuses a proof that is not bound to this request; returns the statement it carries. */
export function checkCompromiseProof(
  inst: Installation,
  proof: CsrInspection,
  serialHex: string,
  now: Date,
  refuse: Refuse,
): CompromiseStatement {
  const proofSha256 = sha256Hex(proof.der);
  const details = { proofSha256 };
  const example = compromiseStatementText(serialHex, now);
  const onFile = serialOfStoredCsr(inst.db, proof.der);
  if (onFile !== undefined)
    refuse(
      'PROOF_REPLAYED',
      `the key-compromise request is the CSR on file for certificate ${onFile}: a stored CSR proves nothing about who holds the key now`,
      details,
    );
  const application = applicationOfCsr(inst.db, proof.der);
  if (application !== undefined)
    refuse('PROOF_REPLAYED', `the key-compromise request is the CSR of application #${application}, on file`, details);
  const statement = compromiseStatementOf(proof);
  if (!statement)
    refuse(
      'PROOF_UNBOUND',
      `the key-compromise request names no certificate and time: make a new CSR with the compromised key whose challengePassword (or CN) is "${example}" (CPS 4.9.1)`,
      details,
    );
  if (statement.serialHex !== normalizeSerialHex(serialHex))
    refuse(
      'PROOF_UNBOUND',
      `the key-compromise request names certificate ${statement.serialHex}, not ${serialHex}`,
      details,
    );
  const age = now.getTime() - statement.at.getTime();
  if (age > PROOF_MAX_AGE_MS || age < -PROOF_MAX_SKEW_MS)
    refuse(
      'PROOF_STALE',
      `the key-compromise request was made at ${statement.at.toISOString()}; it must be from the last 24 hours (now ${now.toISOString()}): make a new one with "${example}"`,
      details,
    );
  refuseUsedProof(inst, proof.der, refuse);
  return statement;
}

/** A proof already used in a completed operation is refused (PROOF_REPLAYED), naming the audit event that used it. */
export function refuseUsedProof(inst: Installation, proofDer: Uint8Array, refuse: Refuse): void {
  const proofSha256 = sha256Hex(proofDer);
  const used = inst.audit
    .list()
    .find((e) => e.outcome === 'success' && (e.details as { proofSha256?: string }).proofSha256 === proofSha256);
  if (used)
    refuse(
      'PROOF_REPLAYED',
      `this key-compromise request was already used (audit event #${used.seq}, ${used.action}); make a new one`,
      { proofSha256 },
    );
}
