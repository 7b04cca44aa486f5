/**
 * Delegated OCSP responders (RFC 6960 4.2.2.2, R-3.3): the only private keys the online side
 * may hold. A responder certificate must be issued directly by a published CA (exact issuer
 * Name bytes and a signature that verifies with the CA key), carry id-kp-OCSPSigning, be valid
 * now, and belong to the key it is configured with. One responder per CA.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { readDerOrPem } from '../pki/pem.ts';
import type { VerifiedPublication } from '../publish/verify.ts';
import { certificateInfo, isIssuedBy, type CertificateInfo } from '../pki/certificate-info.ts';
import { certIdsFor } from '../pki/ocsp.ts';
import { type LiveResponseParams, LiveResponseWriter } from '../pki/ocsp-live-response.ts';
import { lintErrors } from '../lint/index.ts';
import { lintOcspResponse } from '../lint/ocsp/index.ts';
import type { VerifiedCa } from '../publish/verify-types.ts';

/** id-kp-OCSPSigning (RFC 6960 4.2.2.2). */
export const id_kp_OCSPSigning = '1.3.6.1.5.5.7.3.9';

export interface ResponderConfig {
  /** The responder certificate, PEM or DER. */
  certificate: Uint8Array;
  /** Its private key, PEM (PKCS#8, possibly encrypted) or DER PKCS#8. */
  key: Uint8Array;
  passphrase?: string | Buffer;
  /** Where it came from, for messages. */
  source?: string;
}

/** A responder certificate and key that belong together. */
export interface ResponderKey {
  cert: CertificateInfo;
  key: KeyObject;
  algorithm: SignatureAlgorithmName;
  /** responderID byKey: SHA-1 of the responder's subjectPublicKey (RFC 6960 4.2.2.3). */
  keyHash: Buffer;
  source: string;
}

/** A responder bound to the CA it answers for in one publication. */
export interface DelegatedResponder extends ResponderKey {
  ca: string;
}

function algorithmFor(key: KeyObject, source: string): SignatureAlgorithmName {
  if (key.asymmetricKeyType === 'rsa') return 'sha256WithRSAEncryption';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-with-SHA256';
    if (curve === 'secp384r1') return 'ecdsa-with-SHA384';
    throw new CaError('RESPONDER_INVALID', `${source}: EC curve ${curve ?? '?'} is not supported (P-256, P-384)`);
  }
  throw new CaError(
    'RESPONDER_INVALID',
    `${source}: ${key.asymmetricKeyType ?? 'unknown'} keys are not supported (RSA, ECDSA)`,
  );
}

