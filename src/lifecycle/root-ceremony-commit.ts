/**
 * The root key ceremony's one transaction (root-ceremony.ts step 5): key, shares, CA,
 * certificate, policies, the ceremony completed, audit event, transcript and staged outputs,
 * all or nothing.
 */
import { keyAlgorithmOf, type LoadedCeremony, type RootCeremony } from '../config/ceremony.ts';
import type { NewCaKey } from '../custody/ca-keys.ts';
import type { Installation } from '../installation/installation.ts';
import type { DurableOutputs } from '../operation/durable-outputs.ts';
import { participantEvidence, type Participant } from '../people/participants.ts';
import { SIGNATURE_ALGORITHMS } from '../pki/algorithms.ts';
import { type createName, nameToDer, nameToText } from '../pki/name.ts';
import type { Transcript } from '../records/transcript.ts';
import { makeTranscript, storeTranscript } from '../records/transcript-store.ts';
import { completeCeremony } from '../store/ceremonies.ts';
import { insertCa, switchCaCertificate } from '../store/cas.ts';
import { insertCaPolicy } from '../store/ca-policies.ts';
import { insertCaOwnCertificate } from '../store/certificates.ts';
import { sha256Hex } from '../util/digest.ts';

/** The audit action (and ceremony kind) of the root key ceremony. */
export const ACTION = 'ceremony.root-ca';

/** What the ceremony made and who was present, as the commit stores it. */
export interface RootCaCommit {
  subject: ReturnType<typeof createName>;
  notBefore: Date;
  notAfter: Date;
  digest: Buffer;
  present: Participant[];
  witness: Participant;
  key: NewCaKey;
  keyId: string;
  ceremonyId: number;
  started: string;
  certificateDer: Buffer;
  serialHex: string;
  warnings: string[];
}

/** 5. The one transaction: key, shares, CA, certificate, policies, the ceremony completed, audit event, transcript, staged outputs. */
export function commitRootCa(
  inst: Installation,
  ceremony: LoadedCeremony<RootCeremony>,
  files: DurableOutputs,
  x: RootCaCommit,
): Transcript {
  const c = ceremony.config;
  const { key, keyId, ceremonyId, serialHex } = x;
  const legacy = SIGNATURE_ALGORITHMS[c.signatureAlgorithm].legacy;
  const sha256 = sha256Hex(x.certificateDer);
  const now = inst.clock.now().toISOString();
  const people = [{ as: 'witness', p: x.witness }, ...x.present.map((q) => ({ as: 'custodian', p: q }))];
  const evidence = participantEvidence(
    x.digest,
    people.map(({ as, p: q }) => ({ role: as, p: q })),
  );
  return inst.db
    .transaction(() => {
      key.persist(now);
      insertRootCaRows(inst, c, x, sha256, now);
      completeCeremony(inst.db, ceremonyId, now);
      inst.audit.append({
        actor: [x.witness, ...x.present].map((q) => q.operator.name).join(','),
        roles: [...new Set([x.witness, ...x.present].flatMap((q) => q.operator.roles))],
        action: ACTION,
        target: c.ca.name,
        outcome: 'success',
        details: {
          ceremonyId,
          ceremonyFile: ceremony.sha256,
          keyId,
          ...key.details,
          algorithm: keyAlgorithmOf(c),
          threshold: c.custodians.threshold,
          holders: c.custodians.holders,
          serial: serialHex,
          certificateSha256: sha256,
          signatureAlgorithm: c.signatureAlgorithm,
          legacySha1: legacy,
          policies: c.policies,
          legacyAllowance: c.legacyAllowance ?? null,
          keyActivations: 1,
          warnings: x.warnings,
          ...evidence,
        },
      });
      const transcript = rootCaTranscript(inst, ceremony, x, sha256, people);
      storeTranscript(inst, transcript);
      files.recordInCommit();
      return transcript;
    })
    .immediate();
}

/** The CA row, its own certificate made current, and its policies: the rows that make the CA exist. */
function insertRootCaRows(inst: Installation, c: RootCeremony, x: RootCaCommit, sha256: string, now: string): void {
  const caId = insertCa(inst.db, {
    name: c.ca.name,
    keyId: x.keyId,
    subjectDer: nameToDer(x.subject),
    signatureAlgorithm: c.signatureAlgorithm,
    legacySha1: SIGNATURE_ALGORITHMS[c.signatureAlgorithm].legacy,
    createdAt: now,
  });
  const certificateId = insertCaOwnCertificate(inst.db, {
    caId,
    serialHex: x.serialHex,
    subject: nameToText(x.subject),
    notBefore: x.notBefore.toISOString(),
    notAfter: x.notAfter.toISOString(),
    sha256,
    der: x.certificateDer,
    createdAt: now,
  });
  switchCaCertificate(inst.db, caId, { certificateId });
  for (const oid of c.policies.subordinateCa) insertCaPolicy(inst.db, caId, 'subordinate-ca', oid, now);
  for (const oid of c.policies.timeStamping) insertCaPolicy(inst.db, caId, 'time-stamping', oid, now);
}

/** The ceremony's transcript: who was present, what went in and came out; stored in the same commit. */
function rootCaTranscript(
  inst: Installation,
  ceremony: LoadedCeremony<RootCeremony>,
  x: RootCaCommit,
  sha256: string,
  people: { as: string; p: Participant }[],
): Transcript {
  const c = ceremony.config;
  return makeTranscript(inst, {
    operation: ACTION,
    ceremonyId: x.ceremonyId,
    target: c.ca.name,
    startedAt: x.started,
    digest: x.digest,
    people,
    inputs: [{ name: `ceremony file ${ceremony.file}`, sha256: ceremony.sha256 }],
    outputs: [{ name: `${c.ca.name}.der`, sha256 }],
    details: {
      keyId: x.keyId,
      ...x.key.details,
      algorithm: keyAlgorithmOf(c),
      threshold: c.custodians.threshold,
      holders: c.custodians.holders,
      serial: x.serialHex,
      subject: nameToText(x.subject),
      notBefore: x.notBefore.toISOString(),
      notAfter: x.notAfter.toISOString(),
      signatureAlgorithm: c.signatureAlgorithm,
      // Issue 15.3: the allowance a legacy row passed the root lint with (the warnings list what it waived).
      legacyAllowance: c.legacyAllowance ?? null,
      keyActivations: 1,
      warnings: x.warnings,
    },
  });
}
