/**
 * Setting up the internal time-stamping authority (R-8.3; CPS 5.5.5): `rootca tsa init` makes its
 * key, sealed 1-of-N to CA Administrators, and has a root issue its certificate under the root's
 * Time-Stamp CP (profile `tsa`). Stamping with it is `time-stamping.ts`.
 */
import { X509Certificate } from 'node:crypto';
import { CaError } from '../errors.ts';
import { createServiceKey, type SealedServiceKey, signWithServiceKey } from '../keys/service-key.ts';
import { wipe } from '../keys/wipe.ts';
import { assembleCertificationRequest, createCertificationRequestInfo } from '../pki/csr-build.ts';
import { createName, type NameAttribute } from '../pki/name.ts';
import { derToPem } from '../pki/pem.ts';
import { sha256Hex } from '../util/digest.ts';
import { certificateCeremonyId } from '../store/certificates.ts';
import { activateTsaKey, insertPendingTsaKey, markTsaKeyFailed } from '../store/tsa.ts';
import { backupAfterChange, type BackupOutcome } from './backups.ts';
import { algorithmOf, hashOf, type TsaRecord } from './time-stamping.ts';
import { type CaSummary, getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { issueCertificate } from '../issuance/issuance.ts';
import { caPolicies } from '../issuance/policies.ts';
import { getOperator, type OperatorRecord } from '../people/operators.ts';
import {
  bringParticipant,
  operationDigest,
  type Participant,
  participantEvidence,
  type PassphraseSource,
} from '../people/participants.ts';
import { checkDistinct, checkSlotRole } from '../people/permissions.ts';
import { refuser, guardedBy } from '../operation/refusals.ts';

/** What `rootca tsa init` is asked to make, and the people who take part. */
export interface TsaInitParams {
  caName: string;
  /** CA Administrators who each receive a sealed copy of the TSA key; the operator must be one. */
  holders: string[];
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** Subject of the TSA certificate; C, O and CN are required by the tsa profile. */
  country?: string;
  organization?: string;
  commonName?: string;
  validityDays?: number;
}

/** The TSA put in service: its key, its certificate and the backup that followed. */
export interface TsaInitResult {
  keyId: string;
  kind: TsaRecord['kind'];
  caName: string;
  policyOid: string;
  holders: string[];
  serialHex: string;
  certificateDer: Buffer;
  certificatePem: string;
  notAfter: Date;
  superseded: string[];
  transcriptFile: string;
  /** The backup made once the TSA is in service (stamped by it). */
  backup: BackupOutcome;
}

const ACTION = 'tsa.init';
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function attribute(type: NameAttribute['type'], value: string): NameAttribute {
  return { type, value, encoding: PRINTABLE.test(value) ? 'printableString' : 'utf8String' };
}

/** A passphrase source that hands the operator's passphrase out twice (CSR, then issuance); `forget` wipes what is left. */
function onceMore(source: PassphraseSource, operator: string): PassphraseSource & { forget(): void } {
  let kept: Buffer | undefined;
  let asked = false;
  return {
    async get(name, prompt) {
      if (name !== operator) return source.get(name, prompt);
      if (kept) {
        const k = kept;
        kept = undefined;
        return k;
      }
      const p = await source.get(name, prompt);
      if (p && !asked) kept = Buffer.from(p);
      asked = true;
      return p;
    },
    forget() {
      if (kept) wipe(kept);
      kept = undefined;
    },
  };
}

/** What the checks before the ceremony settle: the CA, its Time-Stamp CP and the holders of the new key. */
interface TsaInitPlan {
  ca: CaSummary;
  policyOid: string;
  holders: string[];
  holderRecords: OperatorRecord[];
}

type Refuse = ReturnType<typeof refuser>;

/** Refuses before anyone authenticates when the CA, its policy or the people cannot make a TSA (same order as ever). */
function checkTsaInit(inst: Installation, p: TsaInitParams, refuse: Refuse): TsaInitPlan {
  const guard = guardedBy(refuse);
  const ca = guard(() => getCa(inst, p.caName));
  if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `CA ${ca.name} is ${ca.status} and cannot issue`);
  const policyOid =
    caPolicies(inst, ca.id, 'time-stamping')[0] ??
    refuse('POLICY_MISSING', `${ca.name} has no Time-Stamp Certificate Policy registered (R-1.2)`);
  const holders = [...new Set(p.holders.map((h) => h.trim()).filter(Boolean))];
  if (holders.length === 0) refuse('SERVICE_KEY_HOLDERS', 'the TSA key needs at least one holder (--holders)');
  const holderRecords = holders.map((h) =>
    guard(() => {
      const op = getOperator(inst, h);
      if (op.status !== 'active')
        throw new CaError('OPERATOR_REMOVED', `operator ${h} was removed and cannot hold the TSA key`);
      checkSlotRole(ACTION, 'custodian', h, op.roles);
      return op;
    }),
  );
  if (!holders.includes(p.operator))
    refuse(
      'OPERATOR_NOT_HOLDER',
      `the operator ${p.operator} must be one of the holders (${holders.join(', ')}): the request is signed with the operator's copy of the new key`,
    );
  guard(() => checkDistinct(ACTION, { operator: [p.operator], custodian: holders, witness: [p.witness] }));
  return { ca, policyOid, holders, holderRecords };
}

