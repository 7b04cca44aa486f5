/**
 * The input of a cross-certificate (BR 7.1.2.2; Boulder's cross-certificate ceremony): another
 * root's self-signed certificate. Its subject and subjectPublicKeyInfo are certified exactly as
 * they are (BR 7.1.2.2 "using the same Subject Name and Subject Public Key Information"), so the
 * certificate must be a CA certificate whose self-signature verifies: that signature is the
 * proof that the subject holds the key, as a CSR's is. Pure.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, type Name, id_ce_basicConstraints } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { parseCertificate, tbsBytesOf } from './certificate.ts';
import { checkPublicKeyQuality } from './key-quality.ts';
import { nameToText } from './name.ts';
import { readDerOrPem } from './pem.ts';
import { verifyTbsSignature } from './signature-verify.ts';

/** What a cross-certificate takes from the other root's certificate. */
export interface CrossCertifiedSubject {
  /** The other root's certificate (DER). */
  der: Buffer;
  subject: Name;
  /** Exact bytes of its subject Name. */
  subjectDer: Buffer;
  subjectText: string;
  /** Exact bytes of its SubjectPublicKeyInfo. */
  publicKeySpki: Buffer;
  notAfter: Date;
}

function refused(message: string): never {
  throw new CaError('CROSS_CERTIFICATE_REFUSED', message);
}

/** The bytes of the subject Name as they stand in the certificate (never re-encoded). */
function subjectBytesOf(der: Buffer): { subject: Buffer; issuer: Buffer } {
  const cert = parseCertificate(der);
  const tbs = tbsBytesOf(der);
  const issuer = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.issuer));
  const subject = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subject));
  // asn1-schema keeps string types, so re-serialising is byte for byte; prove it against the TBS.
  if (!tbs.includes(subject) || !tbs.includes(issuer)) refused('the certificate names do not re-encode to their bytes');
  return { subject, issuer };
}

/**
 * Reads the other root's certificate (PEM or DER) and refuses it unless it is self-signed (issuer
 * = subject, signature verifying with its own key), a CA certificate, unexpired at `now`, with an
 * acceptable key (BR 6.1.5, 6.1.6).
 */
export function acceptCrossCertifiedRoot(bytes: Uint8Array, now: Date): CrossCertifiedSubject {
  let der: Buffer;
  try {
    der = readDerOrPem(bytes, 'CERTIFICATE');
    parseCertificate(der);
  } catch (e) {
    throw new CaError('CERTIFICATE_MALFORMED', `not an X.509 certificate: ${(e as Error).message}`, { cause: e });
  }
  const cert = parseCertificate(der);
  const tbs = cert.tbsCertificate;
  const names = subjectBytesOf(der);
  if (!names.subject.equals(names.issuer))
    refused(
      `${nameToText(tbs.subject)} is not self-signed (its issuer is ${nameToText(tbs.issuer)}); cross-certify a root`,
    );
  const spki = Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
  const signed = verifyTbsSignature(
    tbsBytesOf(der),
    cert.signatureAlgorithm.algorithm,
    new Uint8Array(cert.signatureValue),
    spki,
  );
  if (!signed) refused(`the self-signature of ${nameToText(tbs.subject)} does not verify with its own key`);
  const bc = tbs.extensions?.find((e) => e.extnID === id_ce_basicConstraints);
  if (!bc || !AsnConvert.parse(bc.extnValue, BasicConstraints).cA)
    refused(`${nameToText(tbs.subject)} is not a CA certificate (basicConstraints cA is not TRUE)`);
  const notAfter = tbs.validity.notAfter.getTime();
  if (notAfter.getTime() <= now.getTime())
    refused(`${nameToText(tbs.subject)} expired on ${notAfter.toISOString()}; an expired root is not cross-certified`);
  const problems = checkPublicKeyQuality(spki);
  if (problems.length) refused(`its key is refused: ${problems.map((p) => `[${p.rule}] ${p.message}`).join('; ')}`);
  return {
    der,
    subject: tbs.subject,
    subjectDer: names.subject,
    subjectText: nameToText(tbs.subject),
    publicKeySpki: spki,
    notAfter,
  };
}
