/**
 * Which delegated key signs now (issue 15): a root key signs only certificates and CRLs (BR
 * 6.1.7; CPS 6.1.7), so pre-signed OCSP responses are signed by the root's OCSP responder key
 * (RFC 6960 4.2.2.2: a delegate "directly issued by the CA that is identified in the request",
 * with id-kp-OCSPSigning) and the publication manifest by its publication key (id-kp-
 * documentSigning, RFC 9336). Rollover: several certificates of one purpose may overlap; the
 * newest in date wins. Making them is delegated-keys.ts.
 */
import { createPublicKey } from 'node:crypto';
import { id_kp_OCSPSigning } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import type { SignatureAlgorithmName } from '../pki/algorithms.ts';
import { certificateInfo, isIssuedBy, type CertificateInfo } from '../pki/certificate-info.ts';
import { id_kp_documentSigning } from '../pki/profiles.ts';
import type { Installation } from '../installation/installation.ts';
import { listDelegatedKeys, type DelegatedKeyView, type DelegatedPurpose } from '../store/delegated-keys.ts';

export type { DelegatedPurpose } from '../store/delegated-keys.ts';

/** The key purpose (EKU) each delegated certificate must carry. */
export const DELEGATED_EKU: Record<DelegatedPurpose, string> = {
  ocsp: id_kp_OCSPSigning,
  publication: id_kp_documentSigning,
};

/** What a delegated key is called in messages. */
export const DELEGATED_WORDS: Record<DelegatedPurpose, string> = {
  ocsp: 'OCSP responder',
  publication: 'publication',
};

/** The command that makes a new delegated key of a purpose (and has the root certify it). */
export const DELEGATED_ISSUE_COMMAND: Record<DelegatedPurpose, string> = {
  ocsp: 'rootca ocsp responder issue',
  publication: 'rootca publication-key issue',
};

/** A delegated key able to sign: its key id, its certificate, and the algorithm it signs with. */
export interface DelegatedSigner {
  keyId: string;
  purpose: DelegatedPurpose;
  caName: string;
  certificateDer: Buffer;
  info: CertificateInfo;
  algorithm: SignatureAlgorithmName;
}

/** ECDSA with the hash of its curve's size (RFC 5758 3.2); RSA with SHA-256. */
export function algorithmForSpki(spki: Buffer): SignatureAlgorithmName {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec') return 'sha256WithRSAEncryption';
  return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ecdsa-with-SHA384' : 'ecdsa-with-SHA256';
}

/** The active delegated keys of a CA for a purpose with their certificates, newest notBefore first. */
export function delegatedKeysOf(
  inst: Installation,
  ca: { id: number },
  purpose: DelegatedPurpose,
): (DelegatedKeyView & { der: Buffer; not_after: string })[] {
  return listDelegatedKeys(inst.db, { caId: ca.id, purpose })
    .filter((k): k is DelegatedKeyView & { der: Buffer; not_after: string } => k.status === 'active' && k.der !== null)
    .filter((k) => k.key_status === 'active')
    .sort((a, b) => Date.parse(b.not_before!) - Date.parse(a.not_before!) || b.created_at.localeCompare(a.created_at));
}

/**
 * The newest delegated key of `purpose` whose certificate the CA's key (`issuer`: its current
 * certificate) issued and which is in date at `at`; DELEGATED_KEY_MISSING, naming the command
 * that makes one, when there is none.
 */
export function delegatedSigner(
  inst: Installation,
  ca: { id: number; name: string; certificateDer: Buffer },
  purpose: DelegatedPurpose,
  at: Date,
): DelegatedSigner {
  const issuer = certificateInfo(ca.certificateDer);
  for (const k of delegatedKeysOf(inst, ca, purpose)) {
    const info = certificateInfo(k.der);
    if (info.notBefore > at || info.notAfter <= at || !isIssuedBy(info, issuer)) continue;
    if (!info.extKeyUsage?.includes(DELEGATED_EKU[purpose])) continue;
    return {
      keyId: k.key_id,
      purpose,
      caName: ca.name,
      certificateDer: k.der,
      info,
      algorithm: algorithmForSpki(info.spkiDer),
    };
  }
  const command = DELEGATED_ISSUE_COMMAND[purpose];
  throw new CaError(
    'DELEGATED_KEY_MISSING',
    `${ca.name} has no ${DELEGATED_WORDS[purpose]} certificate in date that its current key issued: a root key signs only certificates and CRLs (BR 6.1.7), so run ${command} --ca ${ca.name} first`,
    { details: { ca: ca.name, purpose } },
  );
}

/**
 * Whether the CA can re-certify the key of one of its responder or publication certificates in
 * a status ceremony (issue 16 item 2): the key is a delegated key of this CA held here, in
 * service, certified by the CA's current key under this certificate. Otherwise, why not and
 * what to run instead.
 */
export function recertifiableKey(
  inst: Installation,
  ca: { id: number; name: string; keyId: string },
  cert: { id: number; profile: string; serialHex: string },
): { keyId: string; purpose: DelegatedPurpose; threshold: number } | { why: string; command: string } {
  const purpose = cert.profile as DelegatedPurpose;
  const row = listDelegatedKeys(inst.db, { caId: ca.id }).find((k) => k.certificate_id === cert.id);
  if (!row || !(purpose in DELEGATED_EKU))
    return {
      why: `its key is not a delegated key held here`,
      command: `issue its successor from the key holder's request (rootca issue --profile ${cert.profile}) or make a new key (${DELEGATED_ISSUE_COMMAND[purpose] ?? DELEGATED_ISSUE_COMMAND.ocsp} --ca ${ca.name})`,
    };
  const make = `${DELEGATED_ISSUE_COMMAND[row.purpose]} --ca ${ca.name}`;
  if (row.status !== 'active' || row.key_status !== 'active')
    return {
      why: `its key ${row.key_id} is ${row.key_status === 'active' ? row.status : row.key_status}`,
      command: make,
    };
  if (row.issuer_key_id !== ca.keyId)
    return {
      why: `its key ${row.key_id} was certified by ${row.issuer_key_id}, not ${ca.name}'s current key`,
      command: make,
    };
  return { keyId: row.key_id, purpose: row.purpose, threshold: row.threshold };
}
