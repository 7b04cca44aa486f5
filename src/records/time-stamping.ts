/**
 * The internal time-stamping authority (R-8.3; CPS 5.5.5 "Time-Stamp the critical information
 * recorded therein"). Its key is a service key — never a CA key — sealed 1-of-N to CA
 * Administrators, so any one holder can stamp; its certificate is issued by a root under the
 * root's Time-Stamp CP (profile `tsa`). Tokens are RFC 3161 TimeStampTokens that `openssl ts
 * -verify` accepts; backup manifests and audit checkpoints are stamped with it.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CaError } from '../errors.ts';
import type { UnlockedCredential } from '../keys/credential.ts';
import { createServiceKey, signWithServiceKey, type SealedServiceKey } from '../keys/service-key.ts';
import { wipe } from '../keys/wipe.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import { assembleCertificationRequest, createCertificationRequestInfo } from '../pki/csr-build.ts';
import { createName, type NameAttribute } from '../pki/name.ts';
import { derToPem } from '../pki/pem.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom } from '../pki/serial.ts';
import { assembleTimeStampToken, createTimeStampToBeSigned, parseTimeStampToken, verifyTimeStampToken } from '../pki/tsp.ts';
import { sha256Hex } from '../util/digest.ts';
import { backupAfterChange, type BackupOutcome } from './backups.ts';
import { getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { issueCertificate } from '../issuance/issuance.ts';
import { refuser, guardedBy } from '../operation/key-session.ts';
import { getOperator } from '../people/operators.ts';
import { bringParticipant, operationDigest, participantEvidence, type Participant, type PassphraseSource } from '../people/participants.ts';
import { checkDistinct, checkSlotRole } from '../people/permissions.ts';
import { caPolicies } from '../issuance/policies.ts';

/** What the other evidence features take: anything that turns bytes into an RFC 3161 TimeStampToken (DER). */
export interface Timestamper {
  stamp(data: Buffer): Promise<Buffer>;
}

export interface TsaRecord {
  keyId: string;
  caId: number;
  caName: string;
  kind: 'p256' | 'p384';
  publicKeySpki: Buffer;
  /** TSAPolicyId of every token: the root's Time-Stamp CP. */
  policyOid: string;
  certificateId: number | null;
  certificateDer: Buffer | null;
  status: 'pending' | 'active' | 'superseded' | 'failed';
  createdAt: string;
  holders: string[];
}

interface TsaRow {
  key_id: string; ca_id: number; ca_name: string; kind: 'p256' | 'p384'; public_key_spki: Buffer; policy_oid: string; certificate_id: number | null;
  der: Buffer | null; status: TsaRecord['status']; created_at: string;
}

const SELECT = `SELECT k.key_id, k.ca_id, c.name AS ca_name, k.kind, k.public_key_spki, k.policy_oid, k.certificate_id, x.der, k.status, k.created_at
  FROM tsa_keys k JOIN cas c ON c.id = k.ca_id LEFT JOIN certificates x ON x.id = k.certificate_id`;

function toRecord(inst: Installation, r: TsaRow): TsaRecord {
  const holders = (inst.db.prepare('SELECT holder FROM tsa_key_envelopes WHERE key_id = ? ORDER BY holder').all(r.key_id) as { holder: string }[]).map((h) => h.holder);
  return {
    keyId: r.key_id, caId: r.ca_id, caName: r.ca_name, kind: r.kind, publicKeySpki: r.public_key_spki, policyOid: r.policy_oid,
    certificateId: r.certificate_id, certificateDer: r.der, status: r.status, createdAt: r.created_at, holders,
  };
}

export function listTsas(inst: Installation): TsaRecord[] {
  return (inst.db.prepare(`${SELECT} ORDER BY k.created_at, k.key_id`).all() as TsaRow[]).map((r) => toRecord(inst, r));
}

/** The TSA in service, if any. */
export function activeTsa(inst: Installation): TsaRecord | undefined {
  const row = inst.db.prepare(`${SELECT} WHERE k.status = 'active'`).get() as TsaRow | undefined;
  return row && toRecord(inst, row);
}

function sealedKey(inst: Installation, t: TsaRecord): SealedServiceKey {
  const envelopes = inst.db.prepare('SELECT holder, sealed FROM tsa_key_envelopes WHERE key_id = ? ORDER BY holder').all(t.keyId) as { holder: string; sealed: Buffer }[];
  return { keyId: t.keyId, kind: t.kind, publicKeySpki: t.publicKeySpki, envelopes };
}