/** Makes the TSA key sealed to each holder and its PKCS#10 request, signed through the operator's copy (proof of possession). */
function makeTsaKeyAndRequest(
  inst: Installation,
  p: TsaInitParams,
  plan: TsaInitPlan,
  keyId: string,
  kind: TsaRecord['kind'],
  operator: Participant,
): { sealed: SealedServiceKey; csr: Buffer } {
  const sealed = createServiceKey(
    keyId,
    kind,
    plan.holderRecords.map((h) => ({ name: h.name, encryptionPublicKey: h.credential.encryptionPublicKey })),
  );
  const subject = createName([
    attribute('C', p.country ?? 'JP'),
    attribute('O', p.organization ?? inst.config.installation.name),
    attribute('CN', p.commonName ?? `${inst.config.installation.name} Time-Stamping Authority`),
  ]);
  const info = createCertificationRequestInfo({ subject, subjectPublicKeyInfo: sealed.publicKeySpki });
  const csr = assembleCertificationRequest(
    info,
    algorithmOf(kind),
    signWithServiceKey(sealed, operator.credential, info, hashOf(kind)),
  );
  return { sealed, csr };
}

/** Has the root issue the TSA certificate; a failed issuance marks the pending key failed and is audited before it is rethrown. */
async function issueTsaCertificate(
  inst: Installation,
  p: TsaInitParams,
  caName: string,
  keyId: string,
  csr: Buffer,
  passphrases: PassphraseSource,
): Promise<Awaited<ReturnType<typeof issueCertificate>>> {
  try {
    return await issueCertificate(inst, {
      operator: p.operator,
      witness: p.witness,
      passphrases,
      caName,
      profile: 'tsa',
      csr,
      requester: `internal TSA ${keyId} (CPS 5.5.5)`,
      validityDays: p.validityDays,
    });
  } catch (e) {
    markTsaKeyFailed(inst.db, keyId);
    inst.audit.append({
      actor: inst.systemActor,
      roles: [],
      action: ACTION,
      target: caName,
      outcome: 'failed',
      details: { keyId, code: (e as CaError).code ?? 'ISSUANCE_FAILED', message: (e as Error).message },
    });
    throw e;
  }
}

/**
 * `rootca tsa init`: makes the TSA key (P-256, or P-384 under a P-384 root) sealed to each
 * holder, signs its PKCS#10 request with it through the operator's copy, and has the root issue
 * the TSA certificate (profile `tsa`, the root's Time-Stamp CP; witness and custodians as for
 * any issuance). The new TSA supersedes an earlier one, which keeps verifying its old tokens.
 */
export async function initTsa(inst: Installation, p: TsaInitParams): Promise<TsaInitResult> {
  const refuse = refuser(inst, ACTION, p.caName);
  const plan = checkTsaInit(inst, p, refuse);
  const { ca, policyOid, holders } = plan;
  const kind: TsaRecord['kind'] =
    new X509Certificate(ca.certificateDer).publicKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'p384' : 'p256';
  const keyId = `tsa-${ca.name}-${inst.random(6).toString('hex')}`;
  const digest = operationDigest({ kind: ACTION, ca: ca.name, keyId, holders, policyOid, witness: p.witness });
  const passphrases = onceMore(p.passphrases, p.operator);
  const operator =
    (await bringParticipant(inst, p.operator, passphrases, `operator making the TSA key ${keyId}`, digest, {
      operation: ACTION,
      slot: 'operator',
    })) ?? refuse('OPERATOR_ABSENT', `the CA Administrator ${p.operator} did not authenticate`);
  try {
    const { sealed, csr } = makeTsaKeyAndRequest(inst, p, plan, keyId, kind, operator);
    const now = inst.clock.now().toISOString();
    inst.db
      .transaction(() => {
        const key = {
          key_id: keyId,
          ca_id: ca.id,
          kind,
          public_key_spki: sealed.publicKeySpki,
          policy_oid: policyOid,
          created_at: now,
          operator: p.operator,
          witness: p.witness,
        };
        insertPendingTsaKey(inst.db, key, sealed.envelopes);
      })
      .immediate();

    const issued = await issueTsaCertificate(inst, p, ca.name, keyId, csr, passphrases);
    const ceremonyId = certificateCeremonyId(inst.db, issued.certificateId);
    const superseded = inst.db
      .transaction(() => {
        const old = activateTsaKey(inst.db, keyId, issued.certificateId, ceremonyId);
        inst.audit.append({
          actor: operator.operator.name,
          roles: operator.operator.roles,
          action: ACTION,
          target: ca.name,
          outcome: 'success',
          details: {
            keyId,
            kind,
            holders,
            policyOid,
            certificateSerial: issued.serialHex,
            certificateSha256: sha256Hex(issued.certificateDer),
            ceremonyId,
            superseded: old,
            witness: p.witness,
            ...participantEvidence(digest, [{ role: 'operator', p: operator }]),
          },
        });
        return old;
      })
      .immediate();
    const backup = await backupAfterChange(inst, { reason: ACTION, ceremonyId, operator });
    return {
      keyId,
      kind,
      caName: ca.name,
      policyOid,
      holders,
      serialHex: issued.serialHex,
      certificateDer: issued.certificateDer,
      certificatePem: derToPem(issued.certificateDer, 'CERTIFICATE'),
      notAfter: issued.notAfter,
      superseded,
      transcriptFile: issued.transcriptFile,
      backup,
    };
  } finally {
    operator.credential.lock();
    passphrases.forget();
  }
}
