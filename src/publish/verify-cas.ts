/**
 * Step 4 of verifying a publication: every published CA is a trust anchor, and a re-keyed CA's
 * link certificates (RFC 4210 4.4) chain to it.
 */
import { createHash } from 'node:crypto';
import { certificateInfo, isIssuedBy, type CertificateInfo } from '../pki/certificate-info.ts';
import { certIdsFor } from '../pki/ocsp.ts';
import type { CaCertificateMeta, PublicationItem } from './format.ts';
import { invalid, why, type ShapedManifest } from './verify-shape.ts';
import { issuerKeyOf, type IssuerHashes, type VerifiedCa, type VerifiedLink } from './verify-types.ts';

/** The CAs by name, by CertID issuer key, and their verified link certificates. */
export interface VerifiedCas {
  cas: Map<string, VerifiedCa>;
  issuers: Map<string, VerifiedCa>;
  links: VerifiedLink[];
}

/** Each CA of the manifest, its certificate a trust anchor; then its link certificates. */
export function verifyCas(
  m: ShapedManifest,
  items: Map<string, PublicationItem>,
  files: Map<string, Buffer>,
  trustAnchors: Buffer[],
): VerifiedCas {
  const cas = new Map<string, VerifiedCa>();
  const issuers = new Map<string, VerifiedCa>();
  for (const c of m.cas) {
    if (cas.has(c.name)) throw invalid(`CA ${c.name} is listed twice`);
    const item = items.get(c.certificatePath);
    if (!item || item.kind !== 'ca-certificate' || item.ca !== c.name)
      throw invalid(`CA ${c.name}: ${c.certificatePath} is not its ca-certificate item`);
    const der = files.get(c.certificatePath)!;
    if (!trustAnchors.some((a) => a.equals(der)))
      throw invalid(`CA ${c.name}: certificate ${c.certificatePath} is not a trust anchor of this Repository`);
    const info = certificateInfo(der);
    const meta = item.meta as CaCertificateMeta;
    if (meta.fingerprint !== info.fingerprint)
      throw invalid(`CA ${c.name}: meta fingerprint does not match ${c.certificatePath}`);
    const hashes = issuerHashesOf(der);
    const ca: VerifiedCa = {
      name: c.name,
      der,
      info,
      subjectDer: info.subjectDer,
      spkiDer: info.spkiDer,
      meta,
      certificatePath: c.certificatePath,
      crlPath: c.crlPath,
      keyHash: createHash('sha1').update(info.publicKey).digest(),
      hashes,
      previousKeys: [],
    };
    cas.set(c.name, ca);
    for (const h of ['sha1', 'sha256'] as const)
      issuers.set(issuerKeyOf(h, hashes[h].issuerNameHash, hashes[h].issuerKeyHash), ca);
  }
  const signerCa = cas.get(m.signer.ca);
  if (!signerCa) throw invalid(`signer ${m.signer.ca} is not a published CA`);
  const links = verifyLinks(
    [...items.values()].filter((i) => i.kind === 'ca-certificate' && cas.get(i.ca!)?.certificatePath !== i.path),
    files,
    cas,
  );
  for (const ca of cas.values()) {
    for (const k of ca.previousKeys)
      for (const h of ['sha1', 'sha256'] as const)
        issuers.set(issuerKeyOf(h, k.hashes[h].issuerNameHash, k.hashes[h].issuerKeyHash), ca);
  }
  return { cas, issuers, links };
}

/** The CertID issuer hashes of a CA certificate (RFC 6960 4.1.1). */
function issuerHashesOf(der: Buffer): Record<'sha1' | 'sha256', IssuerHashes> {
  const hashes = {} as Record<'sha1' | 'sha256', IssuerHashes>;
  for (const id of certIdsFor(der, '01'))
    hashes[id.hashAlgorithm] = { issuerNameHash: id.issuerNameHash, issuerKeyHash: id.issuerKeyHash };
  return hashes;
}

/**
 * ca-certificate items beyond the CAs' own: link certificates of a re-keyed CA (RFC 4210 4.4),
 * which are not trust anchors but chain to one. An OldWithNew has the CA's Name as subject and
 * issuer, another key, and verifies with a key of the CA already reached — its own key, or an
 * earlier key a further OldWithNew certified, so a CA re-keyed twice reaches key 1 through
 * key 2 (RFC 5280 4.2.1.1: an issuer may have "multiple signing keys ... due to changeover",
 * so every key reached is tried, not only the current one) — and that key becomes one of the
 * CA's previousKeys. A NewWithOld certifies a key
 * already reached and verifies with another reached key. Anything else is refused.
 */
function verifyLinks(
  candidates: PublicationItem[],
  files: Map<string, Buffer>,
  cas: Map<string, VerifiedCa>,
): VerifiedLink[] {
  const read = candidates.map((item) => {
    const ca = cas.get(item.ca!)!;
    let info: CertificateInfo;
    try {
      info = certificateInfo(files.get(item.path)!);
    } catch (e) {
      throw invalid(`link certificate ${item.path}: ${why(e)}`, e);
    }
    const meta = item.meta as CaCertificateMeta;
    if (meta.fingerprint !== info.fingerprint)
      throw invalid(`link certificate ${item.path}: meta fingerprint does not match`);
    if (!info.subjectDer.equals(ca.subjectDer) || !info.issuerDer.equals(ca.subjectDer))
      throw invalid(
        `item ${item.path}: a ca-certificate not listed in manifest.cas and not a link certificate of ${ca.name} (subject and issuer must be its Name)`,
      );
    return { item, ca, info, meta };
  });
  const reached = (ca: VerifiedCa): CertificateInfo[] => [ca.info, ...ca.previousKeys.map((k) => k.link)];
  const isReached = (ca: VerifiedCa, spki: Buffer) => reached(ca).some((k) => k.spkiDer.equals(spki));
  const signedByReached = (ca: VerifiedCa, info: CertificateInfo) =>
    reached(ca).some((k) => !k.spkiDer.equals(info.spkiDer) && isIssuedBy(info, k));
  const oldWithNew: VerifiedLink[] = [];
  const newWithOld: VerifiedLink[] = [];
  let pending = read;
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    for (const x of pending) {
      const { item, ca, info, meta } = x;
      if (!signedByReached(ca, info)) continue;
      if (isReached(ca, info.spkiDer))
        newWithOld.push({ ca: ca.name, path: item.path, kind: 'new-with-old', der: info.der, info, meta });
      else {
        ca.previousKeys.push({
          link: info,
          keyHash: createHash('sha1').update(info.publicKey).digest(),
          hashes: issuerHashesOf(info.der),
        });
        oldWithNew.push({ ca: ca.name, path: item.path, kind: 'old-with-new', der: info.der, info, meta });
      }
      pending = pending.filter((y) => y !== x);
      progress = true;
    }
  }
  const left = pending[0];
  if (left && !isReached(left.ca, left.info.spkiDer))
    throw invalid(
      `link certificate ${left.item.path}: certifies another key of ${left.ca.name} but does not verify with ${left.ca.name}'s key (not an OldWithNew)`,
    );
  if (left)
    throw invalid(
      `link certificate ${left.item.path}: certifies ${left.ca.name}'s key but verifies with no earlier key an OldWithNew certifies (not a NewWithOld)`,
    );
  return [...oldWithNew, ...newWithOld];
}
