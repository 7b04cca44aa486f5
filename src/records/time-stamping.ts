/**
 * The internal time-stamping authority in service (R-8.3; CPS 5.5.5 "Time-Stamp the critical
 * information recorded therein"): its register, whether it can stamp, and the stamper. Its key is
 * a service key — never a CA key — sealed 1-of-N to CA Administrators, so any one holder can
 * stamp. Tokens are RFC 3161 TimeStampTokens that `openssl ts -verify` accepts; backup manifests
 * and audit checkpoints are stamped with it. Setting the TSA up (its key and its certificate,
 * issued by a root) is `tsa-setup.ts`, so that stamping never depends on issuance.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CaError } from '../errors.ts';
import type { UnlockedCredential } from '../keys/credential.ts';
import { signWithServiceKey, type SealedServiceKey } from '../keys/service-key.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom } from '../pki/serial.ts';
import {
  assembleTimeStampToken,
  createTimeStampToBeSigned,
  parseTimeStampToken,
  verifyTimeStampToken,
} from '../pki/tsp.ts';
import { sha256Hex } from '../util/digest.ts';
import { findRevocationReason } from '../store/revocations.ts';
import {
  findActiveTsaKey,
  insertTsaToken,
  listTsaKeys,
  tsaKeyEnvelopes,
  tsaKeyHolders,
  type TsaKeyView,
} from '../store/tsa.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator } from '../people/operators.ts';
import { bringParticipant, operationDigest, type Participant, type PassphraseSource } from '../people/participants.ts';
import { refuser } from '../operation/refusals.ts';

/** What the other evidence features take: anything that turns bytes into an RFC 3161 TimeStampToken (DER). */
export interface Timestamper {
  stamp(data: Buffer): Promise<Buffer>;
}

/** A TSA key of the register, with its certificate once issued and who holds a copy. */
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

function toRecord(inst: Installation, r: TsaKeyView): TsaRecord {
  const holders = tsaKeyHolders(inst.db, r.key_id);
  return {
    keyId: r.key_id,
    caId: r.ca_id,
    caName: r.ca_name,
    kind: r.kind,
    publicKeySpki: r.public_key_spki,
    policyOid: r.policy_oid,
    certificateId: r.certificate_id,
    certificateDer: r.der,
    status: r.status,
    createdAt: r.created_at,
    holders,
  };
}

/** Every TSA key ever made, oldest first (`rootca tsa list`). */
export function listTsas(inst: Installation): TsaRecord[] {
  return listTsaKeys(inst.db).map((r) => toRecord(inst, r));
}

/** The TSA in service, if any. */
export function activeTsa(inst: Installation): TsaRecord | undefined {
  const row = findActiveTsaKey(inst.db);
  return row && toRecord(inst, row);
}

function sealedKey(inst: Installation, t: TsaRecord): SealedServiceKey {
  const envelopes = tsaKeyEnvelopes(inst.db, t.keyId);
  return { keyId: t.keyId, kind: t.kind, publicKeySpki: t.publicKeySpki, envelopes };
}

/** The digest a TSA of this curve uses for imprints and signatures. */
export const hashOf = (kind: TsaRecord['kind']) => (kind === 'p384' ? 'sha384' : 'sha256') as 'sha256' | 'sha384';
/** The signature algorithm of a TSA of this curve. */
export const algorithmOf = (kind: TsaRecord['kind']): SignatureAlgorithmName =>
  kind === 'p384' ? 'ecdsa-with-SHA384' : 'ecdsa-with-SHA256';

/**
 * Whether `holder` can stamp now with the active TSA, and if not, why (recorded in a backup
 * manifest that is not stamped).
 */
