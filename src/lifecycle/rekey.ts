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
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CaError } from '../errors.ts';
import {
  describeKeyAlgorithm,
  SIGNATURE_ALGORITHMS,
  type KeyAlgorithm,
  type SignatureAlgorithmName,
} from '../pki/algorithms.ts';
import { derToPem } from '../pki/pem.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom, serialToHex } from '../pki/serial.ts';
import { sha256Hex } from '../util/digest.ts';
import { signOnceWithCaKey } from '../custody/activation.ts';
import { generateCaKey, type NewCaKey } from '../custody/ca-keys.ts';
import { getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import type { KeySession } from '../operation/key-session.ts';
import {
  finishOwnCertificate,
  KIND_SUFFIX,
  planOwnCertificate,
  spkiOf,
  type OwnCertificateKind,
  type OwnCertificatePlan,
} from './link-certificates.ts';
import { getOperator } from '../people/operators.ts';
import { lockAll, type Participant, type PassphraseSource } from '../people/participants.ts';
import { checkSlotRole } from '../people/permissions.ts';
import { changeoverAlgorithm, checkYears, validityFromNow, yearsOf, type ChangeoverResult } from './renewal.ts';
import { runOperation, type AfterCommit, type OperationContext } from '../operation/runner.ts';
import { activeTsa } from '../records/time-stamping.ts';
import { findCaKeyFacts } from '../store/ca-keys.ts';
import { reserveSerial } from '../store/serial-reservations.ts';
import { ACTION, commitRekey, type RekeyPlan, type Signed } from './rekey-commit.ts';
import { gatherNewKeyCustodians } from './rekey-custodians.ts';
import { refuser, type Checks } from '../operation/refusals.ts';

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
  links: {
    kind: OwnCertificateKind;
    serialHex: string;
    notBefore: Date;
    notAfter: Date;
    certificateDer: Buffer;
    certificatePem: string;
  }[];
}

/** What the work hands to the result. */
interface RekeyWork {
  signed: Signed;
  custodians: string[];
  newKeyCustodians: string[];
  witness: string;
}

/** Re-keys on the runner (operation/runner.ts): checks and --out-dir first, then the new key, three signatures, one transaction. */
export async function rekeyCa(inst: Installation, p: RekeyParams): Promise<RekeyResult> {
  return runOperation(inst, {
    action: ACTION,
    target: p.caName,
    check: (c) => checkRekey(inst, p, c),
    outputs: (r) => (r.outDir ? KINDS.map((kind) => ({ path: outFile(r, kind)!, what: `--out-dir (${kind})` })) : []),
    people: (r) => ({
      caName: r.ca.name,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      describe: {
        newKeyId: r.newKeyId,
        keyAlgorithm: r.keyAlgorithm,
        holders: r.holders,
        threshold: r.threshold,
        years: r.years,
        signatureAlgorithm: r.algorithm,
        previousCertificateSha256: r.ca.certificateSha256,
      },
    }),
    work: (r, x) => rekeyWork(inst, p, r, x),
    finish: (r, w, after) => afterRekey(inst, r, w, after),
  });
}

/** 2-5. M custodians of the new key, the serials reserved, the new key in memory, three signatures, the output staged, one transaction. */
async function rekeyWork(inst: Installation, p: RekeyParams, r: RekeyPlan, x: OperationContext): Promise<RekeyWork> {
  const s = x.session;
  let newCustodians: Participant[] = [];
  let newKey: NewCaKey | undefined;
  try {
    newCustodians = await gatherNewKeyCustodians(
      inst,
      s,
      r.holders,
      r.threshold,
      p.passphrases,
      refuser(inst, ACTION, r.ca.name),
    );
    // Intent: the three serials are reserved before any key exists.
    inst.db
      .transaction(() => {
        for (const serial of r.serials)
          reserveSerial(inst.db, r.ca.id, serialToHex(serial), s.ceremonyId, inst.clock.now().toISOString());
      })
      .immediate();
    // The new key, in memory (soft store); its activation data split to the new custodians.
    newKey = await generateCaKey(inst, {
      keyId: r.newKeyId,
      algorithm: r.keyAlgorithm,
      store: { store: 'soft' },
      threshold: r.threshold,
      holders: r.holders,
      present: newCustodians,
    });
    const signed = await signRekeyCertificates(inst, s, r, newKey.record, newCustodians);
    for (const { plan: c, der } of signed.made) {
      for (const f of x.files.planned.filter((q) => q.path === outFile(r, c.kind)))
        x.files.stage(f.path, derToPem(der, 'CERTIFICATE'), {
          table: 'certificates',
          sha256: sha256Hex(der),
          encoding: 'pem',
        });
    }
    commitRekey(inst, x, r, newKey, signed, newCustodians);
    newKey = undefined; // stored with the certificates: from here on a failure must not discard it
    return {
      signed,
      custodians: s.custodians.map((c) => c.operator.name),
      newKeyCustodians: newCustodians.map((c) => c.operator.name),
      witness: s.witness.operator.name,
    };
  } catch (e) {
    await newKey?.discard();
    throw e;
  } finally {
    lockAll(newCustodians.filter((c) => !s.people().some((q) => q.p === c)));
  }
}

