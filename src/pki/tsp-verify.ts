/**
 * Checking a time-stamp token against the data it stamps and the TSA's key (RFC 3161 2.4.2,
 * RFC 5652 5.4/5.6, RFC 5816).
 */
import { createHash, verify } from 'node:crypto';
import { id_rsaEncryption, signatureAlgorithmByOid } from './algorithms.ts';
import { derTlv } from './der.ts';
import { publicKeyOfSpki } from './signature-verify.ts';
import { hashOfOid, id_contentType, id_ct_TSTInfo, id_messageDigest } from './tsp-asn1.ts';
import { issuerAndSerialOf, oidContent, singleValue } from './tsp-der.ts';
import { decodeTimeStampToken, signerCertId } from './tsp-read.ts';

/** The SubjectPublicKeyInfo DER of a certificate, or undefined when it cannot be read. */
function spkiOf(certDer: Buffer): Buffer | undefined {
  try {
    return issuerAndSerialOf(certDer).spkiDer;
  } catch {
    return undefined;
  }
}

/**
 * True when `token` (a TimeStampToken or a TimeStampResp holding one) is a valid time-stamp of
 * `data` by the key `tsaSpkiDer`: RFC 5652 5.4/5.6 — signedAttrs carry contentType
 * id-ct-TSTInfo and messageDigest = hash(TSTInfo) with the SignerInfo digestAlgorithm, and the
 * signature over the DER SET OF signedAttrs verifies; RFC 5816 / RFC 3161 2.4.1 — a
 * signingCertificate(V2) attribute is present, and when the certificate it names is included,
 * that certificate holds `tsaSpkiDer`; RFC 3161 2.4.2 — the messageImprint is hash(data).
 * SHA-1 digests and imprints are not accepted. Only the signature is checked here: the TSA
 * certificate's chain, validity and extendedKeyUsage are the caller's (or `openssl ts -verify`'s).
 * Throws CaError('TSP_MALFORMED_TOKEN') on garbage, 'TSP_REJECTED' for a rejection response.
 */
export function verifyTimeStampToken(token: Uint8Array, data: Uint8Array, tsaSpkiDer: Uint8Array): boolean {
  const t = decodeTimeStampToken(token, 'either');
  const key = publicKeyOfSpki(tsaSpkiDer);
  try {
    if (t.tstInfo.version !== 1) return false;
    const digestHash = hashOfOid(t.digestAlgorithmOid);
    if (!digestHash) return false;
    if (!singleValue(t.attrs, id_contentType)?.equals(derTlv(0x06, oidContent(id_ct_TSTInfo)))) return false;
    if (
      !singleValue(t.attrs, id_messageDigest)?.equals(
        derTlv(0x04, createHash(digestHash).update(t.tstInfoDer).digest()),
      )
    )
      return false;

    const certId = signerCertId(t.attrs);
    if (!certId) return false;
    const named = t.certificates.find((c) => createHash(certId.hash).update(c).digest().equals(certId.certHash));
    if (named && !spkiOf(named)?.equals(Buffer.from(tsaSpkiDer))) return false;

    // RSA signers often write rsaEncryption here (RFC 3370 3.2), the hash then being digestAlgorithm's.
    let sigHash: string = digestHash;
    if (t.signatureAlgorithmOid !== id_rsaEncryption) {
      const info = signatureAlgorithmByOid(t.signatureAlgorithmOid);
      if (!info || info.legacy || info.hash !== digestHash) return false;
      sigHash = info.hash;
    }
    if (!verify(sigHash, t.signedAttrsDer, key, t.signature)) return false;

    const imprintHash = hashOfOid(t.tstInfo.messageImprint.hashAlgorithm.algorithm);
    if (!imprintHash) return false;
    return createHash(imprintHash)
      .update(data)
      .digest()
      .equals(Buffer.from(t.tstInfo.messageImprint.hashedMessage.buffer));
  } catch {
    return false;
  }
}