const hashOf = (kind: TsaRecord['kind']) => (kind === 'p384' ? 'sha384' : 'sha256') as 'sha256' | 'sha384';
const algorithmOf = (kind: TsaRecord['kind']): SignatureAlgorithmName => (kind === 'p384' ? 'ecdsa-with-SHA384' : 'ecdsa-with-SHA256');

/**
 * Whether `holder` can stamp now with the active TSA, and if not, why (recorded in a backup
 * manifest that is not stamped).
 */
export function timestampAvailability(inst: Installation, holder: string): { ok: true; tsa: TsaRecord } | { ok: false; reason: string } {
  let tsa: TsaRecord | undefined;
  try {
    tsa = activeTsa(inst);
  } catch (e) {
    return { ok: false, reason: `the TSA register cannot be read: ${(e as Error).message}` };
  }
  if (!tsa || !tsa.certificateDer) return { ok: false, reason: 'the installation has no internal TSA (rootca tsa init)' };
  if (!tsa.holders.includes(holder)) return { ok: false, reason: `${holder} holds no copy of the TSA key ${tsa.keyId} (holders: ${tsa.holders.join(', ')})` };
  const cert = new X509Certificate(tsa.certificateDer);
  const now = inst.clock.now();
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return { ok: false, reason: `the TSA certificate of ${tsa.keyId} is not valid now (${cert.validFrom} .. ${cert.validTo})` };
  const revoked = inst.db.prepare('SELECT reason FROM revocations WHERE certificate_id = ?').get(tsa.certificateId) as { reason: string } | undefined;
  if (revoked) return { ok: false, reason: `the TSA certificate of ${tsa.keyId} is revoked (${revoked.reason})` };
  return { ok: true, tsa };
}

/**
 * An RFC 3161 time-stamper over the active TSA, used with one holder's unlocked credential.
 * Each token: serial from the CSPRNG, genTime from the installation's clock, policy = the
 * root's Time-Stamp CP, imprint SHA-256 (SHA-384 for a P-384 TSA), the TSA certificate
 * included, and recorded in `tsa_tokens`. Returns the bare TimeStampToken (ContentInfo);
 * wrap it with `timeStampResponse` for `openssl ts -verify -in`.
 */
export function tsaTimestamper(inst: Installation, holder: UnlockedCredential): Timestamper {
  return {
    async stamp(data: Buffer): Promise<Buffer> {
      const available = timestampAvailability(inst, holder.operator);
      if (!available.ok) throw new CaError('TSA_UNAVAILABLE', available.reason);
      const tsa = available.tsa;
      const hash = hashOf(tsa.kind);
      const messageImprint = createHash(hash).update(data).digest();
      const serialNumber = serialFromRandom(inst.random(SERIAL_RANDOM_BYTES));
      const genTime = inst.clock.now();
      const { tstInfoDer, signedAttrsDer } = createTimeStampToBeSigned({
        policy: tsa.policyOid, hashAlgorithm: hash, messageImprint, serialNumber, genTime, tsaCertificateDer: tsa.certificateDer!, digestAlgorithm: hash,
      });
      const signature = signWithServiceKey(sealedKey(inst, tsa), holder, signedAttrsDer, hash);
      const token = assembleTimeStampToken({ tstInfoDer, signedAttrsDer, signature, signatureAlgorithm: algorithmOf(tsa.kind), digestAlgorithm: hash, tsaCertificateDer: tsa.certificateDer! });
      if (!verifyTimeStampToken(token, data, tsa.publicKeySpki)) throw new CaError('SIGNATURE_INVALID', `the token of TSA ${tsa.keyId} does not verify`);
      const parsed = parseTimeStampToken(token);
      inst.db.prepare('INSERT INTO tsa_tokens (serial_hex, key_id, gen_time, hash_algorithm, message_imprint, holder, token_sha256) VALUES (?,?,?,?,?,?,?)')
        .run(parsed.serialHex, tsa.keyId, parsed.genTime.toISOString(), hash, messageImprint.toString('hex'), holder.operator, sha256Hex(token));
      return token;
    },
  };
}

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

