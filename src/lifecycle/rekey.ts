/**
 * Re-key of a CA (CPS 5.6, R-9.1; RFC 4210 4.4 "Root CA Key Update"): a new key pair in the
 * key store with its own custodians (M-of-N, as in the root key ceremony, CPS 6.1.1, 6.4.1), a
 * new self-signed certificate (NewWithNew), and the two link certificates OldWithNew (old key
 * certified by the new key) and NewWithOld (new key certified by the old key), so a relying
 * party holding either root reaches certificates issued under either key.
 *
 * Both keys are activated under quorum in one ceremony: the session's custodians activate the
 * old key once (NewWithOld); M custodians of the new key activate it once per signature
 * (NewWithNew, OldWithNew). Intent first (the started ceremony, three reserved serials); the
 * new key exists only in memory until the one transaction that stores it with the three
 * certificates, the CA's switch to the new key and certificate, the old key's retirement, the
 * audit event and the transcript. A crash before that leaves a started ceremony and no key.
 *
 * After re-key the CA keeps its name; `cas.key_id` / `cas.certificate_id` name the new key and
 * NewWithNew, so issuance, CRLs, OCSP and publication signing use the new key. The old key is
 * marked 'retired' (kept, wrapped, until destroyed under quorum; nothing signs with it).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CaError, type ErrorCode } from '../errors.ts';
import { describeKeyAlgorithm, SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { derToPem } from '../pki/pem.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom, serialToHex } from '../pki/serial.ts';
import { sha256Hex } from '../util/digest.ts';
import { signOnceWithCaKey } from '../custody/activation.ts';
import { backupAfterChange } from '../records/backups.ts';
import { recordOwnCertificate } from './ca-certificate-history.ts';
import { generateCaKey, type NewCaKey } from '../custody/ca-keys.ts';
import { getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { exportTranscript, failSession, guardedBy, openKeySession, refuser, type KeySession } from '../operation/key-session.ts';
import { finishOwnCertificate, KIND_SUFFIX, planOwnCertificate, spkiOf, type OwnCertificateKind, type OwnCertificatePlan } from './link-certificates.ts';
import { getOperator } from '../people/operators.ts';
import { bringParticipant, lockAll, type Participant, type PassphraseSource } from '../people/participants.ts';
import { checkSlotRole } from '../people/permissions.ts';
import { changeoverAlgorithm, currentCertificateId, validityFromNow, yearsOf, type ChangeoverResult } from './renewal.ts';
import { activeTsa } from '../records/time-stamping.ts';
import { switchCaCertificate } from '../store/cas.ts';
import { findCaKeyFacts, retireCaKey } from '../store/ca-keys.ts';
import { reserveSerial } from '../store/serial-reservations.ts';

export interface RekeyParams {
  caName: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** Custodians of the new key; default: those of the current key. */
  holders?: string[];
  /** M of the new key; default: the current key's. */
  threshold?: number;
  /** Default: the current key's algorithm. */
  keyAlgorithm?: KeyAlgorithm;
  years?: number;
  signatureAlgorithm?: SignatureAlgorithmName;
  /** Folder for NAME.pem, NAME-oldwithnew.pem, NAME-newwithold.pem (never overwritten). */
  outDir?: string;
}

export interface RekeyResult extends ChangeoverResult {
  previousKeyId: string;
  newKeyCustodians: string[];
  links: { kind: OwnCertificateKind; serialHex: string; notBefore: Date; notAfter: Date; certificateDer: Buffer; certificatePem: string }[];
}

const ACTION = 'ca.rekey';

