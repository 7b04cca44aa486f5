/**
 * Status for certificates issued under a key the CA retired at a re-key (CPS 5.6, R-9.1).
 *
 * Policy, and why: a root lives 20 years and its certificates outlive a re-key. Relying parties
 * that hold only the OLD root build OCSP requests whose CertID names the old key (RFC 6960
 * 4.1.1 issuerKeyHash), and accept a response only when the old key, or a responder it
 * certified, signed it (RFC 6960 4.2.2.2; OpenSSL checks exactly this). The new key cannot
 * stand in for it: NewWithOld carries no id-kp-OCSPSigning. So the retired key stays usable
 * for status only — OCSP responses and CRLs for what it issued — never for a certificate:
 * key-session.ts refuses any other operation with RETIRED_KEY_STATUS_ONLY. It is activated
 * like any CA key, by M of ITS custodians with operator and witness (CPS 6.2.2), on an
 * explicit `--retired-key` so nobody signs with it by accident.
 *
 * CRLs: the current key's CRL (crl/NAME.crl, the URL every certificate of the CA names) lists
 * every revocation of the CA. From the new root it verifies directly; from the old root only
 * with RFC 5280 6.3.3 CRL-issuer path building through NewWithOld, which OpenSSL does only
 * with -extended_crl. So the retired key's own CRL is published beside it at crl/KEY_ID.crl
 * for relying parties holding only the old root (plain `openssl verify -crl_check`).
 */
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { parseCertificate } from '../pki/certificate.ts';
import { parseCrl } from '../pki/crl.ts';
import { normalizeSerialHex } from '../pki/integer.ts';
import { PATHS, type CrlMeta } from '../publish/format.ts';
import { retiredCaKeys } from '../lifecycle/ca-certificate-history.ts';
import type { CaSummary } from '../installation/cas.ts';
import type { IssuedCertificate } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import { currentCrl, issuedByKey, type StatusSigner } from './crl-and-ocsp.ts';
import { refuser } from '../operation/refusals.ts';

/** The algorithm a retired key signs status with: its certificate's, SHA-256 instead of SHA-1 (BR 7.1.3.2.1). */
function algorithmOf(certificateDer: Buffer): SignatureAlgorithmName {
  const oid = parseCertificate(certificateDer).signatureAlgorithm.algorithm;
  const alg = Object.values(SIGNATURE_ALGORITHMS).find((a) => a.oid === oid);
  if (!alg) throw new CaError('SIGNATURE_ALGORITHM_UNSUPPORTED', `unknown signature algorithm ${oid}`);
  return alg.legacy ? 'sha256WithRSAEncryption' : alg.name;
}

/**
 * The retired key to sign with: `keyId`, or the CA's only retired key when `true`. Refuses
 * (audited) NO_RETIRED_KEY, RETIRED_KEY_AMBIGUOUS, RETIRED_KEY_UNKNOWN, KEY_DESTROYED.
 */
export function retiredStatusSigner(
  inst: Installation,
  action: string,
  caName: string,
  keyId: string | true,
): StatusSigner {
  const refuse = refuser(inst, action, caName);
  const keys = retiredCaKeys(inst, caName);
  if (keys.length === 0) refuse('NO_RETIRED_KEY', `${caName} was never re-keyed: it has no retired key`);
  let key = keyId === true ? undefined : keys.find((k) => k.keyId === keyId);
  if (keyId === true) {
    const live = keys.filter((k) => k.status === 'retired');
    if (live.length > 1)
      refuse(
        'RETIRED_KEY_AMBIGUOUS',
        `${caName} has ${live.length} retired keys (${live.map((k) => k.keyId).join(', ')}): name one with --retired-key KEY_ID`,
      );
    key = live[0] ?? keys.at(-1);
  }
  if (!key)
    return refuse(
      'RETIRED_KEY_UNKNOWN',
      `${keyId} is not a retired key of ${caName} (${keys.map((k) => k.keyId).join(', ')})`,
    );
  if (key.status !== 'retired')
    refuse('KEY_DESTROYED', `the retired key ${key.keyId} of ${caName} is ${key.status} and cannot sign`);
  return { keyId: key.keyId, certificateDer: key.certificateDer, algorithm: algorithmOf(key.certificateDer) };
}

/**
 * For the publication: the latest CRL each retired key of the CA signed (`rootca crl issue
 * --retired-key`), at crl/KEY_ID.crl, when it is still in date and lists every revocation of
 * what that key issued; otherwise left out with a warning that names the command.
 */
export function previousKeyCrls(
  inst: Installation,
  ca: CaSummary,
  certificates: IssuedCertificate[],
  warnings: string[],
): { ca: string; path: string; der: Buffer; meta: CrlMeta }[] {
  const out: { ca: string; path: string; der: Buffer; meta: CrlMeta }[] = [];
  const now = inst.clock.now().getTime();
  for (const key of retiredCaKeys(inst, ca.name)) {
    const crl = currentCrl(inst, ca.id, key.publicKeySpki);
    if (!crl || Date.parse(crl.nextUpdate) < now) continue;
    const listed = new Set(parseCrl(crl.der).entries.map((e) => normalizeSerialHex(e.serialHex)));
    const missing = certificates.filter(
      (c) => c.caId === ca.id && c.revocation && !listed.has(c.serialHex) && issuedByKey(c.der, key),
    );
    const fix = `rootca crl issue --ca ${ca.name} --retired-key ${key.keyId}`;
    if (missing.length)
      warnings.push(
        `${ca.name}: the CRL #${crl.crlNumber} of the retired key ${key.keyId} misses revoked ${missing.map((c) => c.serialHex).join(', ')}; left out (run ${fix})`,
      );
    else
      out.push({
        ca: ca.name,
        path: PATHS.previousKeyCrl(key.keyId),
        der: crl.der,
        meta: { crlNumber: String(crl.crlNumber), thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate },
      });
  }
  return out;
}
