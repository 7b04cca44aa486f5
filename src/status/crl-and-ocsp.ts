/**
 * Status information of a root: CRLs, signed by the root key, and
 * pre-signed OCSP responses, signed by the root's delegated OCSP responder key (BR 6.1.7,
 * RFC 6960 4.2.2.2; custody/delegated-signers.ts) — never by the root key. Each is made inside
 * a key session — one activation per signature — and CRLs are linted under a throwaway key
 * before the root key signs, as certificates are.
 */
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CaError } from '../errors.ts';
import { assertNoCrlLintErrors, lintCrl } from '../lint/crl/index.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { parseCertificate } from '../pki/certificate.ts';
import {
  addCrlEntry,
  assembleSignedCrl,
  REVOCATION_REASON_CODES,
  reasonOnlyExtensions,
  tbsCertListAround,
  verifyCrlSignature,
  type CrlEntry,
  type RevocationReason,
} from '../pki/crl.ts';
import { derChildren } from '../pki/der.ts';
import { verifyTbsSignature } from '../pki/signature-verify.ts';
import { keyIdentifierFromSpki } from '../pki/extensions.ts';
import { sha256Hex } from '../util/digest.ts';
import { faultPoint } from '../util/fault-points.ts';
import type { CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import type { KeySession } from '../operation/key-session.ts';
import { certificateInfo, isIssuedBy } from '../pki/certificate-info.ts';
import { RevokedListWriter } from '../pki/crl-list-writer.ts';
import { currentCaCertificateDer } from '../store/cas.ts';
import { crlsNewestFirst, insertCrl, takeNextCrlNumber } from '../store/crls.ts';
import { type CrlEntryRow, forEachCrlEntryPage } from '../store/revocations.ts';
import { currentOcspResponseRows } from '../store/ocsp-responses.ts';

const DAY = 86_400_000;

/**
 * The algorithm for a CA's CRLs and OCSP responses. RootCA1's certificates are SHA-1 signed
 * (legacy), but what it signs now for status uses SHA-256 with the same RSA key (R-1.3: "can
 * sign CRLs/OCSP for what it issued"; BR 7.1.3.2.1 no longer allows SHA-1 there).
 */
export function statusSignatureAlgorithm(ca: CaSummary): SignatureAlgorithmName {
  return SIGNATURE_ALGORITHMS[ca.signatureAlgorithm].legacy ? 'sha256WithRSAEncryption' : ca.signatureAlgorithm;
}

function caSpki(ca: { certificateDer: Buffer }): Buffer {
  return Buffer.from(AsnConvert.serialize(parseCertificate(ca.certificateDer).tbsCertificate.subjectPublicKeyInfo));
}

/**
 * The key a status session signs with and the CA certificate that carries it: the CA's
 * current one, or — for `--retired-key` (status/retired-keys.ts) — a key retired at a re-key
 * with the certificate it had. OCSP CertIDs name the key that issued the certificate (RFC
 * 6960 4.1.1 issuerKeyHash), and OpenSSL accepts a response for such a CertID only when
 * that key (or a delegate it certified) signed it.
 */
export interface StatusSigner {
  keyId: string;
  certificateDer: Buffer;
  algorithm: SignatureAlgorithmName;
}

export function currentStatusSigner(ca: CaSummary): StatusSigner {
  return { keyId: ca.keyId, certificateDer: ca.certificateDer, algorithm: statusSignatureAlgorithm(ca) };
}

/** True when the certificate's signature verifies with the signer's key (the key that issued it). */
export function issuedByKey(certificateDer: Buffer, signer: { certificateDer: Buffer }): boolean {
  return isIssuedBy(certificateInfo(certificateDer), certificateInfo(signer.certificateDer));
}

/**
 * A key of the CA key's type and size, for the pre-signing lint (never stored). One per type
 * and size per process: it only gives the linted TBS a signature of the right shape, and a
 * fresh RSA-4096 key for every certificate and CRL cost seconds each (issue 20.1, 20.6).
 */
const throwaways = new Map<string, KeyObject>();
export function throwawayLike(spki: Buffer): KeyObject {
  const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const d = pub.asymmetricKeyDetails ?? {};
  const kind = pub.asymmetricKeyType === 'rsa' ? `rsa:${d.modulusLength ?? 2048}` : `ec:${d.namedCurve ?? 'P-384'}`;
  let key = throwaways.get(kind);
  if (!key) {
    key =
      pub.asymmetricKeyType === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: d.modulusLength ?? 2048 }).privateKey
        : generateKeyPairSync('ec', { namedCurve: d.namedCurve ?? 'P-384' }).privateKey;
    throwaways.set(kind, key);
  }
  return key;
}

