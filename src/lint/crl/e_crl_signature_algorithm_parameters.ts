import { signatureAlgorithmProblems } from '../e_signature_algorithm_parameters.ts';
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { defineCrlLint } from './support.ts';

/**
 * BR 7.1.3.2.1 (applied to CRLs by BR 7.2): "When encoded, the `AlgorithmIdentifier` MUST be
 * byte-for-byte identical with the specified hex-encoded bytes." RSA PKCS#1 v1.5 OIDs carry
 * NULL parameters (RFC 4055 5), ECDSA ones none (RFC 5758 3.2); only CPS 6.1.5 algorithms.
 */
export const e_crl_signature_algorithm_parameters = defineCrlLint(
  {
    name: 'e_crl_signature_algorithm_parameters',
    description:
      'The CRL signature algorithm is one the CPS allows, with NULL parameters for RSA and absent parameters for ECDSA.',
    citation:
      'BR 7.1.3.2.1: "When encoded, the `AlgorithmIdentifier` MUST be byte-for-byte identical with the specified hex-encoded bytes."',
  },
  (crl, _ctx, report) => {
    const check = (field: string, alg: AlgorithmIdentifier): void =>
      signatureAlgorithmProblems(field, alg).forEach((m) => report.error(m));
    check('signatureAlgorithm', crl.signatureAlgorithm);
    check('tbsCertList.signature', crl.tbsCertList.signature);
  },
);
