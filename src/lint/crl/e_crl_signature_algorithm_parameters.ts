import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { signatureAlgorithmByOid } from '../../pki/algorithms.ts';
import { defineCrlLint } from './support.ts';

/**
 * BR 7.1.3.2.1 (applied to CRLs by BR 7.2): "When encoded, the `AlgorithmIdentifier` MUST be
 * byte-for-byte identical with the specified hex-encoded bytes." RSA PKCS#1 v1.5 OIDs carry
 * NULL parameters (RFC 4055 5), ECDSA ones none (RFC 5758 3.2); only CPS 6.1.5 algorithms.
 */
export const e_crl_signature_algorithm_parameters = defineCrlLint(
  {
    name: 'e_crl_signature_algorithm_parameters',
    description: 'The CRL signature algorithm is one the CPS allows, with NULL parameters for RSA and absent parameters for ECDSA.',
    citation: 'BR 7.1.3.2.1: "When encoded, the `AlgorithmIdentifier` MUST be byte-for-byte identical with the specified hex-encoded bytes."',
  },
  (crl, _ctx, report) => {
    const check = (field: string, alg: AlgorithmIdentifier): void => {
      const info = signatureAlgorithmByOid(alg.algorithm);
      if (!info) {
        report.error(`${field} ${alg.algorithm} is not a signature algorithm allowed by CPS 6.1.5`);
        return;
      }
      if (info.nullParameters && alg.parameters !== null) {
        report.error(`${field} ${info.name}: parameters must be NULL (RFC 4055 5), found ${alg.parameters === undefined ? 'absent' : 'a value'}`);
      }
      if (!info.nullParameters && alg.parameters !== undefined) {
        report.error(`${field} ${info.name}: parameters must be absent (RFC 5758 3.2), found ${alg.parameters === null ? 'NULL' : 'a value'}`);
      }
    };
    check('signatureAlgorithm', crl.signatureAlgorithm);
    check('tbsCertList.signature', crl.tbsCertList.signature);
  },
);
