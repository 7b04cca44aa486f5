/**
 * Finding the key that signed a certificate among all of a CA's keys (CPS 5.6: a re-keyed CA
 * keeps its Name, so its current and earlier keys share one issuer Name). RFC 5280 4.2.1.1:
 * the authorityKeyIdentifier "provides a means of identifying the public key corresponding to
 * the private key used to sign a certificate. This extension is used where an issuer has
 * multiple signing keys (either due to multiple concurrent key pairs or due to changeover)."
 * So the issuer is the CA certificate whose subjectKeyIdentifier equals that AKI, confirmed by
 * the signature; checking with the CA's current key instead fails for everything its earlier
 * keys signed.
 */
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier, id_ce_authorityKeyIdentifier, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { parseCertificate } from './certificate.ts';

/** The AKI keyIdentifier (RFC 5280 4.2.1.1) and SKI (4.2.1.2) of a certificate, when present. */
export function keyIdentifiersOf(der: Uint8Array): { authority?: Buffer; subject?: Buffer } {
  const out: { authority?: Buffer; subject?: Buffer } = {};
  for (const ext of parseCertificate(der).tbsCertificate.extensions ?? []) {
    if (ext.extnID === id_ce_authorityKeyIdentifier) {
      const id = AsnConvert.parse(ext.extnValue, AuthorityKeyIdentifier).keyIdentifier;
      if (id) out.authority = Buffer.from(id.buffer);
    } else if (ext.extnID === id_ce_subjectKeyIdentifier) {
      out.subject = Buffer.from(AsnConvert.parse(ext.extnValue, SubjectKeyIdentifier).buffer);
    }
  }
  return out;
}

export type IssuerLookup =
  | { ok: true; issuerDer: Buffer; keyIdentifierHex: string | null }
  | { ok: false; reason: string };

/**
 * The certificate among `caCertificates` (every certificate of the CA itself: the first
 * self-signed one, renewals, NewWithNew and the link certificates) whose key signed `der`.
 * Candidates are those whose SKI equals the AKI of `der` (all with the issuer's Name when
 * `der` has no AKI); the one whose key verifies the signature wins. The reason, when none
 * does, names the AKI and how many certificates were tried.
 */
export function findIssuingCertificate(der: Uint8Array, caCertificates: Buffer[]): IssuerLookup {
  const cert = new X509Certificate(der);
  const aki = keyIdentifiersOf(der).authority;
  const akiHex = aki ? aki.toString('hex') : null;
  const sameName = caCertificates.map((c) => new X509Certificate(c)).filter((c) => c.subject === cert.issuer);
  const named = aki ? sameName.filter((c) => keyIdentifiersOf(c.raw).subject?.equals(aki)) : sameName;
  const issuer = named.find((c) => cert.verify(c.publicKey));
  if (issuer) return { ok: true, issuerDer: issuer.raw, keyIdentifierHex: akiHex };
  const tried = `${caCertificates.length} certificate(s) of the CA's current and earlier keys`;
  if (sameName.length === 0) return { ok: false, reason: `its issuer ${cert.issuer.replace(/\n/g, ', ')} is not the Name of any of ${tried}` };
  if (aki && named.length === 0) return { ok: false, reason: `its authorityKeyIdentifier ${akiHex} names no key among ${tried}` };
  return { ok: false, reason: `its signature verifies with no key ${aki ? `with identifier ${akiHex} ` : ''}among ${tried}` };
}