/** 1. Every check before anyone is asked for anything; the output folder is made last, for the runner to check the files in it. */
function checkRekey(inst: Installation, p: RekeyParams, { refuse, guard }: Checks): RekeyPlan {
  const ca = guard(() => getCa(inst, p.caName));
  const now0 = inst.clock.now();
  if (Date.parse(ca.notAfter) <= now0.getTime())
    refuse(
      'CA_EXPIRED',
      `${ca.name}'s certificate expired on ${ca.notAfter}; link certificates cannot outlive it (RFC 4210 4.4), so a re-key is no longer possible: run a new root key ceremony`,
    );
  const oldKey = findCaKeyFacts(inst.db, ca.keyId)!;
  const keyAlgorithm: KeyAlgorithm = p.keyAlgorithm ?? (JSON.parse(oldKey.algorithm) as KeyAlgorithm);
  const holders = p.holders?.length ? p.holders : ca.custodians;
  const threshold = p.threshold ?? oldKey.threshold;
  if (new Set(holders).size !== holders.length)
    refuse('CUSTODIAN_TWICE', `a custodian is named twice: ${holders.join(', ')}`);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > holders.length)
    refuse(
      'THRESHOLD_INVALID',
      `threshold must be between 2 and the ${holders.length} custodians (CPS 6.4.1: at least two), got ${threshold}`,
    );
  if (holders.includes(p.witness))
    refuse('SAME_PERSON_TWICE', `${p.witness} cannot be both witness and custodian of the new key (CPS 6.1.1)`);
  for (const h of holders) {
    guard(() => {
      const op = getOperator(inst, h);
      if (op.status !== 'active')
        throw new CaError('OPERATOR_REMOVED', `${h} was removed and cannot hold a share of the new key`);
      checkSlotRole(ACTION, 'custodian', h, op.roles);
    });
  }
  checkYears(p.years, refuse);
  const algorithm = changeoverAlgorithm(ca.signatureAlgorithm, p.signatureAlgorithm);
  if (SIGNATURE_ALGORITHMS[algorithm].keyKind !== keyAlgorithm.kind)
    refuse('ALGORITHM_MISMATCH', `${algorithm} does not fit a ${describeKeyAlgorithm(keyAlgorithm)} key`);
  const years = p.years ?? yearsOf(ca.notBefore, ca.notAfter);
  const { notBefore, notAfter } = validityFromNow(now0, years);
  const serials = KINDS.map(() => serialFromRandom(inst.random(SERIAL_RANDOM_BYTES)));
  const newKeyId = `${ca.name}-${notBefore.toISOString().slice(0, 10).replaceAll('-', '')}-${inst.random(4).toString('hex')}`;
  const outDir = p.outDir ? resolve(p.outDir) : undefined;
  if (outDir) guard(() => mkdirSync(outDir, { recursive: true }));
  return {
    ca,
    keyAlgorithm,
    holders,
    threshold,
    algorithm,
    years,
    notBefore,
    notAfter,
    linkNotAfter: new Date(ca.notAfter),
    serials,
    newKeyId,
    outDir,
  };
}

const KINDS: OwnCertificateKind[] = ['new-with-new', 'old-with-new', 'new-with-old'];

function outFile(r: RekeyPlan, kind: OwnCertificateKind): string | undefined {
  return r.outDir && join(r.outDir, `${r.ca.name}${KIND_SUFFIX[kind]}.pem`);
}

