import {
  id_ecPublicKey,
  id_rsaEncryption,
  secp256r1,
  secp384r1,
  signatureAlgorithmByOid,
} from '../../pki/algorithms.ts';
import { namedCurveOf } from '../e_spki_algorithm_encoding.ts';
import { defineCrlLint } from './support.ts';

/** The hash BR 7.1.3.2.2 pairs with each curve. */
const HASH_FOR_CURVE: Record<string, string> = { [secp256r1]: 'sha256', [secp384r1]: 'sha384' };

/**
 * BR 7.1.3.2.2: "If the signing key is P-384, the signature MUST use ECDSA with SHA-384." (and
 * P-256 with SHA-256). The CRL's signature algorithm must fit the issuing CA's key.
 */
export const e_crl_signature_algorithm_issuer_key_mismatch = defineCrlLint(
  {
    name: 'e_crl_signature_algorithm_issuer_key_mismatch',
    description:
      "The CRL signature algorithm fits the issuer's key: RSA with RSA, ECDSA P-256 with SHA-256, P-384 with SHA-384.",
    citation: 'BR 7.1.3.2.2: "If the signing key is P-384, the signature MUST use ECDSA with SHA-384."',
  },
  (crl, ctx, report) => {
    const info = signatureAlgorithmByOid(crl.signatureAlgorithm.algorithm);
    if (!info) return; // e_crl_signature_algorithm_parameters reports unknown algorithms
    const issuerKey = ctx.issuer.tbsCertificate.subjectPublicKeyInfo.algorithm;
    if (issuerKey.algorithm === id_rsaEncryption) {
      if (info.keyKind !== 'rsa') report.error(`the issuer key is RSA but the CRL signature algorithm is ${info.name}`);
    } else if (issuerKey.algorithm === id_ecPublicKey) {
      if (info.keyKind !== 'ecdsa') {
        report.error(`the issuer key is ECDSA but the CRL signature algorithm is ${info.name}`);
        return;
      }
      const curve = namedCurveOf(issuerKey);
      const hash = curve ? HASH_FOR_CURVE[curve] : undefined;
      if (hash && hash !== info.hash)
        report.error(`the issuer key's curve requires ECDSA with ${hash.toUpperCase()}, not ${info.name}`);
    } else {
      report.error(`the issuer key algorithm ${issuerKey.algorithm} is not RSA or ECDSA`);
    }
  },
);
