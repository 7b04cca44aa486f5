/**
 * Step 5 of verifying a publication: each CRL, issued certificate and pre-signed OCSP response
 * is signed by its CA (or an earlier key of it), and their statuses agree.
 */
import { isIssuedBy, certificateInfo, type CertificateInfo } from '../pki/certificate-info.ts';
import { parseCrl, type ParsedCrl } from '../pki/crl.ts';
import { normalizeSerialHex } from '../pki/integer.ts';
import { certIdLookupKey, certIdsFor, parseOcspResponse } from '../pki/ocsp.ts';
import { verifyTbsSignature } from '../pki/signature-verify.ts';
import type { CertificateMeta, CrlMeta, OcspResponseMeta, PublicationItem } from './format.ts';
import { invalid, sameSecond, why, type ShapedManifest } from './verify-shape.ts';
import { ocspResponderKey } from './verify-signers.ts';
import type { VerifiedCa, VerifiedCertificate, VerifiedCrl, VerifiedOcspResponse } from './verify-types.ts';

/** The current CRL of each CA, and those earlier keys of re-keyed CAs signed beside them. */
export function verifyCrls(
  m: ShapedManifest,
  items: Map<string, PublicationItem>,
  files: Map<string, Buffer>,
  cas: Map<string, VerifiedCa>,
): { crls: Map<string, VerifiedCrl>; previousKeyCrls: VerifiedCrl[] } {
  const crls = new Map<string, VerifiedCrl>();
  for (const c of m.cas) {
    if (c.crlPath === null) continue;
    const item = items.get(c.crlPath);
    if (!item || item.kind !== 'crl' || item.ca !== c.name)
      throw invalid(`CA ${c.name}: ${c.crlPath} is not its crl item`);
  }
  const previousKeyCrls: VerifiedCrl[] = [];
  for (const item of items.values()) {
    if (item.kind !== 'crl') continue;
    const ca = cas.get(item.ca!)!;
    const der = files.get(item.path)!;
    let parsed: ParsedCrl;
    try {
      parsed = parseCrl(der);
    } catch (e) {
      throw invalid(`CRL ${item.path}: ${why(e)}`, e);
    }
    if (!parsed.issuerDer.equals(ca.subjectDer))
      throw invalid(`CRL ${item.path}: issuer is not the subject of ${ca.name}`);
    const signedBy = (spki: Buffer): boolean => {
      try {
        return verifyTbsSignature(parsed.tbsDer, parsed.signatureAlgorithmOid, parsed.signature, spki);
      } catch (e) {
        throw invalid(`CRL ${item.path}: signature cannot be checked: ${why(e)}`, e);
      }
    };
    // Beside the current CRL, one a previous key of a re-keyed CA signed for what it issued (CPS 5.6).
    const previous = ca.crlPath === item.path ? undefined : ca.previousKeys.find((k) => signedBy(k.link.spkiDer));
    if (ca.crlPath !== item.path && (!previous || ca.crlPath === null || !item.path.startsWith('crl/'))) {
      throw invalid(
        `CRL ${item.path} is not the current CRL of ${ca.name} (${ca.crlPath ?? 'none'}) nor a crl/ one of an earlier key of ${ca.name} beside it`,
      );
    }
    if (!previous && !signedBy(ca.spkiDer))
      throw invalid(`CRL ${item.path}: signature does not verify with the key of ${ca.name}`);
    const meta = item.meta as CrlMeta;
    if (parsed.crlNumber === undefined || parsed.crlNumber.toString() !== meta.crlNumber)
      throw invalid(
        `CRL ${item.path}: cRLNumber ${parsed.crlNumber ?? 'absent'} does not match the manifest (${meta.crlNumber})`,
      );
    if (
      !sameSecond(parsed.thisUpdate, new Date(meta.thisUpdate)) ||
      !parsed.nextUpdate ||
      !sameSecond(parsed.nextUpdate, new Date(meta.nextUpdate))
    ) {
      throw invalid(`CRL ${item.path}: thisUpdate/nextUpdate do not match the manifest`);
    }
    if (previous) previousKeyCrls.push({ ca: ca.name, path: item.path, der, meta, parsed, previousKey: previous });
    else crls.set(ca.name, { ca: ca.name, path: item.path, der, meta, parsed });
  }
  return { crls, previousKeyCrls };
}