export function timestampAvailability(
  inst: Installation,
  holder: string,
): { ok: true; tsa: TsaRecord } | { ok: false; reason: string } {
  let tsa: TsaRecord | undefined;
  try {
    tsa = activeTsa(inst);
  } catch (e) {
    return { ok: false, reason: `the TSA register cannot be read: ${(e as Error).message}` };
  }
  if (!tsa || !tsa.certificateDer)
    return { ok: false, reason: 'the installation has no internal TSA (rootca tsa init)' };
  if (!tsa.holders.includes(holder))
    return {
      ok: false,
      reason: `${holder} holds no copy of the TSA key ${tsa.keyId} (holders: ${tsa.holders.join(', ')})`,
    };
  const cert = new X509Certificate(tsa.certificateDer);
  const now = inst.clock.now();
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo))
    return {
      ok: false,
      reason: `the TSA certificate of ${tsa.keyId} is not valid now (${cert.validFrom} .. ${cert.validTo})`,
    };
  const revoked = findRevocationReason(inst.db, tsa.certificateId);
  if (revoked !== undefined)
    return { ok: false, reason: `the TSA certificate of ${tsa.keyId} is revoked (${revoked})` };
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
        policy: tsa.policyOid,
        hashAlgorithm: hash,
        messageImprint,
        serialNumber,
        genTime,
        tsaCertificateDer: tsa.certificateDer!,
        digestAlgorithm: hash,
      });
      const signature = signWithServiceKey(sealedKey(inst, tsa), holder, signedAttrsDer, hash);
      const token = assembleTimeStampToken({
        tstInfoDer,
        signedAttrsDer,
        signature,
        signatureAlgorithm: algorithmOf(tsa.kind),
        digestAlgorithm: hash,
        tsaCertificateDer: tsa.certificateDer!,
      });
      if (!verifyTimeStampToken(token, data, tsa.publicKeySpki))
        throw new CaError('SIGNATURE_INVALID', `the token of TSA ${tsa.keyId} does not verify`);
      const parsed = parseTimeStampToken(token);
      insertTsaToken(inst.db, {
        serial_hex: parsed.serialHex,
        key_id: tsa.keyId,
        gen_time: parsed.genTime.toISOString(),
        hash_algorithm: hash,
        message_imprint: messageImprint.toString('hex'),
        holder: holder.operator,
        token_sha256: sha256Hex(token),
      });
      return token;
    },
  };
}

/**
 * A time-stamper for a caller that has no holder's credential at hand (e.g. an audit
 * checkpoint made by a Log Examiner): brings one TSA holder (a CA Administrator,
 * permission `tsa.stamp`), who authenticates once; `close()` locks their credential.
 */
export async function openTimestamper(
  inst: Installation,
  p: { holder: string; passphrases: PassphraseSource; purpose: string },
): Promise<Timestamper & { holder: string; close(): void }> {
  const digest = operationDigest({ kind: 'tsa.stamp', purpose: p.purpose, at: inst.clock.now().toISOString() });
  const who: Participant | undefined = await bringParticipant(
    inst,
    p.holder,
    p.passphrases,
    `TSA holder stamping ${p.purpose}`,
    digest,
    { operation: 'tsa.stamp', slot: 'operator' },
  );
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
export async function stampWithTsa(
  inst: Installation,
  p: { holder: string; passphrases: PassphraseSource; data: Buffer; what: string },
): Promise<{ token: Buffer; serialHex: string; genTime: Date; keyId: string }> {
  const stamper = await openTimestamper(inst, { holder: p.holder, passphrases: p.passphrases, purpose: p.what });
  try {
    const token = await stamper
      .stamp(p.data)
      .catch((e: unknown) =>
        refuser(inst, 'tsa.stamp', p.what)((e as CaError).code ?? 'TSA_FAILED', (e as Error).message),
      );
    const parsed = parseTimeStampToken(token);
    const keyId = activeTsa(inst)!.keyId;
    const who = getOperator(inst, p.holder);
    inst.audit.append({
      actor: who.name,
      roles: who.roles,
      action: 'tsa.stamp',
      target: p.what,
      outcome: 'success',
      details: { keyId, serial: parsed.serialHex, genTime: parsed.genTime.toISOString(), sha256: sha256Hex(p.data) },
    });
    return { token, serialHex: parsed.serialHex, genTime: parsed.genTime, keyId };
  } finally {
    stamper.close();
  }
}
