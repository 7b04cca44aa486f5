import { AsnConvert } from '@peculiar/asn1-schema';
import { ECParameters } from '@peculiar/asn1-ecc';
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { id_ecPublicKey, id_rsaEncryption } from '../pki/algorithms.ts';
import { ALL_PROFILES, defineLint, derOf, toBytes, toHex } from './support.ts';

/** BR 7.1.3.1: the only permitted SubjectPublicKeyInfo AlgorithmIdentifier encodings. */
export const PERMITTED_SPKI_ALGORITHM_DER: Record<string, string> = {
  rsaEncryption: '300d06092a864886f70d0101010500',
  'P-256': '301306072a8648ce3d020106082a8648ce3d030107',
  'P-384': '301006072a8648ce3d020106052b81040022',
  'P-521': '301006072a8648ce3d020106052b81040023',
};

/** The namedCurve OID of an id-ecPublicKey AlgorithmIdentifier, or undefined if it has none. */
export function namedCurveOf(alg: AlgorithmIdentifier): string | undefined {
  if (alg.algorithm !== id_ecPublicKey || !(alg.parameters instanceof ArrayBuffer)) return undefined;
  try {
    return AsnConvert.parse(alg.parameters, ECParameters).namedCurve;
  } catch {
    return undefined;
  }
}

/**
 * BR 7.1.3.1.1: "When encoded, the `AlgorithmIdentifier` for RSA keys MUST be byte-for-byte
 * identical with the following hex-encoded bytes: `300d06092a864886f70d0101010500`"
 * BR 7.1.3.1.2 (ECDSA): "The parameters MUST use the `namedCurve` encoding." (RFC 3279 2.3.1
 * NULL parameters for rsaEncryption; RFC 5480 2.1.1 namedCurve, never implicit or specified.)
 * The curve itself is e_ec_public_key_curve's business.
 */
export const e_spki_algorithm_encoding = defineLint(
  {
    name: 'e_spki_algorithm_encoding',
    description:
      'The subjectPublicKeyInfo algorithm is rsaEncryption with NULL parameters or id-ecPublicKey with a namedCurve.',
    citation:
      'BR 7.1.3.1.1: "When encoded, the `AlgorithmIdentifier` for RSA keys MUST be byte-for-byte identical with the following hex-encoded bytes: `300d06092a864886f70d0101010500`"',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const alg = cert.tbsCertificate.subjectPublicKeyInfo.algorithm;
    const encoded = toHex(derOf(alg));
    if (Object.values(PERMITTED_SPKI_ALGORITHM_DER).includes(encoded)) return;
    if (alg.algorithm === id_rsaEncryption) {
      report.error(
        `rsaEncryption AlgorithmIdentifier must carry NULL parameters; found ${alg.parameters === undefined ? 'none' : 'other parameters'}`,
      );
    } else if (alg.algorithm === id_ecPublicKey) {
      if (!(alg.parameters instanceof ArrayBuffer)) {
        report.error('id-ecPublicKey AlgorithmIdentifier must carry a namedCurve parameter');
        return;
      }
      let params: ECParameters | undefined;
      try {
        params = AsnConvert.parse(alg.parameters, ECParameters);
      } catch {
        params = undefined;
      }
      if (!params?.namedCurve)
        report.error('id-ecPublicKey parameters must use the namedCurve form (not implicitCurve or specifiedCurve)');
      else
        report.error(
          `id-ecPublicKey with namedCurve ${params.namedCurve} is not a permitted encoding (${toHex(toBytes(alg.parameters))})`,
        );
    } else {
      report.error(`public key algorithm ${alg.algorithm} is neither rsaEncryption nor id-ecPublicKey`);
    }
  },
);