export async function rekeyCa(inst: Installation, p: RekeyParams): Promise<RekeyResult> {
  const refuse = refuser(inst, ACTION, p.caName);
  const guard = guardedBy(refuse);

  // 1. Checks before anyone is asked for anything.
  const ca = guard(() => getCa(inst, p.caName));
  const now0 = inst.clock.now();
  if (Date.parse(ca.notAfter) <= now0.getTime()) refuse('CA_EXPIRED', `${ca.name}'s certificate expired on ${ca.notAfter}; link certificates cannot outlive it (RFC 4210 4.4), so a re-key is no longer possible: run a new root key ceremony`);
  const oldKey = findCaKeyFacts(inst.db, ca.keyId)!;
  const keyAlgorithm: KeyAlgorithm = p.keyAlgorithm ?? (JSON.parse(oldKey.algorithm) as KeyAlgorithm);
  const holders = p.holders?.length ? p.holders : ca.custodians;
  const threshold = p.threshold ?? oldKey.threshold;
  if (new Set(holders).size !== holders.length) refuse('CUSTODIAN_TWICE', `a custodian is named twice: ${holders.join(', ')}`);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > holders.length) refuse('THRESHOLD_INVALID', `threshold must be between 2 and the ${holders.length} custodians (CPS 6.4.1: at least two), got ${threshold}`);
  if (holders.includes(p.witness)) refuse('SAME_PERSON_TWICE', `${p.witness} cannot be both witness and custodian of the new key (CPS 6.1.1)`);
  for (const h of holders) {
    guard(() => {
      const op = getOperator(inst, h);
      if (op.status !== 'active') throw new CaError('OPERATOR_REMOVED', `${h} was removed and cannot hold a share of the new key`);
      checkSlotRole(ACTION, 'custodian', h, op.roles);
    });
  }
  if (p.years !== undefined && (!Number.isInteger(p.years) || p.years < 1 || p.years > 25)) refuse('VALIDITY_INVALID', `--years must be a whole number from 1 to 25 (BR 7.1.2.1.1: at most 9132 days), got ${p.years}`);
  const algorithm = changeoverAlgorithm(ca.signatureAlgorithm, p.signatureAlgorithm);
  if (SIGNATURE_ALGORITHMS[algorithm].keyKind !== keyAlgorithm.kind) refuse('ALGORITHM_MISMATCH', `${algorithm} does not fit a ${describeKeyAlgorithm(keyAlgorithm)} key`);
  const outDir = p.outDir ? resolve(p.outDir) : undefined;
  const outFile = (kind: OwnCertificateKind) => join(outDir!, `${ca.name}${KIND_SUFFIX[kind]}.pem`);
  const kinds: OwnCertificateKind[] = ['new-with-new', 'old-with-new', 'new-with-old'];
  if (outDir) {
    const existing = kinds.map(outFile).filter((f) => existsSync(f));
    if (existing.length) refuse('OUTPUT_EXISTS', `${existing.join(', ')} already exist; nothing is overwritten`);
  }
  const years = p.years ?? yearsOf(ca.notBefore, ca.notAfter);
  const { notBefore, notAfter } = validityFromNow(now0, years);
  // RFC 4210 4.4: the links live from the new key's generation until the old certificate expires.
  const linkNotAfter = new Date(ca.notAfter);
  const serials = kinds.map(() => serialFromRandom(inst.random(SERIAL_RANDOM_BYTES)));
  const serialHexes = serials.map((x) => serialToHex(x));
  const newKeyId = `${ca.name}-${notBefore.toISOString().slice(0, 10).replaceAll('-', '')}-${inst.random(4).toString('hex')}`;

  // 2. People: operator, witness and M custodians of the old key; then M custodians of the new key.
  const s = await openKeySession(inst, {
    operation: ACTION, caName: ca.name, operator: p.operator, witness: p.witness, passphrases: p.passphrases,
    describe: { newKeyId, keyAlgorithm, holders, threshold, years, signatureAlgorithm: algorithm, previousCertificateSha256: ca.certificateSha256 },
  });
  let newCustodians: Participant[] = [];
  let newKey: NewCaKey | undefined;
  try {
    try {
      newCustodians = await gatherNewKeyCustodians(inst, s, holders, threshold, p.passphrases, refuse);
      // Intent: the three serials are reserved before any key exists.
      inst.db.transaction(() => {
        for (const h of serialHexes) reserveSerial(inst.db, ca.id, h, s.ceremonyId, inst.clock.now().toISOString());
      }).immediate();

      // 3. The new key, in memory (soft store); its activation data split to the new custodians.
      newKey = await generateCaKey(inst, { keyId: newKeyId, algorithm: keyAlgorithm, store: { store: 'soft' }, threshold, holders, present: newCustodians });
      const record = newKey.record;
      const oldSpki = spkiOf(ca.certificateDer);
      const newSpki = record.publicKeySpki;
      const now = inst.clock.now();
      const plan = (i: number, kind: OwnCertificateKind, subjectSpki: Buffer, signerSpki: Buffer, signerCertificate: Buffer | null, nb: Date, na: Date): OwnCertificatePlan =>
        planOwnCertificate({ kind, template: ca.certificateDer, serial: serials[i]!, notBefore: nb, notAfter: na, signatureAlgorithm: algorithm, subjectSpki, signerSpki, signerCertificate, now });
      // Lint all three before any key signs; OldWithNew is linted against NewWithNew's pre-certificate (same TBS).
      const newWithNew = plan(0, 'new-with-new', newSpki, newSpki, null, notBefore, notAfter);
      const oldWithNew = plan(1, 'old-with-new', oldSpki, newSpki, newWithNew.preCertificate, notBefore, linkNotAfter);
      const newWithOld = plan(2, 'new-with-old', newSpki, oldSpki, ca.certificateDer, notBefore, linkNotAfter);

      // 4. Signatures: the new key twice (one activation each), the old key once.
      const signNew = (data: Buffer, purpose: string) => signOnceWithCaKey(inst, { record, custodians: newCustodians, purpose, target: ca.name }, data, algorithm);
      const nwn = finishOwnCertificate(newWithNew, await signNew(newWithNew.tbsDer, `NewWithNew self-signed certificate of ${ca.name}`), null, inst.clock.now());
      const own = finishOwnCertificate(oldWithNew, await signNew(oldWithNew.tbsDer, `OldWithNew link certificate of ${ca.name}`), nwn.der, inst.clock.now());
      const nwo = finishOwnCertificate(newWithOld, await s.sign(newWithOld.tbsDer, algorithm, `NewWithOld link certificate of ${ca.name}`), ca.certificateDer, inst.clock.now());
      const made = [{ plan: newWithNew, der: nwn.der }, { plan: oldWithNew, der: own.der }, { plan: newWithOld, der: nwo.der }];
      const warnings = [...new Set([nwn, own, nwo].flatMap((x, i) => x.warnings.map((w) => `${made[i]!.plan.kind}: ${w.lint}: ${w.message}`)))];

      // 5. Everything in one transaction.
      const at = inst.clock.now().toISOString();
      const t = inst.db.transaction(() => {
        newKey!.persist(at);
        const replaces = currentCertificateId(inst, ca.id);
        const ids = made.map(({ plan: x, der }) => recordOwnCertificate(inst, {
          caId: ca.id, kind: x.kind, serialHex: x.serialHex, subject: ca.subject, notBefore: x.notBefore, notAfter: x.notAfter, sha256: sha256Hex(der), der,
          subjectKeyId: x.subjectSpki.equals(newSpki) ? newKeyId : ca.keyId, signerKeyId: x.signerSpki.equals(newSpki) ? newKeyId : ca.keyId, replacesCertificateId: replaces, ceremonyId: s.ceremonyId, now: at,
        }));
        switchCaCertificate(inst.db, ca.id, { keyId: newKeyId, certificateId: ids[0]!, signatureAlgorithm: algorithm, legacySha1: SIGNATURE_ALGORITHMS[algorithm].legacy });
        retireCaKey(inst.db, ca.keyId);
        const details = {
          ceremonyId: s.ceremonyId, previousKeyId: ca.keyId, keyId: newKeyId, ...newKey!.details, keyAlgorithm, threshold, holders,
          newKeyCustodians: newCustodians.map((c) => c.operator.name), previousCertificateSha256: ca.certificateSha256, signatureAlgorithm: algorithm,
          certificates: made.map(({ plan: x, der }, i) => ({ kind: x.kind, certificateId: ids[i], serial: x.serialHex, sha256: sha256Hex(der), notBefore: x.notBefore.toISOString(), notAfter: x.notAfter.toISOString() })),
          keyActivations: { previousKey: s.signatures, newKey: 2 }, warnings,
        };
        const everyone = [...s.people().map((x) => x.p), ...newCustodians.filter((c) => !s.people().some((x) => x.p === c))];
        inst.audit.append({ actor: everyone.map((x) => x.operator.name).join(','), roles: [...new Set(everyone.flatMap((x) => x.operator.roles))], action: ACTION, target: ca.name, outcome: 'success', details: { ...details, ...s.evidence() } });
        return s.transcript({
          inputs: [{ name: `previous certificate ${ca.serialHex}`, sha256: ca.certificateSha256 }],
          outputs: made.map(({ plan: x, der }) => ({ name: `${ca.name} ${x.kind} ${x.serialHex}.der`, sha256: sha256Hex(der) })),
          details,
        });
      }).immediate();
      newKey = undefined; // stored with the certificates: from here on a failure must not discard it
      const transcriptFile = exportTranscript(inst, t);

      // 6. Files last.
      const outputs: string[] = [];
      if (outDir) {
        mkdirSync(outDir, { recursive: true });
        for (const { plan: x, der } of made) { writeFileSync(outFile(x.kind), derToPem(der, 'CERTIFICATE'), { flag: 'wx' }); outputs.push(outFile(x.kind)); }
      }
      const backup = await backupAfterChange(inst, { reason: ACTION, ceremonyId: s.ceremonyId, operator: s.operator });
      const tsaAdvice = tsaCertifiedByRetiredKey(inst, ca.id, ca.keyId);
      if (tsaAdvice) warnings.push(tsaAdvice);
      return {
        caName: ca.name, ceremonyId: s.ceremonyId, keyId: newKeyId, previousKeyId: ca.keyId, serialHex: newWithNew.serialHex, notBefore, notAfter,
        certificateDer: nwn.der, certificatePem: derToPem(nwn.der, 'CERTIFICATE'),
        custodians: s.custodians.map((c) => c.operator.name), newKeyCustodians: newCustodians.map((c) => c.operator.name), witness: s.witness.operator.name,
        warnings, outputs, transcriptFile, backup,
        links: made.slice(1).map(({ plan: x, der }) => ({ kind: x.kind, serialHex: x.serialHex, notBefore: x.notBefore, notAfter: x.notAfter, certificateDer: der, certificatePem: derToPem(der, 'CERTIFICATE') })),
      };
    } catch (e) {
      await newKey?.discard();
      return failSession(inst, s, ACTION, e);
    }
  } finally {
    lockAll(newCustodians.filter((c) => !s.people().some((x) => x.p === c)));
    s.lock();
  }
}