/** Reads a responder certificate and key, checking they belong together and the certificate is for OCSP signing. */
export function loadResponderKey(c: ResponderConfig): ResponderKey {
  const source = c.source ?? 'responder';
  let cert: CertificateInfo;
  try {
    cert = certificateInfo(readDerOrPem(c.certificate, 'CERTIFICATE'));
  } catch (e) {
    throw new CaError(
      'RESPONDER_INVALID',
      `${source}: the responder certificate cannot be read: ${(e as Error).message}`,
      { cause: e },
    );
  }
  let key: KeyObject;
  try {
    const buf = Buffer.from(c.key);
    const pem = buf.includes('-----BEGIN');
    key = createPrivateKey(
      pem
        ? { key: buf, format: 'pem', passphrase: c.passphrase }
        : { key: buf, format: 'der', type: 'pkcs8', passphrase: c.passphrase },
    );
  } catch (e) {
    const hint =
      c.passphrase === undefined
        ? ' (an encrypted key needs --responder-key-passphrase env:VAR)'
        : ' (wrong passphrase?)';
    throw new CaError(
      'RESPONDER_INVALID',
      `${source}: the responder key cannot be read${hint}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (key.type !== 'private') throw new CaError('RESPONDER_INVALID', `${source}: not a private key`);
  const algorithm = algorithmFor(key, source);
  const probe = Buffer.from('rootca responder key check');
  const hash = SIGNATURE_ALGORITHMS[algorithm].hash;
  let matches = false;
  try {
    matches = verify(
      hash,
      probe,
      createPublicKey({ key: cert.spkiDer, format: 'der', type: 'spki' }),
      sign(hash, probe, key),
    );
  } catch {
    matches = false;
  }
  if (!matches)
    throw new CaError(
      'RESPONDER_INVALID',
      `${source}: the key does not belong to the responder certificate (${cert.subject})`,
    );
  if (!cert.extKeyUsage?.includes(id_kp_OCSPSigning))
    throw new CaError(
      'RESPONDER_INVALID',
      `${source}: certificate ${cert.subject} has no id-kp-OCSPSigning extended key usage (RFC 6960 4.2.2.2)`,
    );
  return { cert, key, algorithm, keyHash: createHash('sha1').update(cert.publicKey).digest(), source };
}

/** Signs live OCSP responses for one responder: what does not change between answers is prepared once. */
export type LiveSigner = (p: LiveResponseParams) => Buffer;

const liveSigners = new WeakMap<ResponderKey, LiveSigner>();

/**
 * The responder's live signer (RFC 6960 4.2.2.2: its certificate in `certs`; 4.2.2.3:
 * responderID by its key hash), made on first use and kept for the responder object: the
 * writer's constant parts (pki/ocsp-live-response.ts) and the key and hash to sign with.
 */
export function liveSignerOf(k: ResponderKey): LiveSigner {
  let s = liveSigners.get(k);
  if (!s) {
    const writer = new LiveResponseWriter(k.keyHash, k.algorithm, [k.cert.der]);
    const hash = SIGNATURE_ALGORITHMS[k.algorithm].hash;
    const key = k.key;
    const signTbs = (tbs: Buffer) => sign(hash, tbs, key);
    s = (p) => writer.write(p, signTbs);
    liveSigners.set(k, s);
  }
  return s;
}

/**
 * Binds responders to the CAs of a publication: each must be issued by one of its CAs and
 * valid at `now`. Returns the responders by CA name and the reasons others were left out.
 */
export function bindResponders(
  pub: VerifiedPublication,
  keys: ResponderKey[],
  now: Date,
): { byCa: Map<string, DelegatedResponder>; problems: string[] } {
  const byCa = new Map<string, DelegatedResponder>();
  const problems: string[] = [];
  for (const k of keys) {
    const ca = [...pub.cas.values()].find((c) => isIssuedBy(k.cert, c.info));
    if (!ca) {
      problems.push(
        `${k.source}: responder ${k.cert.subject} is not issued by a CA of publication ${pub.manifest.version}`,
      );
      continue;
    }
    if (now < k.cert.notBefore || now > k.cert.notAfter) {
      problems.push(
        `${k.source}: responder ${k.cert.subject} is not valid now (${k.cert.notBefore.toISOString()} .. ${k.cert.notAfter.toISOString()})`,
      );
      continue;
    }
    if (pub.certificates.get(ca.name)?.get(k.cert.serialHex)?.meta.status === 'revoked') {
      problems.push(`${k.source}: responder ${k.cert.subject} is revoked in publication ${pub.manifest.version}`);
      continue;
    }
    const template = templateProblems(k, ca, now);
    if (template.length) {
      problems.push(...template);
      continue;
    }
    if (byCa.has(ca.name)) {
      problems.push(`${k.source}: a second responder for ${ca.name}; the first one is used`);
      continue;
    }
    byCa.set(ca.name, { ...k, ca: ca.name });
  }
  return { byCa, problems };
}

/**
 * Issue 15.8: the response this responder would sign now (a live answer about its own
 * certificate, signed as ocsp-responder.ts signs, an hour long at most, never past its
 * certificate), linted like a pre-signed one (src/lint/ocsp/). Each error is a reason the
 * responder is not used — and, at server start, a reason not to start.
 */
export function templateProblems(k: ResponderKey, ca: VerifiedCa, now: Date): string[] {
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const hour = new Date(thisUpdate.getTime() + 3_600_000);
  const nextUpdate = hour > k.cert.notAfter ? k.cert.notAfter : hour;
  const der = liveSignerOf(k)({
    producedAt: thisUpdate,
    responses: [
      { certId: certIdsFor(ca.der, k.cert.serialHex)[1]!, status: { status: 'good' }, thisUpdate, nextUpdate },
    ],
  });
  return lintErrors(lintOcspResponse(der, { issuer: ca.info, signer: k.cert, now })).map(
    (f) => `${k.source}: responder ${k.cert.subject}'s template response fails ${f.lint}: ${f.message} (${f.citation})`,
  );
}
