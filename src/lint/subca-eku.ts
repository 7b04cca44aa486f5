/**
 * Reading a subordinate CA's key purposes and policies for the EKU and policy lints (Mozilla Root
 * Store Policy 5.3, BR 7.1.2.10.5-6, S/MIME BR 7.1.2.2).
 */
import {
  type Certificate,
  CertificatePolicies,
  ExtendedKeyUsage,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
} from '@peculiar/asn1-x509';
import { decodeExtension, findExtension } from './support.ts';

/** The key purposes, or undefined when extKeyUsage is absent. */
export function ekuOf(cert: Certificate): string[] | undefined {
  const ext = findExtension(cert, id_ce_extKeyUsage);
  return ext ? [...decodeExtension(ext, ExtendedKeyUsage)] : undefined;
}

/** The asserted policy identifiers ([] when certificatePolicies is absent). */
export function policyOidsOf(cert: Certificate): string[] {
  const ext = findExtension(cert, id_ce_certificatePolicies);
  return ext ? decodeExtension(ext, CertificatePolicies).map((p) => p.policyIdentifier) : [];
}

export const KP_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const KP_EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
export const ANY_POLICY = '2.5.29.32.0';