export interface IssuedCrl {
  crlNumber: number;
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: number;
  sha256: string;
}

/**
 * How a status operation joins the never-half-done protocol (durable-outputs.ts): `signed`
 * runs after the signatures are checked and before anything is stored (stage the files);
 * `inCommit` runs inside the transaction that stores them with their audit event (transcript,
 * ceremony completed, staged outputs recorded), so the whole operation commits at once.
 */
export interface StatusCommitHooks<T> {
  signed?(result: T): void;
  inCommit?(result: T): void;
}

/**
 * Issues the CA's next CRL in the session: every revocation of the CA, v2 with AKI and a CRL
 * number that is reserved (committed) before the key signs, so it only grows.
 */
export async function issueCrlInSession(
  inst: Installation,
  s: KeySession,
  signer: StatusSigner = currentStatusSigner(s.ca),
  hooks: StatusCommitHooks<IssuedCrl> = {},
): Promise<IssuedCrl> {
  const ca = s.ca;
  const issuer = parseCertificate(signer.certificateDer);
  const spki = caSpki(signer);
  const algorithm = signer.algorithm;
  const thisUpdate = inst.clock.now();
  thisUpdate.setUTCMilliseconds(0);
  const nextUpdate = new Date(thisUpdate.getTime() + inst.config.crl.validityDays * DAY);
  // Intent: the number is taken before anything is signed.
  const crlNumber = inst.db.transaction(() => takeNextCrlNumber(inst.db, ca.id)).immediate();
  faultPoint('crl.issue:number-reserved');
  const tbs = tbsCertListAround(
    {
      signatureAlgorithm: algorithm,
      issuer: issuer.tbsCertificate.subject,
      thisUpdate,
      nextUpdate,
      crlNumber: BigInt(crlNumber),
      authorityKeyIdentifier: keyIdentifierFromSpki(spki),
    },
    revokedList(inst, ca.id),
  );
  const lintContext = { issuer, now: inst.clock.now(), allowLegacySha1: false };
  const hash = SIGNATURE_ALGORITHMS[algorithm].hash;
  const pre = assembleSignedCrl(tbs.der, algorithm, cryptoSign(hash, tbs.der, throwawayLike(spki)));
  assertNoCrlLintErrors(lintCrl(pre, lintContext), `the CRL #${crlNumber} of ${ca.name}`);
  const signature = await s.sign(tbs.der, algorithm, `CRL #${crlNumber}`);
  const der = assembleSignedCrl(tbs.der, algorithm, signature);
  // The signed CRL is the linted one with another signatureValue (no lint reads that field), so
  // rather than parse and lint the whole list again, check it holds the linted bytes and verifies.
  if (!signedOver(der, pre) || !verifyTbsSignature(tbs.der, SIGNATURE_ALGORITHMS[algorithm].oid, signature, spki))
    throw new CaError('SIGNATURE_INVALID', `CRL #${crlNumber} does not verify with the ${ca.name} key`);
  const sha256 = sha256Hex(der);
  const crl: IssuedCrl = { crlNumber, der, thisUpdate, nextUpdate, entries: tbs.entries, sha256 };
  hooks.signed?.(crl);
  recordCrl(inst, s, signer, crl, hooks);
  return crl;
}

/**
 * The CA's revocations as the CRL's revokedCertificates, written as they are read from the store
 * (issue 17.5): an entry stored in the usual form (lower-case hex serial, toISOString time, a
 * reason, no invalidity date) straight from the page's bytes, any other through its CrlEntry.
 */
function revokedList(inst: Installation, caId: number): RevokedListWriter {
  const list = new RevokedListWriter();
  forEachCrlEntryPage(inst.db, caId, (page) => {
    const text = page.text;
    while (page.next()) {
      if (text && page.invalidityStart === -1) {
        const reason = reasonNamed(text, page.reasonStart, page.reasonEnd);
        const exts = reason && reasonOnlyExtensions(reason);
        if (exts && list.addText(text, page.serialStart, page.serialEnd, page.revokedStart, page.revokedEnd, exts))
          continue;
      }
      addCrlEntry(list, crlEntryOf(page.row()));
    }
  });
  return list;
}