/**
 * `rootca tsa init`: makes the TSA key (P-256, or P-384 under a P-384 root) sealed to each
 * holder, signs its PKCS#10 request with it through the operator's copy, and has the root issue
 * the TSA certificate (profile `tsa`, the root's Time-Stamp CP; witness and custodians as for
 * any issuance). The new TSA supersedes an earlier one, which keeps verifying its old tokens.
 */
export async function initTsa(inst: Installation, p: TsaInitParams): Promise<TsaInitResult> {
  const refuse = refuser(inst, ACTION, p.caName);
  const guard = guardedBy(refuse);
  const ca = guard(() => getCa(inst, p.caName));
  if (ca.status !== 'active') refuse('CA_NOT_ACTIVE', `CA ${ca.name} is ${ca.status} and cannot issue`);
  const policyOid = caPolicies(inst, ca.id, 'time-stamping')[0] ?? refuse('POLICY_MISSING', `${ca.name} has no Time-Stamp Certificate Policy registered (R-1.2)`);
  const holders = [...new Set(p.holders.map((h) => h.trim()).filter(Boolean))];
  if (holders.length === 0) refuse('SERVICE_KEY_HOLDERS', 'the TSA key needs at least one holder (--holders)');
  const holderRecords = holders.map((h) => guard(() => {
    const op = getOperator(inst, h);
    if (op.status !== 'active') throw new CaError('OPERATOR_REMOVED', `operator ${h} was removed and cannot hold the TSA key`);
    checkSlotRole(ACTION, 'custodian', h, op.roles);
    return op;
  }));
  if (!holders.includes(p.operator)) refuse('OPERATOR_NOT_HOLDER', `the operator ${p.operator} must be one of the holders (${holders.join(', ')}): the request is signed with the operator's copy of the new key`);
  guard(() => checkDistinct(ACTION, { operator: [p.operator], custodian: holders, witness: [p.witness] }));
  const kind: TsaRecord['kind'] = new X509Certificate(ca.certificateDer).publicKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'p384' : 'p256';
  const keyId = `tsa-${ca.name}-${inst.random(6).toString('hex')}`;
  const digest = operationDigest({ kind: ACTION, ca: ca.name, keyId, holders, policyOid, witness: p.witness });
  const passphrases = onceMore(p.passphrases, p.operator);
  const operator = await bringParticipant(inst, p.operator, passphrases, `operator making the TSA key ${keyId}`, digest, { operation: ACTION, slot: 'operator' })
    ?? refuse('OPERATOR_ABSENT', `the CA Administrator ${p.operator} did not authenticate`);
  try {
    const sealed = createServiceKey(keyId, kind, holderRecords.map((h) => ({ name: h.name, encryptionPublicKey: h.credential.encryptionPublicKey })));
    const subject = createName([
      attribute('C', p.country ?? 'JP'),
      attribute('O', p.organization ?? inst.config.installation.name),
      attribute('CN', p.commonName ?? `${inst.config.installation.name} Time-Stamping Authority`),
    ]);
    const info = createCertificationRequestInfo({ subject, subjectPublicKeyInfo: sealed.publicKeySpki });
    const csr = assembleCertificationRequest(info, algorithmOf(kind), signWithServiceKey(sealed, operator.credential, info, hashOf(kind)));
    const now = inst.clock.now().toISOString();
    inst.db.transaction(() => {
      inst.db.prepare("INSERT INTO tsa_keys (key_id, ca_id, kind, public_key_spki, policy_oid, status, created_at, operator, witness) VALUES (?,?,?,?,?, 'pending', ?,?,?)")
        .run(keyId, ca.id, kind, sealed.publicKeySpki, policyOid, now, p.operator, p.witness);
      const insert = inst.db.prepare('INSERT INTO tsa_key_envelopes (key_id, holder, sealed) VALUES (?,?,?)');
      for (const e of sealed.envelopes) insert.run(keyId, e.holder, e.sealed);
    }).immediate();

    let issued;
    try {
      issued = await issueCertificate(inst, {
        operator: p.operator, witness: p.witness, passphrases, caName: ca.name, profile: 'tsa', csr, requester: `internal TSA ${keyId} (CPS 5.5.5)`, validityDays: p.validityDays,
      });
    } catch (e) {
      inst.db.prepare("UPDATE tsa_keys SET status = 'failed' WHERE key_id = ?").run(keyId);
      inst.audit.append({ actor: inst.systemActor, roles: [], action: ACTION, target: ca.name, outcome: 'failed', details: { keyId, code: (e as CaError).code ?? 'ISSUANCE_FAILED', message: (e as Error).message } });
      throw e;
    }
    const ceremonyId = (inst.db.prepare("SELECT json_extract(details, '$.ceremonyId') AS id FROM certificates WHERE id = ?").get(issued.certificateId) as { id: number | null }).id;
    const superseded = inst.db.transaction(() => {
      const old = (inst.db.prepare("SELECT key_id FROM tsa_keys WHERE status = 'active'").all() as { key_id: string }[]).map((r) => r.key_id);
      inst.db.prepare("UPDATE tsa_keys SET status = 'superseded' WHERE status = 'active'").run();
      inst.db.prepare("UPDATE tsa_keys SET status = 'active', certificate_id = ?, ceremony_id = ? WHERE key_id = ?").run(issued.certificateId, ceremonyId, keyId);
      inst.audit.append({
        actor: operator.operator.name, roles: operator.operator.roles, action: ACTION, target: ca.name, outcome: 'success',
        details: {
          keyId, kind, holders, policyOid, certificateSerial: issued.serialHex, certificateSha256: sha256Hex(issued.certificateDer), ceremonyId, superseded: old,
          witness: p.witness, ...participantEvidence(digest, [{ role: 'operator', p: operator }]),
        },
      });
      return old;
    }).immediate();
    const backup = await backupAfterChange(inst, { reason: ACTION, ceremonyId, operator });
    return {
      keyId, kind, caName: ca.name, policyOid, holders, serialHex: issued.serialHex, certificateDer: issued.certificateDer, certificatePem: derToPem(issued.certificateDer, 'CERTIFICATE'),
      notAfter: issued.notAfter, superseded, transcriptFile: issued.transcriptFile, backup,
    };
  } finally {
    operator.credential.lock();
    passphrases.forget();
  }
}

