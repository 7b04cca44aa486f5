/**
 * The certificate extensions the lints understand, with the asn1-schema type of each value.
 * RFC 5280 4.2: a critical extension outside this list is refused (e_ext_unknown_critical).
 */
import { OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  CertificatePolicies,
  ExtendedKeyUsage,
  FreshestCRL,
  InhibitAnyPolicy,
  IssueAlternativeName,
  KeyUsage,
  NameConstraints,
  PolicyConstraints,
  PolicyMappings,
  SubjectAlternativeName,
  SubjectInfoAccessSyntax,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_freshestCRL,
  id_ce_inhibitAnyPolicy,
  id_ce_issuerAltName,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_policyConstraints,
  id_ce_policyMappings,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_pe_authorityInfoAccess,
  id_pe_subjectInfoAccess,
} from '@peculiar/asn1-x509';
import { id_ct_precertificateSCTs, id_pkix_ocsp_nocheck } from './support.ts';

/** A value type asn1-schema can parse and serialize, or 'NULL' for the ASN.1 NULL value. */
export type ExtensionValueType = (new () => object) | 'NULL';

/** RFC 5280 4.2.1, 4.2.2 extensions, RFC 6960 nocheck and the RFC 6962 SCT list. */
export const KNOWN_EXTENSIONS: Record<string, ExtensionValueType> = {
  [id_ce_subjectKeyIdentifier]: SubjectKeyIdentifier,
  [id_ce_keyUsage]: KeyUsage,
  [id_ce_subjectAltName]: SubjectAlternativeName,
  [id_ce_issuerAltName]: IssueAlternativeName,
  [id_ce_basicConstraints]: BasicConstraints,
  [id_ce_nameConstraints]: NameConstraints,
  [id_ce_cRLDistributionPoints]: CRLDistributionPoints,
  [id_ce_certificatePolicies]: CertificatePolicies,
  [id_ce_policyMappings]: PolicyMappings,
  [id_ce_authorityKeyIdentifier]: AuthorityKeyIdentifier,
  [id_ce_policyConstraints]: PolicyConstraints,
  [id_ce_extKeyUsage]: ExtendedKeyUsage,
  [id_ce_freshestCRL]: FreshestCRL,
  [id_ce_inhibitAnyPolicy]: InhibitAnyPolicy,
  [id_pe_authorityInfoAccess]: AuthorityInfoAccessSyntax,
  [id_pe_subjectInfoAccess]: SubjectInfoAccessSyntax,
  [id_pkix_ocsp_nocheck]: 'NULL',
  [id_ct_precertificateSCTs]: OctetString,
};

export function isKnownExtension(oid: string): boolean {
  return Object.hasOwn(KNOWN_EXTENSIONS, oid);
}
