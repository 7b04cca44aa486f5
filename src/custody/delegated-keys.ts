/**
 * Delegated signing keys of a root, held offline (issue 15): a root key signs only
 * certificates and CRLs (BR 6.1.7 "Root CA Private Keys MUST NOT be used to sign Certificates
 * except ..."; BR 7.1.2.10.7 a root's keyUsage is keyCertSign and cRLSign), so the pre-signed
 * OCSP responses and the publication manifest are signed by keys the root certified:
 *  - `ocsp`: its OCSP responder key (profile `ocsp`: id-kp-OCSPSigning, id-pkix-ocsp-nocheck;
 *    RFC 6960 4.2.2.2), one per root, renewed before it expires (both overlap);
 *  - `publication`: its publication key (profile `publication`: id-kp-documentSigning, RFC 9336).
 * One flow for both: the key is made in the offline key store (KeyStore port) with its own
 * custodians and a quorum no larger than the root's, signs its own PKCS#10 request once
 * (proof of possession), and the root certifies it in a normal quorum issuance (the root
 * key signs the certificate and nothing else). Which one signs now is delegated-signers.ts.
 */
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS } from '../pki/algorithms.ts';
import { PROFILES } from '../pki/profiles.ts';
import { createCertificationRequestInfo, assembleCertificationRequest } from '../pki/csr-build.ts';
import { createName, type NameAttribute } from '../pki/name.ts';
import type { Name } from '@peculiar/asn1-x509';
import { certificateInfo } from '../pki/certificate-info.ts';
import type { CaKeyRecord } from '../keys/ports.ts';
import { sha256Hex } from '../util/digest.ts';
import { type CaSummary, getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { issueCertificate, type IssueResult } from '../issuance/issuance.ts';
import type { IssueParams } from '../issuance/issuance-checks.ts';
import { getOperator } from '../people/operators.ts';
import {
  bringParticipant,
  lockAll,
  operationDigest,
  participantEvidence,
  type Participant,
  type PassphraseSource,
} from '../people/participants.ts';
import { checkDistinct, checkSlotRole } from '../people/permissions.ts';
import { gatherQuorum } from '../people/quorum.ts';
import { findCaKeyFacts } from '../store/ca-keys.ts';
import {
  activateDelegatedKey,
  insertPendingDelegatedKey,
  listDelegatedKeys,
  markDelegatedKeyFailed,
  type DelegatedKeyView,
  type DelegatedPurpose,
} from '../store/delegated-keys.ts';
import { signOnceWithCaKey } from './activation.ts';
import { generateCaKey, type KeyStoreSpec } from './ca-keys.ts';
import { algorithmForSpki, DELEGATED_WORDS } from './delegated-signers.ts';
import { refuser, guardedBy } from '../operation/refusals.ts';

const ACTION = 'delegated-key.generate';

/** What `rootca ocsp responder issue` / `rootca publication-key issue` ask for. */
export interface DelegatedKeyParams {
  caName: string;
  purpose: DelegatedPurpose;
  /** Custodians of the new key (CA Administrators), in share order. */
  holders: string[];
  /** M of the new key: at least 2 (CPS 6.4.1), at most the root's. */
  threshold: number;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  validityDays?: number;
  commonName?: string;
  /** Where the key is made; the software store by default. */
  store?: KeyStoreSpec;
}

/** The key made and certified. */
export interface DelegatedKeyResult {
  keyId: string;
  purpose: DelegatedPurpose;
  caName: string;
  holders: string[];
  threshold: number;
  serialHex: string;
  certificateDer: Buffer;
  certificatePem: string;
  notBefore: Date;
  notAfter: Date;
  transcriptFile: string;
}

type Refuse = ReturnType<typeof refuser>;

/** Refuses (audited) before anyone authenticates: the CA, the purpose, the holders and the quorum. */
function checkDelegatedKey(
  inst: Installation,
  p: DelegatedKeyParams,
  refuse: Refuse,
): { ca: CaSummary; holders: string[] } {
  const guard = guardedBy(refuse);
  const ca = guard(() => getCa(inst, p.caName));
  if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `CA ${ca.name} is ${ca.status} and cannot certify a key`);
  if (p.purpose !== 'ocsp' && p.purpose !== 'publication')
    refuse('INVALID_ARGUMENT', `a delegated key is for ocsp or publication, not ${String(p.purpose)}`);
  const holders = [...new Set(p.holders.map((h) => h.trim()).filter(Boolean))];
  const rootM = findCaKeyFacts(inst.db, ca.keyId)?.threshold ?? ca.threshold;
  if (!Number.isInteger(p.threshold) || p.threshold < 2 || p.threshold > rootM || p.threshold > holders.length)
    refuse(
      'DELEGATED_KEY_QUORUM',
      `the ${DELEGATED_WORDS[p.purpose]} key of ${ca.name} needs a quorum of at least 2 (CPS 6.4.1) and at most the root's ${rootM}, from its ${holders.length} holder(s); ${p.threshold} asked`,
    );
  for (const h of holders)
    guard(() => {
      const op = getOperator(inst, h);
      if (op.status !== 'active')
        throw new CaError('OPERATOR_REMOVED', `operator ${h} was removed and cannot hold a key`);
      checkSlotRole(ACTION, 'custodian', h, op.roles);
    });
  guard(() => checkDistinct(ACTION, { operator: [p.operator], custodian: holders, witness: [p.witness] }));
  return { ca, holders };
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const attr = (type: NameAttribute['type'], value: string): NameAttribute => ({
  type,
  value,
  encoding: PRINTABLE.test(value) ? 'printableString' : 'utf8String',
});

/**
 * Makes the key in the store with its holders and has it sign its own request once, with M of
 * them present; records it pending (intent, before the root signs anything) with its audit event.
 */
async function makeKeyAndRequest(
  inst: Installation,
  p: DelegatedKeyParams,
  ca: CaSummary,
  holders: string[],
  keyId: string,
  people: { digest: Buffer; operator: Participant; custodians: Participant[]; witness: Participant },
): Promise<Buffer> {
  const key = await generateCaKey(inst, {
    keyId,
    algorithm: { kind: 'ecdsa', curve: 'P-256' },
    store: p.store ?? { store: 'soft' },
    threshold: p.threshold,
    holders,
    present: people.custodians,
  });
  try {
    const subject = createName([
      attr('O', inst.config.installation.name),
      attr('CN', p.commonName ?? `${ca.name} ${p.purpose === 'ocsp' ? 'OCSP Responder' : 'Publication Signer'}`),
    ]);
    const csr = await signDelegatedRequest(
      inst,
      { record: key.record, custodians: people.custodians },
      { caName: ca.name, keyId, purpose: p.purpose, subject },
    );
    const now = inst.clock.now().toISOString();
    inst.db
      .transaction(() => {
        key.persist(now);
        insertPendingDelegatedKey(inst.db, {
          key_id: keyId,
          ca_id: ca.id,
          purpose: p.purpose,
          issuer_key_id: ca.keyId,
          created_at: now,
        });
        inst.audit.append({
          actor: people.operator.operator.name,
          roles: people.operator.operator.roles,
          action: ACTION,
          target: ca.name,
          outcome: 'success',
          details: {
            keyId,
            purpose: p.purpose,
            holders,
            threshold: p.threshold,
            publicKeySha256: sha256Hex(key.record.publicKeySpki),
            ...key.details,
            ...participantEvidence(people.digest, [
              { role: 'operator', p: people.operator },
              { role: 'witness', p: people.witness },
              ...people.custodians.map((c) => ({ role: 'custodian', p: c })),
            ]),
          },
        });
      })
      .immediate();
    return csr;
  } catch (e) {
    await key.discard();
    throw e;
  }
}

/**
 * The key signs its own PKCS#10 request once (proof of possession, RFC 2986), with M of its
 * holders present: when it is made, and when the status ceremony re-certifies it.
 */
export async function signDelegatedRequest(
  inst: Installation,
  key: { record: CaKeyRecord; custodians: Participant[] },
  x: { caName: string; keyId: string; purpose: DelegatedPurpose; subject: Name },
): Promise<Buffer> {
  const info = createCertificationRequestInfo({ subject: x.subject, subjectPublicKeyInfo: key.record.publicKeySpki });
  const algorithm = algorithmForSpki(key.record.publicKeySpki);
  const purpose = `PKCS#10 request of the ${DELEGATED_WORDS[x.purpose]} key ${x.keyId}`;
  const signature = await signOnceWithCaKey(
    inst,
    { record: key.record, custodians: key.custodians, purpose, target: x.caName },
    info,
    algorithm,
  );
  return assembleCertificationRequest(info, algorithm, signature);
}

/**
 * What the root is asked to issue for a delegated key: its request under the key's profile, the
 * requester naming the key, the validity the profile allows it. The same for the key's first
 * certificate (`rootca ocsp responder issue`) and for a successor (the status ceremony).
 */
export function delegatedIssueParams(
  inst: Installation,
  p: Pick<DelegatedKeyParams, 'caName' | 'purpose' | 'operator' | 'witness' | 'passphrases' | 'validityDays'>,
  keyId: string,
  csr: Buffer,
): IssueParams {
  // A legacy SHA-1 root (RootCA1) certifies with SHA-256 and the same key (BR 7.1.3.2.1).
  const legacy = SIGNATURE_ALGORITHMS[getCa(inst, p.caName).signatureAlgorithm].legacy;
  return {
    operator: p.operator,
    witness: p.witness,
    passphrases: p.passphrases,
    caName: p.caName,
    profile: p.purpose,
    csr,
    requester: `${DELEGATED_WORDS[p.purpose]} key ${keyId} of ${p.caName} (BR 6.1.7)`,
    // A responder certificate must outlive the responses it verifies (ocsp.validityDays, 90 by
    // default): a year by default (BR 4.9.10 caps responses for CA certificates at a year too).
    validityDays: p.validityDays ?? (p.purpose === 'ocsp' ? PROFILES.ocsp.maxValidityDays : undefined),
    ...(legacy ? { signatureAlgorithm: 'sha256WithRSAEncryption' as const } : {}),
  };
}

/** The root certifies the key in a normal issuance; a refusal or failure leaves the key failed (it never signs). */
async function certify(inst: Installation, p: DelegatedKeyParams, keyId: string, csr: Buffer): Promise<IssueResult> {
  try {
    return await issueCertificate(inst, delegatedIssueParams(inst, p, keyId, csr));
  } catch (e) {
    markDelegatedKeyFailed(inst.db, keyId);
    inst.audit.append({
      actor: inst.systemActor,
      roles: [],
      action: ACTION,
      target: p.caName,
      outcome: 'failed',
      details: { keyId, code: (e as CaError).code ?? 'ISSUANCE_FAILED', message: (e as Error).message },
    });
    throw e;
  }
}

/**
 * `rootca ocsp responder issue` / `rootca publication-key issue`: makes a delegated key with its
 * own custodians and has the root certify it. An earlier key of the same purpose stays in
 * service until its certificate expires (rollover); signers take the newest in date.
 */
export async function issueDelegatedKey(inst: Installation, p: DelegatedKeyParams): Promise<DelegatedKeyResult> {
  const refuse = refuser(inst, ACTION, p.caName);
  const { ca, holders } = checkDelegatedKey(inst, p, refuse);
  const keyId = `${p.purpose}-${ca.name}-${inst.random(6).toString('hex')}`;
  const digest = operationDigest({ kind: ACTION, ca: ca.name, keyId, purpose: p.purpose, holders, witness: p.witness });
  const present: Participant[] = [];
  let csr: Buffer;
  try {
    const operator =
      (await bringParticipant(inst, p.operator, p.passphrases, `operator making the key ${keyId}`, digest, {
        operation: ACTION,
        slot: 'operator',
      })) ?? refuse('OPERATOR_ABSENT', `the CA Administrator ${p.operator} did not authenticate`);
    present.push(operator);
    const quorum = await gatherQuorum(inst, {
      operationName: ACTION,
      witness: p.witness,
      holders,
      threshold: p.threshold,
      digest,
      passphrases: p.passphrases,
      operation: `the ${DELEGATED_WORDS[p.purpose]} key of ${ca.name}`,
      refuse,
      alreadyPresent: present,
    });
    present.push(quorum.witness, ...quorum.custodians);
    csr = await makeKeyAndRequest(inst, p, ca, holders, keyId, { digest, operator, ...quorum });
  } finally {
    lockAll(present);
  }
  const issued = await certify(inst, p, keyId, csr);
  inst.db
    .transaction(() => recordDelegatedCertified(inst, p.operator, ca.name, { keyId, purpose: p.purpose, ...issued }))
    .immediate();
  return {
    keyId,
    purpose: p.purpose,
    caName: ca.name,
    holders,
    threshold: p.threshold,
    serialHex: issued.serialHex,
    certificateDer: issued.certificateDer,
    certificatePem: issued.certificatePem,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    transcriptFile: issued.transcriptFile,
  };
}

/**
 * Inside a transaction: the key is in service under the certificate just issued for it, with
 * its `delegated-key.certified` event (its first certificate, or a successor: the key's row
 * names the newest; earlier certificates stay in the certificates table).
 */
export function recordDelegatedCertified(
  inst: Installation,
  actor: string,
  caName: string,
  c: { keyId: string; purpose: DelegatedPurpose; certificateId: number; serialHex: string; certificateDer: Buffer },
  extra: Record<string, unknown> = {},
): void {
  activateDelegatedKey(inst.db, c.keyId, c.certificateId);
  inst.audit.append({
    actor,
    roles: [],
    action: 'delegated-key.certified',
    target: caName,
    outcome: 'success',
    details: {
      keyId: c.keyId,
      purpose: c.purpose,
      certificateSerial: c.serialHex,
      certificateSha256: sha256Hex(c.certificateDer),
      notAfter: certificateInfo(c.certificateDer).notAfter.toISOString(),
      ...extra,
    },
  });
}

/** Every delegated key (of a CA, of a purpose), for `list` commands. */
export function listDelegated(
  inst: Installation,
  filter: { caName?: string; purpose?: DelegatedPurpose } = {},
): DelegatedKeyView[] {
  const caId = filter.caName === undefined ? undefined : getCa(inst, filter.caName).id;
  return listDelegatedKeys(inst.db, { caId, purpose: filter.purpose });
}
