import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { signatureAlgorithmByOid } from '../pki/algorithms.ts';
import { ALL_PROFILES, defineLint } from './support.ts';

/**
 * BR 7.1.3.2.1: "When encoded, the `AlgorithmIdentifier` MUST be byte-for-byte identical with
 * the specified hex-encoded bytes."
 * RFC 4055 5 / RFC 3279 2.2.1: for the RSA PKCS#1 v1.5 OIDs "the parameters MUST be NULL";
 * RFC 5758 3.2: for ECDSA "the encoding MUST omit the parameters field".
 * Only the algorithms of CPS 6.1.5 Table 6.1-1 (src/pki/algorithms.ts) are accepted.
 */
/**
 * What is wrong with a signature AlgorithmIdentifier (shared by the certificate and CRL lints):
 * an algorithm the CPS does not allow, RSA without NULL parameters (RFC 4055 5), ECDSA with
 * parameters (RFC 5758 3.2).
 */
export function signatureAlgorithmProblems(field: string, alg: AlgorithmIdentifier): string[] {
  const info = signatureAlgorithmByOid(alg.algorithm);
  if (!info) return [`${field} ${alg.algorithm} is not a signature algorithm allowed by CPS 6.1.5`];
  if (info.nullParameters && alg.parameters !== null) {
    return [
      `${field} ${info.name}: parameters must be NULL (RFC 4055 5), found ${alg.parameters === undefined ? 'absent' : 'a value'}`,
    ];
  }
  if (!info.nullParameters && alg.parameters !== undefined) {
    return [
      `${field} ${info.name}: parameters must be absent (RFC 5758 3.2), found ${alg.parameters === null ? 'NULL' : 'a value'}`,
    ];
  }
  return [];
}

export const e_signature_algorithm_parameters = defineLint(
  {
    name: 'e_signature_algorithm_parameters',
    description:
      'The signature algorithm is one the CPS allows, with NULL parameters for RSA and absent parameters for ECDSA.',
    citation:
      'BR 7.1.3.2.1: "When encoded, the `AlgorithmIdentifier` MUST be byte-for-byte identical with the specified hex-encoded bytes."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const check = (field: string, alg: AlgorithmIdentifier): void =>
      signatureAlgorithmProblems(field, alg).forEach((m) => report.error(m));
    check('signatureAlgorithm', cert.signatureAlgorithm);
    check('tbsCertificate.signature', cert.tbsCertificate.signature);
  },
);
