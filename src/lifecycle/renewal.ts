/**
 * Renewal of a CA certificate (CPS 5.6, R-9.1): the same key, a new self-signed certificate
 * with the same subject and extensions, a new serial and a new validity. A ceremony: the
 * operator, a witness and M custodians of the key (key session, one activation), intent (a
 * started ceremony and the reserved serial) before the key signs, lint before and after, and
 * one transaction for the certificate, the CA's switch to it, the audit event and the
 * transcript. Certificates issued before stay valid under the renewed certificate (same Name,
 * same key identifier); the old certificate remains in the store as history.
 */
import { resolve } from 'node:path';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { derToPem } from '../pki/pem.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom } from '../pki/serial.ts';
import { sha256Hex } from '../util/digest.ts';
import type { BackupOutcome } from '../records/backups.ts';
import { recordOwnCertificate } from './ca-certificate-history.ts';
import { getCa, type CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import { runOperation, type OperationContext } from '../operation/runner.ts';
import { finishOwnCertificate, planOwnCertificate, spkiOf, type OwnCertificatePlan } from './link-certificates.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { currentCaCertificateId, switchCaCertificate } from '../store/cas.ts';
import { findCaKeyFacts } from '../store/ca-keys.ts';
import { reserveSerial } from '../store/serial-reservations.ts';
import type { Checks, Refuse } from '../operation/refusals.ts';

export interface RenewParams {
  caName: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  /** Years of validity from now; default: as long as the current certificate. */
  years?: number;
  /** Default: the CA's algorithm; SHA-1 (legacy RootCA1, R-1.3) becomes sha256WithRSAEncryption. */
  signatureAlgorithm?: SignatureAlgorithmName;
  /** Write the new certificate (PEM) here; checked before anyone is asked, never overwritten. */
  out?: string;
}

export interface ChangeoverResult {
  caName: string;
  ceremonyId: number;
  keyId: string;
  /** The CA's new current certificate. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  certificateDer: Buffer;
  certificatePem: string;
  custodians: string[];
  witness: string;
  warnings: string[];
  outputs: string[];
  transcriptFile: string;
  backup: BackupOutcome;
  /** Interrupted ceremonies this run found and finished or closed first. */
  interrupted: InterruptedWork[];
}

const ACTION = 'ca.renew';
/** CPS 5.6: "The validity period of CA Private Keys is assumed to be twenty (20) years." */
export const KEY_LIFE_YEARS = 20;
const YEAR_MS = 365.25 * 86_400_000;

/** A new notBefore (whole seconds) and notAfter `years` calendar years later. */
export function validityFromNow(now: Date, years: number): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(now);
  notBefore.setUTCMilliseconds(0);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  return { notBefore, notAfter };
}

/** The certificate's life in whole years (rounded), for "as long as the current one". */
export function yearsOf(notBefore: string, notAfter: string): number {
  return Math.max(1, Math.round((Date.parse(notAfter) - Date.parse(notBefore)) / YEAR_MS));
}

/** The algorithm a changeover signs with: the one asked for, else the CA's, SHA-1 replaced. */
export function changeoverAlgorithm(
  current: SignatureAlgorithmName,
  requested: SignatureAlgorithmName | undefined,
): SignatureAlgorithmName {
  if (requested) return requested;
  return SIGNATURE_ALGORITHMS[current].legacy ? 'sha256WithRSAEncryption' : current;
}

/** What a changeover signed, and who activated the key. */
export interface Signed {
  der: Buffer;
  custodians: string[];
  witness: string;
}

/** What a renewal settled before anyone is asked for anything. */
interface RenewalPlan {
  ca: CaSummary;
  algorithm: SignatureAlgorithmName;
  plan: OwnCertificatePlan;
  warnings: string[];
  out?: string;
}

/** Renews on the runner (operation/runner.ts): checks and --out first, then one signature and one transaction. */
export async function renewCa(inst: Installation, p: RenewParams): Promise<ChangeoverResult> {
  return runOperation(inst, {
    action: ACTION,
    target: p.caName,
    check: (c) => checkRenewal(inst, p, c),
    outputs: () => (p.out ? [{ path: p.out, what: '--out' }] : []),
    people: ({ ca, plan }) => ({
      caName: ca.name,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      describe: {
        serial: plan.serialHex,
        tbsSha256: sha256Hex(plan.tbsDer),
        notBefore: plan.notBefore.toISOString(),
        notAfter: plan.notAfter.toISOString(),
      },
    }),
    work: (r, x) => signRenewal(inst, r, x),
    finish: ({ ca, plan, warnings }, { der, custodians, witness }, after) => {
      for (const q of after.published.pending)
        warnings.push(
          `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; the certificate is stored — write it with rootca ceremony resume ${after.ceremonyId}`,
        );
      return {
        caName: ca.name,
        ceremonyId: after.ceremonyId,
        keyId: ca.keyId,
        serialHex: plan.serialHex,
        notBefore: plan.notBefore,
        notAfter: plan.notAfter,
        certificateDer: der,
        certificatePem: derToPem(der, 'CERTIFICATE'),
        custodians,
        witness,
        warnings: [...after.interrupted.map((w) => w.message), ...warnings, ...after.notes],
        outputs: after.published.written,
        transcriptFile: after.transcriptFile,
        backup: after.backup!,
        interrupted: after.interrupted,
      };
    },
  });
}

