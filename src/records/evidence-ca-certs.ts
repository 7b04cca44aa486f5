/** The CA certificates in an evidence package, and checking that an artefact was signed by one of them. */
import { X509Certificate } from 'node:crypto';
import { normalizeSerialHex } from '../pki/integer.ts';
import { findIssuingCertificate, keyIdentifiersOf, type IssuerLookup } from '../pki/issuer-key.ts';
import type { EvidenceManifest } from './evidence-format.ts';

interface CaCertificateFile {
  file: string;
  der: Buffer;
}

export function sameSerial(a: string, b: unknown): boolean {
  try {
    return normalizeSerialHex(a) === normalizeSerialHex(String(b));
  } catch {
    return false;
  }
}

export const derOf = (certs: CaCertificateFile[] | undefined): Buffer[] => (certs ?? []).map((c) => c.der);

/** "roots/x.der (key 3f…)" for each certificate tried, so a refusal says what was tried. */
function describeTried(certs: CaCertificateFile[] | undefined): string {
  if (!certs?.length) return 'no certificate of the CA is included';
  return `tried ${certs.map((c) => `${c.file} (key ${keyIdentifiersOf(c.der).subject?.toString('hex') ?? 'without SKI'})`).join(', ')}`;
}

/**
 * Each CA's own certificates, kept when each is signed by a key of that CA found by its AKI
 * among them (RFC 5280 4.2.1.1): the self-signed ones (first root, renewals, NewWithNew) by
 * their own key, the link certificates by the other key (RFC 4210 4.4).
 */
export function checkCaCertificates(
  roots: EvidenceManifest['roots'],
  file: (path: string, what: string) => Buffer | undefined,
  problems: string[],
  checked: string[],
): Map<string, CaCertificateFile[]> {
  const all = new Map<string, CaCertificateFile[]>();
  for (const r of roots) {
    const b = file(r.file, 'root certificate');
    if (!b) continue;
    try {
      new X509Certificate(b);
      all.set(r.ca, [...(all.get(r.ca) ?? []), { file: r.file, der: b }]);
    } catch (e) {
      problems.push(`${r.file} is not a certificate: ${(e as Error).message}`);
    }
  }
  const verified = new Map<string, CaCertificateFile[]>();
  for (const [ca, certs] of all) {
    for (const c of certs) {
      if (
        checkSignedBy(
          c.file,
          `certificate of ${ca} itself`,
          findIssuingCertificate(c.der, derOf(certs)),
          certs,
          problems,
          checked,
        )
      ) {
        verified.set(ca, [...(verified.get(ca) ?? []), c]);
      }
    }
  }
  return verified;
}

/** Records whether `artefact` was found signed by one of `candidates`; a refusal names the artefact, its AKI (in `found.reason`) and what was tried. */
export function checkSignedBy(
  path: string,
  artefact: string,
  found: IssuerLookup,
  candidates: CaCertificateFile[] | undefined,
  problems: string[],
  checked: string[],
): boolean {
  if (!found.ok) {
    problems.push(`${path}: ${artefact}: ${found.reason}; ${describeTried(candidates)}`);
    return false;
  }
  const by = candidates?.find((c) => c.der.equals(found.issuerDer))?.file ?? 'its issuer';
  checked.push(
    `${path}: ${artefact} verifies with the key of ${by === path ? 'its own certificate (self-signed)' : by}`,
  );
  return true;
}
