import { id_ecPublicKey, id_rsaEncryption, secp256r1, secp384r1, signatureAlgorithmByOid } from '../pki/algorithms.ts';
import { ALL_PROFILES, defineLint } from './support.ts';
import { namedCurveOf } from './e_spki_algorithm_encoding.ts';

/** The hash BR 7.1.3.2.2 pairs with each curve. */
const HASH_FOR_CURVE: Record<string, string> = { [secp256r1]: 'sha256', [secp384r1]: 'sha384' };

/**
 * BR 7.1.3.2.2: "If the signing key is P-384, the signature MUST use ECDSA with SHA-384."
 * (and P-256 with SHA-256). The signature algorithm must also be of the issuer key's kind: an
 * RSA issuer cannot produce an ECDSA signature.
 */
export const e_signature_algorithm_issuer_key_mismatch = defineLint(
  {
    name: 'e_signature_algorithm_issuer_key_mismatch',
    description:
      "The signature algorithm fits the issuer's key: RSA with RSA, ECDSA P-256 with SHA-256, P-384 with SHA-384.",
    citation: 'BR 7.1.3.2.2: "If the signing key is P-384, the signature MUST use ECDSA with SHA-384."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const info = signatureAlgorithmByOid(cert.signatureAlgorithm.algorithm);
    if (!info) return; // e_signature_algorithm_parameters reports unknown algorithms
    const issuerKey = ctx.issuer.tbsCertificate.subjectPublicKeyInfo.algorithm;
    if (issuerKey.algorithm === id_rsaEncryption) {
      if (info.keyKind !== 'rsa') report.error(`the issuer key is RSA but the signature algorithm is ${info.name}`);
    } else if (issuerKey.algorithm === id_ecPublicKey) {
      if (info.keyKind !== 'ecdsa') {
        report.error(`the issuer key is ECDSA but the signature algorithm is ${info.name}`);
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
