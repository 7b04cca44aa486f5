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
import {
  AuthorityKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
  Name,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { parseCertificate } from './certificate.ts';
import { parseCrl } from './crl.ts';
import { verifyTbsSignature } from './signature-verify.ts';
import { nameToDer, nameToText } from './name.ts';

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
  return {
    ok: false,
    reason: notFound(cert.issuer.replace(/\n/g, ', '), akiHex, caCertificates.length, sameName.length, named.length),
  };
}

/** Why no certificate of the CA signed an artefact: its issuer Name, its AKI and how many certificates were tried. */
function notFound(issuer: string, akiHex: string | null, total: number, sameName: number, named: number): string {
  const tried = `${total} certificate(s) of the CA's current and earlier keys`;
  if (sameName === 0) return `its issuer ${issuer} is not the Name of any of ${tried}`;
  if (akiHex && named === 0) return `its authorityKeyIdentifier ${akiHex} names no key among ${tried}`;
  return `its signature verifies with no key ${akiHex ? `with identifier ${akiHex} ` : ''}among ${tried}`;
}

/**
 * The certificate among `caCertificates` whose key signed the CRL `crlDer`. RFC 5280 5.2.1:
 * conforming CRL issuers "MUST use the key identifier method" of the authorityKeyIdentifier,
 * "to distinguish between multiple signing keys" of one issuer; so candidates are the CA
 * certificates with the CRL's issuer Name whose SKI equals that AKI (all with the Name when it
 * has none), and the one whose key verifies the signature wins, as for certificates.
 */
export function findCrlIssuingCertificate(crlDer: Uint8Array, caCertificates: Buffer[]): IssuerLookup {
  const crl = parseCrl(crlDer);
  const akiHex = crl.akid ? crl.akid.toString('hex') : null;
  const subjectDer = (c: Buffer) => nameToDer(parseCertificate(c).tbsCertificate.subject);
  const sameName = caCertificates.filter((c) => subjectDer(c).equals(crl.issuerDer));
  const named = crl.akid ? sameName.filter((c) => keyIdentifiersOf(c).subject?.equals(crl.akid!)) : sameName;
  const spki = (c: Buffer) => new X509Certificate(c).publicKey.export({ type: 'spki', format: 'der' });
  const issuer = named.find((c) => verifyTbsSignature(crl.tbsDer, crl.signatureAlgorithmOid, crl.signature, spki(c)));
  if (issuer) return { ok: true, issuerDer: issuer, keyIdentifierHex: akiHex };
  const issuerText = nameToText(AsnConvert.parse(crl.issuerDer, Name));
  return { ok: false, reason: notFound(issuerText, akiHex, caCertificates.length, sameName.length, named.length) };
}