/** Issued certificates by CA and serial; each verifies under its CA and agrees with the CRLs. */
export function verifyCertificates(
  items: Map<string, PublicationItem>,
  files: Map<string, Buffer>,
  cas: Map<string, VerifiedCa>,
  crls: VerifiedCrl[],
): Map<string, Map<string, VerifiedCertificate>> {
  const certificates = new Map<string, Map<string, VerifiedCertificate>>([...cas.keys()].map((n) => [n, new Map()]));
  for (const item of items.values()) {
    if (item.kind !== 'certificate') continue;
    const ca = cas.get(item.ca!)!;
    const der = files.get(item.path)!;
    let info: CertificateInfo;
    try {
      info = certificateInfo(der);
    } catch (e) {
      throw invalid(`certificate ${item.path}: ${why(e)}`, e);
    }
    if (!item.path.startsWith(`issued/${ca.name}/`))
      throw invalid(`certificate ${item.path} is not under issued/${ca.name}/`);
    // By the CA's key, or by an earlier key of the CA that a verified OldWithNew certifies.
    if (!isIssuedBy(info, ca.info) && !ca.previousKeys.some((k) => isIssuedBy(info, k.link)))
      throw invalid(`certificate ${item.path}: not issued by ${ca.name} (issuer name or signature)`);
    const meta = item.meta as CertificateMeta;
    if (normalizeSerialHex(meta.serialHex) !== info.serialHex)
      throw invalid(
        `certificate ${item.path}: serial ${info.serialHex} does not match the manifest (${meta.serialHex})`,
      );
    if (meta.status === 'revoked' && meta.revokedAt === undefined)
      throw invalid(`certificate ${item.path}: revoked without revokedAt`);
    const byCa = certificates.get(ca.name)!;
    if (byCa.has(info.serialHex))
      throw invalid(`certificate ${item.path}: serial ${info.serialHex} of ${ca.name} is published twice`);
    byCa.set(info.serialHex, { ca: ca.name, path: item.path, der, meta, info });
  }
  // A CRL and the certificates agree (R-2.2: the CRL holds every revocation); an earlier key's
  // CRL, every revocation of what that key issued.
  for (const crl of crls) {
    const onCrl = new Set(crl.parsed.entries.map((e) => normalizeSerialHex(e.serialHex)));
    for (const [serial, cert] of certificates.get(crl.ca)!) {
      if (crl.previousKey && !isIssuedBy(cert.info, crl.previousKey.link)) continue;
      if (cert.meta.status === 'revoked' && !onCrl.has(serial))
        throw invalid(`certificate ${cert.path} is revoked but not on CRL ${crl.path}`);
      if (cert.meta.status === 'good' && onCrl.has(serial))
        throw invalid(`certificate ${cert.path} is good in the manifest but on CRL ${crl.path}`);
    }
  }
  return certificates;
}

/** The serial and the key the response's CertID names: the CA's, or an earlier one for what it issued. */
function certIdKeyOf(
  ca: VerifiedCa,
  meta: OcspResponseMeta,
  where: string,
): { serial: string; key: { der: Buffer; spkiDer: Buffer; keyHash: Buffer } } {
  let serial: string;
  // The key the CertID names (the CA's, or an earlier one for what it issued) certifies the responder.
  let key: { der: Buffer; spkiDer: Buffer; keyHash: Buffer } | undefined;
  try {
    serial = normalizeSerialHex(meta.serialHex);
    const keys = [
      { der: ca.der, spkiDer: ca.spkiDer, keyHash: ca.keyHash },
      ...ca.previousKeys.map((k) => ({ der: k.link.der, spkiDer: k.link.spkiDer, keyHash: k.keyHash })),
    ];
    key = keys.find((k) =>
      certIdsFor(k.der, serial).some(
        (id) => id.hashAlgorithm === meta.hashAlgorithm && certIdLookupKey(id) === meta.certIdKey,
      ),
    );
  } catch (e) {
    throw invalid(`${where}: ${why(e)}`, e);
  }
  if (!key)
    throw invalid(
      `${where}: meta.certIdKey is not the ${meta.hashAlgorithm} CertID of serial ${serial} under ${ca.name}`,
    );
  return { serial, key };
}