/** A stored revocation as a CRL entry. */
function crlEntryOf([serialHex, revokedAt, reason, invalidityDate]: CrlEntryRow): CrlEntry {
  return {
    serialHex,
    revocationDate: new Date(revokedAt),
    reason: reason as RevocationReason,
    invalidityDate: invalidityDate ? new Date(invalidityDate) : undefined,
  };
}

const REASON_NAMES = (Object.keys(REVOCATION_REASON_CODES) as RevocationReason[]).map((name) => ({
  name,
  bytes: Buffer.from(name, 'latin1'),
}));

/** The RevocationReason whose name is buf[start, end), if any. */
function reasonNamed(buf: Buffer, start: number, end: number): RevocationReason | undefined {
  for (const { name, bytes } of REASON_NAMES) {
    if (bytes.length !== end - start) continue;
    let i = 0;
    while (i < bytes.length && bytes[i] === buf[start + i]) i++;
    if (i === bytes.length) return name;
  }
  return undefined;
}

/** True when `signed` is `linted` with only its signatureValue changed (same TBSCertList and algorithm bytes). */
function signedOver(signed: Buffer, linted: Buffer): boolean {
  const parts = derChildren(signed);
  const [lintedTbs, lintedAlg] = derChildren(linted);
  return parts.length === 3 && parts[0]!.equals(lintedTbs!) && parts[1]!.equals(lintedAlg!);
}

/** The CRL row and its audit event in one transaction (with the caller's in-commit hook). */
function recordCrl(
  inst: Installation,
  s: KeySession,
  signer: StatusSigner,
  crl: IssuedCrl,
  hooks: StatusCommitHooks<IssuedCrl>,
): void {
  const ca = s.ca;
  inst.db
    .transaction(() => {
      insertCrl(inst.db, {
        caId: ca.id,
        crlNumber: crl.crlNumber,
        thisUpdate: crl.thisUpdate.toISOString(),
        nextUpdate: crl.nextUpdate.toISOString(),
        entries: crl.entries,
        sha256: crl.sha256,
        der: crl.der,
        ceremonyId: s.ceremonyId,
        createdAt: inst.clock.now().toISOString(),
      });
      inst.audit.append({
        actor: s.operator.operator.name,
        roles: s.operator.operator.roles,
        action: 'crl.issued',
        target: ca.name,
        outcome: 'success',
        details: {
          keyId: signer.keyId,
          crlNumber: crl.crlNumber,
          entries: crl.entries,
          thisUpdate: crl.thisUpdate.toISOString(),
          nextUpdate: crl.nextUpdate.toISOString(),
          sha256: crl.sha256,
          ceremonyId: s.ceremonyId,
        },
      });
      hooks.inCommit?.(crl);
    })
    .immediate();
}

/**
 * The current CRL of a CA, if any: the latest one signed with `spki` (the CA's current key by
 * default; a CRL signed by a retired key with `--retired-key` is not the CA's current CRL).
 */
export function currentCrl(
  inst: Installation,
  caId: number,
  spki?: Buffer,
): { crlNumber: number; der: Buffer; thisUpdate: string; nextUpdate: string } | undefined {
  const key = spki ?? caSpki({ certificateDer: currentCaCertificateDer(inst.db, caId)! });
  for (const r of crlsNewestFirst(inst.db, caId)) {
    if (verifyCrlSignature(r.der, key))
      return { crlNumber: r.crl_number, der: r.der, thisUpdate: r.this_update, nextUpdate: r.next_update };
  }
  return undefined;
}

/** The latest pre-signed response per certificate and hash for a CA. */
export function currentOcspResponses(
  inst: Installation,
  caId: number,
): {
  certificateId: number;
  hash: 'sha1' | 'sha256';
  certIdKey: string;
  status: 'good' | 'revoked';
  thisUpdate: string;
  nextUpdate: string;
  der: Buffer;
}[] {
  return currentOcspResponseRows(inst.db, caId).map((r) => ({
    certificateId: r.certificate_id,
    hash: r.hash_algorithm,
    certIdKey: r.cert_id_key,
    status: r.status,
    thisUpdate: r.this_update,
    nextUpdate: r.next_update,
    der: r.der,
  }));
}