/** 4. Lint all three first, then the signatures: the new key twice (one activation each), the old key once. */
async function signRekeyCertificates(
  inst: Installation,
  s: KeySession,
  r: RekeyPlan,
  record: NewCaKey['record'],
  newCustodians: Participant[],
): Promise<Signed> {
  const { ca, algorithm } = r;
  const oldSpki = spkiOf(ca.certificateDer);
  const newSpki = record.publicKeySpki;
  const now = inst.clock.now();
  const plan = (
    i: number,
    subjectSpki: Buffer,
    signerSpki: Buffer,
    signerCertificate: Buffer | null,
    na: Date,
  ): OwnCertificatePlan =>
    planOwnCertificate({
      kind: KINDS[i]!,
      template: ca.certificateDer,
      serial: r.serials[i]!,
      notBefore: r.notBefore,
      notAfter: na,
      signatureAlgorithm: algorithm,
      subjectSpki,
      signerSpki,
      signerCertificate,
      now,
    });
  // OldWithNew is linted against NewWithNew's pre-certificate (same TBS).
  const newWithNew = plan(0, newSpki, newSpki, null, r.notAfter);
  const oldWithNew = plan(1, oldSpki, newSpki, newWithNew.preCertificate, r.linkNotAfter);
  const newWithOld = plan(2, newSpki, oldSpki, ca.certificateDer, r.linkNotAfter);
  const signNew = (data: Buffer, purpose: string) =>
    signOnceWithCaKey(inst, { record, custodians: newCustodians, purpose, target: ca.name }, data, algorithm);
  const nwn = finishOwnCertificate(
    newWithNew,
    await signNew(newWithNew.tbsDer, `NewWithNew self-signed certificate of ${ca.name}`),
    null,
    inst.clock.now(),
  );
  const own = finishOwnCertificate(
    oldWithNew,
    await signNew(oldWithNew.tbsDer, `OldWithNew link certificate of ${ca.name}`),
    nwn.der,
    inst.clock.now(),
  );
  const nwo = finishOwnCertificate(
    newWithOld,
    await s.sign(newWithOld.tbsDer, algorithm, `NewWithOld link certificate of ${ca.name}`),
    ca.certificateDer,
    inst.clock.now(),
  );
  const made = [
    { plan: newWithNew, der: nwn.der, warnings: nwn.warnings },
    { plan: oldWithNew, der: own.der, warnings: own.warnings },
    { plan: newWithOld, der: nwo.der, warnings: nwo.warnings },
  ];
  const warnings = [...new Set(made.flatMap((x) => x.warnings.map((w) => `${x.plan.kind}: ${w.lint}: ${w.message}`)))];
  return { made: made.map(({ plan: x, der }) => ({ plan: x, der })), warnings };
}

/** 6. After the commit (outputs named, transcript file, backup: the runner): the result, with the TSA advice. */
function afterRekey(inst: Installation, r: RekeyPlan, w: RekeyWork, after: AfterCommit): RekeyResult {
  const { ca } = r;
  const warnings = [...after.interrupted.map((q) => q.message), ...w.signed.warnings, ...after.notes];
  for (const q of after.published.pending)
    warnings.push(
      `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; the re-key is committed — write it with rootca ceremony resume ${after.ceremonyId}`,
    );
  const tsaAdvice = tsaCertifiedByRetiredKey(inst, ca.id, ca.keyId);
  if (tsaAdvice) warnings.push(tsaAdvice);
  const [nwn, ...links] = w.signed.made;
  return {
    caName: ca.name,
    ceremonyId: after.ceremonyId,
    keyId: r.newKeyId,
    previousKeyId: ca.keyId,
    serialHex: nwn!.plan.serialHex,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    certificateDer: nwn!.der,
    certificatePem: derToPem(nwn!.der, 'CERTIFICATE'),
    custodians: w.custodians,
    newKeyCustodians: w.newKeyCustodians,
    witness: w.witness,
    warnings,
    outputs: after.published.written,
    transcriptFile: after.transcriptFile,
    backup: after.backup!,
    interrupted: after.interrupted,
    links: links.map(({ plan: l, der }) => ({
      kind: l.kind,
      serialHex: l.serialHex,
      notBefore: l.notBefore,
      notAfter: l.notAfter,
      certificateDer: der,
      certificatePem: derToPem(der, 'CERTIFICATE'),
    })),
  };
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
  return (
    `the internal TSA ${tsa.keyId} was certified by the retired key ${retiredKeyId}; it keeps stamping and its tokens keep verifying against that key's root certificate. ` +
    `To have the new key certify the TSA, run rootca tsa init --ca ${tsa.caName} --holders ${tsa.holders.join(',')} (CPS 5.5.5)`
  );
}
