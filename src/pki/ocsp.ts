/**
 * OCSP (RFC 6960) with the RFC 5019 lightweight profile and RFC 8954 nonces: the one
 * import for callers. The parts live by what they do: ocsp-asn1.ts (identifiers and structures,
 * from @peculiar/asn1-ocsp), ocsp-cert-id.ts (CertIDs), ocsp-request.ts (reading requests),
 * ocsp-response.ts (building, reading and checking responses); ocsp-fast.ts is the online
 * responder's hand-written hot path for the same bytes.
 *
 * Pure: no clock, randomness, files or network.
 */
export * from './ocsp-asn1.ts';
export * from './ocsp-cert-id.ts';
export * from './ocsp-request.ts';
export * from './ocsp-response.ts';
