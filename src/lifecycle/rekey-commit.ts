/**
 * The re-key's one transaction (rekey.ts): the new key, the three certificates, the CA's switch
 * to the new key, the old key retired, the audit event and the transcript, all or nothing.
 */
import type { NewCaKey } from '../custody/ca-keys.ts';
import type { CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import type { OperationContext } from '../operation/runner.ts';
import type { Participant } from '../people/participants.ts';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { switchCaCertificate } from '../store/cas.ts';
import { retireCaKey } from '../store/ca-keys.ts';
import { sha256Hex } from '../util/digest.ts';
import { recordOwnCertificate } from './ca-certificate-history.ts';
import type { OwnCertificatePlan } from './link-certificates.ts';
import { currentCertificateId } from './renewal.ts';

/** The audit action of a re-key. */
export const ACTION = 'ca.rekey';

/** What the checks settled before anyone is asked for anything. */
export interface RekeyPlan {
  ca: CaSummary;
  keyAlgorithm: KeyAlgorithm;
  holders: string[];
  threshold: number;
  algorithm: SignatureAlgorithmName;
  years: number;
  notBefore: Date;
  notAfter: Date;
  /** RFC 4210 4.4: the links live from the new key's generation until the old certificate expires. */
  linkNotAfter: Date;
  serials: Buffer[];
  newKeyId: string;
  /** --out-dir, resolved. */
  outDir?: string;
}

/** The three certificates the re-key signed (NewWithNew, OldWithNew, NewWithOld) and their lint warnings. */
export interface Signed {
  made: { plan: OwnCertificatePlan; der: Buffer }[];
  warnings: string[];
}

/** The one transaction: the new key, the three certificates, the CA's switch, the old key retired, the audit event, the transcript. */
export function commitRekey(
  inst: Installation,
  x: OperationContext,
  r: RekeyPlan,
  newKey: NewCaKey,
  signed: Signed,
  newCustodians: Participant[],
): void {
  const { ca } = r;
  const s = x.session;
  const { made } = signed;
  const newSpki = newKey.record.publicKeySpki;
  const at = inst.clock.now().toISOString();
  inst.db
    .transaction(() => {
      newKey.persist(at);
      const replaces = currentCertificateId(inst, ca.id);
      const ids = made.map(({ plan: x, der }) =>
        recordOwnCertificate(inst, {
          caId: ca.id,
          kind: x.kind,
          serialHex: x.serialHex,
          subject: ca.subject,
          notBefore: x.notBefore,
          notAfter: x.notAfter,
          sha256: sha256Hex(der),
          der,
          subjectKeyId: x.subjectSpki.equals(newSpki) ? r.newKeyId : ca.keyId,
          signerKeyId: x.signerSpki.equals(newSpki) ? r.newKeyId : ca.keyId,
          replacesCertificateId: replaces,
          ceremonyId: s.ceremonyId,
          now: at,
        }),
      );
      switchCaCertificate(inst.db, ca.id, {
        keyId: r.newKeyId,
        certificateId: ids[0]!,
        signatureAlgorithm: r.algorithm,
        legacySha1: SIGNATURE_ALGORITHMS[r.algorithm].legacy,
      });
      retireCaKey(inst.db, ca.keyId);
      const details = rekeyDetails(r, newKey, signed, newCustodians, s, ids);
      const everyone = [
        ...s.people().map((x) => x.p),
        ...newCustodians.filter((c) => !s.people().some((x) => x.p === c)),
      ];
      inst.audit.append({
        actor: everyone.map((x) => x.operator.name).join(','),
        roles: [...new Set(everyone.flatMap((x) => x.operator.roles))],
        action: ACTION,
        target: ca.name,
        outcome: 'success',
        details: { ...details, ...s.evidence() },
      });
      x.complete({
        inputs: [{ name: `previous certificate ${ca.serialHex}`, sha256: ca.certificateSha256 }],
        outputs: made.map(({ plan: c, der }) => ({
          name: `${ca.name} ${c.kind} ${c.serialHex}.der`,
          sha256: sha256Hex(der),
        })),
        details,
      });
    })
    .immediate();
}

/** The audit event's and the transcript's details: both keys, the custodians, the three certificates, the activations. */
function rekeyDetails(
  r: RekeyPlan,
  newKey: NewCaKey,
  signed: Signed,
  newCustodians: Participant[],
  s: OperationContext['session'],
  ids: number[],
) {
  const { ca } = r;
  const { made } = signed;
  return {
    ceremonyId: s.ceremonyId,
    previousKeyId: ca.keyId,
    keyId: r.newKeyId,
    ...newKey.details,
    keyAlgorithm: r.keyAlgorithm,
    threshold: r.threshold,
    holders: r.holders,
    newKeyCustodians: newCustodians.map((c) => c.operator.name),
    previousCertificateSha256: ca.certificateSha256,
    signatureAlgorithm: r.algorithm,
    certificates: made.map(({ plan: x, der }, i) => ({
      kind: x.kind,
      certificateId: ids[i],
      serial: x.serialHex,
      sha256: sha256Hex(der),
      notBefore: x.notBefore.toISOString(),
      notAfter: x.notAfter.toISOString(),
    })),
    keyActivations: { previousKey: s.signatures, newKey: 2 },
    warnings: signed.warnings,
  };
}
