/**
 * Who may sign what the online side serves (issue 15): a root key signs only certificates and
 * CRLs (BR 6.1.7), so
 *  - the manifest is signed by a publication key whose certificate (id-kp-documentSigning, RFC
 *    9336) the signer root issued, chained to that root's certificate, a trust anchor;
 *  - each pre-signed OCSP response by a delegated responder whose certificate is in the
 *    response (RFC 6960 4.2.1 certs), issued directly by the key the CertID names, with
 *    id-kp-OCSPSigning (RFC 6960 4.2.2.2), responderID byKey of it, in date for the response.
 * A publication of format 1 (signed by a root directly, before issue 15) is refused with
 * PUBLICATION_ROOT_SIGNED unless the caller re-verifies a copy it imported before
 * (`acceptRootSigned`): then the root signs the manifest and its responses, as it used to.
 */
import { createHash } from 'node:crypto';
import { id_kp_OCSPSigning } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { certificateInfo, isIssuedBy, type CertificateInfo } from '../pki/certificate-info.ts';
import type { ParsedOcspResponse } from '../pki/ocsp.ts';
import { id_kp_documentSigning } from '../pki/profiles.ts';
import { PATHS, ROOT_SIGNED_PUBLICATION_FORMAT } from './format.ts';
import { base64Strict, invalid, why, type ShapedManifest } from './verify-shape.ts';

/** A publication or response signed by a root key itself. */
function rootSigned(what: string): CaError {
  return new CaError(
    'PUBLICATION_ROOT_SIGNED',
    `publication refused: ${what} is signed by a root key directly; a root key signs only certificates and CRLs (BR 6.1.7): sign with the root's delegated key (rootca publication-key issue, rootca ocsp responder issue)`,
    { details: { reason: what } },
  );
}

/** Reads a certificate from the file's base64, as an invalid publication when it is not one. */
function certificateAt(files: Record<string, string>, path: string, what: string): CertificateInfo {
  const b64 = files[path];
  if (b64 === undefined) throw invalid(`${what} ${path} is not in the file`);
  try {
    return certificateInfo(base64Strict(b64, `file ${path}`));
  } catch (e) {
    if (e instanceof CaError && e.code === 'PUBLICATION_INVALID') throw e;
    throw invalid(`${what} ${path}: ${why(e)}`, e);
  }
}

/**
 * Step 2: the certificate whose key signed the manifest. Format 2: the signer root's
 * publication certificate, issued by that root (its certificate a trust anchor), with
 * id-kp-documentSigning, in date. Format 1: the root itself, only with `acceptRootSigned`.
 */
export function manifestSigner(
  m: ShapedManifest,
  files: Record<string, string>,
  opts: { trustAnchors: Buffer[]; now: Date; acceptRootSigned?: boolean },
): CertificateInfo {
  const rootEntry = m.cas.find((c) => c.name === m.signer.ca);
  if (!rootEntry) throw invalid(`signer ${m.signer.ca} is not a published CA`);
  const root = certificateAt(files, rootEntry.certificatePath, 'certificate of the signer root');
  if (!opts.trustAnchors.some((a) => a.equals(root.der)))
    throw invalid(
      `signer certificate ${rootEntry.certificatePath} (${m.signer.ca}) is not a trust anchor of this Repository`,
    );
  const legacy = m.format === ROOT_SIGNED_PUBLICATION_FORMAT;
  if (legacy && !opts.acceptRootSigned) throw rootSigned(`the manifest (format ${m.format})`);
  if (legacy && m.signer.certificatePath !== rootEntry.certificatePath)
    throw invalid(`a format-1 manifest names its root's certificate as signer, not ${m.signer.certificatePath}`);
  const signer = legacy ? root : certificateAt(files, m.signer.certificatePath, 'signer certificate');
  if (!legacy) {
    if (opts.trustAnchors.some((a) => a.equals(signer.der))) throw rootSigned('the manifest');
    if (!m.signer.certificatePath.startsWith(`issued/${m.signer.ca}/`) || !isIssuedBy(signer, root))
      throw invalid(`signer certificate ${m.signer.certificatePath} is not issued by ${m.signer.ca}`);
    if (!signer.extKeyUsage?.includes(id_kp_documentSigning))
      throw invalid(`signer certificate ${m.signer.certificatePath} has no id-kp-documentSigning (RFC 9336)`);
    if (m.signer.certificatePath !== PATHS.certificate(m.signer.ca, signer.serialHex))
      throw invalid(`signer certificate ${m.signer.certificatePath} is not at the path of its serial`);
  }
  if (opts.now < signer.notBefore || opts.now > signer.notAfter)
    throw invalid(
      `signer certificate ${m.signer.certificatePath} is not valid now (${signer.notBefore.toISOString()} .. ${signer.notAfter.toISOString()})`,
    );
  return signer;
}

/**
 * The key a pre-signed response verifies with: its delegated responder's (format 2), or —
 * in a format-1 publication imported before issue 15 — the issuing key itself.
 */
export function ocspResponderKey(
  p: ParsedOcspResponse,
  issuer: { der: Buffer; keyHash: Buffer; spkiDer: Buffer },
  where: string,
  legacy: boolean,
  window: { thisUpdate: Date; nextUpdate?: Date },
): Buffer {
  if (!p.responderKeyHash) throw invalid(`${where}: responderID is not byKey`);
  if (p.responderKeyHash.equals(issuer.keyHash)) {
    if (!legacy) throw rootSigned(where);
    return issuer.spkiDer;
  }
  const issuerInfo = certificateInfo(issuer.der);
  const responder = p.certs
    .map((der) => {
      try {
        return certificateInfo(der);
      } catch {
        return undefined;
      }
    })
    .find((c) => c && createHash('sha1').update(c.publicKey).digest().equals(p.responderKeyHash!));
  if (!responder) throw invalid(`${where}: responderID names no certificate in the response's certs`);
  if (!isIssuedBy(responder, issuerInfo))
    throw invalid(`${where}: the responder certificate is not issued by the key the CertID names (RFC 6960 4.2.2.2)`);
  if (!responder.extKeyUsage?.includes(id_kp_OCSPSigning))
    throw invalid(`${where}: the responder certificate has no id-kp-OCSPSigning (RFC 6960 4.2.2.2)`);
  if (window.thisUpdate < responder.notBefore || (window.nextUpdate ?? window.thisUpdate) > responder.notAfter)
    throw invalid(
      `${where}: the response outlives its responder certificate (valid ${responder.notBefore.toISOString()} .. ${responder.notAfter.toISOString()})`,
    );
  return responder.spkiDer;
}