/**
 * Pre-signed OCSP responses by certIdLookupKey: signed by the key their CertID names, never
 * good for what was not issued.
 */
export function verifyOcspResponses(
  items: Map<string, PublicationItem>,
  files: Map<string, Buffer>,
  cas: Map<string, VerifiedCa>,
  certificates: Map<string, Map<string, VerifiedCertificate>>,
  legacy = false,
): Map<string, VerifiedOcspResponse> {
  const index = new Map<string, VerifiedOcspResponse>();
  for (const item of items.values()) {
    if (item.kind !== 'ocsp-response') continue;
    const ca = cas.get(item.ca!)!;
    const meta = item.meta as OcspResponseMeta;
    const der = files.get(item.path)!;
    const where = `OCSP response ${item.path}`;
    const { serial, key } = certIdKeyOf(ca, meta, where);
    let p;
    try {
      p = parseOcspResponse(der);
    } catch (e) {
      throw invalid(`${where}: ${why(e)}`, e);
    }
    if (p.status !== 'successful' || !p.tbsDer || !p.signature || !p.signatureAlgorithmOid)
      throw invalid(`${where}: status ${p.status}, not a successful signed response`);
    if (p.responses.length !== 1) throw invalid(`${where}: holds ${p.responses.length} SingleResponses, expected 1`);
    const signerSpki = ocspResponderKey(p, key, where, legacy, p.responses[0]!);
    let ok = false;
    try {
      ok = verifyTbsSignature(p.tbsDer, p.signatureAlgorithmOid, p.signature, signerSpki);
    } catch (e) {
      throw invalid(`${where}: signature cannot be checked: ${why(e)}`, e);
    }
    if (!ok) throw invalid(`${where}: signature does not verify with the responder key of ${ca.name}`);
    if (p.nonce) throw invalid(`${where}: a pre-signed response carries a nonce`);
    const single = p.responses[0]!;
    if (certIdLookupKey(single.certId) !== meta.certIdKey)
      throw invalid(`${where}: its CertID does not match meta.certIdKey`);
    if (single.status.status !== meta.status)
      throw invalid(`${where}: status ${single.status.status} does not match the manifest (${meta.status})`);
    if (!single.nextUpdate) throw invalid(`${where}: has no nextUpdate (RFC 5019 2.2.4)`);
    if (
      !sameSecond(single.thisUpdate, new Date(meta.thisUpdate)) ||
      !sameSecond(single.nextUpdate, new Date(meta.nextUpdate))
    ) {
      throw invalid(`${where}: thisUpdate/nextUpdate do not match the manifest`);
    }
    // Never "good" for a serial the CA did not issue: a good answer needs the certificate.
    const cert = certificates.get(ca.name)!.get(serial);
    if (meta.status === 'good' && !cert)
      throw invalid(`${where}: says good for serial ${serial}, which ${ca.name} did not publish as issued`);
    if (cert && cert.meta.status !== meta.status)
      throw invalid(`${where}: says ${meta.status}, certificate ${cert.path} is ${cert.meta.status}`);
    if (index.has(meta.certIdKey)) throw invalid(`${where}: a second response for the same CertID`);
    index.set(meta.certIdKey, {
      ca: ca.name,
      path: item.path,
      der,
      meta,
      status: single.status,
      thisUpdate: single.thisUpdate,
      nextUpdate: single.nextUpdate,
      sha256: item.sha256,
    });
  }
  return index;
}