/**
 * A time-stamper for a caller that has no holder's credential at hand (e.g. an audit
 * checkpoint made by a Log Examiner): brings one TSA holder (a CA Administrator,
 * permission `tsa.stamp`), who authenticates once; `close()` locks their credential.
 */
export async function openTimestamper(inst: Installation, p: { holder: string; passphrases: PassphraseSource; purpose: string }): Promise<Timestamper & { holder: string; close(): void }> {
  const digest = operationDigest({ kind: 'tsa.stamp', purpose: p.purpose, at: inst.clock.now().toISOString() });
  const who: Participant | undefined = await bringParticipant(inst, p.holder, p.passphrases, `TSA holder stamping ${p.purpose}`, digest, { operation: 'tsa.stamp', slot: 'operator' });
  if (!who) return refuser(inst, 'tsa.stamp', p.purpose)('OPERATOR_ABSENT', `${p.holder} did not authenticate`);
  const available = timestampAvailability(inst, p.holder);
  if (!available.ok) {
    who.credential.lock();
    return refuser(inst, 'tsa.stamp', p.purpose)('TSA_UNAVAILABLE', available.reason);
  }
  const stamper = tsaTimestamper(inst, who.credential);
  return { holder: p.holder, stamp: (data) => stamper.stamp(data), close: () => who.credential.lock() };
}

/** `rootca tsa stamp`: one holder stamps a record (CPS 5.5.5); the token is audited by its serial and imprint. */
export async function stampWithTsa(inst: Installation, p: { holder: string; passphrases: PassphraseSource; data: Buffer; what: string }): Promise<{ token: Buffer; serialHex: string; genTime: Date; keyId: string }> {
  const stamper = await openTimestamper(inst, { holder: p.holder, passphrases: p.passphrases, purpose: p.what });
  try {
    const token = await stamper.stamp(p.data).catch((e: unknown) => refuser(inst, 'tsa.stamp', p.what)((e as CaError).code ?? 'TSA_FAILED', (e as Error).message));
    const parsed = parseTimeStampToken(token);
    const keyId = activeTsa(inst)!.keyId;
    const who = getOperator(inst, p.holder);
    inst.audit.append({ actor: who.name, roles: who.roles, action: 'tsa.stamp', target: p.what, outcome: 'success', details: { keyId, serial: parsed.serialHex, genTime: parsed.genTime.toISOString(), sha256: sha256Hex(p.data) } });
    return { token, serialHex: parsed.serialHex, genTime: parsed.genTime, keyId };
  } finally {
    stamper.close();
  }
}
