/**
 * What a cross-certificate asks of the issuance (BR 7.1.2.2; lifecycle/cross-certificate.ts runs
 * the ceremony). Restricted (BR 7.1.2.2.5): a sub-CA purpose fixes the EKU and the reserved
 * policy as for any subordinate CA. Unrestricted (BR 7.1.2.2.4, for an Affiliate or the same
 * organisation): anyExtendedKeyUsage alone, and anyPolicy alone (BR 7.1.2.10.5 "No Policy
 * Restrictions (Affiliated CA)"); Mozilla Root Store Policy 5.3 exempts "cross-certificates that
 * share a private key with a corresponding root certificate" from its EKU rules.
 */
import { id_ce_certificatePolicies_anyPolicy } from '@peculiar/asn1-x509';
import { KP } from '../pki/subca-purposes.ts';

/** The other root's certificate and which BR 7.1.2.2.3 EKU table applies. */
export interface CrossCertification {
  /** The other root's self-signed certificate, PEM or DER. */
  certificate: Uint8Array;
  /** BR 7.1.2.2.4: the subject CA is the issuer's own organisation or an Affiliate. */
  unrestricted?: boolean;
}

/** BR 7.1.2.2.4: "anyExtendedKeyUsage ... If present, this MUST be the only key usage present." */
export const UNRESTRICTED_EKU: string[] = [KP.anyExtendedKeyUsage];

/** BR 7.1.2.10.5 (Affiliated CA): "MUST contain only a single PolicyInformation value, which MUST contain the anyPolicy Policy Identifier". */
export function crossCertificatePolicies(c: CrossCertification): string[] {
  return c.unrestricted ? [id_ce_certificatePolicies_anyPolicy] : [];
}