/** Everything checked before anyone is asked: the CA, --years, the certificate linted (CPS 5.6, R-9.1). */
function checkRenewal(inst: Installation, p: RenewParams, { refuse, guard }: Checks): RenewalPlan {
  const ca = guard(() => getCa(inst, p.caName));
  checkYears(p.years, refuse);
  const algorithm = changeoverAlgorithm(ca.signatureAlgorithm, p.signatureAlgorithm);
  const spki = spkiOf(ca.certificateDer);
  const years = p.years ?? yearsOf(ca.notBefore, ca.notAfter);
  const { notBefore, notAfter } = validityFromNow(inst.clock.now(), years);
  const serial = serialFromRandom(inst.random(SERIAL_RANDOM_BYTES));
  const plan = guard(() =>
    planOwnCertificate({
      kind: 'renewed',
      template: ca.certificateDer,
      serial,
      notBefore,
      notAfter,
      signatureAlgorithm: algorithm,
      subjectSpki: spki,
      signerSpki: spki,
      signerCertificate: null,
      now: inst.clock.now(),
    }),
  );
  const warnings = plan.preFindings.filter((f) => f.severity === 'warning').map((f) => `${f.lint}: ${f.message}`);
  const keyCreated = findCaKeyFacts(inst.db, ca.keyId)?.created_at;
  if (keyCreated && (notAfter.getTime() - Date.parse(keyCreated)) / YEAR_MS > KEY_LIFE_YEARS + 0.01) {
    warnings.push(
      `the key ${ca.keyId} (made ${keyCreated.slice(0, 10)}) would be in use until ${notAfter.toISOString().slice(0, 10)}, beyond the ${KEY_LIFE_YEARS}-year key life of CPS 5.6; consider rootca ca rekey`,
    );
  }
  return { ca, algorithm, plan, warnings, ...(p.out ? { out: resolve(p.out) } : {}) };
}

/** Intent (the serial), one activation and one signature, the output staged, then the one transaction. */
async function signRenewal(
  inst: Installation,
  { ca, algorithm, plan, warnings, out }: RenewalPlan,
  x: OperationContext,
): Promise<Signed> {
  const s = x.session;
  reserveSerial(inst.db, ca.id, plan.serialHex, s.ceremonyId, inst.clock.now().toISOString());
  const signature = await s.sign(plan.tbsDer, algorithm, `renewed self-signed certificate of ${ca.name}`);
  const { der, warnings: postWarnings } = finishOwnCertificate(plan, signature, null, inst.clock.now());
  for (const w of postWarnings)
    if (!warnings.some((q) => q.startsWith(`${w.lint}:`))) warnings.push(`${w.lint}: ${w.message}`);
  const sha256 = sha256Hex(der);
  if (out) x.files.stage(out, derToPem(der, 'CERTIFICATE'), { table: 'certificates', sha256, encoding: 'pem' });
  const now = inst.clock.now().toISOString();
  inst.db
    .transaction(() => {
      const certificateId = recordOwnCertificate(inst, {
        caId: ca.id,
        kind: 'renewed',
        serialHex: plan.serialHex,
        subject: ca.subject,
        notBefore: plan.notBefore,
        notAfter: plan.notAfter,
        sha256,
        der,
        subjectKeyId: ca.keyId,
        signerKeyId: ca.keyId,
        replacesCertificateId: currentCertificateId(inst, ca.id),
        ceremonyId: s.ceremonyId,
        now,
      });
      switchCaCertificate(inst.db, ca.id, {
        certificateId,
        signatureAlgorithm: algorithm,
        legacySha1: SIGNATURE_ALGORITHMS[algorithm].legacy,
      });
      const details = {
        ceremonyId: s.ceremonyId,
        keyId: ca.keyId,
        certificateId,
        serial: plan.serialHex,
        certificateSha256: sha256,
        previousSerial: ca.serialHex,
        previousCertificateSha256: ca.certificateSha256,
        notBefore: plan.notBefore.toISOString(),
        notAfter: plan.notAfter.toISOString(),
        signatureAlgorithm: algorithm,
        keyActivations: s.signatures,
        warnings,
      };
      x.audit(details);
      x.complete({
        inputs: [{ name: `current certificate ${ca.serialHex}`, sha256: ca.certificateSha256 }],
        outputs: [{ name: `${ca.name} renewed certificate ${plan.serialHex}.der`, sha256 }],
        details,
      });
    })
    .immediate();
  return { der, custodians: s.custodians.map((c) => c.operator.name), witness: s.witness.operator.name };
}

/** BR 7.1.2.1.1: a root certificate's validity is at most 9132 days (25 years). */
export function checkYears(years: number | undefined, refuse: Refuse): void {
  if (years !== undefined && (!Number.isInteger(years) || years < 1 || years > 25)) {
    refuse(
      'VALIDITY_INVALID',
      `--years must be a whole number from 1 to 25 (BR 7.1.2.1.1: at most 9132 days), got ${years}`,
    );
  }
}

export function currentCertificateId(inst: Installation, caId: number): number {
  const id = currentCaCertificateId(inst.db, caId);
  if (!id) throw new CaError('CA_WITHOUT_CERTIFICATE', `CA #${caId} has no current certificate`);
  return id;
}