/**
 * The internal TSA is not re-certified inside the re-key ceremony but by `rootca tsa init`
 * afterwards (docs/changeover-and-termination.md says why). Until then the TSA in service
 * keeps its certificate from the retired key: the retired key's root certificate is still
 * valid, so the TSA certificate's path is too (RFC 5280 6.1) for every token it made and makes.
 */
function tsaCertifiedByRetiredKey(inst: Installation, caId: number, retiredKeyId: string): string | undefined {
  const tsa = activeTsa(inst);
  if (!tsa || tsa.caId !== caId) return undefined;
  return `the internal TSA ${tsa.keyId} was certified by the retired key ${retiredKeyId}; it keeps stamping and its tokens keep verifying against that key's root certificate. `
    + `To have the new key certify the TSA, run rootca tsa init --ca ${tsa.caName} --holders ${tsa.holders.join(',')} (CPS 5.5.5)`;
}

/**
 * M custodians of the new key: people already in the session (operator, custodians of the old
 * key) count without a second passphrase; the witness never counts (CPS 6.1.1: observed, not
 * observing). Refuses QUORUM_NOT_MET when fewer than M authenticate.
 */
async function gatherNewKeyCustodians(
  inst: Installation, s: KeySession, holders: string[], threshold: number, passphrases: PassphraseSource,
  refuse: (code: ErrorCode, message: string, details?: Record<string, unknown>) => never,
): Promise<Participant[]> {
  const present = s.people().map((x) => x.p);
  const out: Participant[] = [];
  const brought: Participant[] = [];
  try {
    for (const h of holders) {
      if (out.length >= threshold) break;
      if (h === s.witness.operator.name) continue;
      const known = present.find((x) => x.operator.name === h);
      const p = known ?? await bringParticipant(inst, h, passphrases, `custodian of the new ${s.ca.name} key`, s.digest, { operation: ACTION, slot: 'custodian' });
      if (p && !known) brought.push(p);
      if (p) out.push(p);
    }
    if (out.length < threshold) refuse('QUORUM_NOT_MET', `the new key needs ${threshold} of ${holders.length} custodians, ${out.length} present (${out.map((x) => x.operator.name).join(', ') || 'none'})`);
    return out;
  } catch (e) {
    lockAll(brought);
    throw e;
  }
}
